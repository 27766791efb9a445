/* A CSV file read a block of rows at a time (clseq_csv_open): one checking
 * pass that indexes every CLSEQ_CSV_INDEX_ROWS-th row's byte offset, then
 * reads that seek to the nearest indexed row and parse forward. Rows are
 * parsed by the same line parser as whole files (csv_parser.c), so a file
 * reads the same either way. */
#define _FILE_OFFSET_BITS 64
#include "clseq.h"
#include "data/csv_parser.h"
#include "sys/error.h"
#include "sys/fileio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { READ_BUFFER_BYTES = 1 << 20 };

/* Where an indexed row starts: its byte offset, and the number of the
 * line before it (the parser counts lines as it reads them). */
typedef struct index_entry {
    off_t offset;
    size_t line_before;
} index_entry;

struct clseq_csv_file {
    char *path;
    FILE *file;
    struct stat opened;      /* size and modification time when opened */
    size_t cols;
    clseq_csv_summary summary;
    index_entry *index;      /* summary.rows / CLSEQ_CSV_INDEX_ROWS + 1 entries */
    size_t index_count, index_cap;
    char *line;              /* getline's buffer */
    size_t line_cap;
    float *skip_x;           /* one row's features: rows read past on the way */
};

static clseq_status add_index(clseq_csv_file *f, off_t offset, size_t line_before)
{
    if (f->index_count == f->index_cap) {
        size_t cap = f->index_cap ? f->index_cap * 2 : 64;
        index_entry *grown = realloc(f->index, cap * sizeof *grown);
        if (!grown)
            return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory for the row index", f->path);
        f->index = grown;
        f->index_cap = cap;
    }
    f->index[f->index_count++] = (index_entry){offset, line_before};
    return CLSEQ_OK;
}

/* The target of a row just read: the summary's extremes and first fraction. */
static void note_target(clseq_csv_summary *s, float y, size_t line)
{
    if (s->rows == 0 || y < s->target_min) {
        s->target_min = y;
        s->target_min_line = line;
    }
    if (s->rows == 0 || y > s->target_max) {
        s->target_max = y;
        s->target_max_line = line;
    }
    if (!s->fraction_line && y != floorf(y))
        s->fraction_line = line;
}

/* The next line into f->line without its newline; 0 at the end of the
 * file, -1 with *status set on a read error. */
static ssize_t next_line(clseq_csv_file *f, clseq_status *status)
{
    errno = 0;
    ssize_t n = getline(&f->line, &f->line_cap, f->file);
    if (n < 0) {
        if (ferror(f->file))
            *status = errno == ENOMEM ? clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory for a line",
                                                   f->path)
                                      : clseq_io_fail(f->path, "read", errno);
        return n < 0 && ferror(f->file) ? -1 : 0;
    }
    return n;
}

/* The checking and indexing pass: every row parsed (into a one-row
 * buffer that the parser grows once), its target noted. */
static clseq_status index_file(clseq_csv_file *f)
{
    csv_parser p;
    memset(&p, 0, sizeof p);
    p.name = f->path;
    clseq_status s = CLSEQ_OK;
    off_t offset = 0;
    for (;;) {
        ssize_t n = next_line(f, &s);
        if (n <= 0)
            break;
        size_t len = (size_t)n - (f->line[n - 1] == '\n');
        size_t skip = offset == 0 ? clseq_csv_bom_length(f->line, len) : 0;
        size_t line_before = p.line_no;
        if ((s = clseq_csv_parse_line(&p, f->line + skip, len - skip, 0)) != CLSEQ_OK)
            break;
        if (p.rows == 1) {
            if (f->summary.rows % CLSEQ_CSV_INDEX_ROWS == 0 &&
                (s = add_index(f, offset + (off_t)skip, line_before)) != CLSEQ_OK)
                break;
            note_target(&f->summary, p.y[0], p.line_no);
            f->summary.rows++;
            p.rows = 0;
        }
        offset += n;
    }
    if (s == CLSEQ_OK && f->summary.rows == 0)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: no data rows", f->path);
    f->cols = p.cols;
    f->summary.features = (int)(p.cols - 1);
    free(p.x);
    free(p.y);
    free(p.lines);
    free(p.scratch);
    return s;
}

