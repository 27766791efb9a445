/* The parts of clseq demo (cmd_demo.c runs them in order). */
#ifndef CLSEQ_CLI_DEMO_H
#define CLSEQ_CLI_DEMO_H

#include <stddef.h>

#include "clseq.h"

typedef struct demo_session {
    clseq_ctx *ctx;
    const char *out_dir;
    int quick;          /* fewer epochs: a smoke test, not the lesson's numbers */
} demo_session;

/* A blobs data set split like train_test_split(test_size=0.2, random_state=42). */
typedef struct demo_split {
    size_t n_train, n_test;
    int classes;
    float *x_train, *x_test;      /* rows x 2 */
    float *y_train, *y_test;      /* rows x classes, one-hot */
    int *label_test;              /* class indices of the test rows */
} demo_split;

/* Parts 1-3: blobs, Dense(4, softmax), fit, evaluate, predict, boundary. */
int demo_classifier(demo_session *d);
/* Part 4: two centres, Dense(2) + softmax, weights printed and drawn. */
int demo_two_classes(demo_session *d);
/* Part 5: regression of 1/(1+e^x) with noise. */
int demo_regression(demo_session *d);
/* Part 6: the 8x8 digits with a small CNN; its first filters, the test
 * set's confusion matrix and the digits it got wrong. */
int demo_digits(demo_session *d);

/* The digits data set carried in the tool: tests/fixtures/digits_8x8.csv
 * (scikit-learn's load_digits, 64 pixels 0..16 row by row, then the
 * label), embedded at build time by cmake/embed_text.cmake. */
extern const char demo_digits_csv[];
extern const size_t demo_digits_csv_length;

/* make_blobs(n, 2 features, centres, std, seed 101), split 80/20 with
 * seed 42 and one-hot encoded; prints the shapes. 1 on success. */
int demo_make_split(size_t n, int centres, double std, demo_split *out);
void demo_split_free(demo_split *s);
/* Prints a failure and returns 0 unless s is CLSEQ_OK. */
int demo_check(clseq_status s, const char *what);
/* Reports a picture written (rc 0) or its error; 1 on success. */
int demo_picture(int rc, const char *path, const char *err);
/* DIR/name into out. */
void demo_path(char *out, size_t size, const demo_session *d, const char *name);
/* Prints a Keras-style line every `every` epochs (an epoch callback). */
int demo_print_every(int epoch, const clseq_history *h, void *every);

#endif
