/* Demo part 6, the second lesson: a small convolutional network on
 * scikit-learn's 8x8 digits (load_digits), split 80/20 as
 * train_test_split(random_state=42) does, then pictures of what it learned
 * and where it goes wrong. The images come from inside the tool
 * (tests/fixtures/digits_8x8.csv, embedded at build time), so the lesson
 * needs no file beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "demo.h"
#include "plot.h"

enum { SIDE = 8, PIXELS = SIDE * SIDE, CLASSES = 10, PER_ROW = 8, MAX_SHOWN = 32 };

/* The lesson's rule: below this the network (or a layer under it) is wrong. */
static const float MIN_ACCURACY = 0.97f;

typedef struct digits {
    size_t n, n_train, n_test;
    float *x, *y;                 /* every image (n x 64, in [0, 1]) and its label */
    float *x_train, *y_train;     /* y: class indices, as sparse cross-entropy wants */
    float *x_test, *y_test;
} digits;

static void digits_free(digits *g)
{
    free(g->x);
    free(g->y);
    free(g->x_train);
    free(g->y_train);
    free(g->x_test);
    free(g->y_test);
}

/* The embedded CSV as floats: pixels scaled from 0..16 to [0, 1], as the
 * lesson does with X / 16. */
static int decode(digits *g)
{
    clseq_dataset d = {0};
    if (!demo_check(clseq_csv_parse(demo_digits_csv, demo_digits_csv_length, "digits_8x8.csv",
                                    &d), "the embedded digits"))
        return 0;
    if (d.features != PIXELS) {
        fprintf(stderr, "clseq demo: the embedded digits have %d pixels per row, not %d\n",
                d.features, PIXELS);
        clseq_dataset_free(&d);
        return 0;
    }
    for (size_t i = 0; i < d.rows * PIXELS; i++)
        d.x[i] /= 16.0f;
    g->n = d.rows;
    g->x = d.x; /* kept: the lesson owns them from here */
    g->y = d.y;
    free(d.lines);
    return 1;
}

static int split(digits *g)
{
    size_t *train_idx = NULL, *test_idx = NULL;
    int ok = demo_check(clseq_split_sizes(g->n, 0.2, &g->n_train, &g->n_test), "split sizes");
    if (ok) {
        train_idx = malloc(g->n_train * sizeof *train_idx);
        test_idx = malloc(g->n_test * sizeof *test_idx);
        g->x_train = malloc(g->n_train * PIXELS * sizeof *g->x_train);
        g->y_train = malloc(g->n_train * sizeof *g->y_train);
        g->x_test = malloc(g->n_test * PIXELS * sizeof *g->x_test);
        g->y_test = malloc(g->n_test * sizeof *g->y_test);
        ok = train_idx && test_idx && g->x_train && g->y_train && g->x_test && g->y_test &&
             demo_check(clseq_train_test_split(g->n, 0.2, 42, train_idx, test_idx), "train_test_split") &&
             demo_check(clseq_take_rows(g->x, g->n, PIXELS, train_idx, g->n_train, g->x_train), "rows") &&
             demo_check(clseq_take_rows(g->y, g->n, 1, train_idx, g->n_train, g->y_train), "rows") &&
             demo_check(clseq_take_rows(g->x, g->n, PIXELS, test_idx, g->n_test, g->x_test), "rows") &&
             demo_check(clseq_take_rows(g->y, g->n, 1, test_idx, g->n_test, g->y_test), "rows");
    }
    if (ok)
        printf("X: (%zu, 8, 8, 1) in [0, 1], y: (%zu,) digits 0-9\n"
               "X_train: (%zu, 8, 8, 1), X_test: (%zu, 8, 8, 1)\n",
               g->n, g->n, g->n_train, g->n_test);
    free(train_idx);
    free(test_idx);
    return ok;
}

/* Conv2D(16, 3x3, relu, same) -> MaxPooling2D(2) -> Conv2D(32, 3x3, relu)
 * -> Flatten -> Dropout(0.25) -> Dense(64, relu) -> Dense(10, softmax). */
