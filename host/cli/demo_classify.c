/* Demo parts 1-4: the softmax classifiers of the lesson. */
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "plot.h"

enum { GRID = 100 };
static const double GRID_MIN = -20.0, GRID_MAX = 20.0;

static void print_summary(const clseq_model *m)
{
    char text[4096];
    if (clseq_model_summary(m, text, sizeof text) == CLSEQ_OK)
        printf("%s", text);
}

/* Predicted classes over the GRID x GRID lattice of [-20, 20]^2 (row 0 at
 * the bottom, as plot_decision_boundary expects). */
static int boundary_grid(clseq_model *m, int classes, int *grid)
{
    size_t cells = (size_t)GRID * GRID;
    float *xy = malloc(cells * 2 * sizeof *xy), *p = malloc(cells * (size_t)classes * sizeof *p);
    int ok = xy && p;
    for (size_t i = 0; ok && i < cells; i++) {
        double step = (GRID_MAX - GRID_MIN) / (GRID - 1);
        xy[2 * i] = (float)(GRID_MIN + step * (double)(i % GRID));
        xy[2 * i + 1] = (float)(GRID_MIN + step * (double)(i / GRID));
    }
    ok = ok && demo_check(clseq_predict(m, xy, cells, p), "predict on the grid") &&
         demo_check(clseq_argmax_rows(p, cells, (size_t)classes, grid), "argmax");
    free(xy);
    free(p);
    return ok;
}

static int show_predictions(clseq_model *m, const demo_split *s)
{
    enum { SHOWN = 5 };
    float p[SHOWN * 8];
    int classes[SHOWN];
    if (!demo_check(clseq_predict(m, s->x_test, SHOWN, p), "predict") ||
        !demo_check(clseq_argmax_rows(p, SHOWN, (size_t)s->classes, classes), "argmax"))
        return 0;
    printf("predictions for the first %d test points (softmax probabilities -> class, true class):\n",
           SHOWN);
    for (int i = 0; i < SHOWN; i++) {
        printf("  [");
        for (int c = 0; c < s->classes; c++)
            printf("%s%.4f", c ? " " : "", (double)p[i * s->classes + c]);
        printf("] -> %d (true %d)\n", classes[i], s->label_test[i]);
    }
    return 1;
}

static int draw_pictures(demo_session *d, clseq_model *m, const demo_split *s,
                         const clseq_history *h)
{
    char path[4096], err[512];
    int *grid = malloc((size_t)GRID * GRID * sizeof *grid);
    int ok = grid && boundary_grid(m, s->classes, grid);
    demo_path(path, sizeof path, d, "decision_boundary.png");
    ok = ok && demo_picture(plot_decision_boundary(path, "Dense(4, softmax): decision boundary, test points",
                                                   grid, GRID, GRID, GRID_MIN, GRID_MAX, GRID_MIN, GRID_MAX,
                                                   s->x_test, s->label_test, s->n_test, s->classes,
                                                   err, sizeof err),
                            path, err);
    free(grid);
    const char *names[] = {"loss", "val_loss", "accuracy", "val_accuracy"};
    const float *series[4];
    for (int i = 0; i < 4; i++)
        series[i] = clseq_history_values(h, names[i]);
    demo_path(path, sizeof path, d, "training_history.png");
    return ok && demo_picture(plot_history(path, "Training history (SGD 0.01, batch 4)", series, names, 4,
                                           clseq_history_epochs(h), err, sizeof err),
                              path, err);
}

