/* The streaming CSV reader (clseq_csv_open, clseq_csv_read_rows).
 *
 * References: clseq_csv_read of the same file (a read of rows [a, b) must
 * equal its rows a..b-1 bit for bit, tolerance 0, since both parse the
 * same text), and what the writer here knows about the file it wrote:
 * the rows, the 1-based line of each, the smallest and largest target
 * (first line holding it) and the first line with a fractional target,
 * kept while writing and never read back from the library. Files have
 * more than 3 * CLSEQ_CSV_INDEX_ROWS rows so reads seek to several index
 * entries; error tests compare the message with clseq_csv_read's. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { ROWS = 3 * CLSEQ_CSV_INDEX_ROWS + 389, F = 3 };

/* How a generated file is laid out. */
typedef struct layout {
    int header, bom, crlf, blanks, final_newline, fraction;
} layout;

/* What the writer knows about its file. */
typedef struct truth {
    float x[ROWS * F], y[ROWS];
    size_t line[ROWS];           /* each row's 1-based line */
    size_t rows, lines;
    float min, max;
    size_t min_line, max_line, fraction_line;
} truth;

static truth T;

/* A path in this process's temporary folder (removed at exit). */
static const char *temp_path(const char *name)
{
    static const char *dir;
    static char path[4200];
    if (!dir) {
        dir = strdup(test_temp_dir());
        ck_assert_ptr_nonnull(dir);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void put_line(FILE *f, const layout *l, const char *text)
{
    fputs(text, f);
    fputs(l->crlf ? "\r\n" : "\n", f);
    T.lines++;
}

/* Writes ROWS rows laid out as l into path and records the truth: values
 * are "%.9g" of floats (exact when read back), targets whole numbers in
 * [-40, 40] except, with l->fraction, a few from row 2500 on. Blank and
 * whitespace-only lines fall around index boundaries when l->blanks. */
static void write_file(const char *path, const layout *l, uint64_t seed)
{
    memset(&T, 0, sizeof T);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (l->bom)
        fputs("\xEF\xBB\xBF", f);
    if (l->header)
        put_line(f, l, " f0,f1 ,f2,target");
    uint64_t state = seed;
    for (size_t r = 0; r < ROWS; r++) {
        if (l->blanks && (r % CLSEQ_CSV_INDEX_ROWS == 0 || r % CLSEQ_CSV_INDEX_ROWS == 1023 ||
                          r % 977 == 5)) {
            put_line(f, l, r % 2 ? "" : " \t ");
            if (r % 3 == 0)
                put_line(f, l, "");
        }
        char text[256];
        size_t len = 0;
        for (int c = 0; c < F; c++) {
            float v = test_uniform(&state, -1000.0f, 1000.0f);
            if (r % 5 == 1)
                v = (float)(long)v;
            T.x[r * F + c] = v;
            len += (size_t)snprintf(text + len, sizeof text - len, c % 2 ? " %.9g ," : "%.9g,",
                                    (double)v);
        }
        float t = (float)((long)test_uniform(&state, 0.0f, 81.0f) - 40);
        if (r == 1500)
            t = -41.0f; /* the smallest, once */
        if (r == 2999 || r == 3100)
            t = 57.0f;  /* the largest, twice: the first line counts */
        if (l->fraction && r >= 2500 && r % 101 == 0)
            t += 0.25f;
        T.y[r] = t;
        snprintf(text + len, sizeof text - len, "%.9g", (double)t);
        int last = r + 1 == ROWS;
        if (last && !l->final_newline) {
            fputs(text, f);
            T.lines++;
        } else {
            put_line(f, l, text);
        }
        T.line[r] = T.lines;
        if (r == 0 || t < T.min) {
            T.min = t;
            T.min_line = T.lines;
        }
        if (r == 0 || t > T.max) {
            T.max = t;
            T.max_line = T.lines;
        }
        if (!T.fraction_line && t != (float)(long)t)
            T.fraction_line = T.lines;
    }
    T.rows = ROWS;
    ck_assert_int_eq(fclose(f), 0);
}

/* Rows [first, first + count) read from f equal d's, bit for bit. */
static void expect_range(clseq_csv_file *f, const clseq_dataset *d, size_t first, size_t count)
{
    size_t n = count ? count : 1;
    float *x = malloc(n * F * sizeof *x), *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    clseq_status s = clseq_csv_read_rows(f, first, count, x, y);
    ck_assert_msg(s == CLSEQ_OK, "rows %zu + %zu: %s: %s", first, count, clseq_status_name(s),
                  clseq_last_error());
    ck_assert_msg(memcmp(x, d->x + first * F, count * F * sizeof *x) == 0,
                  "rows %zu + %zu: features differ from clseq_csv_read's", first, count);
    ck_assert_msg(memcmp(y, d->y + first, count * sizeof *y) == 0,
                  "rows %zu + %zu: targets differ from clseq_csv_read's", first, count);
    free(x);
    free(y);
}

static void check_layout(const layout *l, uint64_t seed)
{
    const char *path = temp_path("data.csv");
    write_file(path, l, seed);
    /* the whole-file reader agrees with the writer: the reference is sound */
    clseq_dataset d;
    ck_assert_clseq_ok(clseq_csv_read(path, &d));
    ck_assert_uint_eq(d.rows, ROWS);
    ck_assert_int_eq(d.features, F);
    ck_assert_mem_eq(d.x, T.x, sizeof T.x);
    ck_assert_mem_eq(d.y, T.y, sizeof T.y);
    for (size_t r = 0; r < ROWS; r++)
        ck_assert_uint_eq(d.lines[r], T.line[r]);

    clseq_csv_file *f = NULL;
    ck_assert_clseq_ok(clseq_csv_open(path, &f));
    clseq_csv_summary s;
    memset(&s, 0xab, sizeof s);
    ck_assert_clseq_ok(clseq_csv_summarize(f, &s));
    ck_assert_uint_eq(s.rows, T.rows);
    ck_assert_int_eq(s.features, F);
    ck_assert(s.target_min == T.min);
    ck_assert(s.target_max == T.max);
    ck_assert_uint_eq(s.target_min_line, T.min_line);
    ck_assert_uint_eq(s.target_max_line, T.max_line);
    ck_assert_uint_eq(s.fraction_line, T.fraction_line);

    /* at, just before and just after every index boundary, to the last row */
    const size_t K = CLSEQ_CSV_INDEX_ROWS;
    size_t starts[] = {0, 1, K - 1, K, K + 1, 2 * K - 1, 2 * K, 2 * K + 1, 3 * K - 1, 3 * K,
                       3 * K + 1, ROWS - 2, ROWS - 1};
    size_t counts[] = {0, 1, 2, K - 1, K, K + 1, 2 * K + 3};
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
        for (size_t j = 0; j < sizeof counts / sizeof *counts; j++)
            if (counts[j] <= ROWS - starts[i])
                expect_range(f, &d, starts[i], counts[j]);
    /* ranges that end at and around every boundary and at the last row */
    size_t ends[] = {K - 1, K, K + 1, 2 * K, 3 * K - 1, 3 * K, 3 * K + 1, ROWS - 1, ROWS};
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        expect_range(f, &d, ends[i] - 1, 1);
        expect_range(f, &d, ends[i] - 700, 700);
        expect_range(f, &d, 0, ends[i]);
    }
    expect_range(f, &d, ROWS, 0);
    expect_range(f, &d, 0, ROWS);
    /* random ranges in random order */
    uint64_t state = seed ^ 0x5eed;
    for (int i = 0; i < 60; i++) {
        size_t first = (size_t)test_uniform(&state, 0.0f, (float)ROWS);
        size_t count = (size_t)test_uniform(&state, 0.0f, 1500.0f);
        if (first >= ROWS)
            first = ROWS - 1;
        if (count > ROWS - first)
            count = ROWS - first;
        expect_range(f, &d, first, count);
    }
    clseq_csv_close(f);
    clseq_dataset_free(&d);
    ck_assert_int_eq(unlink(path), 0);
}

START_TEST(reads_equal_whole_file_reader)
{
    static const layout layouts[] = {
        /* header bom crlf blanks final_newline fraction */
        {0, 0, 0, 0, 1, 0},
        {1, 0, 0, 1, 1, 1},
        {0, 1, 1, 1, 0, 1},
        {1, 1, 1, 0, 1, 0},
        {0, 0, 1, 1, 1, 0},
        {0, 1, 0, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++)
        check_layout(&layouts[i], 100 + i);
}
END_TEST

/* A small file, written as is. */
static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* path holds a bad file: opening it fails as clseq_csv_read does, with the
 * same status and message, and that message names the file and line. */
static void expect_open_error(const char *text, size_t len, clseq_status want, size_t line)
{
    const char *path = temp_path("bad.csv");
    write_text(path, text, len);
    clseq_dataset d;
    clseq_status whole = clseq_csv_read(path, &d);
    ck_assert_int_eq(whole, want);
    char message[1024];
    snprintf(message, sizeof message, "%s", clseq_last_error());
    char where[4300];
    if (line)
        snprintf(where, sizeof where, "%s:%zu:", path, line);
    else
        snprintf(where, sizeof where, "%s", path);
    ck_assert_msg(strstr(message, where), "'%s' not in clseq_csv_read's: %s", where, message);
    clseq_csv_file *f = (clseq_csv_file *)&d; /* anything but NULL */
    clseq_status s = clseq_csv_open(path, &f);
    ck_assert_msg(s == want, "%s for line %zu: %s", clseq_status_name(s), line,
                  clseq_last_error());
    ck_assert_ptr_null(f);
    ck_assert_str_eq(clseq_last_error(), message);
    unlink(path);
}

/* A text of n good rows (three columns) and a bad one after them. */
static char *rows_then(size_t n, const char *prefix, const char *bad, size_t *len)
{
    size_t cap = n * 16 + strlen(prefix) + strlen(bad) + 64;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    size_t at = (size_t)snprintf(text, cap, "%s", prefix);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(text + at, cap - at, "%zu,%zu,%zu\n", i, i % 7, i % 3);
    at += (size_t)snprintf(text + at, cap - at, "%s", bad);
    *len = at;
    return text;
}

START_TEST(bad_rows_name_file_and_line)
{
    size_t len;
    char *text;
    /* a bad number past two index entries: header + 2100 rows, line 2102 */
    text = rows_then(2100, "a,b,c\n", "1,zz,2\n3,4,5\n", &len);
    expect_open_error(text, len, CLSEQ_E_FORMAT, 2102);
    free(text);
    /* a wrong column count, with a BOM and blank lines counted */
    text = rows_then(1500, "\xEF\xBB\xBF\n\n", "1,2\n", &len);
    expect_open_error(text, len, CLSEQ_E_FORMAT, 1503);
    free(text);
    /* CRLF lines, then a NaN and a float overflow */
    expect_open_error("1,2,3\r\n4,5,6\r\n\r\nnan,1,2\r\n", 25, CLSEQ_E_NUMERIC, 4);
    text = rows_then(1024, "", "1,1e39,0\n", &len);
    expect_open_error(text, len, CLSEQ_E_NUMERIC, 1025);
    free(text);
    /* a NUL byte */
    expect_open_error("1,2,3\n4,\0,6\n", 12, CLSEQ_E_FORMAT, 2);
    /* no rows at all */
    expect_open_error("", 0, CLSEQ_E_FORMAT, 0);
    expect_open_error("\xEF\xBB\xBF" "a,b,c\r\n\r\n", 12, CLSEQ_E_FORMAT, 0);
    expect_open_error("1\n2\n", 4, CLSEQ_E_FORMAT, 1);
}
END_TEST

/* SIGALRM's default action ends the process: a FIFO open that blocks
 * fails the test instead of hanging it. */
START_TEST(fifo_refused_without_blocking)
{
    const char *path = temp_path("fifo.csv");
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s", path);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    alarm(20);
    clseq_csv_file *f = NULL;
    ck_assert_int_eq(clseq_csv_open(fifo, &f), CLSEQ_E_IO);
    alarm(0);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(clseq_last_error(), fifo), "%s", clseq_last_error());
    ck_assert_msg(strstr(clseq_last_error(), "not a regular file"), "%s", clseq_last_error());
    unlink(fifo);
    /* a missing file and a folder */
    ck_assert_int_eq(clseq_csv_open(temp_path("missing.csv"), &f), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "missing.csv"));
    ck_assert_ptr_null(f);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", temp_path("sub"));
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(clseq_csv_open(dir, &f), CLSEQ_E_IO);
    ck_assert_ptr_null(f);
    rmdir(dir);
}
END_TEST

