/* Messages a user reads: they name the file, the 1-based line and column,
 * the value at fault, count in words that agree with their numbers, and
 * say what the tool did (a diverged training run: what was saved, where,
 * and the exit status). The tool cases run the built tool ($CLSEQ_TOOL)
 * and are skipped when the build has none. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "testutil.h"

/* Parses len bytes of text as data.csv, expects status s and a message
 * holding each of the non-NULL parts and none of avoid (may be NULL). */
static void expect_csv(const char *text, size_t len, clseq_status s, const char *part1,
                       const char *part2, const char *avoid)
{
    clseq_dataset d = {0};
    clseq_status got = clseq_csv_parse(text, len, "data.csv", &d);
    clseq_dataset_free(&d);
    const char *msg = clseq_last_error();
    ck_assert_msg(got == s, "got %s (%s), want %s", clseq_status_name(got), msg,
                  clseq_status_name(s));
    ck_assert_msg(!part1 || strstr(msg, part1), "'%s' not in: %s", part1, msg);
    ck_assert_msg(!part2 || strstr(msg, part2), "'%s' not in: %s", part2, msg);
    ck_assert_msg(!avoid || !strstr(msg, avoid), "'%s' in: %s", avoid, msg);
}

/* A NUL byte is named as one, with its line and 1-based column, not taken
 * for a number cut short or a column count. */
START_TEST(csv_nul_byte_is_named)
{
    static const char in_field[] = "a,b,c\n1,2,0\n3,\0" "4,1\n";
    expect_csv(in_field, sizeof in_field - 1, CLSEQ_E_FORMAT, "data.csv:3: a NUL byte at column 3",
               "field 2", "not a number");
    static const char after_digit[] = "1,2\0,0\n";
    expect_csv(after_digit, sizeof after_digit - 1, CLSEQ_E_FORMAT,
               "data.csv:1: a NUL byte at column 4", "field 2", "not a number");
    static const char alone[] = "1,2,0\n\0\n";
    expect_csv(alone, sizeof alone - 1, CLSEQ_E_FORMAT, "data.csv:2: a NUL byte at column 1",
               "field 1", "columns");
    /* in a header too: it is no name anyone typed */
    static const char header[] = "x,y\0\n1,2\n";
    expect_csv(header, sizeof header - 1, CLSEQ_E_FORMAT, "data.csv:1: a NUL byte at column 4",
               NULL, NULL);
}
END_TEST

START_TEST(csv_counts_agree_with_their_nouns)
{
    static const char one[] = "1,2,0\n5\n";
    expect_csv(one, sizeof one - 1, CLSEQ_E_FORMAT, "data.csv:2: found 1 column, expected 3",
               NULL, "1 columns");
    static const char two[] = "1,2,0\n5,6\n";
    expect_csv(two, sizeof two - 1, CLSEQ_E_FORMAT, "found 2 columns, expected 3", NULL, NULL);
}
END_TEST

START_TEST(take_rows_count_agrees_with_its_noun)
{
    const float src[2] = {1, 2};
    const size_t idx[1] = {1};
    float dst[2];
    ck_assert_int_eq(clseq_take_rows(src, 1, 2, idx, 1, dst), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "out of range for 1 row") &&
                      !strstr(clseq_last_error(), "1 rows"), "%s", clseq_last_error());
}
END_TEST

/* Label errors count rows from 1 and name no internal function, so the
 * tool can put the file and line in front. */
START_TEST(one_hot_rows_count_from_one)
{
    float out[3 * 3];
    const float too_big[3] = {0, 1, 3};
    ck_assert_int_eq(clseq_one_hot(too_big, 3, 3, out), CLSEQ_E_ARG);
    const char *msg = clseq_last_error();
    ck_assert_msg(strstr(msg, "row 3: label 3 is not a class index 0 to 2 (3 classes)") &&
                      !strstr(msg, "one_hot"), "%s", msg);
    const float fraction[1] = {0.5f};
    ck_assert_int_eq(clseq_one_hot(fraction, 1, 1, out), CLSEQ_E_ARG);
    msg = clseq_last_error();
    ck_assert_msg(strstr(msg, "row 1: label 0.5 is not a whole number") && !strstr(msg, "one_hot"),
                  "%s", msg);
    const float negative[2] = {0, -1};
    ck_assert_int_eq(clseq_one_hot(negative, 2, 1, out), CLSEQ_E_ARG);
    msg = clseq_last_error();
    ck_assert_msg(strstr(msg, "row 2: label -1 is not a class index 0 to 0 (1 class)"), "%s", msg);
    const float nan_label[1] = {NAN};
    ck_assert_int_eq(clseq_one_hot(nan_label, 1, 3, out), CLSEQ_E_NUMERIC);
    msg = clseq_last_error();
    ck_assert_msg(strstr(msg, "row 1: label") && !strstr(msg, "one_hot"), "%s", msg);
}
END_TEST

