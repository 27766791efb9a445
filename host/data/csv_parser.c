/* The CSV line parser (csv_parser.h). It works on text that need not be
 * NUL-terminated (files, memory, fuzzers): it never reads past a line's
 * length, copies each field into its own NUL-terminated scratch before
 * strtof, and sizes growing arrays from what it has seen, never from
 * numbers in the input. */
#include "data/csv_parser.h"
#include "sys/error.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { FIELD_SHOWN = 40 }; /* characters of a bad field quoted in a message */

/* ---- the C numeric locale, for this thread only ------------------------ */

void clseq_csv_locale_enter(c_locale_guard *g)
{
    /* uselocale is per thread, so other threads keep their own locale. If
     * no locale object can be made we go on in the current one. */
    g->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    g->old = g->c ? uselocale(g->c) : (locale_t)0;
}

void clseq_csv_locale_leave(c_locale_guard *g)
{
    if (g->c) {
        uselocale(g->old);
        freelocale(g->c);
    }
}

/* ---- parsing ------------------------------------------------------------ */

typedef enum field_kind { FIELD_NUMBER, FIELD_NOT_NUMBER, FIELD_NOMEM } field_kind;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

static int is_blank(const char *s, size_t n)
{
    trim(&s, &n);
    return n == 0;
}

static size_t count_fields(const char *s, size_t n)
{
    size_t count = 1;
    const char *comma;
    while (n > 0 && (comma = memchr(s, ',', n)) != NULL) {
        count++;
        n -= (size_t)(comma - s) + 1;
        s = comma + 1;
    }
    return count;
}

/* The field starting at *s within n bytes; advances past its comma. */
static void next_field(const char **s, size_t *n, const char **field, size_t *field_len)
{
    const char *comma = *n > 0 ? memchr(*s, ',', *n) : NULL;
    size_t len = comma ? (size_t)(comma - *s) : *n;
    *field = *s;
    *field_len = len;
    *s += comma ? len + 1 : len;
    *n -= comma ? len + 1 : len;
    trim(field, field_len);
}

/* Reads a trimmed field as a float; the whole field must be the number. */
static field_kind field_value(csv_parser *p, const char *s, size_t n, float *out)
{
    if (n == 0)
        return FIELD_NOT_NUMBER;
    if (n + 1 > p->scratch_cap) {
        char *grown = realloc(p->scratch, n + 1);
        if (!grown)
            return FIELD_NOMEM;
        p->scratch = grown;
        p->scratch_cap = n + 1;
    }
    memcpy(p->scratch, s, n);
    p->scratch[n] = '\0';
    char *end = NULL;
    errno = 0;
    /* strtof, not strtod then a cast: one correctly rounded conversion. */
    *out = strtof(p->scratch, &end);
    p->overflow = errno == ERANGE && isinf(*out);
    return end == p->scratch + n ? FIELD_NUMBER : FIELD_NOT_NUMBER;
}

/* The next field (*f, *fn) and its value. */
static field_kind next_value(csv_parser *p, const char **s, size_t *n, const char **f,
                             size_t *fn, float *v)
{
    next_field(s, n, f, fn);
    return field_value(p, *f, *fn, v);
}

static clseq_status nomem(const csv_parser *p)
{
    return clseq_fail(CLSEQ_E_NOMEM, "%s:%zu: out of memory", p->name, p->line_no);
}

static clseq_status bad_field(const csv_parser *p, clseq_status s, size_t col, const char *f,
                              size_t n, const char *what)
{
    int shown = n > FIELD_SHOWN ? FIELD_SHOWN : (int)n;
    return clseq_fail(s, "%s:%zu: column %zu: '%.*s%s' %s", p->name, p->line_no, col, shown, f,
                      n > FIELD_SHOWN ? "..." : "", what);
}

/* A header is a first line whose fields are names: some field present and
 * not a number, and no field a number. A first data row with a typo ("2.O")
 * still has numbers, so it is read as data and its bad field reported,
 * never dropped as a header; an empty field alone does not make a header. */
static clseq_status line_is_header(csv_parser *p, const char *s, size_t n, int *header)
{
    size_t count = count_fields(s, n);
    int names = 0, numbers = 0;
    for (size_t i = 0; i < count; i++) {
        const char *f;
        size_t fn;
        float v;
        field_kind k = next_value(p, &s, &n, &f, &fn, &v);
        if (k == FIELD_NOMEM)
            return nomem(p);
        names += fn > 0 && k == FIELD_NOT_NUMBER;
        numbers += k != FIELD_NOT_NUMBER;
    }
    *header = names > 0 && numbers == 0;
    return CLSEQ_OK;
}

