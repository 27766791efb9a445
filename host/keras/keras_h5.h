/* HDF5 files held in memory (keras_h5.c): what Keras's weights need and no
 * more. An image is opened or created with the core driver and never
 * touches the disk; paths are followed through hard links only (a soft or
 * external link, external raw storage, a virtual dataset or a filter that
 * would load a plugin is refused), so a file cannot make clseq read other
 * files. HDF5 never prints: each call below silences its error stack and
 * puts the caller's setting back before returning. Failures are
 * CLSEQ_E_FORMAT (CLSEQ_E_NOMEM, CLSEQ_E_ARG) naming the handle's `where`
 * and the object, with HDF5's own reason where it gives one. */
#ifndef CLSEQ_KERAS_H5_H
#define CLSEQ_KERAS_H5_H

#include <stddef.h>

#include "clseq.h"

enum { CLSEQ_H5_MAX_RANK = 8 };

typedef struct clseq_h5 clseq_h5;

/* A dataset's shape and element type. */
typedef struct clseq_h5_info {
    int rank;                        /* 0 for a scalar */
    size_t dims[CLSEQ_H5_MAX_RANK];
    size_t count;                    /* elements: the product of dims */
    int is_float32;                  /* IEEE binary32, either byte order */
    int is_integer;
    char type[24];                   /* "float32", "float64", "int32", "string", ... */
} clseq_h5_info;

/* A list of strings read from an attribute. */
typedef struct clseq_h5_strings {
    int count;
    char **items;
} clseq_h5_strings;

/* Opens a copy of size bytes of an HDF5 file (a user block allowed) for
 * reading; where ("x.keras: model.weights.h5") prefixes messages. */
clseq_status clseq_h5_open_image(const void *data, size_t size, const char *where,
                                 clseq_h5 **out);
/* Creates an empty file in memory for writing. */
clseq_status clseq_h5_create_image(const char *where, clseq_h5 **out);
/* The bytes of a file made by clseq_h5_create_image so far (malloc'd). */
clseq_status clseq_h5_get_image(clseq_h5 *h, unsigned char **data, size_t *size);
/* The name given at open or create, for messages. */
const char *clseq_h5_where(const clseq_h5 *h);
/* Closes the file and everything in it (NULL is fine). */
void clseq_h5_close(clseq_h5 *h);

/* 1 if path ("layers/dense/vars", relative to the root; "" is the root)
 * is a group reached through hard links, 0 otherwise. */
int clseq_h5_is_group(clseq_h5 *h, const char *path);
/* 1 if path is a dataset reached through hard links, 0 otherwise. */
int clseq_h5_is_dataset(clseq_h5 *h, const char *path);
/* The number of links in a group. */
clseq_status clseq_h5_group_size(clseq_h5 *h, const char *path, size_t *count);

/* A dataset's shape and type; refuses what clseq will not read (external
 * storage, virtual datasets, filters other than HDF5's built-in ones). */
clseq_status clseq_h5_dataset_info(clseq_h5 *h, const char *path, clseq_h5_info *info);
/* Reads a float32 dataset of exactly count elements into out; any other
 * type is refused with the dataset's name and type. */
clseq_status clseq_h5_read_f32(clseq_h5 *h, const char *path, float *out, size_t count);
/* Reads a scalar (or one-element) integer dataset. */
clseq_status clseq_h5_read_int(clseq_h5 *h, const char *path, long long *out);

/* Reads attribute attr of the object at path as strings: a scalar string
 * gives one, a 1-D array of strings its elements, an empty array of any
 * type none; fixed-length and variable-length strings both. *found says
 * whether the attribute exists (a missing one is not an error: count 0). */
clseq_status clseq_h5_read_strings(clseq_h5 *h, const char *path, const char *attr,
                                   clseq_h5_strings *out, int *found);
void clseq_h5_strings_free(clseq_h5_strings *s);

/* Creates the groups of path that do not exist yet. */
clseq_status clseq_h5_make_groups(clseq_h5 *h, const char *path);
/* Writes a float32 dataset (rank 0 for a scalar). */
clseq_status clseq_h5_write_f32(clseq_h5 *h, const char *path, int rank, const size_t *dims,
                                const float *data);
/* Writes a scalar int64 dataset. */
clseq_status clseq_h5_write_int(clseq_h5 *h, const char *path, long long value);
/* Sets a scalar variable-length UTF-8 string attribute, as h5py writes a
 * Python str. */
clseq_status clseq_h5_write_string(clseq_h5 *h, const char *path, const char *attr,
                                   const char *value);

#endif
