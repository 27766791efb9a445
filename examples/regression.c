/* Regression: learn y = 1 / (1 + e^x) from noisy samples with
 * Dense(16, tanh) -> Dense(1), Adam and mean squared error; a callback
 * reports every 25th epoch, then a fresh test set is scored and predicted. */
#include <clseq.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define CHECK(call) do { if ((call) != CLSEQ_OK) { \
    fprintf(stderr, "%s failed: %s\n", #call, clseq_last_error()); return 1; } } while (0)

enum { N_TRAIN = 1000, N_TEST = 200, EPOCHS = 100 };
static const double NOISE = 0.1;

/* A small deterministic generator (xorshift64*) so the example needs no
 * other library: uniform in [0, 1) and Box-Muller normals. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545f4914f6cdd1du) >> 11) / 9007199254740992.0;
}
static double normal01(void)
{
    return sqrt(-2.0 * log(1.0 - uniform01())) * cos(6.283185307179586 * uniform01());
}

static void make_data(float *x, float *y, int n, double noise)
{
    for (int i = 0; i < n; i++) {
        x[i] = (float)(-20.0 + 40.0 * uniform01());
        y[i] = (float)(1.0 / (1.0 + exp(x[i])) + noise * normal01());
    }
}

static int report(int epoch, const clseq_history *h, void *user_data)
{
    (void)user_data;
    if ((epoch + 1) % 25 == 0)
        printf("epoch %3d: loss %.5f  val_loss %.5f\n", epoch + 1,
               (double)clseq_history_values(h, "loss")[epoch],
               (double)clseq_history_values(h, "val_loss")[epoch]);
    return 0; /* non-zero would stop training here */
}

int main(void)
{
    static float x[N_TRAIN], y[N_TRAIN], x_test[N_TEST], y_test[N_TEST];
    make_data(x, y, N_TRAIN, NOISE);
    make_data(x_test, y_test, N_TEST, 0.0); /* the noiseless curve */

    clseq_ctx *ctx;
    clseq_model *m;
    clseq_history *h;
    CHECK(clseq_ctx_create(NULL, &ctx));
    CHECK(clseq_model_create(ctx, 1, &m));
    CHECK(clseq_model_set_seed(m, 7));
    CHECK(clseq_add_dense(m, 16, CLSEQ_TANH));
    CHECK(clseq_add_dense(m, 1, CLSEQ_LINEAR));
    CHECK(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f), CLSEQ_MEAN_SQUARED_ERROR,
                        CLSEQ_METRIC_MAE));
    char summary[2048];
    CHECK(clseq_model_summary(m, summary, sizeof summary));
    printf("%s", summary);

    clseq_fit_options opt = clseq_fit_defaults();
    opt.epochs = EPOCHS;
    opt.batch_size = 32;
    opt.verbose = 0;
    opt.validation_split = 0.2f;
    opt.on_epoch_end = report;
    CHECK(clseq_fit(m, x, y, N_TRAIN, &opt, &h));
    clseq_history_free(h);

    float mse, mae, probe[3] = {-5.0f, 0.0f, 5.0f}, out[3];
    CHECK(clseq_evaluate(m, x_test, y_test, N_TEST, &mse, &mae));
    printf("Test MSE: %.5f  Test MAE: %.5f (against the noiseless curve)\n", (double)mse, (double)mae);
    CHECK(clseq_predict(m, probe, 3, out));
    for (int i = 0; i < 3; i++)
        printf("f(%+.1f) = %.4f (true %.4f)\n", (double)probe[i], (double)out[i],
               1.0 / (1.0 + exp((double)probe[i])));
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    return 0;
}