clseq_status clseq_csv_open(const char *path, clseq_csv_file **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "csv_open: out must not be NULL");
    *out = NULL;
    if (!path)
        return clseq_fail(CLSEQ_E_ARG, "csv_open: path must not be NULL");
    clseq_csv_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", path);
    }
    unsigned mode = 0;
    /* a FIFO or device is refused before anything blocks on it */
    int fd = clseq_open_regular(path, &mode);
    clseq_status s = CLSEQ_OK;
    if (fd < 0)
        s = mode ? clseq_fail(CLSEQ_E_IO, "%s: is %s, not a regular file", path,
                              clseq_file_kind(mode))
                 : clseq_io_fail(path, "open", errno);
    else if (fstat(fd, &f->opened) != 0 || !(f->file = fdopen(fd, "rb")))
        s = clseq_io_fail(path, "open", errno);
    if (fd >= 0 && !f->file)
        close(fd);
    if (s == CLSEQ_OK)
        setvbuf(f->file, NULL, _IOFBF, READ_BUFFER_BYTES);
    c_locale_guard g;
    clseq_csv_locale_enter(&g);
    if (s == CLSEQ_OK)
        s = index_file(f);
    clseq_csv_locale_leave(&g);
    if (s == CLSEQ_OK && !(f->skip_x = malloc(f->cols * sizeof *f->skip_x)))
        s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", path);
    if (s != CLSEQ_OK) {
        clseq_csv_close(f);
        return s;
    }
    *out = f;
    return CLSEQ_OK;
}

clseq_status clseq_csv_summarize(const clseq_csv_file *f, clseq_csv_summary *out)
{
    if (!f || !out)
        return clseq_fail(CLSEQ_E_ARG, "csv_summarize: file and out must not be NULL");
    *out = f->summary;
    return CLSEQ_OK;
}

static clseq_status check_unchanged(const clseq_csv_file *f)
{
    struct stat now;
    if (fstat(fileno(f->file), &now) != 0)
        return clseq_io_fail(f->path, "stat", errno);
    if (now.st_size != f->opened.st_size || now.st_mtim.tv_sec != f->opened.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != f->opened.st_mtim.tv_nsec)
        return clseq_fail(CLSEQ_E_IO, "%s: the file changed after it was opened and checked "
                          "(%lld bytes then, %lld now); open it again",
                          f->path, (long long)f->opened.st_size, (long long)now.st_size);
    return CLSEQ_OK;
}

/* Parses lines into p's rows until it holds all it has room for. */
static clseq_status read_into(clseq_csv_file *f, csv_parser *p)
{
    clseq_status s = CLSEQ_OK;
    while (p->rows < p->cap_rows) {
        ssize_t n = next_line(f, &s);
        if (n < 0)
            return s;
        if (n == 0)
            return clseq_fail(CLSEQ_E_IO, "%s: ended at line %zu, before the rows it held when "
                              "opened", f->path, p->line_no);
        size_t len = (size_t)n - (f->line[n - 1] == '\n');
        if ((s = clseq_csv_parse_line(p, f->line, len, 0)) != CLSEQ_OK)
            return s;
    }
    return CLSEQ_OK;
}

static clseq_status read_rows(clseq_csv_file *f, size_t first, size_t count, float *x, float *y)
{
    const index_entry *at = &f->index[first / CLSEQ_CSV_INDEX_ROWS];
    clseq_status s = check_unchanged(f);
    if (s == CLSEQ_OK && fseeko(f->file, at->offset, SEEK_SET) != 0)
        s = clseq_io_fail(f->path, "seek", errno);
    csv_parser p;
    memset(&p, 0, sizeof p);
    p.name = f->path;
    p.cols = f->cols;    /* fixed by the opening pass: no header to look for */
    p.line_no = at->line_before;
    p.fixed = 1;
    float skip_y;
    /* rows between the indexed one and first, one at a time */
    for (size_t r = first - first % CLSEQ_CSV_INDEX_ROWS; s == CLSEQ_OK && r < first; r++) {
        p.x = f->skip_x;
        p.y = &skip_y;
        p.rows = 0;
        p.cap_rows = 1;
        s = read_into(f, &p);
    }
    p.x = x;
    p.y = y;
    p.rows = 0;
    p.cap_rows = count;
    if (s == CLSEQ_OK)
        s = read_into(f, &p);
    free(p.scratch);
    return s;
}

clseq_status clseq_csv_read_rows(clseq_csv_file *f, size_t first, size_t count, float *x,
                                 float *y)
{
    if (!f || !x || !y)
        return clseq_fail(CLSEQ_E_ARG, "csv_read_rows: file, x and y must not be NULL");
    if (first > f->summary.rows || count > f->summary.rows - first)
        return clseq_fail(CLSEQ_E_ARG, "csv_read_rows: rows %zu..%zu are beyond the %zu of %s",
                          first, first + count, f->summary.rows, f->path);
    if (count == 0)
        return CLSEQ_OK;
    c_locale_guard g;
    clseq_csv_locale_enter(&g);
    clseq_status s = read_rows(f, first, count, x, y);
    clseq_csv_locale_leave(&g);
    return s;
}

void clseq_csv_close(clseq_csv_file *f)
{
    if (!f)
        return;
    if (f->file)
        fclose(f->file);
    free(f->index);
    free(f->line);
    free(f->skip_x);
    free(f->path);
    free(f);
}
