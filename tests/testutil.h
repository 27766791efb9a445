/* Helpers shared by the Check suites. */
#ifndef CLSEQ_TESTUTIL_H
#define CLSEQ_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "clseq.h"

/* Fails the test with clseq_last_error() unless the call returned CLSEQ_OK. */
#define ck_assert_clseq_ok(expr)                                                          \
    do {                                                                                  \
        clseq_status ck_status_ = (expr);                                                 \
        ck_assert_msg(ck_status_ == CLSEQ_OK, "%s returned %s: %s", #expr,                \
                      clseq_status_name(ck_status_), clseq_last_error());                 \
    } while (0)

/* Path of a file in ../shared/fixtures (from $CLSEQ_FIXTURES); static buffer. */
const char *test_fixture_path(const char *name);
/* A deterministic uniform float in [lo, hi) from a 64-bit state. */
float test_uniform(uint64_t *state, float lo, float hi);
/* Fills n floats with test_uniform values. */
void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);
/* An elementwise activation in double, written from Keras 3's formulas
 * (keras/src/activations/activations.py) independently of cl/common.cl;
 * softmax and log_softmax are row operations and not handled here. */
double test_activation(clseq_activation act, double z);
/* Points where act's derivative jumps (relu's 0, ...): *count of them into
 * at (capacity 4). */
void test_activation_kinks(clseq_activation act, double *at, int *count);
/* Runs the built tool ($CLSEQ_TOOL) with args through the shell: its exit
 * status (-1 if it did not exit), stdout and stderr in output (size
 * bytes, NUL-terminated); -2 when this build has no tool. */
int test_run_tool(const char *args, char *output, size_t size);
/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); static buffer. */
const char *test_temp_dir(void);
/* Runs a suite with CK_ENV-style defaults and returns the process exit code. */
int test_run_suite(Suite *s);
/* A shared context on the test device, created once per process from
 * clseq_ctx_defaults() (ctest's environment names the device). */
clseq_ctx *test_ctx(void);
/* A new context made with o; fails the test if it cannot be made. The
 * caller frees it with clseq_ctx_free. */
clseq_ctx *test_ctx_with(const clseq_ctx_options *o);
/* A new context on the test device whose fused option is fused (0: the
 * layer path always, 1: the fused kernel whenever the model allows); the
 * caller frees it. Tests that compare the training paths make one each. */
clseq_ctx *test_ctx_with_fused(int fused);

/* A whole file into a malloc'd, NUL-terminated buffer; its length into
 * *size (may be NULL). Fails the test if it cannot be read. */
char *test_read_file(const char *path, size_t *size);
/* Every variable of m, layer by layer, each row-major, into out (capacity
 * floats; the test fails if they do not fit); returns how many floats that
 * is. out NULL (capacity 0) only counts them. */
size_t test_read_variables(const clseq_model *m, float *out, size_t capacity);
/* Variable index of layer: its info into *info and its values (malloc'd,
 * the caller frees them). */
float *test_get_variable(const clseq_model *m, int layer, int index, clseq_variable_info *info);
/* clseq_fit_defaults() with verbose 0: a fit that prints nothing. */
clseq_fit_options test_quiet_fit_options(void);

#endif
