/* CSV data files: one row per sample, features first, the target last.
 *
 * Whole files and memory are parsed by the line parser (csv_parser.c),
 * which frees everything on failure; files larger than memory are read a
 * block at a time by csv_stream.c. Numbers are read and written in the C
 * locale whatever the host program set, so "1.5" means the same
 * everywhere. */
#include "clseq.h"
#include "data/csv_parser.h"
#include "sys/error.h"
#include "sys/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static clseq_status parse_lines(csv_parser *p)
{
    size_t pos = clseq_csv_bom_length(p->text, p->len);
    while (pos < p->len) {
        const char *s = p->text + pos;
        const char *nl = memchr(s, '\n', p->len - pos);
        size_t n = nl ? (size_t)(nl - s) : p->len - pos;
        clseq_status st = clseq_csv_parse_line(p, s, n, pos);
        if (st != CLSEQ_OK)
            return st;
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
    clseq_csv_locale_enter(&g);
    clseq_status st = parse_lines(&p);
    clseq_csv_locale_leave(&g);
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
    clseq_csv_locale_enter(&g);
    if (st == CLSEQ_OK && header)
        st = check_header(header, (size_t)cols + (y ? 1 : 0));
    if (st == CLSEQ_OK)
        st = write_atomic(path, x, rows, (size_t)cols, y, header);
    clseq_csv_locale_leave(&g);
    return st;
}