/* A file of n rows "i,i,i%5"; opens it. */
static clseq_csv_file *open_rows(const char *path, size_t n)
{
    size_t len;
    char *text = rows_then(n, "", "", &len);
    write_text(path, text, len);
    free(text);
    clseq_csv_file *f = NULL;
    ck_assert_clseq_ok(clseq_csv_open(path, &f));
    return f;
}

START_TEST(changed_file_is_an_io_error)
{
    char path[4200];
    snprintf(path, sizeof path, "%s", temp_path("grow.csv"));
    float x[2 * 8], y[8];
    /* appended to after opening */
    clseq_csv_file *f = open_rows(path, 2000);
    ck_assert_clseq_ok(clseq_csv_read_rows(f, 1500, 8, x, y));
    ck_assert(x[0] == 1500.0f && y[7] == (float)(1507 % 3));
    FILE *a = fopen(path, "ab");
    ck_assert_ptr_nonnull(a);
    fputs("1,2,3\n", a);
    ck_assert_int_eq(fclose(a), 0);
    ck_assert_int_eq(clseq_csv_read_rows(f, 0, 8, x, y), CLSEQ_E_IO);
    ck_assert_msg(strstr(clseq_last_error(), path), "%s", clseq_last_error());
    /* and stays one */
    ck_assert_int_eq(clseq_csv_read_rows(f, 1500, 8, x, y), CLSEQ_E_IO);
    clseq_csv_close(f);

    /* cut short after opening */
    f = open_rows(path, 2000);
    ck_assert_int_eq(truncate(path, 100), 0);
    ck_assert_int_eq(clseq_csv_read_rows(f, 1990, 8, x, y), CLSEQ_E_IO);
    clseq_csv_close(f);

    /* rewritten at the same size, with only its modification time told apart */
    f = open_rows(path, 2000);
    struct timespec later[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, later, 0), 0);
    ck_assert_int_eq(clseq_csv_read_rows(f, 0, 8, x, y), CLSEQ_E_IO);
    clseq_csv_close(f);
    unlink(path);
}
END_TEST

