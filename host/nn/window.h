/* Keras's 2-D window geometry, shared by Conv2D (nn/layer_conv2d.c) and
 * the pooling layers (nn/layer_pooling.c): (height, width) pairs in
 * configs and specs, 'valid' and 'same' padding, and the output size and
 * padding they give along one axis.
 *
 * Along an axis of size cells, windows spanning span cells placed every
 * stride cells number 'valid' floor((size - span) / stride) + 1 (the input
 * must hold one whole span), 'same' ceil(size / stride); 'same' pads
 * pad_total = max((out - 1) stride + span - size, 0) cells of which
 * pad_total / 2 go before the image, the odd one after (TensorFlow's and
 * XLA's SAME). A kernel of k taps d apart spans (k - 1) d + 1 cells; a
 * pool window of k cells spans k. */
#ifndef CLSEQ_WINDOW_H
#define CLSEQ_WINDOW_H

#include "nn/layer.h"

/* ---- config and spec ------------------------------------------------------- */

/* Reads the pair name into v[0..2) and checks both values are in
 * 1..CLSEQ_MAX_UNITS, which keeps the window arithmetic far from int
 * overflow. An absent pair is an error if required, else v keeps what it
 * holds (Keras's default) and is checked. */
clseq_status clseq_window_get_pair(const clseq_layer_config *cfg, const char *name,
                                   const char *what, int required, int *v);
/* Reads padding ('valid' when absent; any case, as Keras lower-cases it)
 * into *same: 1 for 'same', 0 for 'valid'. */
clseq_status clseq_window_get_padding(const clseq_layer_config *cfg, const char *what, int *same);
/* "same" or "valid", as configs write it. */
const char *clseq_window_padding_name(int same);

/* A spec's "N" (square) or "NxM" into out[0..2). */
clseq_status clseq_window_spec_pair(const char *text, const char *what, int *out);

/* The spec options every window layer takes, each at most once: "same" or
 * "valid", and "sN[xM]" (strides). Zero where not given. */
typedef struct clseq_window_options {
    int padding; /* 0 not given, 1 valid, 2 same */
    int strides[2];
} clseq_window_options;

/* Takes spec field f into o if it is one of those options, not given
 * before: returns 1 with *s the status of reading it, or 0 (f is not
 * one, or a repeat; *s untouched) for the caller to try its own. */
int clseq_window_spec_option(const char *f, clseq_window_options *o, clseq_status *s);

/* ---- shapes ---------------------------------------------------------------- */

/* CLSEQ_E_SHAPE naming the layer (what) unless its input has rank 3:
 * (height, width, channels). */
clseq_status clseq_window_check_input(const clseq_layer *l, const char *what);

/* The span of a kernel of k taps d apart: (k - 1) d + 1. */
long long clseq_window_span(int k, int d);
/* Windows of span cells every stride along an axis of size cells ('valid'
 * has been checked to fit one span). */
int clseq_window_count(int size, long long span, int stride, int same);
/* Cells of 'same' padding before the image for out windows; 0 for
 * 'valid'. */
int clseq_window_pad_before(int size, int out, long long span, int stride, int same);

#endif
