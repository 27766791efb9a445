/* Little-endian bytes for model files: a growing output buffer and a
 * bounds-checked input cursor. Every integer is written and read byte by
 * byte, so files move between hosts of any endianness; an f32 is an
 * IEEE-754 binary32 bit pattern stored as a u32. A string is a u32 byte
 * count (at most CLSEQ_MF_MAX_STRING) then that many printable ASCII
 * bytes, without a terminator. */
#ifndef CLSEQ_IO_BYTES_H
#define CLSEQ_IO_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "clseq.h"

enum { CLSEQ_MF_MAX_STRING = 64 };

void clseq_put_u32(unsigned char *p, uint32_t v);
void clseq_put_u64(unsigned char *p, uint64_t v);
uint32_t clseq_get_u32(const unsigned char *p);
uint64_t clseq_get_u64(const unsigned char *p);
float clseq_f32_from_bits(uint32_t bits);

/* An output buffer that grows as it is written. The first allocation
 * failure sets status to CLSEQ_E_NOMEM (with a message) and every later
 * write does nothing, so an encoder checks once at the end. */
typedef struct clseq_writer {
    unsigned char *data;
    size_t size;
    size_t capacity;
    clseq_status status;
} clseq_writer;

void clseq_write_raw(clseq_writer *w, const void *bytes, size_t n);
void clseq_write_u8(clseq_writer *w, unsigned v);
void clseq_write_u32(clseq_writer *w, uint32_t v);
void clseq_write_u64(clseq_writer *w, uint64_t v);
void clseq_write_f32(clseq_writer *w, float f);
/* Strings longer than CLSEQ_MF_MAX_STRING set status to CLSEQ_E_ARG. */
void clseq_write_string(clseq_writer *w, const char *s);
void clseq_write_f32s(clseq_writer *w, const float *x, size_t n);

/* A cursor over checksummed bytes: pos is the file offset of p, name the
 * file for messages. Every failure is CLSEQ_E_FORMAT naming the file, the
 * byte offset of the field and what (the field, in words). */
typedef struct clseq_reader {
    const unsigned char *p;
    size_t left;
    size_t pos;
    const char *name;
} clseq_reader;

clseq_status clseq_read_u8(clseq_reader *r, const char *what, unsigned *v);
clseq_status clseq_read_u32(clseq_reader *r, const char *what, uint32_t *v);
clseq_status clseq_read_u64(clseq_reader *r, const char *what, uint64_t *v);
/* A u8 or u32 (bytes 1 or 4) that must be 0 or 1. */
clseq_status clseq_read_flag(clseq_reader *r, const char *what, int bytes, int *v);
/* A u32 count of at most max items, each taking at least min_bytes of
 * what is left, so no count can promise more than the file holds. */
clseq_status clseq_read_count(clseq_reader *r, const char *what, uint32_t max, size_t min_bytes,
                              uint32_t *count);
/* A finite f32 (NaN and infinities are format errors). */
clseq_status clseq_read_f32(clseq_reader *r, const char *what, float *v);
/* n finite f32 into out; out NULL only checks and skips them. */
clseq_status clseq_read_f32s(clseq_reader *r, const char *what, size_t n, float *out);
/* A string into buf (CLSEQ_MF_MAX_STRING + 1 bytes), NUL-terminated. */
clseq_status clseq_read_string(clseq_reader *r, const char *what, char *buf);
/* CLSEQ_E_FORMAT "NAME: byte POS: " followed by the message. */
clseq_status clseq_read_fail(const clseq_reader *r, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
