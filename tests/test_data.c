/* Data utilities: the NumPy RandomState reproduction, make_blobs,
 * train_test_split and the row helpers.
 *
 * References: published MT19937 outputs (the reference code and the C++
 * standard's std::mt19937 check value), values NumPy's documentation and
 * tutorials show for RandomState(0) and RandomState(42), NumPy 1.26 outputs
 * noted next to each test, and scikit-learn 1.2's own make_blobs and
 * train_test_split outputs in the shared fixtures. All comparisons are
 * exact (bit for bit): the point is to reproduce those streams, not to
 * resemble them. */
#include "data/numpy_random.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- MT19937 and RandomState --------------------------------------------- */

START_TEST(test_mt19937_reference_outputs)
{
    /* init_genrand(5489): the reference implementation's default seed and
     * std::mt19937's default; the C++ standard requires the 10000th output
     * to be 4123659995. */
    static const uint32_t first[5] = {3499211612u, 581869302u, 3890346734u, 3586334585u,
                                      545404204u};
    clseq_np_random rs;
    clseq_np_seed(&rs, 5489);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(clseq_np_next32(&rs), first[i]);
    uint32_t v = 0;
    for (int i = 5; i < 10000; i++)
        v = clseq_np_next32(&rs);
    ck_assert_uint_eq(v, 4123659995u);
}
END_TEST

START_TEST(test_random_sample_matches_numpy)
{
    /* np.random.RandomState(0).random_sample() and RandomState(42)'s. */
    clseq_np_random rs;
    clseq_np_seed(&rs, 0);
    ck_assert(clseq_np_random_sample(&rs) == 0.5488135039273248);
    clseq_np_seed(&rs, 42);
    ck_assert(clseq_np_random_sample(&rs) == 0.3745401188473625);
    /* np.random.RandomState(1).uniform(-10, 10) */
    clseq_np_seed(&rs, 1);
    ck_assert(clseq_np_uniform(&rs, -10.0, 10.0) == -1.6595599059485195);
}
END_TEST

START_TEST(test_random_sample_is_res53)
{
    /* By hand: (a >> 5) * 2^26 + (b >> 6), over 2^53, from two raw words. */
    clseq_np_random raw, rs;
    clseq_np_seed(&raw, 7);
    clseq_np_seed(&rs, 7);
    uint32_t a = clseq_np_next32(&raw) >> 5, b = clseq_np_next32(&raw) >> 6;
    double expect = ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
    ck_assert(clseq_np_random_sample(&rs) == expect);
    ck_assert(expect >= 0.0 && expect < 1.0);
}
END_TEST

