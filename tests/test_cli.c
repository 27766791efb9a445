/* The clseq tool end to end: blobs -> train -> evaluate -> predict in a
 * temporary directory, exit codes and output formats, bad input, and the
 * demo in its quick form. Runs the built tool ($CLSEQ_TOOL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

static char output[1 << 16];

/* Runs the tool with args through the shell; returns its exit status and
 * leaves stdout+stderr in output. */
static int run_tool(const char *args)
{
    int status = test_run_tool(args, output, sizeof output);
    ck_assert_msg(status != -2, "CLSEQ_TOOL is not set");
    return status;
}

static double value_after(const char *key)
{
    const char *at = strstr(output, key);
    ck_assert_msg(at != NULL, "'%s' not in output:\n%s", key, output);
    return atof(at + strlen(key));
}

START_TEST(round_trip_blobs_train_evaluate_predict)
{
    const char *dir = test_temp_dir();
    char args[2048];
    snprintf(args, sizeof args, "blobs --samples 600 --features 2 --centers 3 --std 1.0 --seed 7 --out %s/data.csv", dir);
    ck_assert_int_eq(run_tool(args), 0);
    snprintf(args, sizeof args,
             "train --data %s/data.csv --layers dense:16:relu,dense:3:softmax --loss categorical_crossentropy "
             "--optimizer adam:0.01 --epochs 20 --batch-size 16 --validation-split 0.2 --verbose 2 --save %s/model.clseq",
             dir, dir);
    ck_assert_msg(run_tool(args) == 0, "train failed:\n%s", output);
    ck_assert_msg(strstr(output, "Epoch 20/20") && strstr(output, "val_accuracy:"), "%s", output);
    snprintf(args, sizeof args, "evaluate --model %s/model.clseq --data %s/data.csv", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "evaluate failed:\n%s", output);
    ck_assert_msg(strncmp(output, "loss: ", 6) == 0, "evaluate output:\n%s", output);
    ck_assert_msg(value_after("accuracy: ") >= 0.95, "accuracy too low:\n%s", output);
    snprintf(args, sizeof args, "predict --model %s/model.clseq --data %s/data.csv --out %s/pred.csv", dir, dir, dir);
    ck_assert_msg(run_tool(args) == 0, "predict failed:\n%s", output);
    char path[4096];
    snprintf(path, sizeof path, "%s/pred.csv", dir);
    clseq_dataset pred = {0};
    ck_assert_clseq_ok(clseq_csv_read(path, &pred));
    ck_assert_uint_eq(pred.rows, 600);
    ck_assert_int_eq(pred.features, 3); /* p0,p1,p2 then the class column */
    for (size_t r = 0; r < pred.rows; r++) {
        float sum = pred.x[r * 3] + pred.x[r * 3 + 1] + pred.x[r * 3 + 2];
        ck_assert_msg(sum > 0.999f && sum < 1.001f, "row %zu sums to %g", r, sum);
    }
    clseq_dataset_free(&pred);
}
END_TEST

/* An image model from a CSV: --input-shape, every spec form the digits
 * CNN needs, the saved model (Conv2D, pooling, Flatten, Dropout,
 * BatchNormalization through model file v2) evaluated again, and the shape
 * errors. */
START_TEST(image_model_from_csv)
{
    const char *dir = test_temp_dir();
    const char *digits = test_fixture_path("digits_8x8.csv");
    char args[4096];
    snprintf(args, sizeof args,
             "train --data %s --input-shape 8,8,1 --layers conv2d:8:3x3:relu:same,maxpool2d:2,"
             "batchnorm,flatten,dropout:0.1,dense:10:softmax --loss sparse_categorical_crossentropy "
             "--optimizer adam:0.01 --epochs 4 --batch-size 32 --seed 3 --verbose 2 --save %s/cnn.clseq",
             digits, dir);
    ck_assert_msg(run_tool(args) == 0, "train failed:\n%s", output);
    snprintf(args, sizeof args, "evaluate --model %s/cnn.clseq --data %s", dir, digits);
    ck_assert_msg(run_tool(args) == 0, "evaluate failed:\n%s", output);
    /* raw pixels 0..16 and 4 epochs: far above chance (0.1), measured 0.95+ */
    ck_assert_msg(value_after("accuracy: ") >= 0.8, "accuracy too low:\n%s", output);

    snprintf(args, sizeof args, "train --data %s --input-shape 8,8,2 --layers flatten,dense:10:softmax "
             "--loss sparse_categorical_crossentropy --optimizer sgd --save %s/m", digits, dir);
    ck_assert_int_eq(run_tool(args), 2);
    ck_assert_msg(strstr(output, "8,8,2 holds 128 values") && strstr(output, "64 features"),
                  "message should give both sizes:\n%s", output);
    snprintf(args, sizeof args, "train --data %s --input-shape 8,8,1 --layers conv2d:4:3,conv2d:4:9x9 "
             "--loss mse --optimizer sgd --save %s/m", digits, dir);
    ck_assert_int_ne(run_tool(args), 0);
    ck_assert_msg(strstr(output, "conv2d") && strstr(output, "6x6x4") && strstr(output, "9x9"),
                  "message should name the layer and both shapes:\n%s", output);
}
END_TEST

