/* CSV reading and writing.
 *
 * References: hand-written files whose values are exact in float (so any
 * difference is a parser bug, tolerance 0), scikit-learn's make_blobs
 * fixture read as CSV, and write -> read round trips compared bit for bit
 * ("%.9g" is enough digits for every float). Error tests check the status
 * and that the message names the line and column at fault. */
#include "testutil.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parses text from an exact-size heap copy, so a read past the end is a
 * sanitizer error rather than a silent pass. */
static clseq_status parse(const char *text, clseq_dataset *d)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    clseq_status s = clseq_csv_parse(copy, len, "data.csv", d);
    free(copy);
    return s;
}

static void expect_values(const clseq_dataset *d, size_t rows, int features, const float *x,
                          const float *y)
{
    ck_assert_uint_eq(d->rows, rows);
    ck_assert_int_eq(d->features, features);
    ck_assert_mem_eq(d->x, x, rows * (size_t)features * sizeof *x);
    ck_assert_mem_eq(d->y, y, rows * sizeof *y);
}

static const float GOOD_X[6] = {1.5f, -2, 0.25f, 3, 1e-3f, 4};
static const float GOOD_Y[3] = {0, 1, 2};

START_TEST(test_read_with_header)
{
    clseq_dataset d;
    ck_assert_clseq_ok(parse("x0,x1,label\n1.5,-2,0\n0.25,3,1\n0.001,4,2\n", &d));
    expect_values(&d, 3, 2, GOOD_X, GOOD_Y);
    clseq_dataset_free(&d);
    ck_assert_ptr_null(d.x);
    ck_assert_uint_eq(d.rows, 0);
}
END_TEST

START_TEST(test_read_without_header_blank_lines_spaces)
{
    clseq_dataset d;
    /* No header, blank and whitespace-only lines, spaces around numbers,
     * "+", exponent, and no trailing newline. */
    ck_assert_clseq_ok(parse("\n  1.5 , -2,0\n\n \t\n+0.25,3e0, 1 \n1e-3,4,2", &d));
    expect_values(&d, 3, 2, GOOD_X, GOOD_Y);
    /* each row keeps the line it came from, counting the skipped ones */
    ck_assert_uint_eq(d.lines[0], 2);
    ck_assert_uint_eq(d.lines[1], 5);
    ck_assert_uint_eq(d.lines[2], 6);
    clseq_dataset_free(&d);
    ck_assert_ptr_null(d.lines);
}
END_TEST

START_TEST(test_read_crlf_and_bom)
{
    clseq_dataset d;
    ck_assert_clseq_ok(parse("a,b,c\r\n1.5,-2,0\r\n0.25,3,1\r\n\r\n0.001,4,2\r\n", &d));
    expect_values(&d, 3, 2, GOOD_X, GOOD_Y);
    clseq_dataset_free(&d);
    /* A byte-order mark must not make the first data row a "header". */
    ck_assert_clseq_ok(parse("\xEF\xBB\xBF" "1.5,-2,0\n0.25,3,1\n0.001,4,2\n", &d));
    expect_values(&d, 3, 2, GOOD_X, GOOD_Y);
    clseq_dataset_free(&d);
}
END_TEST

START_TEST(test_parse_stops_at_len)
{
    /* The buffer is not NUL-terminated: the last field ends at len, not at
     * the '9' after it. */
    static const char text[] = "1,2\n3,49";
    char *copy = malloc(7);
    memcpy(copy, text, 7);
    clseq_dataset d;
    ck_assert_clseq_ok(clseq_csv_parse(copy, 7, "mem", &d));
    const float x[2] = {1, 3}, y[2] = {2, 4};
    expect_values(&d, 2, 1, x, y);
    clseq_dataset_free(&d);
    free(copy);
}
END_TEST