/* CLSEQ_GEMM_KERNEL names nothing: refused the way CLSEQ_GEMM is, before
 * any device is opened, quoting the value. */
START_TEST(unknown_environment_choices_are_refused_alike)
{
    static const char *const vars[2] = {"CLSEQ_GEMM", "CLSEQ_GEMM_KERNEL"};
    for (int i = 0; i < 2; i++) {
        setenv(vars[i], "weird", 1);
        clseq_ctx *ctx = NULL;
        clseq_status s = clseq_ctx_create(NULL, &ctx);
        unsetenv(vars[i]);
        clseq_ctx_free(ctx);
        ck_assert_msg(s == CLSEQ_E_ARG, "%s=weird: %s", vars[i], clseq_status_name(s));
        char want[64];
        snprintf(want, sizeof want, "%s='weird'", vars[i]);
        ck_assert_msg(strstr(clseq_last_error(), want), "%s", clseq_last_error());
    }
}
END_TEST

/* ---- the tool ------------------------------------------------------------ */

static char output[1 << 16];

/* Runs the tool with args; its exit status, stdout+stderr in output; -2
 * when the build has no tool (the caller skips). */
static int run_tool(const char *args)
{
    return test_run_tool(args, output, sizeof output);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* y = 2x + 1 for x in -10..9: plain gradient descent with rate 1 on a
 * one-unit dense layer overshoots more each step, so the loss grows by
 * about 1e3 an epoch and overflows after several finite epochs. */
static void write_line_data(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fprintf(f, "x,y\n");
    for (int x = -10; x < 10; x++)
        fprintf(f, "%d,%d\n", x, 2 * x + 1);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(divergence_after_good_epochs_saves_them)
{
    const char *dir = test_temp_dir();
    char data[1024], model[1024], args[4096];
    snprintf(data, sizeof data, "%s/line.csv", dir);
    snprintf(model, sizeof model, "%s/line.model", dir);
    write_line_data(data);
    snprintf(args, sizeof args, "train --data %s --layers dense:1 --loss mse --optimizer sgd:1 "
             "--epochs 60 --batch-size 20 --seed 1 --verbose 2 --save %s", data, model);
    int rc = run_tool(args);
    if (rc == -2)
        return;
    ck_assert_msg(rc == 3, "exit status %d:\n%s", rc, output);
    const char *line = strstr(output, "clseq train: training diverged in epoch ");
    ck_assert_msg(line != NULL, "%s", output);
    int bad = 0, begun = 0;
    ck_assert_msg(sscanf(line, "clseq train: training diverged in epoch %d", &bad) == 1, "%s",
                  line);
    char want[2048];
    snprintf(want, sizeof want, "; saved the weights from the end of epoch %d to %s", bad - 1,
             model);
    ck_assert_msg(bad >= 2 && strstr(line, want), "%s", output);
    /* the last progress line, "Epoch N/60", began the epoch that diverged */
    for (const char *at = output; (at = strstr(at, "Epoch ")) != NULL; at++)
        sscanf(at, "Epoch %d", &begun);
    ck_assert_int_eq(begun, bad);
    ck_assert_msg(exists(model), "%s was not written", model);
    snprintf(args, sizeof args, "predict --model %s --data %s --out %s/pred.csv", model, data, dir);
    ck_assert_msg(run_tool(args) == 0, "the saved model does not load:\n%s", output);
}
END_TEST

START_TEST(divergence_in_the_first_epoch_saves_nothing)
{
    const char *dir = test_temp_dir();
    char data[1024], model[1024], args[4096];
    snprintf(data, sizeof data, "%s/line.csv", dir);
    snprintf(model, sizeof model, "%s/line.model", dir);
    write_line_data(data);
    snprintf(args, sizeof args, "train --data %s --layers dense:1 --loss mse --optimizer sgd:1e30 "
             "--epochs 5 --batch-size 1 --seed 1 --verbose 0 --save %s", data, model);
    int rc = run_tool(args);
    if (rc == -2)
        return;
    ck_assert_msg(rc == 1, "exit status %d:\n%s", rc, output);
    snprintf(args, sizeof args, "nothing was saved to %s", model);
    ck_assert_msg(strstr(output, "training diverged in epoch 1") && strstr(output, args), "%s",
                  output);
    ck_assert_msg(!exists(model), "%s was written", model);
}
END_TEST

/* Bad labels are named by file and 1-based line, counting the header and
 * blank lines the reader skipped. */
START_TEST(tool_labels_name_file_and_line)
{
    const char *dir = test_temp_dir();
    char data[1024], args[4096];
    snprintf(data, sizeof data, "%s/labels.csv", dir);
    FILE *f = fopen(data, "w");
    ck_assert_ptr_nonnull(f);
    /* line 1 header, 2-3 rows, 4 blank, 5 row, 6 blank, 7 the bad row */
    fputs("a,b,y\n1,2,0\n3,4,1\n\n5,6,1\n\n7,8,1.5\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(args, sizeof args, "train --data %s --layers dense:1:sigmoid --loss "
             "binary_crossentropy --optimizer sgd --verbose 0 --save %s/m", data, dir);
    int rc = run_tool(args);
    if (rc == -2)
        return;
    ck_assert_int_eq(rc, 1);
    snprintf(args, sizeof args, "clseq train: %s:7: label 1.5 is not a probability in [0, 1] "
             "for binary_crossentropy", data);
    ck_assert_msg(strstr(output, args), "%s", output);
    snprintf(args, sizeof args, "train --data %s --layers dense:2:softmax --loss "
             "sparse_categorical_crossentropy --optimizer sgd --verbose 0 --save %s/m", data, dir);
    ck_assert_int_eq(run_tool(args), 1);
    snprintf(args, sizeof args, "%s:7: label 1.5 is not a class index for "
             "sparse_categorical_crossentropy (0..1: the model has 2 outputs)", data);
    ck_assert_msg(strstr(output, args), "%s", output);
}
END_TEST

/* The library refuses binary cross-entropy targets outside [0, 1] too
 * (they would give a negative loss). */
START_TEST(binary_targets_must_be_probabilities)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 1, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, 1, CLSEQ_SIGMOID));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.1f, 0, 0), CLSEQ_BINARY_CROSSENTROPY, 0));
    const float x[3] = {0, 1, 2}, y[3] = {0, 1, -0.5f};
    clseq_fit_options o = clseq_fit_defaults();
    o.verbose = 0;
    ck_assert_int_eq(clseq_fit(m, x, y, 3, &o, NULL), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "y row 2: target -0.5 is not a probability"), "%s",
                  clseq_last_error());
    float loss;
    ck_assert_int_eq(clseq_evaluate(m, x, y, 3, &loss, NULL), CLSEQ_E_ARG);
    clseq_model_free(m);
}
END_TEST