START_TEST(errors_have_messages_and_exit_codes)
{
    ck_assert_int_ne(run_tool("nosuchcommand"), 0);
    ck_assert_int_ne(run_tool("train --data /nonexistent.csv --layers dense:2 --loss mse --optimizer sgd --save /tmp/x"), 0);
    ck_assert_msg(strstr(output, "/nonexistent.csv"), "message should name the file:\n%s", output);
    const char *dir = test_temp_dir();
    char args[2048];
    snprintf(args, sizeof args, "blobs --samples 50 --out %s/d.csv", dir);
    ck_assert_int_eq(run_tool(args), 0);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:4:relu,dense:x --loss mse --optimizer sgd --save %s/m", dir, dir);
    ck_assert_int_ne(run_tool(args), 0);
    ck_assert_msg(strstr(output, "dense:x"), "message should name the bad token:\n%s", output);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:3:wobbly --loss mse --optimizer sgd --save %s/m", dir, dir);
    ck_assert_int_ne(run_tool(args), 0);
    ck_assert_msg(strstr(output, "wobbly"), "message should name the activation:\n%s", output);
    /* one target column cannot feed 3 regression outputs */
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:3 --loss mse --optimizer sgd --save %s/m", dir, dir);
    ck_assert_int_ne(run_tool(args), 0);
    ck_assert_msg(strstr(output, "3 target columns"), "%s", output);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:1 --loss mse --optimizer sgd:-5 --save %s/m", dir, dir);
    ck_assert_int_ne(run_tool(args), 0);
    ck_assert_msg(strstr(output, "learning rate"), "%s", output);
    /* a validation file with other features than the training file */
    snprintf(args, sizeof args, "blobs --samples 20 --features 3 --out %s/v.csv", dir);
    ck_assert_int_eq(run_tool(args), 0);
    snprintf(args, sizeof args, "train --data %s/d.csv --val %s/v.csv --layers dense:1 --loss mse --optimizer sgd --save %s/m", dir, dir, dir);
    ck_assert_int_ne(run_tool(args), 0);
    ck_assert_msg(strstr(output, "v.csv has 3 features"), "%s", output);
    ck_assert_int_ne(run_tool("evaluate --model /nonexistent.model --data /nonexistent.csv"), 0);
    ck_assert_int_eq(run_tool("train --help"), 0);
    ck_assert_msg(strstr(output, "usage: clseq train"), "%s", output);
    ck_assert_int_ne(run_tool("blobs --samples abc"), 0);
}
END_TEST

/* A line of the output that starts with prefix, or NULL. */
static const char *line_starting(const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *at = output; at && *at; at = strchr(at, '\n') ? strchr(at, '\n') + 1 : NULL)
        if (strncmp(at, prefix, n) == 0)
            return at;
    return NULL;
}

/* The training workflow: go on training a saved model, convert, summary,
 * callbacks, and the options that go with them. */