static int build(demo_session *d, clseq_model **out)
{
    const int shape[3] = {SIDE, SIDE, 1};
    char text[4096];
    clseq_model *m = NULL;
    int ok = demo_check(clseq_model_create_shaped(d->ctx, 3, shape, &m), "model") &&
             demo_check(clseq_model_set_seed(m, 42), "seed") &&
             demo_check(clseq_add_conv2d(m, 16, 3, 3, 1, 1, CLSEQ_PADDING_SAME, CLSEQ_RELU),
                        "Conv2D(16)") &&
             demo_check(clseq_add_max_pooling2d(m, 2, 2, 0, 0, CLSEQ_PADDING_VALID), "MaxPooling2D") &&
             demo_check(clseq_add_conv2d(m, 32, 3, 3, 1, 1, CLSEQ_PADDING_VALID, CLSEQ_RELU),
                        "Conv2D(32)") &&
             demo_check(clseq_add_flatten(m), "Flatten") &&
             demo_check(clseq_add_dropout(m, 0.25f), "Dropout") &&
             demo_check(clseq_add_dense(m, 64, CLSEQ_RELU), "Dense(64)") &&
             demo_check(clseq_add_dense(m, CLASSES, CLSEQ_SOFTMAX), "Dense(10)") &&
             demo_check(clseq_compile(m, clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f),
                                      CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY),
                        "compile");
    if (ok && clseq_model_summary(m, text, sizeof text) == CLSEQ_OK)
        printf("%s", text);
    if (!ok) {
        clseq_model_free(m);
        m = NULL;
    }
    *out = m;
    return ok;
}

static int train(demo_session *d, clseq_model *m, const digits *g)
{
    clseq_fit_options fo = clseq_fit_defaults();
    int every = 10;
    float loss = 0, accuracy = 0;
    /* 30 epochs: about 2 s on two cores, and over eight seeds the test
     * accuracy ranged 0.983-0.997 (20 epochs: from 0.978, too near the rule). */
    fo.epochs = d->quick ? 2 : 30;
    fo.batch_size = 32;
    fo.verbose = 0;
    fo.val_x = g->x_test;
    fo.val_y = g->y_test;
    fo.val_n = g->n_test;
    fo.on_epoch_end = demo_print_every;
    fo.user_data = &every;
    double start = cli_seconds();
    if (!demo_check(clseq_fit(m, g->x_train, g->y_train, g->n_train, &fo, NULL), "fit"))
        return 0;
    printf("trained %d epochs in %.1f s\n", fo.epochs, cli_seconds() - start);
    if (!demo_check(clseq_evaluate(m, g->x_test, g->y_test, g->n_test, &loss, &accuracy), "evaluate"))
        return 0;
    printf("Test score: %.4f\nTest accuracy: %.4f\n", (double)loss, (double)accuracy);
    if (!d->quick && accuracy < MIN_ACCURACY) {
        fprintf(stderr, "clseq demo: digits test accuracy %.4f is below the lesson's %.2f\n",
                (double)accuracy, (double)MIN_ACCURACY);
        return 0;
    }
    return 1;
}

/* Predicted classes of the test images, and the confusion matrix (rows:
 * true digit, columns: predicted), printed as scikit-learn prints it. */
static int confusion(clseq_model *m, const digits *g, int *pred, float *matrix)
{
    float *p = malloc(g->n_test * CLASSES * sizeof *p);
    int ok = p != NULL && demo_check(clseq_predict(m, g->x_test, g->n_test, p), "predict") &&
             demo_check(clseq_argmax_rows(p, g->n_test, CLASSES, pred), "argmax");
    free(p);
    if (!ok)
        return 0;
    memset(matrix, 0, CLASSES * CLASSES * sizeof *matrix);
    for (size_t i = 0; i < g->n_test; i++)
        matrix[(int)g->y_test[i] * CLASSES + pred[i]] += 1.0f;
    printf("confusion matrix (rows: true digit, columns: predicted):\n");
    for (int t = 0; t < CLASSES; t++) {
        printf("  %d [", t);
        for (int c = 0; c < CLASSES; c++)
            printf("%3d", (int)matrix[t * CLASSES + c]);
        printf(" ]\n");
    }
    return 1;
}