START_TEST(test_read_sklearn_fixture_file)
{
    /* The make_blobs fixture is itself a CSV with a header; its values read
     * as floats must equal make_blobs' doubles rounded to float. */
    clseq_dataset d;
    ck_assert_clseq_ok(clseq_csv_read(test_fixture_path("blobs_n10_f2_c3_std1.5_seed7.csv"), &d));
    clseq_blobs_options o = clseq_blobs_defaults();
    o.n_samples = 10;
    o.cluster_std = 1.5;
    o.random_state = 7;
    double x[20];
    int labels[10];
    ck_assert_clseq_ok(clseq_make_blobs(&o, x, labels));
    ck_assert_uint_eq(d.rows, 10);
    ck_assert_int_eq(d.features, 2);
    for (int i = 0; i < 20; i++)
        ck_assert(d.x[i] == (float)x[i]);
    for (int i = 0; i < 10; i++)
        ck_assert(d.y[i] == (float)labels[i]);
    clseq_dataset_free(&d);
}
END_TEST

START_TEST(test_many_rows_grow)
{
    /* 5000 rows force several geometric growths. */
    size_t cap = 5000 * 24, len = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%d,%d,%d\n", i, -i, i % 7);
    clseq_dataset d;
    ck_assert_clseq_ok(clseq_csv_parse(text, len, "big.csv", &d));
    ck_assert_uint_eq(d.rows, 5000);
    for (int i = 0; i < 5000; i++) {
        ck_assert(d.x[2 * i] == (float)i && d.x[2 * i + 1] == (float)-i);
        ck_assert(d.y[i] == (float)(i % 7));
    }
    clseq_dataset_free(&d);
    free(text);
}
END_TEST

/* Expects status s and every needle in the message; out stays empty. */
static void expect_error(const char *text, clseq_status s, const char *n1, const char *n2)
{
    clseq_dataset d;
    clseq_status got = parse(text, &d);
    ck_assert_msg(got == s, "%s for %s: %s", clseq_status_name(got), text, clseq_last_error());
    ck_assert_msg(strstr(clseq_last_error(), n1), "'%s' not in: %s", n1, clseq_last_error());
    if (n2)
        ck_assert_msg(strstr(clseq_last_error(), n2), "'%s' not in: %s", n2, clseq_last_error());
    ck_assert_ptr_null(d.x);
    ck_assert_ptr_null(d.y);
    ck_assert_uint_eq(d.rows, 0);
}

START_TEST(test_bad_number_names_line_and_column)
{
    expect_error("x,y,t\n1,2,3\n4,abc,6\n", CLSEQ_E_FORMAT,
                 "data.csv:3: column 2: 'abc' is not a number", NULL);
    expect_error("1,2,3\n4,5x,6\n", CLSEQ_E_FORMAT, ":2: column 2: '5x'", NULL);
    expect_error("1,2\n3,\n", CLSEQ_E_FORMAT, ":2: column 2: ''", NULL);
    /* An empty field in the first line is a data error, not a header. */
    expect_error("1,,2\n", CLSEQ_E_FORMAT, ":1: column 2", NULL);
    expect_error("1,2\n3,4 5\n", CLSEQ_E_FORMAT, ":2: column 2", NULL);
    /* A typo in the first data row is reported, not taken for a header. */
    expect_error("1.5,2.O,0\n3,4,1\n5,6,0\n", CLSEQ_E_FORMAT, ":1: column 2: '2.O'", NULL);
}
END_TEST

START_TEST(test_column_count_mismatch)
{
    expect_error("a,b,c\n1,2,3\n\n1,2,3,4\n", CLSEQ_E_FORMAT, "data.csv:4:",
                 "found 4 columns, expected 3");
    expect_error("1,2,3\n1,2\n", CLSEQ_E_FORMAT, ":2:", "found 2 columns, expected 3");
    /* The header fixes the count too. */
    expect_error("a,b\n1,2,3\n", CLSEQ_E_FORMAT, ":2:", "expected 2");
}
END_TEST

START_TEST(test_non_finite_values)
{
    expect_error("1,2\nnan,3\n", CLSEQ_E_NUMERIC, "data.csv:2: column 1", "nan");
    expect_error("1,2\n3,-inf\n", CLSEQ_E_NUMERIC, ":2: column 2", NULL);
    expect_error("x,y\n1,2\n3,Infinity\n", CLSEQ_E_NUMERIC, ":3: column 2", NULL);
    /* Finite in text, infinite as a float. */
    expect_error("1,1e39\n", CLSEQ_E_NUMERIC, ":1: column 2", "1e39");
}
END_TEST

