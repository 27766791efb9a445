/* Data for the demo: blobs, the 80/20 split and one-hot labels, as the
 * lesson prepares them with scikit-learn and Keras utilities. */
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"

void demo_split_free(demo_split *s)
{
    free(s->x_train);
    free(s->x_test);
    free(s->y_train);
    free(s->y_test);
    free(s->label_test);
}

/* Rows idx of the float copies of x (2 wide) and one-hot y. */
static int take(const float *x, const float *y, size_t n, int classes, const size_t *idx, size_t m,
                float **x_out, float **y_out)
{
    *x_out = malloc(m * 2 * sizeof **x_out);
    *y_out = malloc(m * (size_t)classes * sizeof **y_out);
    return *x_out && *y_out && demo_check(clseq_take_rows(x, n, 2, idx, m, *x_out), "take_rows") &&
           demo_check(clseq_take_rows(y, n, (size_t)classes, idx, m, *y_out), "take_rows");
}

int demo_make_split(size_t n, int centres, double std, demo_split *out)
{
    clseq_blobs_options b = clseq_blobs_defaults();
    b.n_samples = n;
    b.n_features = 2;
    b.centers = centres;
    b.cluster_std = std;
    b.random_state = 101;
    double *xd = malloc(n * 2 * sizeof *xd);
    int *labels = malloc(n * sizeof *labels);
    float *x = malloc(n * 2 * sizeof *x), *yl = malloc(n * sizeof *yl);
    float *y = malloc(n * (size_t)centres * sizeof *y);
    size_t *train_idx = NULL, *test_idx = NULL;
    int ok = xd && labels && x && yl && y && demo_check(clseq_make_blobs(&b, xd, labels), "make_blobs") &&
             demo_check(clseq_split_sizes(n, 0.2, &out->n_train, &out->n_test), "split sizes");
    if (ok) {
        for (size_t i = 0; i < n * 2; i++)
            x[i] = (float)xd[i];
        for (size_t i = 0; i < n; i++)
            yl[i] = (float)labels[i];
        train_idx = malloc(out->n_train * sizeof *train_idx);
        test_idx = malloc(out->n_test * sizeof *test_idx);
        out->label_test = malloc(out->n_test * sizeof *out->label_test);
        out->classes = centres;
        ok = train_idx && test_idx && out->label_test &&
             demo_check(clseq_train_test_split(n, 0.2, 42, train_idx, test_idx), "train_test_split") &&
             demo_check(clseq_one_hot(yl, n, centres, y), "one_hot") &&
             take(x, y, n, centres, train_idx, out->n_train, &out->x_train, &out->y_train) &&
             take(x, y, n, centres, test_idx, out->n_test, &out->x_test, &out->y_test);
    }
    if (ok) {
        for (size_t i = 0; i < out->n_test; i++)
            out->label_test[i] = labels[test_idx[i]];
        printf("X shape: (%zu, 2), y shape: (%zu,), classes: %d\n", n, n, centres);
        printf("first labels: ");
        for (size_t i = 0; i < 10 && i < n; i++)
            printf("%d ", labels[i]);
        printf("\nX_train: (%zu, 2), X_test: (%zu, 2), y_train one-hot: (%zu, %d)\n",
               out->n_train, out->n_test, out->n_train, centres);
    }
    free(xd);
    free(labels);
    free(x);
    free(yl);
    free(y);
    free(train_idx);
    free(test_idx);
    return ok;
}

int demo_print_every(int epoch, const clseq_history *h, void *every)
{
    int step = *(const int *)every;
    if ((epoch + 1) % step != 0)
        return 0;
    printf("Epoch %d:", epoch + 1);
    for (int i = 0; i < clseq_history_series_count(h); i++) {
        const char *name = clseq_history_series_name(h, i);
        printf(" - %s: %.4f", name, (double)clseq_history_values(h, name)[epoch]);
    }
    printf("\n");
    return 0;
}
