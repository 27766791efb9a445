/* Global heap collections of an HDF5 image checked before HDF5 reads them
 * (keras_h5_heap.c says why). */
#ifndef CLSEQ_KERAS_H5_HEAP_H
#define CLSEQ_KERAS_H5_HEAP_H

#include <stddef.h>

#include "clseq.h"

/* CLSEQ_E_FORMAT naming where and the byte offset if a collection in the
 * size bytes of data could make HDF5 read outside it. */
clseq_status clseq_h5_check_heaps(const unsigned char *data, size_t size, const char *where);

#endif