START_TEST(test_gauss_caches_second_value)
{
    /* np.random.RandomState(0).standard_normal() twice. */
    clseq_np_random rs;
    clseq_np_seed(&rs, 0);
    ck_assert(clseq_np_gauss(&rs) == 1.764052345967664);
    ck_assert_int_eq(rs.has_gauss, 1);
    int pos = rs.pos;
    ck_assert(clseq_np_gauss(&rs) == 0.4001572083672233);
    /* The second value came from the cache: no MT word was used. */
    ck_assert_int_eq(rs.pos, pos);
    ck_assert_int_eq(rs.has_gauss, 0);

    /* And by hand: seed 0's first pair is accepted (r2 < 1), the first
     * call returns f * x2 and the cached one is f * x1. */
    clseq_np_random raw;
    clseq_np_seed(&raw, 0);
    double x1 = 2.0 * clseq_np_random_sample(&raw) - 1.0;
    double x2 = 2.0 * clseq_np_random_sample(&raw) - 1.0;
    double r2 = x1 * x1 + x2 * x2;
    ck_assert(r2 < 1.0 && r2 > 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    ck_assert(f * x2 == 1.764052345967664);
    ck_assert(f * x1 == 0.4001572083672233);
    /* normal(loc, scale) = loc + scale * gauss */
    clseq_np_seed(&rs, 0);
    ck_assert(clseq_np_normal(&rs, 3.0, 2.0) == 3.0 + 2.0 * (f * x2));
}
END_TEST

START_TEST(test_interval_matches_numpy)
{
    /* NumPy 1.26: RandomState(0).randint(0, 6, size=8, dtype=int64), then
     * randint(0, 2**33 + 1, size=4, dtype=int64) on the same generator (the
     * legacy masked path: 32-bit draws, then 64-bit draws). */
    static const uint64_t small[8] = {4, 5, 0, 3, 3, 3, 1, 3};
    static const uint64_t large[4] = {5945874162ull, 1277901399ull, 1171049868ull,
                                      1686997841ull};
    clseq_np_random rs;
    clseq_np_seed(&rs, 0);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(clseq_np_interval(&rs, 5), small[i]);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(clseq_np_interval(&rs, (1ull << 33)), large[i]);
    /* max == 0 is 0 and draws nothing. */
    int pos = rs.pos;
    ck_assert_uint_eq(clseq_np_interval(&rs, 0), 0);
    ck_assert_int_eq(rs.pos, pos);
}
END_TEST

START_TEST(test_permutation_matches_numpy)
{
    /* np.random.RandomState(0).permutation(10) */
    static const size_t expect[10] = {2, 8, 4, 9, 1, 6, 7, 3, 0, 5};
    size_t out[10];
    clseq_np_random rs;
    clseq_np_seed(&rs, 0);
    clseq_np_permutation(&rs, 10, out);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(out[i], expect[i]);
    /* n = 0 and n = 1 draw nothing. */
    clseq_np_permutation(&rs, 0, out);
    clseq_np_permutation(&rs, 1, out);
    ck_assert_uint_eq(out[0], 0);
}
END_TEST

/* ---- fixtures ------------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Names of fixtures starting with prefix, sorted; returns the count. */
static int list_fixtures(const char *prefix, char names[][256], int capacity)
{
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s", test_fixture_path(""));
    DIR *dir = opendir(dir_path);
    ck_assert_msg(dir != NULL, "cannot open fixtures directory %s", dir_path);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || count == capacity)
            continue;
        snprintf(names[count++], 256, "%s", e->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)count, sizeof names[0], compare_names);
    return count;
}

/* Compares make_blobs with one fixture file, every double bit for bit. */
static void check_blobs_fixture(const char *name)
{
    clseq_blobs_options o = clseq_blobs_defaults();
    unsigned seed;
    ck_assert_msg(sscanf(name, "blobs_n%zu_f%d_c%d_std%lf_seed%u.csv", &o.n_samples,
                         &o.n_features, &o.centers, &o.cluster_std, &seed) == 5,
                  "fixture name %s", name);
    o.random_state = seed;
    size_t n = o.n_samples, f = (size_t)o.n_features;
    double *x = malloc(n * f * sizeof *x);
    int *labels = malloc(n * sizeof *labels);
    ck_assert_clseq_ok(clseq_make_blobs(&o, x, labels));

    FILE *file = fopen(test_fixture_path(name), "r");
    ck_assert_msg(file != NULL, "cannot open %s", name);
    char line[8192];
    ck_assert(fgets(line, sizeof line, file) != NULL); /* the header */
    size_t row = 0;
    while (fgets(line, sizeof line, file)) {
        ck_assert_msg(row < n, "%s: more than %zu rows", name, n);
        char *p = line, *end;
        for (size_t j = 0; j < f; j++, p = end + 1) {
            double want = strtod(p, &end); /* repr round-trips through strtod */
            ck_assert_msg(end != p && *end == ',', "%s: row %zu: bad field", name, row);
            ck_assert_msg(memcmp(&want, &x[row * f + j], sizeof want) == 0,
                          "%s: row %zu, column %zu: want %.17g, got %.17g", name, row, j, want,
                          x[row * f + j]);
        }
        long label = strtol(p, &end, 10);
        ck_assert_msg(label == labels[row], "%s: row %zu: label %ld, got %d", name, row, label,
                      labels[row]);
        row++;
    }
    ck_assert_uint_eq(row, n);
    fclose(file);
    free(x);
    free(labels);
}

