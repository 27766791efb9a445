/* make_blobs: isotropic Gaussian clusters, reproducing scikit-learn 1.2's
 * make_blobs with an integer number of centres and a scalar cluster_std.
 * The order of random draws is part of the contract: centres first (row
 * major), then each centre's points (row major), then one shuffle of the
 * row indices with the same generator. */
#include "clseq.h"
#include "sys/error.h"
#include "data/numpy_random.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

clseq_blobs_options clseq_blobs_defaults(void)
{
    clseq_blobs_options o;
    memset(&o, 0, sizeof o);
    o.n_samples = 100;
    o.n_features = 2;
    o.centers = 3;
    o.cluster_std = 1.0;
    o.center_box_lo = -10.0;
    o.center_box_hi = 10.0;
    o.shuffle = 1;
    o.random_state = 0;
    return o;
}

static clseq_status check_blobs_options(const clseq_blobs_options *opt, size_t *n_values)
{
    if (opt->n_features <= 0)
        return clseq_fail(CLSEQ_E_ARG, "make_blobs: n_features must be > 0, got %d",
                          opt->n_features);
    if (opt->centers <= 0)
        return clseq_fail(CLSEQ_E_ARG, "make_blobs: centers must be > 0, got %d", opt->centers);
    if (!isfinite(opt->cluster_std) || opt->cluster_std < 0.0)
        return clseq_fail(CLSEQ_E_ARG, "make_blobs: cluster_std must be finite and >= 0, got %g",
                          opt->cluster_std);
    /* NumPy's uniform refuses a box whose width overflows to Inf. */
    if (!isfinite(opt->center_box_lo) || !isfinite(opt->center_box_hi) ||
        !isfinite(opt->center_box_hi - opt->center_box_lo))
        return clseq_fail(CLSEQ_E_ARG, "make_blobs: center box [%g, %g] must be finite",
                          opt->center_box_lo, opt->center_box_hi);
    if (clseq_mul_overflows(opt->n_samples, (size_t)opt->n_features, n_values) ||
        *n_values > (size_t)-1 / sizeof(double) || opt->n_samples > (size_t)-1 / sizeof(size_t))
        return clseq_fail(CLSEQ_E_ARG, "make_blobs: %zu samples x %d features is too large",
                          opt->n_samples, opt->n_features);
    return CLSEQ_OK;
}

/* Draws every point in centre order: centre c gets n / centers points, and
 * the first n % centers centres one more, exactly as scikit-learn splits. */
static void draw_points(clseq_np_random *rs, const clseq_blobs_options *opt,
                        const double *centres, double *x, int *labels)
{
    size_t f = (size_t)opt->n_features;
    size_t k = (size_t)opt->centers;
    size_t per = opt->n_samples / k, extra = opt->n_samples % k;
    size_t row = 0;
    for (size_t c = 0; c < k; c++) {
        size_t count = per + (c < extra ? 1 : 0);
        for (size_t i = 0; i < count; i++, row++) {
            for (size_t j = 0; j < f; j++)
                x[row * f + j] = clseq_np_normal(rs, centres[c * f + j], opt->cluster_std);
            labels[row] = (int)c;
        }
    }
}

/* Scratch for the shuffle, taken before any draw so that running out of
 * memory leaves the caller's arrays untouched. */
typedef struct blobs_scratch {
    double *centres;
    size_t *perm;
    double *x;
    int *labels;
} blobs_scratch;

static void scratch_free(blobs_scratch *b)
{
    free(b->centres);
    free(b->perm);
    free(b->x);
    free(b->labels);
}

static clseq_status scratch_alloc(const clseq_blobs_options *opt, size_t n_values,
                                  blobs_scratch *b)
{
    size_t n_centre_values;
    memset(b, 0, sizeof *b);
    if (clseq_mul_overflows((size_t)opt->centers, (size_t)opt->n_features, &n_centre_values) ||
        n_centre_values > (size_t)-1 / sizeof(double))
        return clseq_fail(CLSEQ_E_ARG, "make_blobs: %d centres x %d features is too large",
                          opt->centers, opt->n_features);
    b->centres = malloc(n_centre_values * sizeof *b->centres);
    int ok = b->centres != NULL;
    if (opt->shuffle && opt->n_samples > 1) {
        b->perm = malloc(opt->n_samples * sizeof *b->perm);
        b->x = malloc(n_values * sizeof *b->x);
        b->labels = malloc(opt->n_samples * sizeof *b->labels);
        ok = ok && b->perm && b->x && b->labels;
    }
    if (!ok) {
        scratch_free(b);
        return clseq_fail(CLSEQ_E_NOMEM, "make_blobs: out of memory for %zu x %d values",
                          opt->n_samples, opt->n_features);
    }
    return CLSEQ_OK;
}

clseq_status clseq_make_blobs(const clseq_blobs_options *opt, double *x, int *labels)
{
    if (!opt || !x || !labels)
        return clseq_fail(CLSEQ_E_ARG, "make_blobs: opt, x and labels must not be NULL");
    size_t n_values;
    blobs_scratch b;
    clseq_status s = check_blobs_options(opt, &n_values);
    if (s == CLSEQ_OK)
        s = scratch_alloc(opt, n_values, &b);
    if (s != CLSEQ_OK)
        return s;

    size_t n = opt->n_samples, f = (size_t)opt->n_features;
    size_t n_centre_values = (size_t)opt->centers * f;
    clseq_np_random rs;
    clseq_np_seed(&rs, opt->random_state);
    for (size_t i = 0; i < n_centre_values; i++)
        b.centres[i] = clseq_np_uniform(&rs, opt->center_box_lo, opt->center_box_hi);
    if (!b.perm) {
        draw_points(&rs, opt, b.centres, x, labels);
    } else {
        /* sklearn.utils.shuffle: arange(n) shuffled by the same generator,
         * then X = X[perm], y = y[perm]. */
        draw_points(&rs, opt, b.centres, b.x, b.labels);
        clseq_np_permutation(&rs, n, b.perm);
        for (size_t i = 0; i < n; i++) {
            memcpy(x + i * f, b.x + b.perm[i] * f, f * sizeof *x);
            labels[i] = b.labels[b.perm[i]];
        }
    }
    scratch_free(&b);
    return CLSEQ_OK;
}
