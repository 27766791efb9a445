/* Data sets larger than the device's share for data: clseq_fit streams
 * the rows from the host in blocks (the context's data_bytes forces it on
 * a small set here), and the training is the very one the resident path
 * does: the same batches in the same order, to the bit, with shuffling,
 * a validation split, sample weights and a last batch and block that are
 * short; on the layer path and the fused one. Evaluate and predict go a
 * chunk at a time whatever the size. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

enum { N = 203, F = 5, K = 3 };

static clseq_ctx *context(long long data_bytes, int fused)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    o.data_bytes = data_bytes;
    o.fused = fused;
    return test_ctx_with(&o);
}

static clseq_model *model(clseq_ctx *ctx)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(ctx, F, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, 5));
    ck_assert_clseq_ok(clseq_add_dense(m, 7, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_add_dense(m, K, CLSEQ_SOFTMAX));
    ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                                     CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     CLSEQ_METRIC_ACCURACY));
    return m;
}

static void data(float *x, float *y, float *w)
{
    test_fill_uniform(x, N * F, 41, -1.0f, 1.0f);
    for (int r = 0; r < N; r++) {
        y[r] = x[r * F] + x[r * F + 2] > 0.2f ? 2.0f : x[r * F + 1] > 0 ? 1.0f : 0.0f;
        w[r] = 0.5f + (float)(r % 3);
    }
}

static int read_all(const clseq_model *m, float *out)
{
    int total = 0;
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int v = 0; v < clseq_variable_count(m, l); v++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(m, l, v, &info));
            ck_assert_clseq_ok(clseq_get_variable(m, l, v, out + total));
            total += (int)info.count;
        }
    return total;
}

/* Trains on ctx and returns the history's last loss and val_loss; the
 * weights into out. */
static void train(clseq_ctx *ctx, int weighted, float *out, float *loss, float *val_loss)
{
    static float x[N * F], y[N], w[N];
    data(x, y, w);
    clseq_model *m = model(ctx);
    clseq_fit_options o = clseq_fit_defaults();
    o.verbose = 0;
    o.epochs = 3;
    o.batch_size = 16;            /* 152 training rows: the last batch has 8 */
    o.validation_split = 0.25f;
    o.sample_weight = weighted ? w : NULL;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, &h));
    *loss = clseq_history_values(h, "loss")[2];
    *val_loss = clseq_history_values(h, "val_loss")[2];
    read_all(m, out);
    clseq_history_free(h);
    clseq_model_free(m);
}

static void same_training(int fused, int weighted)
{
    /* 1200 bytes: a block of 32 rows (two batches) of the 152, with their
     * targets, weights and order */
    clseq_ctx *resident = context(0, fused), *streamed = context(1200, fused);
    float a[128], b[128], la, lb, va, vb;
    train(resident, weighted, a, &la, &va);
    train(streamed, weighted, b, &lb, &vb);
    ck_assert_float_eq(la, lb);
    ck_assert_float_eq(va, vb);
    for (int i = 0; i < F * 7 + 7 + 7 * K + K; i++)
        ck_assert_msg(a[i] == b[i], "fused %d weighted %d: weight %d: %.9g resident, %.9g "
                      "streamed", fused, weighted, i, (double)a[i], (double)b[i]);
    clseq_ctx_free(resident);
    clseq_ctx_free(streamed);
}

START_TEST(streamed_layer_path_trains_the_same)
{
    same_training(0, 0);
    same_training(0, 1);
}
END_TEST

START_TEST(streamed_fused_path_trains_the_same)
{
    same_training(1, 0);
}
END_TEST

/* A block smaller than one batch still holds one batch. */
START_TEST(tiny_budget_holds_a_batch)
{
    clseq_ctx *resident = context(0, 0), *streamed = context(1, 0);
    float a[128], b[128], la, lb, va, vb;
    train(resident, 0, a, &la, &va);
    train(streamed, 0, b, &lb, &vb);
    ck_assert_float_eq(la, lb);
    for (int i = 0; i < F * 7 + 7; i++)
        ck_assert_float_eq(a[i], b[i]);
    clseq_ctx_options bad = clseq_ctx_defaults();
    bad.data_bytes = -1;
    clseq_ctx *none = NULL;
    ck_assert_int_eq(clseq_ctx_create_with(&bad, &none), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "data_bytes"));
    clseq_ctx_free(resident);
    clseq_ctx_free(streamed);
}
END_TEST

static Suite *streaming_suite(void)
{
    Suite *s = suite_create("streaming");
    TCase *tc = tcase_create("streaming");
    tcase_add_test(tc, streamed_layer_path_trains_the_same);
    tcase_add_test(tc, streamed_fused_path_trains_the_same);
    tcase_add_test(tc, tiny_budget_holds_a_batch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(streaming_suite());
}
