/* What the model-file sources share: the per-version decoders and the
 * optimizer settings as version 2 names them. */
#ifndef CLSEQ_MODELFILE_INTERNAL_H
#define CLSEQ_MODELFILE_INTERNAL_H

#include "clseq.h"
#include "io/bytes.h"
#include "nn/layer_config.h"

/* The 8 bytes every model file starts with. */
#define CLSEQ_MF_MAGIC "CLSEQMDL"
/* Values in format 2's optimizer settings that are the model's: epochs
 * completed and its metric options (modelfile_v2.c). */
#define CLSEQ_MF_EPOCHS "epochs"
#define CLSEQ_MF_METRIC_THRESHOLD "metric_threshold"
#define CLSEQ_MF_METRIC_K "metric_k"

/* Decode the body of a file of that version: r covers the bytes after the
 * common header (magic, version, length) up to the checksum, which the
 * envelope has already verified. With ctx, *out gets the model (on
 * failure it stays NULL); with ctx NULL the bytes are only validated. */
clseq_status clseq_mf1_decode(clseq_ctx *ctx, clseq_reader *r, clseq_model **out);
clseq_status clseq_mf2_decode(clseq_ctx *ctx, clseq_reader *r, clseq_model **out);

/* A failure of the model built from a file, as the file's fault: what the
 * model refuses (CLSEQ_E_ARG, _SHAPE, _STATE, _NUMERIC) becomes
 * CLSEQ_E_FORMAT, and the message gets "NAME: byte POS: " in front. */
clseq_status clseq_mf_refused(clseq_status s, const clseq_reader *r, size_t pos);

/* "sgd", "adam", "rmsprop"; NULL for an unknown kind. */
const char *clseq_mf_optimizer_name(clseq_optimizer_kind kind);
/* o's settings that its kind uses, by Keras's names, in the order files
 * store them: learning_rate, then momentum and nesterov (SGD), beta1, beta2
 * and epsilon (Adam), or rho and epsilon (RMSprop). */
clseq_status clseq_mf_optimizer_config(const clseq_optimizer *o, clseq_layer_config *cfg);
/* The inverse: every setting the kind uses must be there, with its type,
 * and no other; CLSEQ_E_ARG naming the optimizer and setting otherwise.
 * Settings the kind does not use are 0. */
clseq_status clseq_mf_optimizer_from_config(const char *name, const clseq_layer_config *cfg,
                                            clseq_optimizer *o);

#endif
