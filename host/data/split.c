/* train_test_split and small row utilities (take, one-hot, arg-max).
 * The split reproduces scikit-learn's ShuffleSplit with a float test_size:
 * one RandomState(seed).permutation(n), test rows first. */
#include "clseq.h"
#include "sys/error.h"
#include "data/numpy_random.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

clseq_status clseq_split_sizes(size_t n, double test_size, size_t *n_train, size_t *n_test)
{
    if (!n_train || !n_test)
        return clseq_fail(CLSEQ_E_ARG, "train_test_split: n_train and n_test must not be NULL");
    /* Written as a negation so that NaN is refused too. */
    if (!(test_size > 0.0 && test_size < 1.0))
        return clseq_fail(CLSEQ_E_ARG, "train_test_split: test_size must be in (0, 1), got %g",
                          test_size);
    /* scikit-learn: n_test = ceil(test_size * n), n_train = n - n_test. The
     * comparison in double keeps the conversion to size_t defined. */
    double t = ceil(test_size * (double)n);
    size_t test = t >= (double)n ? n : (size_t)t;
    size_t train = n - test;
    if (test < 1 || train < 1)
        return clseq_fail(CLSEQ_E_ARG,
                          "train_test_split: n = %zu with test_size = %g gives %zu train and "
                          "%zu test rows; both must be >= 1",
                          n, test_size, train, test);
    *n_train = train;
    *n_test = test;
    return CLSEQ_OK;
}

clseq_status clseq_train_test_split(size_t n, double test_size, uint32_t seed, size_t *train_idx,
                                    size_t *test_idx)
{
    if (!train_idx || !test_idx)
        return clseq_fail(CLSEQ_E_ARG,
                          "train_test_split: train_idx and test_idx must not be NULL");
    size_t n_train, n_test;
    clseq_status s = clseq_split_sizes(n, test_size, &n_train, &n_test);
    if (s != CLSEQ_OK)
        return s;
    if (n > (size_t)-1 / sizeof(size_t))
        return clseq_fail(CLSEQ_E_ARG, "train_test_split: n = %zu is too large", n);
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return clseq_fail(CLSEQ_E_NOMEM, "train_test_split: out of memory for %zu indices", n);
    clseq_np_random rs;
    clseq_np_seed(&rs, seed);
    clseq_np_permutation(&rs, n, perm);
    memcpy(test_idx, perm, n_test * sizeof *perm);
    memcpy(train_idx, perm + n_test, n_train * sizeof *perm);
    free(perm);
    return CLSEQ_OK;
}

clseq_status clseq_take_rows(const float *src, size_t src_rows, size_t cols, const size_t *idx,
                             size_t n, float *dst)
{
    if (!src || !idx || !dst)
        return clseq_fail(CLSEQ_E_ARG, "take_rows: src, idx and dst must not be NULL");
    size_t src_values, dst_values;
    if (clseq_mul_overflows(src_rows, cols, &src_values) ||
        clseq_mul_overflows(n, cols, &dst_values) || src_values > (size_t)-1 / sizeof(float) ||
        dst_values > (size_t)-1 / sizeof(float))
        return clseq_fail(CLSEQ_E_ARG, "take_rows: %zu or %zu rows x %zu columns is too large",
                          src_rows, n, cols);
    /* Check every index before writing, so a bad one leaves dst untouched. */
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= src_rows)
            return clseq_fail(CLSEQ_E_ARG,
                              "take_rows: idx[%zu] = %zu is out of range for %zu row%s", i,
                              idx[i], src_rows, src_rows == 1 ? "" : "s");
    /* dst and src must not overlap: a gather in place would overwrite rows
     * not yet read (memmove only keeps each single row copy safe). */
    for (size_t i = 0; i < n; i++)
        memmove(dst + i * cols, src + idx[i] * cols, cols * sizeof *dst);
    return CLSEQ_OK;
}

clseq_status clseq_one_hot(const float *labels, size_t n, int classes, float *out)
{
    if (!labels || !out)
        return clseq_fail(CLSEQ_E_ARG, "one_hot: labels and out must not be NULL");
    if (classes <= 0)
        return clseq_fail(CLSEQ_E_ARG, "one_hot: classes must be > 0, got %d", classes);
    size_t values;
    if (clseq_mul_overflows(n, (size_t)classes, &values) || values > (size_t)-1 / sizeof(float))
        return clseq_fail(CLSEQ_E_ARG, "one_hot: %zu rows x %d classes is too large", n,
                          classes);
    /* These reach users whose labels came from a file: rows count from 1,
     * as people count them, and the message names no internal function, so
     * a caller can put the file name and line in front of it. */
    for (size_t i = 0; i < n; i++) {
        float v = labels[i];
        if (!isfinite(v))
            return clseq_fail(CLSEQ_E_NUMERIC, "row %zu: label %g is not finite", i + 1,
                              (double)v);
        if (floorf(v) != v)
            return clseq_fail(CLSEQ_E_ARG, "row %zu: label %g is not a whole number (a class "
                              "index, 0 to %d)", i + 1, (double)v, classes - 1);
        if (v < 0.0f || v >= (float)classes)
            return clseq_fail(CLSEQ_E_ARG, "row %zu: label %g is not a class index 0 to %d "
                              "(%d class%s)", i + 1, (double)v, classes - 1, classes,
                              classes == 1 ? "" : "es");
    }
    memset(out, 0, values * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i * (size_t)classes + (size_t)labels[i]] = 1.0f;
    return CLSEQ_OK;
}

clseq_status clseq_argmax_rows(const float *x, size_t n, size_t cols, int *out)
{
    if (!x || !out)
        return clseq_fail(CLSEQ_E_ARG, "argmax_rows: x and out must not be NULL");
    /* Each answer must fit in an int. */
    if (cols == 0 || cols - 1 > (size_t)INT_MAX)
        return clseq_fail(CLSEQ_E_ARG, "argmax_rows: cols must be in [1, %d], got %zu",
                          INT_MAX, cols);
    size_t values;
    if (clseq_mul_overflows(n, cols, &values) || values > (size_t)-1 / sizeof(float))
        return clseq_fail(CLSEQ_E_ARG, "argmax_rows: %zu rows x %zu columns is too large", n,
                          cols);
    for (size_t i = 0; i < n; i++) {
        const float *row = x + i * cols;
        size_t best = 0;
        for (size_t j = 0; j < cols; j++) {
            /* NaN would make the answer meaningless (and order-dependent). */
            if (isnan(row[j]))
                return clseq_fail(CLSEQ_E_NUMERIC, "argmax_rows: row %zu, column %zu is NaN", i,
                                  j);
            if (row[j] > row[best])
                best = j; /* strict: ties go to the first, like numpy.argmax */
        }
        out[i] = (int)best;
    }
    return CLSEQ_OK;
}