START_TEST(continue_convert_summary_callbacks)
{
    const char *dir = test_temp_dir();
    char args[4096], path[2048];
    snprintf(args, sizeof args, "blobs --samples 200 --features 2 --centers 2 --std 1.0 --seed 3 "
             "--out %s/d.csv", dir);
    ck_assert_int_eq(run_tool(args), 0);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:4:relu,dense:1:sigmoid "
             "--loss binary_crossentropy --optimizer adam:0.01 --epochs 2 --no-shuffle "
             "--verbose 2 --save %s/a.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    /* the summary comes before the first epoch */
    const char *summary = strstr(output, "Total params: 17");
    ck_assert_msg(summary && summary < strstr(output, "Epoch 1/2"), "%s", output);
    /* going on from the file: epochs 3 and 4, with its optimizer state */
    snprintf(args, sizeof args, "train --data %s/d.csv --model %s/a.clseq --epochs 4 "
             "--initial-epoch 2 --no-shuffle --verbose 2 --save %s/b.clseq", dir, dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    ck_assert_msg(strstr(output, "Epoch 3/4") && !strstr(output, "Epoch 2/4"), "%s", output);
    /* equals 4 epochs in one go */
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:4:relu,dense:1:sigmoid "
             "--loss binary_crossentropy --optimizer adam:0.01 --epochs 4 --no-shuffle "
             "--verbose 0 --save %s/c.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    static char pred_b[sizeof output], pred_c[sizeof output];
    snprintf(args, sizeof args, "predict --model %s/b.clseq --data %s/d.csv --out -", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(pred_b, sizeof pred_b, "%s", output);
    snprintf(args, sizeof args, "predict --model %s/c.clseq --data %s/d.csv", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(pred_c, sizeof pred_c, "%s", output);
    ck_assert_str_eq(pred_b, pred_c);
    /* one sigmoid output: a class column by the 0.5 threshold */
    ck_assert_msg(strncmp(pred_b, "p0,class\n", 9) == 0, "%s", pred_b);
    double p0;
    int cls;
    ck_assert_int_eq(sscanf(strchr(pred_b, '\n') + 1, "%lf,%d", &p0, &cls), 2);
    ck_assert_int_eq(cls, p0 > 0.5);
    /* a loaded model with a new optimizer compiles again */
    snprintf(args, sizeof args, "train --data %s/d.csv --model %s/a.clseq --optimizer sgd "
             "--verbose 0 --save %s/e.clseq", dir, dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(args, sizeof args, "train --data %s/d.csv --model %s/a.clseq --layers dense:1 "
             "--save %s/e.clseq", dir, dir, dir);
    ck_assert_int_eq(run_tool(args), 2);
    /* convert and summary */
    snprintf(args, sizeof args, "convert %s/b.clseq %s/f.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(args, sizeof args, "summary %s/f.clseq", dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    ck_assert_msg(strstr(output, "dense_1 (Dense)") && strstr(output, "Total params: 17"), "%s",
                  output);
    snprintf(args, sizeof args, "convert %s/b.clseq", dir);
    ck_assert_int_eq(run_tool(args), 2);
    snprintf(args, sizeof args, "convert %s/b.clseq %s/b.clseq", dir, dir);
    ck_assert_int_eq(run_tool(args), 2);
    ck_assert_msg(strstr(output, "same file"), "%s", output);
    /* callbacks: a csv log, numbered checkpoints, early stopping on a
     * patience of 0 with an impossible min_delta stops after epoch 2 */
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:1:sigmoid --loss "
             "binary_crossentropy --optimizer sgd --epochs 9 --verbose 2 --validation-split 0.25 "
             "--early-stopping 0 --min-delta 100 --checkpoint %s/ck-{epoch:02d}.clseq "
             "--csv-log %s/log.csv --save %s/g.clseq", dir, dir, dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    ck_assert_msg(line_starting("Epoch 2: early stopping") && !strstr(output, "Epoch 3/9"), "%s",
                  output);
    snprintf(path, sizeof path, "%s/ck-02.clseq", dir);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s missing", path);
    fclose(f);
    snprintf(path, sizeof path, "%s/log.csv", dir);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char header[128] = "";
    ck_assert_ptr_nonnull(fgets(header, sizeof header, f));
    fclose(f);
    ck_assert_str_eq(header, "epoch,accuracy,loss,val_accuracy,val_loss\r\n");
    /* options that do not go together */
    snprintf(args, sizeof args, "train --data %s/d.csv --val %s/d.csv --validation-split 0.2 "
             "--layers dense:1 --loss mse --optimizer sgd --save %s/h.clseq", dir, dir, dir);
    ck_assert_int_eq(run_tool(args), 2);
    ck_assert_msg(strstr(output, "--val and --validation-split"), "%s", output);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:1 --loss mse --optimizer "
             "sgd --restore-best-weights --save %s/h.clseq", dir, dir);
    ck_assert_int_eq(run_tool(args), 2);
    /* help for one command */
    ck_assert_int_eq(run_tool("help convert"), 0);
    ck_assert_msg(strncmp(output, "usage: clseq convert", 20) == 0, "%s", output);
    ck_assert_int_eq(run_tool("help nothing"), 2);
}
END_TEST

/* The first line of a CSV file whose last field is label (the lines the
 * tool must name), found here by reading the text. */
static int first_line_with_label(const char *path, int label)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    int number = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        number++;
        const char *comma = strrchr(line, ',');
        found = comma && number > 1 && atoi(comma + 1) == label ? number : 0;
    }
    fclose(f);
    return found;
}

/* --stream: a file read a block at a time (several blocks, through a
 * small CLSEQ_DATA_BYTES) trains, with --no-shuffle, exactly as the file
 * read whole does, --val too; shuffled it still learns; labels are
 * refused with their line before training. */
START_TEST(stream_option)
{
    const char *dir = test_temp_dir();
    char args[4096], path[2048];
    snprintf(args, sizeof args, "blobs --samples 3000 --features 3 --centers 3 --std 1.0 "
             "--seed 5 --out %s/d.csv", dir);
    ck_assert_int_eq(run_tool(args), 0);
    snprintf(args, sizeof args, "blobs --samples 400 --features 3 --centers 3 --std 1.0 "
             "--seed 5 --out %s/v.csv", dir);
    ck_assert_int_eq(run_tool(args), 0);
    setenv("CLSEQ_DATA_BYTES", "20000", 1);
    static char whole[sizeof output];
    const char *modes[] = {"", "--stream"};
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "train --data %s/d.csv --val %s/v.csv %s --layers "
                 "dense:8:relu,dense:3:softmax --loss categorical_crossentropy --optimizer adam "
                 "--epochs 2 --batch-size 16 --no-shuffle --verbose 2 --save %s/m%d.clseq", dir,
                 dir, modes[i], dir, i);
        ck_assert_msg(run_tool(args) == 0, "%s", output);
        char *epoch = strstr(output, "Epoch 2/2"), *saved = strstr(output, "saved:");
        ck_assert_msg(epoch && saved, "%s", output);
        *saved = '\0';
        if (i == 0)
            snprintf(whole, sizeof whole, "%s", epoch);
        else /* the same losses and accuracies, val_ too */
            ck_assert_str_eq(whole, epoch);
    }
    snprintf(args, sizeof args, "predict --model %s/m0.clseq --data %s/v.csv", dir, dir);
    ck_assert_int_eq(run_tool(args), 0);
    snprintf(whole, sizeof whole, "%s", output);
    snprintf(args, sizeof args, "predict --model %s/m1.clseq --data %s/v.csv", dir, dir);
    ck_assert_int_eq(run_tool(args), 0);
    ck_assert_str_eq(whole, output);
    /* shuffled by blocks */
    snprintf(args, sizeof args, "train --data %s/d.csv --stream --layers dense:8:relu,"
             "dense:3:softmax --loss sparse_categorical_crossentropy --optimizer adam:0.01 "
             "--epochs 3 --validation-split 0.2 --verbose 0 --save %s/s.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(args, sizeof args, "evaluate --model %s/s.clseq --data %s/v.csv", dir, dir);
    ck_assert_int_eq(run_tool(args), 0);
    ck_assert_msg(value_after("accuracy: ") >= 0.9, "%s", output);
    unsetenv("CLSEQ_DATA_BYTES");
    /* label 2 with two outputs, label 1 and 2 as probabilities */
    snprintf(path, sizeof path, "%s/d.csv", dir);
    char expected[64];
    snprintf(args, sizeof args, "train --data %s --stream --layers dense:2:softmax --loss "
             "categorical_crossentropy --optimizer sgd --save %s/x.clseq", path, dir);
    ck_assert_int_eq(run_tool(args), 1);
    snprintf(expected, sizeof expected, "d.csv:%d: label 2 is not a class index",
             first_line_with_label(path, 2));
    ck_assert_msg(strstr(output, expected), "want '%s' in:\n%s", expected, output);
    snprintf(args, sizeof args, "train --data %s --stream --layers dense:1:sigmoid --loss "
             "binary_crossentropy --optimizer sgd --save %s/x.clseq", path, dir);
    ck_assert_int_eq(run_tool(args), 1);
    snprintf(expected, sizeof expected, "d.csv:%d: label 2 is not a probability",
             first_line_with_label(path, 2));
    ck_assert_msg(strstr(output, expected), "want '%s' in:\n%s", expected, output);
    snprintf(args, sizeof args, "train --data %s --stream --layers dense:3:softmax --loss "
             "categorical_crossentropy --optimizer sgd --class-weight auto --save %s/x.clseq",
             path, dir);
    ck_assert_int_eq(run_tool(args), 2);
}
END_TEST

