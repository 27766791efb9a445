/* Small helpers shared by the subcommands: option parsing, messages, and
 * data conversion between CSV tables and what a model expects. */
#ifndef CLSEQ_CLI_UTIL_H
#define CLSEQ_CLI_UTIL_H

#include <stddef.h>

#include "clseq.h"

/* Option table entry: "--name" and whether it takes a value. */
typedef struct cli_option {
    const char *name;
    int takes_value;
    const char *value;  /* filled by cli_parse: the value, or "1" for flags; NULL if absent */
} cli_option;

/* Parses argv[1..argc) against options (count entries). Prints a message
 * and returns 0 on an unknown option or a missing value; returns -1 if
 * --help was asked for (after printing usage to stdout); 1 on success. */
int cli_parse(const char *command, const char *usage, int argc, char **argv, cli_option *options,
              int count);
/* The same for commands that also take file names: arguments that are not
 * options go into positional[0..capacity) (*npositional counts them); more
 * than capacity is a usage error. */
int cli_parse_positional(const char *command, const char *usage, int argc, char **argv,
                         cli_option *options, int count, const char **positional, int capacity,
                         int *npositional);
/* The option's value, or NULL. */
const char *cli_get(const cli_option *options, int count, const char *name);
/* Parsed numbers; print "clseq CMD: --name: 'v' is not ..." and return 0 on error. */
int cli_int(const char *command, const char *name, const char *text, long min, long max, long *out);
int cli_double(const char *command, const char *name, const char *text, double *out);
/* Prints "clseq CMD: <last error>" to stderr; returns 1 (the exit status). */
int cli_fail(const char *command);
/* Targets for a model from a CSV's last column: one-hot rows for
 * categorical cross-entropy (classes = the model's outputs), the column as
 * is otherwise, which needs a model with one output unless the labels are
 * sparse. Labels that do not suit the loss are refused naming path and
 * line. Returns a malloc'd array, or NULL after printing why. */
float *cli_targets(const char *command, const clseq_model *m, clseq_loss loss,
                   const clseq_dataset *d, const char *path);
/* The CSV's features as the model's inputs: the data set's x if it has
 * input_dim features; if it has input_dim - 1 (the file had no target
 * column) x plus y as the last feature. Returns malloc'd or NULL. */
float *cli_inputs(const char *command, const clseq_dataset *d, int input_dim, const char *path);

/* 1 (after printing "clseq CMD: OUT_OPT X is the same file as IN_OPT Y")
 * if out_path names an existing file that is the same file as in_path
 * (same device and inode, so through a hard or symbolic link too): writing
 * it would destroy an input. 0 otherwise, or if either is NULL. */
int cli_same_file(const char *command, const char *out_opt, const char *out_path,
                  const char *in_opt, const char *in_path);

/* Seconds on a monotonic clock. */
double cli_seconds(void);

#endif
