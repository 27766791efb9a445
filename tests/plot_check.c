/* Renders sample pictures with host/cli/plot*.c for a person to look at, and
 * checks that bad arguments fail with a message instead of crashing.
 * Not a Check suite (the test glob takes tests/test_*.c only). Build by hand:
 *
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow -Wstrict-prototypes \
 *       -Wmissing-prototypes -Werror -Ihost/cli -Ihost -Iinclude tests/plot_check.c \
 *       host/cli/plot*.c host/sys/fileio.c host/sys/error.c \
 *       $(pkg-config --cflags --libs cairo) -lm -o /tmp/plot_check && /tmp/plot_check /tmp/plots
 *
 * The data are made up to look like the demo's: four blobs, a Dense kernel,
 * a noisy 1/(1+e^x), two loss curves, a confusion matrix, 3x3 filters and
 * 8x8 digits. */
#include "plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: enough for pictures, and the same on every machine. */
static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717u) >> 11) / 9007199254740992.0;
}

static double normal01(void)
{
    double u = uniform01(), v = uniform01();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * 3.14159265358979323846 * v);
}

static int failures;

static void report(const char *what, int rc, const char *err, int want_rc)
{
    printf("%-28s rc=%d %s%s\n", what, rc, rc != 0 ? "msg: " : "", rc != 0 ? err : "");
    if (rc != want_rc) {
        printf("  ^ expected rc=%d\n", want_rc);
        failures++;
    }
}

static int nearest(const double (*c)[2], int k, double x, double y)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (hypot(x - c[j][0], y - c[j][1]) < hypot(x - c[best][0], y - c[best][1]))
            best = j;
    return best;
}

static void boundary(const char *dir, int classes, const char *name)
{
    enum { N = 800, G = 100 };
    static const double fixed[4][2] = {{-9.5, 8.0}, {4.5, -9.0}, {9.0, 9.5}, {-6.0, -12.0}};
    double centres[16][2];
    static float xy[2 * N];
    static int labels[N], grid[G * G];
    char path[512], err[256];

    for (int k = 0; k < classes; k++) {
        centres[k][0] = k < 4 ? fixed[k][0] : 30.0 * uniform01() - 15.0;
        centres[k][1] = k < 4 ? fixed[k][1] : 30.0 * uniform01() - 15.0;
    }
    for (int i = 0; i < N; i++) {
        labels[i] = i % classes;
        xy[2 * i] = (float)(centres[labels[i]][0] + 2.0 * normal01());
        xy[2 * i + 1] = (float)(centres[labels[i]][1] + 2.0 * normal01());
    }
    xy[0] = NAN; /* a NaN point must be skipped, and far-away ones too */
    xy[3] = INFINITY;
    xy[4] = 1e30f;
    for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++)
            grid[r * G + c] = nearest((const double (*)[2])centres, classes,
                                      -20.0 + 40.0 * (c + 0.5) / G, -20.0 + 40.0 * (r + 0.5) / G);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    report(name, plot_decision_boundary(path, "Decision boundary (test set)", grid, G, G, -20, 20,
                                        -20, 20, xy, labels, N, classes, err, sizeof err),
           err, 0);
}

static void heatmaps(const char *dir)
{
    static const float kernel[4] = {0.31f, -1.2f, 0.9f, 0.05f};
    static const float bias[2] = {0.2f, -0.2f};
    const char *rows[2] = {"x0", "x1"}, *cols[2] = {"unit 0", "unit 1"}, *brow[1] = {"bias"};
    float big[12 * 16];
    char path[512], err[256];

    snprintf(path, sizeof path, "%s/kernel.png", dir);
    report("kernel.png", plot_heatmap(path, "Dense kernel", kernel, 2, 2, rows, cols, err,
                                      sizeof err), err, 0);
    snprintf(path, sizeof path, "%s/bias.png", dir);
    report("bias.png", plot_heatmap(path, "Dense bias", bias, 1, 2, brow, cols, err, sizeof err),
           err, 0);
    for (int i = 0; i < 12 * 16; i++)
        big[i] = (float)(0.05 * normal01());
    big[5] = NAN;
    snprintf(path, sizeof path, "%s/heat_big.png", dir);
    report("heat_big.png", plot_heatmap(path, "A 12x16 kernel with a NaN, indices as names, "
                                        "and a title too long for any sensible picture", big,
                                        12, 16, NULL, NULL, err, sizeof err), err, 0);
}