START_TEST(test_empty_header_only_one_column)
{
    expect_error("", CLSEQ_E_FORMAT, "data.csv", "no data rows");
    expect_error("\n \r\n\n", CLSEQ_E_FORMAT, "no data rows", NULL);
    expect_error("x0,x1,label\n", CLSEQ_E_FORMAT, "no data rows", NULL);
    expect_error("x0,x1,label\r\n\r\n", CLSEQ_E_FORMAT, "no data rows", NULL);
    expect_error("1\n2\n", CLSEQ_E_FORMAT, ":1:", "at least 2");
    expect_error("\nvalue\n1\n", CLSEQ_E_FORMAT, ":2:", "at least 2");
}
END_TEST

START_TEST(test_long_bad_field_is_shortened)
{
    char text[600];
    memset(text, 'z', sizeof text - 1);
    text[0] = '1';
    text[1] = ',';
    text[sizeof text - 1] = '\0';
    clseq_dataset d;
    char buf[700];
    snprintf(buf, sizeof buf, "1,2\n%s\n", text);
    ck_assert_int_eq(parse(buf, &d), CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "...' is not a number"));
    ck_assert_uint_lt(strlen(clseq_last_error()), 200);
}
END_TEST

START_TEST(test_every_prefix_is_safe)
{
    /* Cutting a valid file anywhere gives a result or a clean error, never
     * a crash or a read past len (run under ASan in the sanitizer build). */
    static const char text[] = "x0, x1 ,y\r\n1.5,-2e-3,0\r\n\r\n 7 ,nan,1\n0x1p3,4,abc\n";
    size_t len = sizeof text - 1;
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, text, n);
        clseq_dataset d;
        clseq_status s = clseq_csv_parse(copy, n, "cut.csv", &d);
        ck_assert(s == CLSEQ_OK || s == CLSEQ_E_FORMAT || s == CLSEQ_E_NUMERIC);
        if (s != CLSEQ_OK)
            ck_assert_ptr_null(d.x);
        clseq_dataset_free(&d);
        free(copy);
    }
}
END_TEST

START_TEST(test_read_errors_and_arguments)
{
    clseq_dataset d;
    ck_assert_int_eq(clseq_csv_read("/nonexistent/clseq/data.csv", &d), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "/nonexistent/clseq/data.csv"));
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "No such file"));
    const char *dir = test_temp_dir();
    ck_assert_int_eq(clseq_csv_read(dir, &d), CLSEQ_E_IO); /* a directory */
    rmdir(dir);
    ck_assert_int_eq(clseq_csv_read(NULL, &d), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_read("x.csv", NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_parse(NULL, 0, "x", &d), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_parse("1,2", 3, "x", NULL), CLSEQ_E_ARG);
    clseq_dataset_free(NULL);
}
END_TEST

/* ---- writing -------------------------------------------------------------- */

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

START_TEST(test_write_read_round_trip_exact)
{
    enum { ROWS = 200, COLS = 3 };
    float x[ROWS * COLS], y[ROWS];
    test_fill_uniform(x, ROWS * COLS, 11, -1000.0f, 1000.0f);
    test_fill_uniform(y, ROWS, 12, 0.0f, 1.0f);
    /* Values whose shortest text needs all nine digits, and the extremes. */
    x[0] = FLT_MAX;
    x[1] = -FLT_MIN;
    x[2] = 1.4e-45f; /* the smallest subnormal */
    x[3] = -0.0f;
    x[4] = 123456.789f;
    x[5] = 0.1f;
    y[0] = 3.4028235e38f;
    char path[4200];
    snprintf(path, sizeof path, "%s/out.csv", test_temp_dir());
    ck_assert_clseq_ok(clseq_csv_write(path, x, ROWS, COLS, y, NULL));
    clseq_dataset d;
    ck_assert_clseq_ok(clseq_csv_read(path, &d));
    expect_values(&d, ROWS, COLS, x, y);
    clseq_dataset_free(&d);

    /* With a header, replacing the old file; no temporary file remains. */
    const char *const names[4] = {"a", "b", "c", "target"};
    ck_assert_clseq_ok(clseq_csv_write(path, x, ROWS, COLS, y, names));
    ck_assert_clseq_ok(clseq_csv_read(path, &d));
    expect_values(&d, ROWS, COLS, x, y);
    clseq_dataset_free(&d);
    ck_assert_int_eq(unlink(path), 0);
    *strrchr(path, '/') = '\0';
    ck_assert_int_eq(count_entries(path), 0);
    rmdir(path);
}
END_TEST

