#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cli_parse_positional(const char *command, const char *usage, int argc, char **argv,
                         cli_option *options, int count, const char **positional, int capacity,
                         int *npositional)
{
    if (npositional)
        *npositional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s", usage);
            return -1;
        }
        const char *arg = argv[i], *eq = strchr(arg, '=');
        if (positional && (arg[0] != '-' || !arg[1])) {
            if (*npositional == capacity) {
                fprintf(stderr, "clseq %s: unexpected argument '%s'\n%s", command, arg, usage);
                return 0;
            }
            positional[(*npositional)++] = arg;
            continue;
        }
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        int found = 0;
        for (int k = 0; k < count && !found; k++) {
            if (strlen(options[k].name) != len || strncmp(options[k].name, arg, len) != 0)
                continue;
            found = 1;
            if (!options[k].takes_value) {
                options[k].value = "1";
            } else if (eq) {
                options[k].value = eq + 1;
            } else if (i + 1 < argc) {
                options[k].value = argv[++i];
            } else {
                fprintf(stderr, "clseq %s: %s needs a value\n%s", command, options[k].name, usage);
                return 0;
            }
        }
        if (!found) {
            fprintf(stderr, "clseq %s: unknown option '%s'\n%s", command, arg, usage);
            return 0;
        }
    }
    return 1;
}

int cli_parse(const char *command, const char *usage, int argc, char **argv, cli_option *options,
              int count)
{
    return cli_parse_positional(command, usage, argc, argv, options, count, NULL, 0, NULL);
}

const char *cli_get(const cli_option *options, int count, const char *name)
{
    for (int k = 0; k < count; k++)
        if (strcmp(options[k].name, name) == 0)
            return options[k].value;
    return NULL;
}

int cli_int(const char *command, const char *name, const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "clseq %s: %s: '%s' is not an integer in %ld..%ld\n", command, name, text,
                min, max);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_double(const char *command, const char *name, const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end) {
        fprintf(stderr, "clseq %s: %s: '%s' is not a number\n", command, name, text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_fail(const char *command)
{
    fprintf(stderr, "clseq %s: %s\n", command, clseq_last_error());
    return 1;
}

/* Each row's label must suit the loss (clseq_check_targets checks the
 * same, but can only name a row): class indices for the categorical
 * losses, probabilities in [0, 1] for binary cross-entropy. */
static int check_labels(const char *command, const clseq_dataset *d, const char *path,
                        clseq_loss loss, int classes)
{
    for (size_t r = 0; r < d->rows; r++) {
        float v = d->y[r];
        int categorical = loss == CLSEQ_CATEGORICAL_CROSSENTROPY ||
                          loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY;
        int bad_class = categorical && (v != floorf(v) || v < 0 || v >= (float)classes);
        int bad_probability = loss == CLSEQ_BINARY_CROSSENTROPY && !(v >= 0.0f && v <= 1.0f);
        if (!bad_class && !bad_probability)
            continue;
        size_t line = d->lines ? d->lines[r] : r + 1;
        if (bad_class)
            fprintf(stderr, "clseq %s: %s:%zu: label %g is not a class index for %s (0..%d: the "
                    "model has %d outputs)\n", command, path, line, (double)v,
                    clseq_loss_name(loss), classes - 1, classes);
        else
            fprintf(stderr, "clseq %s: %s:%zu: label %g is not a probability in [0, 1] for %s\n",
                    command, path, line, (double)v, clseq_loss_name(loss));
        return 0;
    }
    return 1;
}

float *cli_targets(const char *command, const clseq_model *m, clseq_loss loss,
                   const clseq_dataset *d, const char *path)
{
    int outputs = clseq_model_output_dim(m);
    int one_hot = loss == CLSEQ_CATEGORICAL_CROSSENTROPY;
    if (!one_hot && loss != CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY && outputs != 1) {
        fprintf(stderr,
                "clseq %s: %s with %d outputs needs %d target columns, but a data file "
                "carries one target\n",
                command, clseq_loss_name(loss), outputs, outputs);
        return NULL;
    }
    if (!check_labels(command, d, path, loss, outputs))
        return NULL;
    size_t rows = d->rows, width = one_hot ? (size_t)outputs : 1;
    float *y = malloc(rows * width * sizeof *y);
    if (!y) {
        fprintf(stderr, "clseq %s: out of memory for %zu targets\n", command, rows);
        return NULL;
    }
    if (!one_hot) {
        memcpy(y, d->y, rows * sizeof *y);
        return y;
    }
    if (clseq_one_hot(d->y, rows, outputs, y) != CLSEQ_OK) {
        cli_fail(command);
        free(y);
        return NULL;
    }
    return y;
}

int cli_same_file(const char *command, const char *out_opt, const char *out_path,
                  const char *in_opt, const char *in_path)
{
    struct stat out, in;
    /* stat follows links, so a symlink or hard link to the input is caught;
     * an output that does not exist yet cannot be an input */
    if (!out_path || !in_path || stat(out_path, &out) != 0 || stat(in_path, &in) != 0 ||
        out.st_dev != in.st_dev || out.st_ino != in.st_ino)
        return 0;
    fprintf(stderr, "clseq %s: %s %s is the same file as %s %s; refusing to overwrite an input\n",
            command, out_opt, out_path, in_opt, in_path);
    return 1;
}

double cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

float *cli_inputs(const char *command, const clseq_dataset *d, int input_dim, const char *path)
{
    size_t rows = d->rows;
    float *x = malloc(rows * (size_t)input_dim * sizeof *x);
    if (!x) {
        fprintf(stderr, "clseq %s: out of memory for %zu rows of %s\n", command, rows, path);
        return NULL;
    }
    if (d->features == input_dim) {
        memcpy(x, d->x, rows * (size_t)input_dim * sizeof *x);
        return x;
    }
    if (d->features + 1 != input_dim) {
        fprintf(stderr, "clseq %s: %s: %d columns, but the model takes %d features (plus an "
                        "optional target column)\n",
                command, path, d->features + 1, input_dim);
        free(x);
        return NULL;
    }
    for (size_t r = 0; r < rows; r++) {
        memcpy(x + r * (size_t)input_dim, d->x + r * (size_t)d->features,
               (size_t)d->features * sizeof *x);
        x[r * (size_t)input_dim + (size_t)d->features] = d->y[r];
    }
    return x;
}