/* Every message of the tool starts with "clseq CMD:", so a script's log
 * says which step failed. */
START_TEST(tool_messages_name_the_command)
{
    const char *dir = test_temp_dir();
    char data[1024], wide[1024], model[1024], args[4096];
    snprintf(data, sizeof data, "%s/line.csv", dir);
    snprintf(wide, sizeof wide, "%s/wide.csv", dir);
    snprintf(model, sizeof model, "%s/line.model", dir);
    write_line_data(data);
    FILE *f = fopen(wide, "w");
    ck_assert_ptr_nonnull(f);
    fputs("1,2,3,4\n5,6,7,8\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(args, sizeof args, "train --data %s --layers dense:1 --loss mse --optimizer sgd "
             "--verbose 0 --save %s", data, model);
    int rc = run_tool(args);
    if (rc == -2)
        return;
    ck_assert_msg(rc == 0, "%s", output);
    static const struct {
        const char *command, *args;
    } cases[] = {
        {"predict", "predict --model %s --data %s"},
        {"evaluate", "evaluate --model %s --data %s"},
        {"convert", "convert %s/nothing.clseq %s/x.clseq"},
        {"summary", "summary %s/nothing.clseq"},
        {"train", "train --data %s --model %s/nothing.clseq --save x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *first = i < 2 ? model : dir, *second = i < 2 ? wide : dir;
        if (i == 4) {
            first = data;
            second = dir;
        }
        snprintf(args, sizeof args, cases[i].args, first, second);
        ck_assert_int_ne(run_tool(args), 0);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "clseq %s: ", cases[i].command);
        ck_assert_msg(strncmp(output, prefix, strlen(prefix)) == 0, "%s: %s", args, output);
    }
}
END_TEST

START_TEST(tool_counts_agree_with_their_nouns)
{
    const char *dir = test_temp_dir();
    char data[1024], args[4096];
    snprintf(data, sizeof data, "%s/line.csv", dir);
    write_line_data(data);
    snprintf(args, sizeof args, "train --data %s --input-shape 2 --layers dense:1 --loss mse "
             "--optimizer sgd --save %s/m", data, dir);
    int rc = run_tool(args);
    if (rc == -2)
        return;
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(output, "holds 2 values, but the data has 1 feature per row"), "%s",
                  output);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("messages");
    TCase *tc = tcase_create("messages");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, csv_nul_byte_is_named);
    tcase_add_test(tc, csv_counts_agree_with_their_nouns);
    tcase_add_test(tc, take_rows_count_agrees_with_its_noun);
    tcase_add_test(tc, one_hot_rows_count_from_one);
    tcase_add_test(tc, unknown_environment_choices_are_refused_alike);
    tcase_add_test(tc, divergence_after_good_epochs_saves_them);
    tcase_add_test(tc, divergence_in_the_first_epoch_saves_nothing);
    tcase_add_test(tc, tool_counts_agree_with_their_nouns);
    tcase_add_test(tc, tool_labels_name_file_and_line);
    tcase_add_test(tc, tool_messages_name_the_command);
    tcase_add_test(tc, binary_targets_must_be_probabilities);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