/* Rewritten in place behind the reader's back with size and times put
 * back, a bad row past two index entries is found when read; the message
 * names the line it is on, which only a right index can know. (A reader
 * that also noticed this change would say CLSEQ_E_IO, which is as good.) */
START_TEST(index_keeps_line_numbers)
{
    char path[4200];
    snprintf(path, sizeof path, "%s", temp_path("lines.csv"));
    /* "a,b,c" then 3000 rows, with a blank line before every 500th */
    size_t cap = 3000 * 24, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text, cap, "a,b,c\n");
    size_t line = 1, bad_line = 0, bad_at = 0;
    for (size_t i = 0; i < 3000; i++) {
        if (i % 500 == 0) {
            len += (size_t)snprintf(text + len, cap - len, "\n");
            line++;
        }
        if (i == 2500)
            bad_at = len;
        len += (size_t)snprintf(text + len, cap - len, "%zu,%zu,%zu\n", i % 10, i % 7, i % 3);
        line++;
        if (i == 2500)
            bad_line = line;
    }
    write_text(path, text, len);
    clseq_csv_file *f = NULL;
    ck_assert_clseq_ok(clseq_csv_open(path, &f));
    struct stat before;
    ck_assert_int_eq(stat(path, &before), 0);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "x", 1, (off_t)bad_at), 1);
    close(fd);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
    /* (changed before the first read: stdio may serve a later read from
     * what an earlier one buffered) */
    float x[2 * 10], y[10];
    ck_assert_clseq_ok(clseq_csv_read_rows(f, 2490, 10, x, y)); /* before it: fine */
    ck_assert(x[0] == (float)(2490 % 10) && y[9] == (float)(2499 % 3));
    clseq_status s = clseq_csv_read_rows(f, 2495, 10, x, y);
    if (s != CLSEQ_E_IO) {
        ck_assert_int_eq(s, CLSEQ_E_FORMAT);
        char where[4300];
        snprintf(where, sizeof where, "%s:%zu: column 1", path, bad_line);
        ck_assert_msg(strstr(clseq_last_error(), where), "'%s' not in %s", where,
                      clseq_last_error());
    }
    clseq_csv_close(f);
    free(text);
    unlink(path);
}
END_TEST