/* The digits lesson's figures: a confusion matrix, filters, digit images. */
static void matrices(const char *dir)
{
    const plot_heat_style counts = {PLOT_CMAP_SEQUENTIAL, 0, "predicted digit", "true digit"};
    static float confusion[100], filters[16 * 9], digits[12 * 64];
    const char *captions[12] = {"true 3, pred 8", "true 9, pred 5", NULL, "a caption much "
                                "wider than its image"};
    char path[512], err[256];

    for (int t = 0; t < 10; t++)
        for (int p = 0; p < 10; p++)
            confusion[t * 10 + p] = t == p ? (float)(30 + (t * 7) % 9) : (float)((t + p) % 7 == 0);
    for (int i = 0; i < 16 * 9; i++)
        filters[i] = (float)(0.4 * normal01());
    /* Rings of ink, like a zero, a little different each. */
    for (int k = 0; k < 12; k++)
        for (int p = 0; p < 64; p++) {
            double r = hypot(p / 8 - 3.5, p % 8 - 3.5 - 0.2 * (k % 3));
            digits[k * 64 + p] = (float)fmax(0.0, 1.0 - fabs(r - 2.6) / 1.2);
        }
    snprintf(path, sizeof path, "%s/confusion.png", dir);
    report("confusion.png", plot_heatmap_styled(path, "Confusion matrix (test set)", confusion, 10,
                                                10, NULL, NULL, &counts, err, sizeof err), err, 0);
    snprintf(path, sizeof path, "%s/filters.png", dir);
    report("filters.png", plot_image_grid(path, "16 filters of 3x3", filters, 16, 3, 3, 8, NULL,
                                          PLOT_CMAP_DIVERGING, 1, err, sizeof err), err, 0);
    snprintf(path, sizeof path, "%s/digits.png", dir);
    report("digits.png", plot_image_grid(path, "Digit images, some captions missing", digits, 12,
                                         8, 8, 5, captions, PLOT_CMAP_GREY, 0, err, sizeof err),
           err, 0);
    snprintf(path, sizeof path, "%s/one_image.png", dir);
    report("one_image.png", plot_image_grid(path, "One image with a title far wider than it",
                                            digits, 1, 8, 8, 8, NULL, PLOT_CMAP_GREY, 1, err,
                                            sizeof err), err, 0);
}

static void regression(const char *dir)
{
    enum { N = 1000, M = 200 };
    static float px[N], py[N], cx[M], cy[M], ty[M];
    char path[512], err[256];

    for (int i = 0; i < N; i++) {
        px[i] = (float)(-20.0 + 40.0 * uniform01());
        py[i] = (float)(1.0 / (1.0 + exp(px[i])) + 0.1 * normal01());
    }
    py[7] = NAN;
    for (int j = 0; j < M; j++) {
        cx[j] = (float)(-20.0 + 40.0 * j / (M - 1));
        cy[j] = (float)(0.01 + 0.97 / (1.0 + exp(0.85 * cx[j] + 0.2)));
        ty[j] = (float)(1.0 / (1.0 + exp(cx[j])));
    }
    snprintf(path, sizeof path, "%s/regression.png", dir);
    report("regression.png", plot_regression(path, "Regression of 1/(1+e^x) with noise", px, py, N,
                                             cx, cy, M, cx, ty, M, err, sizeof err), err, 0);
    snprintf(path, sizeof path, "%s/regression_notrue.png", dir);
    report("regression_notrue.png", plot_regression(path, "Fit without the true curve", px, py,
                                                    N, cx, cy, M, NULL, NULL, 0, err,
                                                    sizeof err), err, 0);
}

static void history(const char *dir)
{
    static const float loss[10] = {0.92f, 0.41f, 0.30f, 0.255f, 0.23f,
                                   0.215f, 0.205f, 0.198f, 0.193f, 0.19f};
    static const float val[10] = {0.52f, 0.34f, 0.27f, 0.24f, 0.22f,
                                  0.205f, 0.2f, NAN, 0.187f, 0.183f};
    static float acc[100];
    const float *const two[2] = {loss, val}, *const one[1] = {acc};
    const char *const names[2] = {"loss", "val_loss"}, *const acc_name[1] = {"accuracy"};
    char path[512], err[256];

    snprintf(path, sizeof path, "%s/history.png", dir);
    report("history.png", plot_history(path, "Training history", two, names, 2, 10, err,
                                       sizeof err), err, 0);
    for (int e = 0; e < 100; e++)
        acc[e] = (float)(0.99 - 0.5 * exp(-e / 12.0) + 0.004 * normal01());
    snprintf(path, sizeof path, "%s/history_100.png", dir);
    report("history_100.png", plot_history(path, "Accuracy, 100 epochs", one, acc_name, 1, 100,
                                           err, sizeof err), err, 0);
}

