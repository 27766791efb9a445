/* The data-parallel suites' shared models and data (parallel_models.h). */
#include <math.h>
#include <string.h>

#include "parallel_models.h"
#include "testutil.h"

int pm_input_dim(pm_kind kind)
{
    return kind == PM_DENSE ? 6 : 6 * 6 * 2;
}

void pm_data(pm_kind kind, float *x, float *y)
{
    int in = pm_input_dim(kind);
    test_fill_uniform(x, (size_t)PM_ROWS * (size_t)in, 5, -1.0f, 1.0f);
    memset(y, 0, (size_t)PM_ROWS * PM_CLASSES * sizeof *y);
    /* a learnable label: which third of the range the first feature is in */
    for (int r = 0; r < PM_ROWS; r++) {
        float v = x[(size_t)r * (size_t)in];
        y[r * PM_CLASSES + (v < -0.33f ? 0 : v < 0.33f ? 1 : 2)] = 1.0f;
    }
}

static const char *const names[PM_OPTIMIZERS] = {"sgd",     "adam",     "rmsprop",
                                                  "adamw",   "adagrad",  "adadelta",
                                                  "adamax",  "nadam",    "lion"};

const char *pm_optimizer_name(clseq_optimizer_kind opt)
{
    return names[opt];
}

clseq_model *pm_model(clseq_ctx *ctx, pm_kind kind, clseq_optimizer_kind kind_opt)
{
    clseq_model *m = NULL;
    if (kind == PM_DENSE) {
        ck_assert_clseq_ok(clseq_model_create(ctx, pm_input_dim(kind), &m));
        ck_assert_clseq_ok(clseq_model_set_seed(m, 7));
        ck_assert_clseq_ok(clseq_add_dense(m, 16, CLSEQ_RELU));
    } else {
        const int dims[3] = {6, 6, 2};
        ck_assert_clseq_ok(clseq_model_create_shaped(ctx, 3, dims, &m));
        ck_assert_clseq_ok(clseq_model_set_seed(m, 7));
        ck_assert_clseq_ok(clseq_add_conv2d(m, 4, 3, 3, 1, 1, CLSEQ_PADDING_SAME, CLSEQ_RELU));
        ck_assert_clseq_ok(clseq_add_max_pooling2d(m, 2, 2, 0, 0, CLSEQ_PADDING_VALID));
        ck_assert_clseq_ok(clseq_add_flatten(m));
    }
    ck_assert_clseq_ok(clseq_add_dense(m, PM_CLASSES, CLSEQ_SOFTMAX));
    clseq_optimizer o;
    /* learning rates that move the weights visibly in 8 steps */
    ck_assert_clseq_ok(clseq_optimizer_from_name(names[kind_opt], kind_opt == CLSEQ_OPT_SGD ? 0.1f
                                                 : kind_opt == CLSEQ_OPT_ADADELTA ? 1.0f
                                                                                  : 0.01f, &o));
    ck_assert_clseq_ok(clseq_compile(m, o, CLSEQ_CATEGORICAL_CROSSENTROPY,
                                     CLSEQ_METRIC_ACCURACY));
    return m;
}

double pm_max_diff(const float *a, const float *b, size_t count)
{
    double worst = 0;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        worst = d > worst || isnan(d) ? d : worst;
    }
    return worst;
}

/* Why this tolerance. The split runs add the same per-row gradient terms
 * (each already divided by the global batch's rows) in another order: a
 * sum of 16 becomes two of 8 added together (devices or processes). A
 * float sum of k terms errs by about k x 2^-24 of their magnitude, so the
 * gradients here (below 1) differ by at most a few 1e-8 per step, and an
 * update carries that over at most scaled by lr / sqrt(v) for the
 * normalising optimizers, about 1 for the gradients of these models: 8
 * steps leave the weights (magnitude below 1) within 8 x 1e-7 = 1e-6 of
 * each other. Measured: 0 to 6e-8 for every optimizer, Dense and CNN,
 * devices and processes (the runs are deterministic: the same kernels on
 * the same data). A Lion element whose momentum sat at rounding level
 * could flip its sign(), moving by 2 lr = 0.02; none does here, and the
 * runs being deterministic it cannot appear by chance. A wrong
 * normalisation (a replica's loss over its own rows) is 1e-2 away
 * (test_parallel's wrong_normalisation_is_caught checks the margin). */
double pm_tolerance(clseq_optimizer_kind opt)
{
    (void)opt;
    return 1e-6;
}
