/* The CSV line parser shared by the whole-file reader (csv.c) and the
 * streaming reader (csv_stream.c): one line at a time into the parser's
 * row arrays, which grow (whole file) or are the caller's (streamed). */
#ifndef CLSEQ_CSV_PARSER_H
#define CLSEQ_CSV_PARSER_H

#include <locale.h>
#include <stddef.h>

#include "clseq.h"

/* The C numeric locale, for this thread only, while a parse runs. */
typedef struct c_locale_guard {
    locale_t c;
    locale_t old;
} c_locale_guard;

void clseq_csv_locale_enter(c_locale_guard *g);
void clseq_csv_locale_leave(c_locale_guard *g);

typedef struct csv_parser {
    const char *text;
    size_t len;
    const char *name;
    size_t line_no;    /* 1-based number of the line being read */
    size_t cols;       /* 0 until the first non-blank line fixes it */
    size_t cols_line;  /* the line that fixed cols */
    float *x, *y;
    size_t *lines;     /* each row's line_no, or NULL not to record them */
    size_t rows, cap_rows;
    int fixed;         /* x, y (and lines) are the caller's cap_rows rows:
                          never grown or freed here */
    char *scratch;     /* one field, NUL-terminated, for strtof */
    size_t scratch_cap;
    int overflow;      /* the last field was a number beyond the float range */
} csv_parser;

/* The length of a UTF-8 byte-order mark at the start of text (3), else 0:
 * unskipped it would turn the first row into a "header" and drop it. */
size_t clseq_csv_bom_length(const char *text, size_t len);

/* The next line of the input, s[0..n) without its newline, whose first
 * byte is at offset line_start: counts it, refuses a NUL byte, skips a
 * blank line, takes a first line of names as the header (which fixes the
 * columns) and appends anything else as a row. */
clseq_status clseq_csv_parse_line(csv_parser *p, const char *s, size_t n, size_t line_start);

#endif
