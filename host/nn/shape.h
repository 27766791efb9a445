/* One sample's shape: rank 1 to CLSEQ_MAX_RANK, channels last (Keras). */
#ifndef CLSEQ_SHAPE_H
#define CLSEQ_SHAPE_H

#include <stddef.h>

#include "clseq.h"

typedef struct clseq_shape {
    int rank;
    int dims[CLSEQ_MAX_RANK];
} clseq_shape;

/* A rank-1 shape of n values. */
clseq_shape clseq_shape_flat(int n);
/* The number of values (the product of dims); every product is checked
 * at construction to stay within CLSEQ_MAX_UNITS. */
int clseq_shape_size(const clseq_shape *s);
/* The last dimension (features of Dense, channels of Conv2D). */
int clseq_shape_last(const clseq_shape *s);
/* CLSEQ_E_SHAPE unless rank is 1..CLSEQ_MAX_RANK, every dim > 0 and the
 * size at most CLSEQ_MAX_UNITS; what names the shape in the message. */
clseq_status clseq_shape_check(const clseq_shape *s, const char *what);
/* "8x8x1" into buf. */
void clseq_shape_format(const clseq_shape *s, char *buf, size_t size);
/* Keras's "(None, 8, 8, 1)" into buf. */
void clseq_shape_format_keras(const clseq_shape *s, char *buf, size_t size);

#endif