static clseq_status fix_cols(csv_parser *p, size_t count)
{
    if (count < 2)
        return clseq_fail(CLSEQ_E_FORMAT,
                          "%s:%zu: found %zu column; need at least 2 (features, then the target)",
                          p->name, p->line_no, count);
    if (count - 1 > (size_t)INT_MAX)
        return clseq_fail(CLSEQ_E_FORMAT, "%s:%zu: %zu columns is too many", p->name,
                          p->line_no, count);
    p->cols = count;
    p->cols_line = p->line_no;
    return CLSEQ_OK;
}

/* Room for one more row. Growth doubles but never beyond the rows that the
 * rest of the input could still hold (each needs 2 * cols - 1 bytes), so a
 * short input never makes a large allocation. */
static clseq_status reserve_row(csv_parser *p, size_t line_start)
{
    if (p->rows < p->cap_rows)
        return CLSEQ_OK;
    if (p->fixed) /* the streaming reader asks for no more rows than it gave room for */
        return clseq_fail(CLSEQ_E_ARG, "%s:%zu: more rows than the %zu asked for", p->name,
                          p->line_no, p->cap_rows);
    size_t features = p->cols - 1;
    size_t most = p->rows + (p->len - line_start) / (2 * p->cols - 1) + 1;
    size_t cap = p->cap_rows < 16 ? 16 : p->cap_rows;
    cap = cap > (size_t)-1 / 2 ? (size_t)-1 : cap * 2;
    if (cap > most)
        cap = most;
    size_t x_values;
    if (clseq_mul_overflows(cap, features, &x_values) || x_values > (size_t)-1 / sizeof(float))
        return nomem(p);
    float *x = realloc(p->x, x_values * sizeof *x);
    if (!x)
        return nomem(p);
    p->x = x;
    float *y = realloc(p->y, cap * sizeof *y);
    if (!y)
        return nomem(p);
    p->y = y;
    size_t *lines = realloc(p->lines, cap * sizeof *lines);
    if (!lines)
        return nomem(p);
    p->lines = lines;
    p->cap_rows = cap;
    return CLSEQ_OK;
}

static clseq_status parse_row(csv_parser *p, const char *s, size_t n, size_t line_start)
{
    size_t count = count_fields(s, n);
    if (count != p->cols)
        return clseq_fail(CLSEQ_E_FORMAT,
                          "%s:%zu: found %zu column%s, expected %zu (as on line %zu)", p->name,
                          p->line_no, count, count == 1 ? "" : "s", p->cols, p->cols_line);
    clseq_status st = reserve_row(p, line_start);
    if (st != CLSEQ_OK)
        return st;
    size_t features = p->cols - 1;
    for (size_t col = 0; col < p->cols; col++) {
        const char *f;
        size_t fn;
        float v;
        field_kind k = next_value(p, &s, &n, &f, &fn, &v);
        if (k == FIELD_NOMEM)
            return nomem(p);
        if (k == FIELD_NOT_NUMBER)
            return bad_field(p, CLSEQ_E_FORMAT, col + 1, f, fn, "is not a number");
        if (!isfinite(v))
            return bad_field(p, CLSEQ_E_NUMERIC, col + 1, f, fn,
                             p->overflow ? "is beyond the float range" : "is not finite");
        if (col < features)
            p->x[p->rows * features + col] = v;
        else
            p->y[p->rows] = v;
    }
    if (p->lines)
        p->lines[p->rows] = p->line_no;
    p->rows++;
    return CLSEQ_OK;
}

/* One non-blank line: the first may be a header, which fixes the columns. */
static clseq_status parse_line(csv_parser *p, const char *s, size_t n, size_t line_start)
{
    if (p->cols == 0) {
        int header = 0;
        clseq_status st = line_is_header(p, s, n, &header);
        if (st == CLSEQ_OK)
            st = fix_cols(p, count_fields(s, n));
        if (st != CLSEQ_OK || header)
            return st;
    }
    return parse_row(p, s, n, line_start);
}

size_t clseq_csv_bom_length(const char *text, size_t len)
{
    return len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

clseq_status clseq_csv_parse_line(csv_parser *p, const char *s, size_t n, size_t line_start)
{
    p->line_no++;
    /* A NUL ends the text strtof sees, so a field holding one would be
     * misreported (a number cut short, a column count); name the byte. */
    const char *nul = memchr(s, '\0', n);
    if (nul)
        return clseq_fail(CLSEQ_E_FORMAT, "%s:%zu: a NUL byte at column %zu (field %zu); a CSV "
                          "file is text: is this a binary file?", p->name, p->line_no,
                          (size_t)(nul - s) + 1, count_fields(s, (size_t)(nul - s)));
    return is_blank(s, n) ? CLSEQ_OK : parse_line(p, s, n, line_start);
}