/* Degenerate and extreme ranges: must still give readable ticks. */
static void edge_cases(const char *dir)
{
    static const float one_a[1] = {0.5f}, one_b[1] = {0.7f}, one_c[1] = {0.6f};
    const float *const three[3] = {one_a, one_b, one_c};
    float x[50], y[50], big_x[50], tiny_y[50];
    char path[512], err[256];

    snprintf(path, sizeof path, "%s/history_1epoch.png", dir);
    report("history_1epoch.png", plot_history(path, "One epoch, three series, no names, and a "
                                              "title that is far too long for the frame", three,
                                              NULL, 3, 1, err, sizeof err), err, 0);
    for (int i = 0; i < 50; i++) {
        x[i] = (float)i;
        y[i] = 3.0f;
        big_x[i] = (float)(2.5e7 + 1e6 * i);
        tiny_y[i] = (float)(1000.0001 + 2e-6 * i * (i % 3));
    }
    snprintf(path, sizeof path, "%s/regression_flat.png", dir);
    report("regression_flat.png", plot_regression(path, "Constant data", x, y, 50, x, y, 50,
                                                  NULL, NULL, 0, err, sizeof err), err, 0);
    snprintf(path, sizeof path, "%s/regression_extreme.png", dir);
    report("regression_extreme.png", plot_regression(path, "Big x, narrow y", big_x, tiny_y, 50,
                                                     big_x, tiny_y, 50, NULL, NULL, 0, err,
                                                     sizeof err), err, 0);
}

/* Bad arguments: each must fail with a message, none may crash. */
static void bad_arguments(const char *dir)
{
    static const int grid[4] = {0, 1, 1, 2};
    static const float v[2] = {1, 2}, nan2[2] = {NAN, NAN};
    const float *const nans[1] = {nan2};
    char path[512], err[256];
    float xy[2] = {0, 0};
    int lab[1] = {0};

    snprintf(path, sizeof path, "%s/bad.png", dir);
    report("NULL path", plot_heatmap(NULL, "t", v, 1, 2, NULL, NULL, err, sizeof err), err, -1);
    report("zero rows", plot_heatmap(path, "t", v, 0, 2, NULL, NULL, err, sizeof err), err, -1);
    report("NULL values", plot_heatmap(path, "t", NULL, 1, 2, NULL, NULL, err, sizeof err), err,
           -1);
    report("grid class 2 of 2", plot_decision_boundary(path, "t", grid, 2, 2, 0, 1, 0, 1, xy, lab,
                                                        1, 2, err, sizeof err), err, -1);
    report("infinite range", plot_decision_boundary(path, "t", grid, 2, 2, 0, INFINITY, 0, 1, xy,
                                                     lab, 1, 3, err, sizeof err), err, -1);
    report("empty range", plot_decision_boundary(path, "t", grid, 2, 2, 1, 1, 0, 1, xy, lab, 1,
                                                  3, err, sizeof err), err, -1);
    report("all-NaN history", plot_history(path, "t", nans, NULL, 1, 2, err, sizeof err), err,
           -1);
    report("no regression data", plot_regression(path, "t", NULL, NULL, 0, NULL, NULL, 0, NULL,
                                                 NULL, 0, err, sizeof err), err, -1);
    report("missing directory", plot_heatmap("/nonexistent/dir/x.png", "t", v, 1, 2, NULL, NULL,
                                             err, sizeof err), err, -1);
    report("NULL err buffer", plot_heatmap(NULL, "t", v, 1, 2, NULL, NULL, NULL, 0), "", -1);
    report("tiny err buffer", plot_heatmap(NULL, "t", v, 1, 2, NULL, NULL, err, 4), err, -1);
    report("NULL heat style", plot_heatmap_styled(path, "t", v, 1, 2, NULL, NULL, NULL, err,
                                                  sizeof err), err, -1);
    report("no images", plot_image_grid(path, "t", v, 0, 1, 1, 1, NULL, PLOT_CMAP_GREY, 0, err,
                                        sizeof err), err, -1);
    report("image 0x2", plot_image_grid(path, "t", v, 1, 0, 2, 1, NULL, PLOT_CMAP_GREY, 0, err,
                                        sizeof err), err, -1);
    report("zero per row", plot_image_grid(path, "t", v, 1, 1, 2, 0, NULL, PLOT_CMAP_GREY, 0, err,
                                           sizeof err), err, -1);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/plots";

    mkdir(dir, 0755);
    boundary(dir, 4, "boundary.png");
    boundary(dir, 12, "boundary_12.png");
    heatmaps(dir);
    matrices(dir);
    regression(dir);
    history(dir);
    edge_cases(dir);
    bad_arguments(dir);
    /* Frees cairo's font caches, so a leak checker sees only real leaks. */
    cairo_debug_reset_static_data();
    printf("%s\n", failures == 0 ? "all as expected" : "UNEXPECTED RESULTS");
    return failures == 0 ? 0 : 1;
}