START_TEST(bad_ranges_and_null_arguments)
{
    char path[4200];
    snprintf(path, sizeof path, "%s", temp_path("args.csv"));
    clseq_csv_file *f = open_rows(path, 1100);
    float x[2 * 4], y[4];
    ck_assert_int_eq(clseq_csv_read_rows(f, 1101, 0, x, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, 1100, 1, x, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, 1097, 4, x, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, 0, 1101, x, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, 1, (size_t)-1, x, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, (size_t)-1, 2, x, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, (size_t)-1, 0, x, y), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), path), "%s", clseq_last_error());
    /* the last rows and an empty read at the end are in range */
    ck_assert_clseq_ok(clseq_csv_read_rows(f, 1096, 4, x, y));
    ck_assert(x[0] == 1096.0f && x[7] == (float)(1099 % 7) && y[3] == (float)(1099 % 3));
    ck_assert_clseq_ok(clseq_csv_read_rows(f, 1100, 0, x, y));
    /* NULL arguments */
    ck_assert_int_eq(clseq_csv_read_rows(NULL, 0, 1, x, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, 0, 1, NULL, y), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read_rows(f, 0, 1, x, NULL), CLSEQ_E_ARG);
    clseq_csv_summary s;
    ck_assert_int_eq(clseq_csv_summarize(NULL, &s), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_summarize(f, NULL), CLSEQ_E_ARG);
    clseq_csv_file *g = (clseq_csv_file *)&s;
    ck_assert_int_eq(clseq_csv_open(NULL, &g), CLSEQ_E_ARG);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(clseq_csv_open(path, NULL), CLSEQ_E_ARG);
    /* still readable after the refusals */
    ck_assert_clseq_ok(clseq_csv_read_rows(f, 1023, 2, x, y));
    ck_assert(x[0] == 1023.0f && x[2] == 1024.0f);
    clseq_csv_close(f);
    clseq_csv_close(NULL);
    unlink(path);
}
END_TEST

static Suite *csv_stream_suite(void)
{
    Suite *s = suite_create("csv_stream");
    TCase *tc = tcase_create("csv_stream");
    tcase_add_test(tc, reads_equal_whole_file_reader);
    tcase_add_test(tc, bad_rows_name_file_and_line);
    tcase_add_test(tc, fifo_refused_without_blocking);
    tcase_add_test(tc, changed_file_is_an_io_error);
    tcase_add_test(tc, index_keeps_line_numbers);
    tcase_add_test(tc, bad_ranges_and_null_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(csv_stream_suite());
}