START_TEST(test_blobs_match_sklearn_fixtures)
{
    char names[32][256];
    int count = list_fixtures("blobs_", names, 32);
    ck_assert_int_ge(count, 3);
    for (int i = 0; i < count; i++)
        check_blobs_fixture(names[i]);
}
END_TEST

/* Reads "label:i,j,k" into out; returns the count. */
static size_t read_index_line(FILE *file, const char *label, size_t *out, size_t capacity)
{
    static char line[1 << 16];
    ck_assert(fgets(line, sizeof line, file) != NULL);
    ck_assert_msg(strncmp(line, label, strlen(label)) == 0, "expected %s", label);
    size_t count = 0;
    char *p = line + strlen(label), *end;
    while (*p && *p != '\n') {
        ck_assert(count < capacity);
        out[count++] = (size_t)strtoull(p, &end, 10);
        ck_assert(end != p);
        p = *end == ',' ? end + 1 : end;
    }
    return count;
}

static void check_split_fixture(const char *name)
{
    size_t n;
    double test_size;
    unsigned seed;
    ck_assert_msg(sscanf(name, "split_n%zu_test%lf_seed%u.txt", &n, &test_size, &seed) == 3,
                  "fixture name %s", name);
    size_t n_train, n_test;
    ck_assert_clseq_ok(clseq_split_sizes(n, test_size, &n_train, &n_test));
    size_t *train = malloc(n * sizeof *train), *test = malloc(n * sizeof *test);
    size_t *want = malloc(n * sizeof *want);
    ck_assert_clseq_ok(clseq_train_test_split(n, test_size, seed, train, test));

    FILE *file = fopen(test_fixture_path(name), "r");
    ck_assert_msg(file != NULL, "cannot open %s", name);
    ck_assert_uint_eq(read_index_line(file, "train:", want, n), n_train);
    for (size_t i = 0; i < n_train; i++)
        ck_assert_msg(train[i] == want[i], "%s: train[%zu] = %zu, want %zu", name, i, train[i],
                      want[i]);
    ck_assert_uint_eq(read_index_line(file, "test:", want, n), n_test);
    for (size_t i = 0; i < n_test; i++)
        ck_assert_msg(test[i] == want[i], "%s: test[%zu] = %zu, want %zu", name, i, test[i],
                      want[i]);
    fclose(file);
    free(train);
    free(test);
    free(want);
}

START_TEST(test_split_matches_sklearn_fixtures)
{
    char names[32][256];
    int count = list_fixtures("split_", names, 32);
    ck_assert_int_ge(count, 4);
    for (int i = 0; i < count; i++)
        check_split_fixture(names[i]);
}
END_TEST

/* ---- make_blobs ----------------------------------------------------------- */

START_TEST(test_blobs_defaults_are_sklearns)
{
    clseq_blobs_options o = clseq_blobs_defaults();
    ck_assert_uint_eq(o.n_samples, 100);
    ck_assert_int_eq(o.n_features, 2);
    ck_assert_int_eq(o.centers, 3);
    ck_assert(o.cluster_std == 1.0 && o.center_box_lo == -10.0 && o.center_box_hi == 10.0);
    ck_assert_int_eq(o.shuffle, 1);
    ck_assert_uint_eq(o.random_state, 0);
}
END_TEST

START_TEST(test_blobs_unshuffled_order)
{
    /* Without shuffle, rows come centre by centre: 10 samples over 3
     * centres is 4, 3, 3 (the first n % centers get one more). */
    clseq_blobs_options o = clseq_blobs_defaults();
    o.n_samples = 10;
    o.shuffle = 0;
    double x[20];
    int labels[10];
    static const int want[10] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    ck_assert_clseq_ok(clseq_make_blobs(&o, x, labels));
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(labels[i], want[i]);
    /* The first point is centre 0 plus std * gauss, centre 0 being the
     * first two uniform draws of RandomState(0). */
    clseq_np_random rs;
    clseq_np_seed(&rs, 0);
    double c0 = clseq_np_uniform(&rs, -10, 10), c1 = clseq_np_uniform(&rs, -10, 10);
    for (int i = 0; i < 4; i++)
        (void)clseq_np_uniform(&rs, -10, 10);
    ck_assert(x[0] == c0 + clseq_np_gauss(&rs));
    ck_assert(x[1] == c1 + clseq_np_gauss(&rs));
}
END_TEST