int demo_classifier(demo_session *d)
{
    demo_split s = {0};
    clseq_model *m = NULL;
    clseq_history *h = NULL;
    float loss = 0, accuracy = 0;
    printf("\n== Part 1: data: make_blobs(4000, centers=4, cluster_std=2, random_state=101) ==\n");
    int ok = demo_make_split(4000, 4, 2.0, &s);
    printf("\n== Part 2: Sequential([Dense(4, activation='softmax')]), SGD(0.01), batch 4 ==\n");
    ok = ok && demo_check(clseq_model_create(d->ctx, 2, &m), "model") &&
         demo_check(clseq_add_dense(m, 4, CLSEQ_SOFTMAX), "Dense(4)") &&
         demo_check(clseq_compile(m, clseq_sgd(0.01f, 0.0f, 0), CLSEQ_CATEGORICAL_CROSSENTROPY,
                                  CLSEQ_METRIC_ACCURACY),
                    "compile");
    if (ok)
        print_summary(m);
    clseq_fit_options fo = clseq_fit_defaults();
    fo.epochs = d->quick ? 2 : 10;
    fo.batch_size = 4;
    fo.val_x = s.x_test;
    fo.val_y = s.y_test;
    fo.val_n = s.n_test;
    ok = ok && demo_check(clseq_fit(m, s.x_train, s.y_train, s.n_train, &fo, &h), "fit") &&
         demo_check(clseq_evaluate(m, s.x_test, s.y_test, s.n_test, &loss, &accuracy), "evaluate");
    if (ok) {
        printf("Test score: %.4f\nTest accuracy: %.4f\n", (double)loss, (double)accuracy);
        if (!d->quick && accuracy < 0.92f) {
            fprintf(stderr, "clseq demo: test accuracy %.4f is below the lesson's 0.92\n", (double)accuracy);
            ok = 0;
        }
    }
    printf("\n== Part 3: predict, classes and the decision boundary ==\n");
    ok = ok && show_predictions(m, &s) && draw_pictures(d, m, &s, h);
    clseq_history_free(h);
    clseq_model_free(m);
    demo_split_free(&s);
    return ok;
}

static int show_weights(demo_session *d, clseq_model *m)
{
    float kernel[4], bias[2];
    char path[4096], err[512];
    if (!demo_check(clseq_get_weights(m, 0, kernel, bias), "get_weights"))
        return 0;
    printf("learned kernel (inputs x units):\n  [[% .4f % .4f]\n   [% .4f % .4f]]\n", (double)kernel[0],
           (double)kernel[1], (double)kernel[2], (double)kernel[3]);
    printf("learned bias:\n  [% .4f % .4f]\n", (double)bias[0], (double)bias[1]);
    const char *rows[] = {"x0", "x1"}, *cols[] = {"class 0", "class 1"}, *bias_row[] = {"bias"};
    demo_path(path, sizeof path, d, "two_class_kernel.png");
    int ok = demo_picture(plot_heatmap(path, "Dense(2) kernel", kernel, 2, 2, rows, cols, err, sizeof err),
                          path, err);
    demo_path(path, sizeof path, d, "two_class_bias.png");
    return ok && demo_picture(plot_heatmap(path, "Dense(2) bias", bias, 1, 2, bias_row, cols, err,
                                           sizeof err),
                              path, err);
}

int demo_two_classes(demo_session *d)
{
    demo_split s = {0};
    clseq_model *m = NULL;
    float loss = 0, accuracy = 0;
    int every = 10;
    printf("\n== Part 4: two centres (cluster_std=2.5), Dense(2) + Activation('softmax'), batch 128 ==\n");
    int ok = demo_make_split(4000, 2, 2.5, &s) && demo_check(clseq_model_create(d->ctx, 2, &m), "model") &&
             demo_check(clseq_add_dense(m, 2, CLSEQ_LINEAR), "Dense(2)") &&
             demo_check(clseq_add_activation(m, CLSEQ_SOFTMAX), "Activation") &&
             demo_check(clseq_compile(m, clseq_sgd(0.01f, 0.0f, 0), CLSEQ_CATEGORICAL_CROSSENTROPY,
                                      CLSEQ_METRIC_ACCURACY),
                        "compile");
    clseq_fit_options fo = clseq_fit_defaults();
    fo.epochs = d->quick ? 10 : 100;
    fo.batch_size = 128;
    fo.verbose = 0;
    fo.on_epoch_end = demo_print_every;
    fo.user_data = &every;
    ok = ok && demo_check(clseq_fit(m, s.x_train, s.y_train, s.n_train, &fo, NULL), "fit") &&
         demo_check(clseq_evaluate(m, s.x_test, s.y_test, s.n_test, &loss, &accuracy), "evaluate");
    if (ok) {
        printf("Test score: %.4f\nTest accuracy: %.4f\n", (double)loss, (double)accuracy);
        if (!d->quick && accuracy < 0.99f) {
            fprintf(stderr, "clseq demo: two-class accuracy %.4f is below 0.99\n", (double)accuracy);
            ok = 0;
        }
    }
    ok = ok && show_weights(d, m);
    clseq_model_free(m);
    demo_split_free(&s);
    return ok;
}
