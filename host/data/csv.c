/* CSV data files: one row per sample, features first, the target last.
 *
 * The parser works on a buffer that need not be NUL-terminated (files,
 * memory, fuzzers): it never reads past len, copies each field into its own
 * NUL-terminated scratch before strtof, sizes its arrays from what it has
 * seen (never from numbers in the input) and frees everything on failure.
 * Numbers are read and written in the C locale whatever the host program
 * set, so "1.5" means the same everywhere. */
#include "clseq.h"
#include "sys/error.h"
#include "sys/fileio.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FIELD_SHOWN = 40 }; /* characters of a bad field quoted in a message */

/* ---- the C numeric locale, for this thread only ------------------------ */

typedef struct c_locale_guard {
    locale_t c;
    locale_t old;
} c_locale_guard;

static void c_locale_enter(c_locale_guard *g)
{
    /* uselocale is per thread, so other threads keep their own locale. If
     * no locale object can be made we go on in the current one. */
    g->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    g->old = g->c ? uselocale(g->c) : (locale_t)0;
}

static void c_locale_leave(c_locale_guard *g)
{
    if (g->c) {
        uselocale(g->old);
        freelocale(g->c);
    }
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct csv_parser {
    const char *text;
    size_t len;
    const char *name;
    size_t line_no;    /* 1-based number of the line being read */
    size_t cols;       /* 0 until the first non-blank line fixes it */
    size_t cols_line;  /* the line that fixed cols */
    float *x, *y;
    size_t *lines;     /* each row's line_no */
    size_t rows, cap_rows;
    char *scratch;     /* one field, NUL-terminated, for strtof */
    size_t scratch_cap;
    int overflow;      /* the last field was a number beyond the float range */
} csv_parser;

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
        next_field(&s, &n, &f, &fn);
        field_kind k = field_value(p, f, fn, &v);
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
        return clseq_fail(CLSEQ_E_FORMAT, "%s:%zu: found %zu column%s, expected %zu (as on line %zu)",
                          p->name, p->line_no, count, count == 1 ? "" : "s", p->cols,
                          p->cols_line);
    clseq_status st = reserve_row(p, line_start);
    if (st != CLSEQ_OK)
        return st;
    size_t features = p->cols - 1;
    for (size_t col = 0; col < p->cols; col++) {
        const char *f;
        size_t fn;
        float v;
        next_field(&s, &n, &f, &fn);
        field_kind k = field_value(p, f, fn, &v);
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

static clseq_status parse_lines(csv_parser *p)
{
    size_t pos = 0;
    /* A UTF-8 byte-order mark would otherwise turn the first row into a
     * "header" and silently drop it. */
    if (p->len >= 3 && memcmp(p->text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < p->len) {
        const char *s = p->text + pos;
        const char *nl = memchr(s, '\n', p->len - pos);
        size_t n = nl ? (size_t)(nl - s) : p->len - pos;
        p->line_no++;
        /* A NUL ends the text strtof sees, so a field holding one would be
         * misreported (a number cut short, a column count); name the byte. */
        const char *nul = memchr(s, '\0', n);
        if (nul)
            return clseq_fail(CLSEQ_E_FORMAT, "%s:%zu: a NUL byte at column %zu (field %zu); a CSV "
                              "file is text: is this a binary file?", p->name, p->line_no,
                              (size_t)(nul - s) + 1, count_fields(s, (size_t)(nul - s)));
        if (!is_blank(s, n)) {
            clseq_status st = parse_line(p, s, n, pos);
            if (st != CLSEQ_OK)
                return st;
        }
        pos += nl ? n + 1 : n;
    }
    if (p->rows == 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: no data rows", p->name);
    return CLSEQ_OK;
}

clseq_status clseq_csv_parse(const char *text, size_t len, const char *name, clseq_dataset *out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "csv_parse: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!text)
        return clseq_fail(CLSEQ_E_ARG, "csv_parse: text must not be NULL");
    csv_parser p;
    memset(&p, 0, sizeof p);
    p.text = text;
    p.len = len;
    p.name = name ? name : "<memory>";

    c_locale_guard g;
    c_locale_enter(&g);
    clseq_status st = parse_lines(&p);
    c_locale_leave(&g);
    free(p.scratch);
    if (st != CLSEQ_OK) {
        free(p.x);
        free(p.y);
        free(p.lines);
        return st;
    }
    out->x = p.x;
    out->y = p.y;
    out->lines = p.lines;
    out->rows = p.rows;
    out->features = (int)(p.cols - 1);
    return CLSEQ_OK;
}

void clseq_dataset_free(clseq_dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    free(d->lines);
    memset(d, 0, sizeof *d);
}

/* ---- reading files ------------------------------------------------------ */

clseq_status clseq_csv_read(const char *path, clseq_dataset *out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "csv_read: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return clseq_fail(CLSEQ_E_ARG, "csv_read: path must not be NULL");
    unsigned char *data = NULL;
    size_t len = 0;
    clseq_status st = clseq_read_file(path, &data, &len);
    if (st != CLSEQ_OK)
        return st;
    st = clseq_csv_parse((const char *)data, len, path, out);
    free(data);
    return st;
}

/* ---- writing ------------------------------------------------------------ */

/* 1 if the reader would see this header name as "not a number". */
static int marks_header(const char *h)
{
    while (is_space(*h))
        h++;
    if (*h == '\0')
        return 0;
    char *end;
    (void)strtof(h, &end);
    while (end != h && is_space(*end))
        end++;
    return end == h || *end != '\0';
}

static clseq_status check_header(const char *const *header, size_t names)
{
    int detectable = 0;
    for (size_t i = 0; i < names; i++) {
        if (!header[i])
            return clseq_fail(CLSEQ_E_ARG, "csv_write: header[%zu] is NULL", i);
        if (strpbrk(header[i], ",\r\n"))
            return clseq_fail(CLSEQ_E_ARG, "csv_write: header[%zu] '%s' holds a comma or a "
                              "line break", i, header[i]);
        detectable |= marks_header(header[i]);
    }
    /* A header of numbers only would be read back as a data row. */
    if (!detectable)
        return clseq_fail(CLSEQ_E_ARG, "csv_write: the header needs a name that is not a "
                          "number, or readers take it for data");
    return CLSEQ_OK;
}

static clseq_status check_finite(const float *x, size_t rows, size_t cols, const float *y)
{
    /* NaN or Inf would write a file that clseq_csv_read refuses. */
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++)
            if (!isfinite(x[i * cols + j]))
                return clseq_fail(CLSEQ_E_NUMERIC, "csv_write: row %zu, column %zu is %g", i,
                                  j, (double)x[i * cols + j]);
        if (y && !isfinite(y[i]))
            return clseq_fail(CLSEQ_E_NUMERIC, "csv_write: row %zu, target is %g", i,
                              (double)y[i]);
    }
    return CLSEQ_OK;
}

/* Header and rows; "%.9g" is enough digits for any float to read back exactly. */
static int write_body(FILE *f, const float *x, size_t rows, size_t cols, const float *y,
                      const char *const *header)
{
    size_t names = cols + (y ? 1 : 0);
    for (size_t j = 0; header && j < names; j++)
        if (fprintf(f, "%s%s", j ? "," : "", header[j]) < 0)
            return -1;
    if (header && fputc('\n', f) == EOF)
        return -1;
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++)
            if (fprintf(f, j ? ",%.9g" : "%.9g", (double)x[i * cols + j]) < 0)
                return -1;
        if (y && fprintf(f, ",%.9g", (double)y[i]) < 0)
            return -1;
        if (fputc('\n', f) == EOF)
            return -1;
    }
    return 0;
}