START_TEST(test_write_header_text)
{
    const float x[4] = {1, 2, 3, 4};
    const char *const names[2] = {"u", "v"};
    char path[4200];
    snprintf(path, sizeof path, "%s/h.csv", test_temp_dir());
    ck_assert_clseq_ok(clseq_csv_write(path, x, 2, 2, NULL, names));
    FILE *f = fopen(path, "r");
    char text[64] = {0};
    ck_assert_uint_eq(fread(text, 1, sizeof text - 1, f), 12);
    fclose(f);
    ck_assert_str_eq(text, "u,v\n1,2\n3,4\n");
    /* Not mkstemp's 0600: a new file gets the usual 0644. */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
}
END_TEST

START_TEST(test_write_errors)
{
    const float x[4] = {1, 2, 3, 4};
    ck_assert_int_eq(clseq_csv_write("/nonexistent/clseq/dir/out.csv", x, 2, 2, NULL, NULL),
                     CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "/nonexistent/clseq/dir/out.csv"));

    /* Renaming onto a directory fails after writing: the temporary file
     * must be removed. */
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/sub", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(clseq_csv_write(path, x, 2, 2, NULL, NULL), CLSEQ_E_IO);
    ck_assert_int_eq(count_entries(dir), 1);
    rmdir(path);

    snprintf(path, sizeof path, "%s/n.csv", dir);
    const float bad[4] = {1, NAN, 3, 4};
    ck_assert_int_eq(clseq_csv_write(path, bad, 2, 2, NULL, NULL), CLSEQ_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "row 0, column 1"));
    ck_assert_int_eq(count_entries(dir), 0); /* nothing written */

    const char *const comma[2] = {"a,b", "c"};
    const char *const numeric[2] = {"1", "2"};
    const char *const missing[2] = {"a", NULL};
    ck_assert_int_eq(clseq_csv_write(path, x, 2, 2, NULL, comma), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_write(path, x, 2, 2, NULL, numeric), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_write(path, x, 2, 2, NULL, missing), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "header[1]"));
    ck_assert_int_eq(clseq_csv_write(NULL, x, 2, 2, NULL, NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_write(path, NULL, 2, 2, NULL, NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_write(path, x, 2, 0, NULL, NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_csv_write(path, x, (size_t)-1, 2, NULL, NULL), CLSEQ_E_ARG);
    rmdir(dir);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *read = tcase_create("read");
    tcase_add_test(read, test_read_with_header);
    tcase_add_test(read, test_read_without_header_blank_lines_spaces);
    tcase_add_test(read, test_read_crlf_and_bom);
    tcase_add_test(read, test_parse_stops_at_len);
    tcase_add_test(read, test_read_sklearn_fixture_file);
    tcase_add_test(read, test_many_rows_grow);
    suite_add_tcase(s, read);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_bad_number_names_line_and_column);
    tcase_add_test(errors, test_column_count_mismatch);
    tcase_add_test(errors, test_non_finite_values);
    tcase_add_test(errors, test_empty_header_only_one_column);
    tcase_add_test(errors, test_long_bad_field_is_shortened);
    tcase_add_test(errors, test_every_prefix_is_safe);
    tcase_add_test(errors, test_read_errors_and_arguments);
    suite_add_tcase(s, errors);
    TCase *write = tcase_create("write");
    tcase_add_test(write, test_write_read_round_trip_exact);
    tcase_add_test(write, test_write_header_text);
    tcase_add_test(write, test_write_errors);
    suite_add_tcase(s, write);
    return s;
}

int main(void)
{
    return test_run_suite(csv_suite());
}
