/* Demo part 5: a small regression net on 1/(1+e^x) plus Gaussian noise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "data/numpy_random.h"
#include "plot.h"

enum { POINTS = 1000, CURVE = 400 };
static const double X_MIN = -20.0, X_MAX = 20.0, NOISE = 0.1;

static double target(double x)
{
    return 1.0 / (1.0 + exp(x));
}

/* x ~ U(-20, 20), y = target(x) + N(0, 0.1), from RandomState(101) as
 * NumPy would draw them (all x first, then all noise). */
static void make_data(float *x, float *y)
{
    clseq_np_random rs;
    clseq_np_seed(&rs, 101);
    for (int i = 0; i < POINTS; i++)
        x[i] = (float)clseq_np_uniform(&rs, X_MIN, X_MAX);
    for (int i = 0; i < POINTS; i++)
        y[i] = (float)(target(x[i]) + clseq_np_normal(&rs, 0.0, NOISE));
}

static int draw(demo_session *d, clseq_model *m, const float *x, const float *y)
{
    float cx[CURVE], cy[CURVE], ty[CURVE];
    char path[4096], err[512];
    for (int i = 0; i < CURVE; i++) {
        cx[i] = (float)(X_MIN + (X_MAX - X_MIN) * i / (CURVE - 1));
        ty[i] = (float)target(cx[i]);
    }
    if (!demo_check(clseq_predict(m, cx, CURVE, cy), "predict the curve"))
        return 0;
    demo_path(path, sizeof path, d, "regression.png");
    return demo_picture(plot_regression(path, "Regression of 1/(1+e^x) + N(0, 0.1): Dense(16, tanh), Dense(1)",
                                        x, y, POINTS, cx, cy, CURVE, cx, ty, CURVE, err, sizeof err),
                        path, err);
}

int demo_regression(demo_session *d)
{
    static float x[POINTS], y[POINTS];
    size_t n_train, n_test;
    size_t *train_idx = NULL, *test_idx = NULL;
    float *xtr = NULL, *ytr = NULL, *xte = NULL, *yte = NULL;
    clseq_model *m = NULL;
    float mse = 0, mae = 0;
    int every = 20;
    printf("\n== Part 5: regression of 1/(1+e^x) + N(0, 0.1), %d points in [-20, 20] ==\n", POINTS);
    make_data(x, y);
    int ok = demo_check(clseq_split_sizes(POINTS, 0.2, &n_train, &n_test), "split");
    if (ok) {
        train_idx = malloc(n_train * sizeof *train_idx);
        test_idx = malloc(n_test * sizeof *test_idx);
        xtr = malloc(n_train * sizeof *xtr);
        ytr = malloc(n_train * sizeof *ytr);
        xte = malloc(n_test * sizeof *xte);
        yte = malloc(n_test * sizeof *yte);
        ok = train_idx && test_idx && xtr && ytr && xte && yte &&
             demo_check(clseq_train_test_split(POINTS, 0.2, 42, train_idx, test_idx), "split") &&
             demo_check(clseq_take_rows(x, POINTS, 1, train_idx, n_train, xtr), "rows") &&
             demo_check(clseq_take_rows(y, POINTS, 1, train_idx, n_train, ytr), "rows") &&
             demo_check(clseq_take_rows(x, POINTS, 1, test_idx, n_test, xte), "rows") &&
             demo_check(clseq_take_rows(y, POINTS, 1, test_idx, n_test, yte), "rows");
    }
    ok = ok && demo_check(clseq_model_create(d->ctx, 1, &m), "model") &&
         demo_check(clseq_model_set_seed(m, 7), "seed") &&
         demo_check(clseq_add_dense(m, 16, CLSEQ_TANH), "Dense(16, tanh)") &&
         demo_check(clseq_add_dense(m, 1, CLSEQ_LINEAR), "Dense(1)") &&
         demo_check(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f), CLSEQ_MEAN_SQUARED_ERROR,
                                  CLSEQ_METRIC_MAE),
                    "compile");
    clseq_fit_options fo = clseq_fit_defaults();
    fo.epochs = d->quick ? 20 : 100;
    fo.batch_size = 32;
    fo.verbose = 0;
    fo.val_x = xte;
    fo.val_y = yte;
    fo.val_n = n_test;
    fo.on_epoch_end = demo_print_every;
    fo.user_data = &every;
    ok = ok && demo_check(clseq_fit(m, xtr, ytr, n_train, &fo, NULL), "fit") &&
         demo_check(clseq_evaluate(m, xte, yte, n_test, &mse, &mae), "evaluate");
    if (ok) {
        printf("Test MSE: %.4f (noise floor %.4f), test MAE: %.4f\n", (double)mse, NOISE * NOISE,
               (double)mae);
        if (!d->quick && mse > 0.013f) {
            fprintf(stderr, "clseq demo: regression test MSE %.4f is above 0.013\n", (double)mse);
            ok = 0;
        }
    }
    ok = ok && draw(d, m, x, y);
    clseq_model_free(m);
    free(train_idx);
    free(test_idx);
    free(xtr);
    free(ytr);
    free(xte);
    free(yte);
    return ok;
}