/* Formats the table in memory, then hands it to the atomic writer, so a
 * failure at any point leaves an existing file at path as it was. */
static clseq_status write_atomic(const char *path, const float *x, size_t rows, size_t cols,
                                 const float *y, const char *const *header)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory formatting the table", path);
    int failed = write_body(f, x, rows, cols, y, header) != 0;
    failed = (fclose(f) != 0) || failed;
    clseq_status st = failed ? clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory formatting the table",
                                          path)
                             : clseq_write_file_atomic(path, (const unsigned char *)text, size);
    free(text);
    return st;
}

clseq_status clseq_csv_write(const char *path, const float *x, size_t rows, int cols,
                             const float *y, const char *const *header)
{
    if (!path || !x)
        return clseq_fail(CLSEQ_E_ARG, "csv_write: path and x must not be NULL");
    if (cols <= 0)
        return clseq_fail(CLSEQ_E_ARG, "csv_write: cols must be > 0, got %d", cols);
    size_t values;
    if (clseq_mul_overflows(rows, (size_t)cols, &values) || values > (size_t)-1 / sizeof(float))
        return clseq_fail(CLSEQ_E_ARG, "csv_write: %zu rows x %d columns is too large", rows,
                          cols);
    clseq_status st = check_finite(x, rows, (size_t)cols, y);
    c_locale_guard g;
    c_locale_enter(&g);
    if (st == CLSEQ_OK && header)
        st = check_header(header, (size_t)cols + (y ? 1 : 0));
    if (st == CLSEQ_OK)
        st = write_atomic(path, x, rows, (size_t)cols, y, header);
    c_locale_leave(&g);
    return st;
}
