/* The Keras-made fixture records that test_keras, test_keras_files and
 * test_keras_training read (tests/fixtures/keras/NAME.txt from
 * tests/keras/make_fixtures.py, tests/fixtures/keras_files/NAME.txt from
 * tests/keras/make_keras_files.py; the scripts' docstrings describe them
 * in full), and the comparison with Keras's values that these suites
 * make. A file holds records
 *   # comment
 *   @NAME TEXT          a text record: the rest of the line
 *   NAME COUNT          a numeric record: then COUNT whitespace-separated values
 * Every helper fails the test on a missing or malformed record. */
#ifndef CLSEQ_KERAS_RECORDS_H
#define CLSEQ_KERAS_RECORDS_H

#include <stddef.h>

#include "clseq.h"

typedef struct keras_record {
    char name[96];
    const char *text; /* text records: the rest of the line (in the file buffer) */
    double *v;        /* numeric records: count values */
    size_t count;
} keras_record;

typedef struct keras_fixture {
    char name[64];
    char *buf; /* the file, with text records' line ends made NULs */
    keras_record *r;
    int count;
} keras_fixture;

/* Reads the fixture file DIR/NAME.txt under $CLSEQ_FIXTURES (dir "keras" or
 * "keras_files"); f->name is name. Free it with keras_fixture_free. */
void keras_fixture_load(keras_fixture *f, const char *dir, const char *name);
void keras_fixture_free(keras_fixture *f);
/* The record name, or NULL if the file has none. */
const keras_record *keras_find(const keras_fixture *f, const char *name);
/* A numeric record that must be there with count values (count 0: any). */
const keras_record *keras_need(const keras_fixture *f, const char *name, size_t count);
/* The text of a text record (name starts with '@') that must be there. */
const char *keras_need_text(const keras_fixture *f, const char *name);
/* The one value of a numeric record that must be there, as a size. */
size_t keras_need_size(const keras_fixture *f, const char *name);
/* A numeric record's values as floats (malloc'd; exact: the scripts wrote
 * float32 values). */
float *keras_floats(const keras_record *r);

/* One comparison of clseq's values with Keras's. */
typedef struct keras_diff {
    double ratio;    /* the largest |clseq - Keras| / tolerance */
    size_t at;       /* the index where it is */
    double max_diff; /* the largest |clseq - Keras| */
    double tol;      /* the tolerance (at index at) */
} keras_diff;

/* Compares got[0..n) with the numeric record name, whose tolerance comes
 * from the record name.err: ERR_FACTOR (4) times err plus FLOOR_ULP (32)
 * float32 ulp of the record's largest value, over the whole tensor
 * (tests/test_keras.c's header has the argument); a name.err of n values
 * instead gives each value its own, from its err and its own magnitude
 * (an elementwise formula's, such as a schedule's). d.tol is the
 * tolerance at d.at. Fails the test if a value of got is not finite
 * (what, which may be NULL, says where). */
keras_diff keras_compare(const keras_fixture *f, const char *name, const float *got, size_t n,
                         const char *what);

/* The KEY:KIND words of text (a record's, such as @optimizers'
 * "sgd:sgd adam:adam") into keys and kinds, at most max of them, each
 * under 40 characters; their storage is store. record names the record
 * in messages. Returns how many. */
int keras_key_kinds(const keras_fixture *f, const char *record, const char *text, int max,
                    char store[][2][40], const char **keys, const char **kinds);

/* Multiplies the largest entry (by magnitude) of m's first variable (that
 * of the first layer that has variables) by factor: a small change of one
 * weight, which the comparisons must catch. Its info into *info and its
 * index into *at. */
void keras_scale_largest_weight(clseq_model *m, float factor, clseq_variable_info *info,
                                size_t *at);

#endif