/* The first Conv2D's 16 kernels (3, 3, 1, 16) as 16 images of 3x3. */
static int draw_filters(demo_session *d, const clseq_model *m)
{
    clseq_variable_info info;
    float *kernel = NULL, *images = NULL;
    char path[4096], err[512], names[16][24];
    const char *captions[16];
    int ok = demo_check(clseq_get_variable_info(m, 0, 0, &info), "the first Conv2D's kernel");
    if (ok && (info.rank != 4 || info.shape[2] != 1 || info.shape[3] > 16)) {
        fprintf(stderr, "clseq demo: the first Conv2D's kernel has an unexpected shape (rank %d)\n",
                info.rank);
        ok = 0;
    }
    if (ok) {
        kernel = malloc(info.count * sizeof *kernel);
        images = malloc(info.count * sizeof *images);
        ok = kernel && images && demo_check(clseq_get_variable(m, 0, 0, kernel), "get_variable");
    }
    if (ok) {
        int kh = info.shape[0], kw = info.shape[1], filters = info.shape[3];
        /* Keras's layout (kh, kw, in, filters) puts the filter last. */
        for (int f = 0; f < filters; f++) {
            for (int p = 0; p < kh * kw; p++)
                images[f * kh * kw + p] = kernel[p * filters + f];
            snprintf(names[f], sizeof names[f], "filter %d", f);
            captions[f] = names[f];
        }
        demo_path(path, sizeof path, d, "digits_filters.png");
        ok = demo_picture(plot_image_grid(path, "First Conv2D: the 16 learned 3x3 filters", images,
                                          filters, kh, kw, PER_ROW, captions, PLOT_CMAP_DIVERGING,
                                          1, err, sizeof err),
                          path, err);
    }
    free(kernel);
    free(images);
    return ok;
}

static int draw_confusion(demo_session *d, const float *matrix, float accuracy)
{
    const plot_heat_style style = {PLOT_CMAP_SEQUENTIAL, 0, "predicted digit", "true digit"};
    char path[4096], err[512], title[128];
    snprintf(title, sizeof title, "Digits: confusion matrix of the test set (accuracy %.3f)",
             (double)accuracy);
    demo_path(path, sizeof path, d, "digits_confusion.png");
    return demo_picture(plot_heatmap_styled(path, title, matrix, CLASSES, CLASSES, NULL, NULL, &style,
                                            err, sizeof err),
                        path, err);
}

/* Up to MAX_SHOWN misclassified test images, with what they are and what
 * the network said. */
static int draw_mistakes(demo_session *d, const digits *g, const int *pred)
{
    float images[MAX_SHOWN * PIXELS];
    char path[4096], err[512], names[MAX_SHOWN][40], title[128];
    const char *captions[MAX_SHOWN];
    int shown = 0;
    size_t wrong = 0;
    for (size_t i = 0; i < g->n_test; i++) {
        if (pred[i] == (int)g->y_test[i])
            continue;
        if (shown < MAX_SHOWN) {
            memcpy(images + (size_t)shown * PIXELS, g->x_test + i * PIXELS, PIXELS * sizeof *images);
            snprintf(names[shown], sizeof names[shown], "true %d, pred %d", (int)g->y_test[i], pred[i]);
            captions[shown] = names[shown];
            shown++;
        }
        wrong++;
    }
    printf("%zu of %zu test digits misclassified\n", wrong, g->n_test);
    if (shown == 0) {
        printf("  (no mistakes to draw: digits_mistakes.png not written)\n");
        return 1;
    }
    snprintf(title, sizeof title, "Misclassified test digits (%d of %zu shown)", shown, wrong);
    demo_path(path, sizeof path, d, "digits_mistakes.png");
    return demo_picture(plot_image_grid(path, title, images, shown, SIDE, SIDE, PER_ROW, captions,
                                        PLOT_CMAP_GREY, 0, err, sizeof err),
                        path, err);
}

int demo_digits(demo_session *d)
{
    digits g;
    clseq_model *m = NULL;
    float matrix[CLASSES * CLASSES], correct = 0;
    int *pred = NULL;
    memset(&g, 0, sizeof g);
    printf("\n== Part 6: digits: load_digits() 8x8 images, a small CNN, Adam, batch 32 ==\n");
    int ok = decode(&g) && split(&g) && build(d, &m) && train(d, m, &g);
    if (ok) {
        pred = malloc(g.n_test * sizeof *pred);
        ok = pred != NULL && confusion(m, &g, pred, matrix);
    }
    for (int k = 0; ok && k < CLASSES; k++)
        correct += matrix[k * CLASSES + k];
    ok = ok && draw_filters(d, m) && draw_confusion(d, matrix, correct / (float)g.n_test) &&
         draw_mistakes(d, &g, pred);
    free(pred);
    clseq_model_free(m);
    digits_free(&g);
    return ok;
}
