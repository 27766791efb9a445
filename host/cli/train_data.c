/* clseq train's data files, whole or streamed (train_data.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "train_data.h"

/* Bytes of memory free now (0 if unknown). */
static double free_memory(void)
{
    long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}

int train_data_open(const char *path, int stream, train_data *d)
{
    memset(d, 0, sizeof *d);
    d->path = path;
    struct stat st;
    double free_bytes = free_memory();
    /* parsed, a CSV takes about half its text's bytes as floats: read whole
     * only what leaves memory to train in */
    if (stream == 0 && stat(path, &st) == 0 && free_bytes > 0 &&
        (double)st.st_size > free_bytes / 2) {
        fprintf(stderr, "clseq train: %s (%.1f GB) is larger than half the free memory (%.1f GB): "
                "streaming it a block at a time (--stream)\n", path, (double)st.st_size / 1e9,
                free_bytes / 1e9);
        stream = 1;
    }
    d->streamed = stream > 0;
    clseq_status s = d->streamed ? clseq_csv_open(path, &d->file) : clseq_csv_read(path, &d->table);
    if (s == CLSEQ_OK && d->streamed)
        s = clseq_csv_summarize(d->file, &d->summary);
    if (s != CLSEQ_OK) {
        cli_fail("train");
        train_data_close(d);
        return 0;
    }
    return 1;
}

int train_data_features(const train_data *d)
{
    return d->streamed ? d->summary.features : d->table.features;
}

size_t train_data_rows(const train_data *d)
{
    return d->streamed ? d->summary.rows : d->table.rows;
}

/* A streamed file's labels against the loss, from what opening found: the
 * same checks and messages as cli_targets makes row by row. */
static int check_summary(const train_data *d, clseq_loss loss, int classes)
{
    const clseq_csv_summary *s = &d->summary;
    int categorical = loss == CLSEQ_CATEGORICAL_CROSSENTROPY ||
                      loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY;
    size_t line = 0;
    float label = 0;
    if (categorical && s->fraction_line)
        line = s->fraction_line;
    else if ((categorical || loss == CLSEQ_BINARY_CROSSENTROPY) && s->target_min < 0.0f)
        line = s->target_min_line, label = s->target_min;
    else if (categorical && s->target_max >= (float)classes)
        line = s->target_max_line, label = s->target_max;
    else if (loss == CLSEQ_BINARY_CROSSENTROPY && s->target_max > 1.0f)
        line = s->target_max_line, label = s->target_max;
    if (!line)
        return 1;
    if (categorical && line == s->fraction_line)
        fprintf(stderr, "clseq train: %s:%zu: a label is not a class index for %s (0..%d: the "
                "model has %d outputs)\n", d->path, line, clseq_loss_name(loss), classes - 1,
                classes);
    else if (categorical)
        fprintf(stderr, "clseq train: %s:%zu: label %g is not a class index for %s (0..%d: the "
                "model has %d outputs)\n", d->path, line, (double)label, clseq_loss_name(loss),
                classes - 1, classes);
    else
        fprintf(stderr, "clseq train: %s:%zu: label %g is not a probability in [0, 1] for %s\n",
                d->path, line, (double)label, clseq_loss_name(loss));
    return 0;
}

/* clseq_source's read: rows from the file, labels one-hot encoded when
 * the loss wants classes. */
static clseq_status read_rows(void *user, size_t first, size_t count, float *x, float *y)
{
    train_data *d = user;
    if (!d->classes)
        return clseq_csv_read_rows(d->file, first, count, x, y);
    if (count > d->labels_rows) {
        float *grown = realloc(d->labels, count * sizeof *grown);
        if (!grown)
            return CLSEQ_E_NOMEM;
        d->labels = grown;
        d->labels_rows = count;
    }
    clseq_status s = clseq_csv_read_rows(d->file, first, count, x, d->labels);
    return s == CLSEQ_OK ? clseq_one_hot(d->labels, count, d->classes, y) : s;
}

int train_data_targets(train_data *d, const clseq_model *m, clseq_loss loss)
{
    if (!d->streamed) {
        d->y = cli_targets("train", m, loss, &d->table, d->path);
        return d->y != NULL;
    }
    int outputs = clseq_model_output_dim(m);
    int one_hot = loss == CLSEQ_CATEGORICAL_CROSSENTROPY;
    if (!one_hot && loss != CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY && outputs != 1) {
        fprintf(stderr, "clseq train: %s with %d outputs needs %d target columns, but a data "
                "file carries one target\n", clseq_loss_name(loss), outputs, outputs);
        return 0;
    }
    if (!check_summary(d, loss, outputs))
        return 0;
    d->classes = one_hot ? outputs : 0;
    d->source = (clseq_source){d->summary.rows, read_rows, d};
    return 1;
}

void train_data_close(train_data *d)
{
    clseq_dataset_free(&d->table);
    free(d->y);
    clseq_csv_close(d->file);
    free(d->labels);
    memset(d, 0, sizeof *d);
}
