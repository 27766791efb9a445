/* clseq train's data files: read whole, or streamed a block at a time
 * (--stream, or a file larger than half the free memory) through
 * clseq_csv_open and clseq_fit_source. */
#ifndef CLSEQ_TRAIN_DATA_H
#define CLSEQ_TRAIN_DATA_H

#include <stddef.h>

#include "clseq.h"

typedef struct train_data {
    const char *path;
    int streamed;
    clseq_dataset table;       /* read whole: the file */
    float *y;                  /* read whole: the model's targets */
    clseq_csv_file *file;      /* streamed */
    clseq_csv_summary summary; /* streamed: what opening found */
    int classes;               /* streamed: one-hot width, or 0 for labels as they are */
    float *labels;             /* streamed: a read's labels before one-hot encoding */
    size_t labels_rows;
    clseq_source source;       /* streamed: the rows for clseq_fit_source */
} train_data;

/* Opens path: streamed if stream is 1, or if it is 0 and the file is
 * larger than half the memory free now; read whole if it is -1. Prints
 * why and returns 0 on failure. */
int train_data_open(const char *path, int stream, train_data *d);
/* Values per row before the target. */
int train_data_features(const train_data *d);
size_t train_data_rows(const train_data *d);
/* Readies the targets for the model and loss (one-hot classes for
 * categorical cross-entropy), refusing labels that do not suit them with
 * the file's line; prints why and returns 0 on failure. */
int train_data_targets(train_data *d, const clseq_model *m, clseq_loss loss);
void train_data_close(train_data *d);

#endif