/* --lr-schedule: piecewise 0.1 for step 0 and 0 after it trains exactly
 * as one epoch (one full-batch step) does; --class-weight. */
START_TEST(lr_schedule_option)
{
    const char *dir = test_temp_dir();
    char args[4096], one[sizeof output];
    snprintf(args, sizeof args, "blobs --samples 40 --features 2 --centers 2 --std 1.0 --seed 5 "
             "--out %s/d.csv", dir);
    ck_assert_int_eq(run_tool(args), 0);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:2:softmax --loss "
             "categorical_crossentropy --optimizer sgd:0.1 --batch-size 40 --epochs 3 "
             "--lr-schedule piecewise:0:0.1,0 --verbose 0 --save %s/a.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:2:softmax --loss "
             "categorical_crossentropy --optimizer sgd:0.1 --batch-size 40 --epochs 1 "
             "--verbose 0 --save %s/b.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(args, sizeof args, "predict --model %s/a.clseq --data %s/d.csv", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    memcpy(one, output, sizeof one);
    snprintf(args, sizeof args, "predict --model %s/b.clseq --data %s/d.csv", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    ck_assert_str_eq(one, output);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:2:softmax --loss "
             "categorical_crossentropy --optimizer sgd --lr-schedule cosine --save %s/c.clseq",
             dir, dir);
    ck_assert_int_eq(run_tool(args), 2);
    ck_assert_msg(strstr(output, "--lr-schedule 'cosine'"), "%s", output);
    /* --class-weight: all weights 0 make every row's loss 0 (the metrics
     * stay unweighted, as Keras's) */
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:2:softmax --loss "
             "categorical_crossentropy --optimizer sgd --class-weight 0,0 --verbose 2 "
             "--save %s/d.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    ck_assert_msg(strstr(output, "loss: 0.0000 - accuracy: "), "%s", output);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:2:softmax --loss "
             "categorical_crossentropy --optimizer sgd --class-weight auto --verbose 0 "
             "--save %s/d.clseq", dir, dir);
    ck_assert_msg(run_tool(args) == 0, "%s", output);
    snprintf(args, sizeof args, "train --data %s/d.csv --layers dense:2:softmax --loss "
             "categorical_crossentropy --optimizer sgd --class-weight 1,-2 --save %s/d.clseq",
             dir, dir);
    ck_assert_int_eq(run_tool(args), 2);
}
END_TEST