START_TEST(test_blobs_bad_arguments)
{
    clseq_blobs_options o = clseq_blobs_defaults();
    double x[200];
    int labels[100];
    ck_assert_int_eq(clseq_make_blobs(NULL, x, labels), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_make_blobs(&o, NULL, labels), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_make_blobs(&o, x, NULL), CLSEQ_E_ARG);
    o.centers = 0;
    ck_assert_int_eq(clseq_make_blobs(&o, x, labels), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "centers"));
    o = clseq_blobs_defaults();
    o.cluster_std = -1.0;
    ck_assert_int_eq(clseq_make_blobs(&o, x, labels), CLSEQ_E_ARG);
    o = clseq_blobs_defaults();
    o.n_features = 0;
    ck_assert_int_eq(clseq_make_blobs(&o, x, labels), CLSEQ_E_ARG);
    o = clseq_blobs_defaults();
    o.center_box_hi = INFINITY;
    ck_assert_int_eq(clseq_make_blobs(&o, x, labels), CLSEQ_E_ARG);
    o = clseq_blobs_defaults();
    o.n_samples = (size_t)-1 / 2;
    ck_assert_int_eq(clseq_make_blobs(&o, x, labels), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "too large"));
}
END_TEST

/* ---- train_test_split ----------------------------------------------------- */

START_TEST(test_split_sizes)
{
    size_t tr, te;
    ck_assert_clseq_ok(clseq_split_sizes(4000, 0.2, &tr, &te));
    ck_assert_uint_eq(tr, 3200);
    ck_assert_uint_eq(te, 800);
    ck_assert_clseq_ok(clseq_split_sizes(1001, 0.2, &tr, &te)); /* ceil(200.2) = 201 */
    ck_assert_uint_eq(tr, 800);
    ck_assert_uint_eq(te, 201);
    ck_assert_clseq_ok(clseq_split_sizes(2, 0.01, &tr, &te)); /* ceil(0.02) = 1 */
    ck_assert_uint_eq(tr, 1);
    ck_assert_uint_eq(te, 1);

    ck_assert_int_eq(clseq_split_sizes(10, 0.0, &tr, &te), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "got 0"));
    ck_assert_int_eq(clseq_split_sizes(10, 1.0, &tr, &te), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_split_sizes(10, NAN, &tr, &te), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_split_sizes(1, 0.5, &tr, &te), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "0 train and 1 test"));
    ck_assert_int_eq(clseq_split_sizes(0, 0.5, &tr, &te), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_split_sizes(10, 0.5, NULL, &te), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_split_sizes(10, 0.5, &tr, NULL), CLSEQ_E_ARG);
    size_t idx[4];
    ck_assert_int_eq(clseq_train_test_split(4, 0.5, 0, NULL, idx), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_train_test_split(4, 0.5, 0, idx, NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_train_test_split(4, 1.5, 0, idx, idx + 2), CLSEQ_E_ARG);
}
END_TEST

/* ---- row helpers ---------------------------------------------------------- */