START_TEST(devices_lists_the_test_device)
{
    ck_assert_int_eq(run_tool("devices"), 0);
    ck_assert_msg(strstr(output, clseq_ctx_device_name(test_ctx())) && strstr(output, "*"),
                  "devices output:\n%s", output);
}
END_TEST

START_TEST(demo_quick_writes_pictures)
{
    const char *dir = test_temp_dir();
    char args[2048];
    snprintf(args, sizeof args, "demo --quick --out %s", dir);
    ck_assert_msg(run_tool(args) == 0, "demo failed:\n%s", output);
    ck_assert_msg(strstr(output, "Test accuracy:") && strstr(output, "Test MSE:") &&
                  strstr(output, "Part 6: digits"), "%s", output);
    /* Two epochs leave mistakes to draw, so every picture is there. */
    const char *pictures[] = {"decision_boundary.png", "training_history.png", "two_class_kernel.png",
                              "two_class_bias.png", "regression.png", "digits_filters.png",
                              "digits_confusion.png", "digits_mistakes.png"};
    for (size_t i = 0; i < sizeof pictures / sizeof pictures[0]; i++) {
        char path[4096];
        unsigned char magic[8];
        snprintf(path, sizeof path, "%s/%s", dir, pictures[i]);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "missing %s", path);
        ck_assert_uint_eq(fread(magic, 1, 8, f), 8);
        fclose(f);
        ck_assert_msg(memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
    }
    snprintf(args, sizeof args, "demo nosuchlesson --quick --out %s", dir);
    ck_assert_int_eq(run_tool(args), 2);
    ck_assert_msg(strstr(output, "unknown lesson 'nosuchlesson'"), "%s", output);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, round_trip_blobs_train_evaluate_predict);
    tcase_add_test(tc, image_model_from_csv);
    tcase_add_test(tc, errors_have_messages_and_exit_codes);
    tcase_add_test(tc, continue_convert_summary_callbacks);
    tcase_add_test(tc, lr_schedule_option);
    tcase_add_test(tc, stream_option);
    tcase_add_test(tc, devices_lists_the_test_device);
    tcase_add_test(tc, demo_quick_writes_pictures);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