START_TEST(test_take_rows)
{
    const float src[6] = {0, 1, 10, 11, 20, 21};
    const size_t idx[3] = {2, 0, 2};
    float dst[6] = {-1, -1, -1, -1, -1, -1};
    ck_assert_clseq_ok(clseq_take_rows(src, 3, 2, idx, 3, dst));
    const float want[6] = {20, 21, 0, 1, 20, 21};
    ck_assert_mem_eq(dst, want, sizeof want);

    const size_t bad[3] = {0, 1, 7};
    float untouched[6] = {-1, -1, -1, -1, -1, -1};
    ck_assert_int_eq(clseq_take_rows(src, 3, 2, bad, 3, untouched), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "idx[2] = 7"));
    ck_assert(untouched[0] == -1.0f); /* checked before any copy */
    ck_assert_int_eq(clseq_take_rows(NULL, 3, 2, idx, 3, dst), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_take_rows(src, 3, 2, NULL, 3, dst), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_take_rows(src, 3, 2, idx, 3, NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_take_rows(src, (size_t)-1, 2, idx, 3, dst), CLSEQ_E_ARG);
}
END_TEST

START_TEST(test_one_hot)
{
    const float labels[4] = {2, 0, 1, 2};
    float out[12];
    ck_assert_clseq_ok(clseq_one_hot(labels, 4, 3, out));
    const float want[12] = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    ck_assert_mem_eq(out, want, sizeof want);

    const float fractional[3] = {0, 1.5f, 2};
    ck_assert_int_eq(clseq_one_hot(fractional, 3, 3, out), CLSEQ_E_ARG);
    /* rows count from 1 in messages */
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "row 2"));
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "1.5"));
    const float too_big[2] = {0, 3};
    ck_assert_int_eq(clseq_one_hot(too_big, 2, 3, out), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "row 2: label 3"));
    const float negative[1] = {-1};
    ck_assert_int_eq(clseq_one_hot(negative, 1, 3, out), CLSEQ_E_ARG);
    const float nan_label[2] = {0, NAN};
    ck_assert_int_eq(clseq_one_hot(nan_label, 2, 3, out), CLSEQ_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "row 2"));
    ck_assert_int_eq(clseq_one_hot(labels, 4, 0, out), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_one_hot(NULL, 4, 3, out), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_one_hot(labels, 4, 3, NULL), CLSEQ_E_ARG);
}
END_TEST

START_TEST(test_argmax_rows)
{
    /* Ties go to the first index, like numpy.argmax. */
    const float x[9] = {0.1f, 0.7f, 0.2f, 5, 5, 1, -3, -2, -1};
    int out[3];
    ck_assert_clseq_ok(clseq_argmax_rows(x, 3, 3, out));
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], 0);
    ck_assert_int_eq(out[2], 2);
    const float with_nan[4] = {1, 2, 3, NAN};
    ck_assert_int_eq(clseq_argmax_rows(with_nan, 2, 2, out), CLSEQ_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "row 1, column 1"));
    ck_assert_int_eq(clseq_argmax_rows(x, 3, 0, out), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_argmax_rows(NULL, 3, 3, out), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_argmax_rows(x, 3, 3, NULL), CLSEQ_E_ARG);
}
END_TEST

static Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *rng = tcase_create("numpy_random");
    tcase_add_test(rng, test_mt19937_reference_outputs);
    tcase_add_test(rng, test_random_sample_matches_numpy);
    tcase_add_test(rng, test_random_sample_is_res53);
    tcase_add_test(rng, test_gauss_caches_second_value);
    tcase_add_test(rng, test_interval_matches_numpy);
    tcase_add_test(rng, test_permutation_matches_numpy);
    suite_add_tcase(s, rng);
    TCase *fixtures = tcase_create("sklearn_fixtures");
    tcase_add_test(fixtures, test_blobs_match_sklearn_fixtures);
    tcase_add_test(fixtures, test_split_matches_sklearn_fixtures);
    suite_add_tcase(s, fixtures);
    TCase *api = tcase_create("api");
    tcase_add_test(api, test_blobs_defaults_are_sklearns);
    tcase_add_test(api, test_blobs_unshuffled_order);
    tcase_add_test(api, test_blobs_bad_arguments);
    tcase_add_test(api, test_split_sizes);
    tcase_add_test(api, test_take_rows);
    tcase_add_test(api, test_one_hot);
    tcase_add_test(api, test_argmax_rows);
    suite_add_tcase(s, api);
    return s;
}

int main(void)
{
    return test_run_suite(data_suite());
}
