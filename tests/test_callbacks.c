/* Keras's training callbacks (EarlyStopping, ReduceLROnPlateau,
 * ModelCheckpoint, CSVLogger), the learning rate between epochs,
 * initial_epoch and the calls refused from inside a fit.
 *
 * The monitor logic is driven with hand-made series through the callbacks'
 * own entry points (nn/callbacks.h), so each expected stop or reduction is
 * worked out by hand in the comments; the rest runs real fits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/callbacks.h"
#include "nn/history.h"
#include "testutil.h"

enum { ROWS = 64, FEATURES = 3, CLASSES = 2 };

/* A compiled 3-4-2 softmax model (seed fixed) and a two-class data set. */
static clseq_model *small_model(float lr)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), FEATURES, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, 7));
    ck_assert_clseq_ok(clseq_add_dense(m, 4, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_add_dense(m, CLASSES, CLSEQ_SOFTMAX));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(lr, 0.0f, 0), CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     CLSEQ_METRIC_ACCURACY));
    return m;
}

static void small_data(float *x, float *y)
{
    test_fill_uniform(x, ROWS * FEATURES, 11, -1.0f, 1.0f);
    for (int i = 0; i < ROWS; i++)
        y[i] = x[i * FEATURES] + 0.5f * x[i * FEATURES + 1] > 0.0f ? 1.0f : 0.0f;
}

/* Runs the callbacks of o over a hand-made val_loss series (with loss
 * equal to it and accuracy 1 - it): stops[e] gets 1 where a callback asked
 * to stop after epoch e, lr[e] the learning rate after epoch e. Returns
 * the number of epochs run. */
static int drive(clseq_model *m, const clseq_fit_options *o, const float *val_loss, int epochs,
                 int *stops, float *lr)
{
    clseq_history *h = clseq_history_create(CLSEQ_METRIC_ACCURACY, 1, epochs);
    ck_assert_ptr_nonnull(h);
    clseq_callbacks cb;
    ck_assert_clseq_ok(clseq_callbacks_begin(&cb, o, h));
    int e = 0;
    for (; e < epochs; e++) {
        /* series order: loss, accuracy, val_loss, val_accuracy */
        float values[4] = {val_loss[e], 1.0f - val_loss[e], val_loss[e], 1.0f - val_loss[e]};
        clseq_history_append(h, values);
        int stop = 0;
        ck_assert_clseq_ok(clseq_callbacks_epoch_end(&cb, m, e, h, values, &stop));
        if (stops)
            stops[e] = stop;
        if (lr)
            ck_assert_clseq_ok(clseq_get_learning_rate(m, &lr[e]));
        if (stop) {
            e++;
            break;
        }
    }
    ck_assert_clseq_ok(clseq_callbacks_end(&cb, m, CLSEQ_OK));
    clseq_history_free(h);
    return e;
}

START_TEST(early_stopping_patience_and_min_delta)
{
    clseq_model *m = small_model(0.1f);
    static const float series[] = {1.0f, 0.9f, 0.95f, 0.93f, 0.85f, 0.9f, 0.91f, 0.92f};
    clseq_fit_options o = clseq_fit_defaults();
    clseq_early_stopping es = clseq_early_stopping_defaults();
    o.early_stopping = &es;
    es.patience = 2;
    /* best 1.0, then 0.9 (epoch 1); 0.95 and 0.93 do not beat it: the wait
     * reaches 2 after epoch 3 */
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 4);
    /* patience 3: epoch 4 (0.85) improves; 0.9, 0.91, 0.92 wait 1, 2, 3 */
    es.patience = 3;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 8);
    /* min_delta 0.06 with patience 2: 0.9 + 0.06 < 1.0 improves; 0.95 and
     * 0.93 do not (1.01, 0.99 > 0.9): stop after epoch 3 as before, but
     * with min_delta 0.11 epoch 1 does not improve either: wait 1, 2 ->
     * stop after epoch 2 */
    es.patience = 2;
    es.min_delta = 0.06f;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 4);
    es.min_delta = 0.11f;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 3);
    /* patience 0 stops at the first epoch (after 0) that does not improve */
    es.min_delta = 0;
    es.patience = 0;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 3);
    clseq_model_free(m);
}
END_TEST

START_TEST(early_stopping_mode_baseline_start)
{
    clseq_model *m = small_model(0.1f);
    static const float series[] = {1.0f, 0.9f, 0.95f, 0.93f, 0.85f, 0.9f, 0.91f, 0.92f};
    clseq_fit_options o = clseq_fit_defaults();
    clseq_early_stopping es = clseq_early_stopping_defaults();
    o.early_stopping = &es;
    /* val_accuracy (1 - series) goes up in auto mode: the same stops as
     * val_loss going down */
    es.monitor = "val_accuracy";
    es.patience = 2;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 4);
    /* mode MAX on val_loss: 1.0 is the best and nothing beats it: the wait
     * is 1 after epoch 1, 2 after epoch 2 */
    es.monitor = "val_loss";
    es.mode = CLSEQ_MODE_MAX;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 3);
    /* a baseline of 0.88: improvements above it do not reset the wait.
     * Epoch 0 waits 1 (and is the best), epoch 1 waits 2 but improves, and
     * an improving epoch never stops; epoch 2 waits 3 -> stop after it */
    es.mode = CLSEQ_MODE_AUTO;
    es.baseline = 0.88f;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 3);
    /* start_from_epoch 4: epochs 0-3 are not watched; 0.85 is the first
     * best, then 0.9, 0.91 wait 1, 2 -> stop after epoch 6 */
    es.baseline = NAN;
    es.start_from_epoch = 4;
    ck_assert_int_eq(drive(m, &o, series, 8, NULL, NULL), 7);
    clseq_model_free(m);
}
END_TEST

START_TEST(reduce_lr_on_plateau_steps)
{
    clseq_model *m = small_model(0.1f);
    static const float series[] = {1.0f, 0.99995f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f};
    float lr[9];
    clseq_fit_options o = clseq_fit_defaults();
    clseq_reduce_lr_on_plateau r = clseq_reduce_lr_on_plateau_defaults();
    o.reduce_lr_on_plateau = &r;
    r.patience = 2;
    r.factor = 0.5f;
    r.cooldown = 1;
    r.min_lr = 0.02f;
    ck_assert_int_eq(drive(m, &o, series, 9, NULL, lr), 9);
    /* epoch 1: 0.99995 is within min_delta 1e-4 of 1.0: wait 1; epoch 2
     * improves; epochs 3, 4 wait 1, 2 -> 0.05 after epoch 4, cooldown 1.
     * Epoch 5 spends the cooldown (wait 0) and, no longer cooling down in
     * the same call, waits 1 (Keras checks in_cooldown() again); epoch 6
     * waits 2 -> 0.025; epochs 7, 8 the same -> 0.0125, raised to the floor
     * min_lr 0.02. */
    static const float expect[9] = {0.1f, 0.1f, 0.1f, 0.1f, 0.05f, 0.05f, 0.025f, 0.025f, 0.02f};
    for (int e = 0; e < 9; e++)
        ck_assert_msg(fabsf(lr[e] - expect[e]) < 1e-7f, "epoch %d: lr %g, expected %g", e,
                      (double)lr[e], (double)expect[e]);
    /* a longer plateau stops at min_lr: 0.025 * 0.5 = 0.0125 -> 0.02, then
     * no change since lr is not above min_lr */
    static const float flat[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    ck_assert_clseq_ok(clseq_set_learning_rate(m, 0.025f));
    r.cooldown = 0;
    float lr2[12];
    drive(m, &o, flat, 12, NULL, lr2);
    ck_assert_float_eq_tol(lr2[2], 0.02f, 1e-9f);
    ck_assert_float_eq_tol(lr2[11], 0.02f, 1e-9f);
    r.factor = 1.0f;
    clseq_history *h = clseq_history_create(0, 1, 1);
    clseq_callbacks cb;
    ck_assert_int_eq(clseq_callbacks_begin(&cb, &o, h), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "factor"));
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

START_TEST(monitor_must_name_a_series)
{
    clseq_model *m = small_model(0.1f);
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    clseq_fit_options o = test_quiet_fit_options();
    clseq_early_stopping es = clseq_early_stopping_defaults();
    o.early_stopping = &es; /* val_loss, but no validation data */
    ck_assert_int_eq(clseq_fit(m, x, y, ROWS, &o, NULL), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "'val_loss'"));
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "loss, accuracy"));
    es.monitor = "los";
    ck_assert_int_eq(clseq_fit(m, x, y, ROWS, &o, NULL), CLSEQ_E_ARG);
    clseq_model_free(m);
}
END_TEST

/* The weights after each epoch, recorded by the epoch callback. */
typedef struct recording {
    const clseq_model *m;
    float weights[8][64];
    int epochs;
} recording;

static int record(int epoch, const clseq_history *h, void *user_data)
{
    (void)h;
    recording *r = user_data;
    ck_assert_int_lt(epoch, 8);
    test_read_variables(r->m, r->weights[epoch], 64);
    r->epochs = epoch + 1;
    return 0;
}

START_TEST(early_stopping_restores_best_weights)
{
    clseq_model *m = small_model(0.5f);
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    size_t count = test_read_variables(m, NULL, 0);
    ck_assert_uint_le(count, 64);
    recording r = {.m = m};
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 6;
    o.shuffle = 0;
    o.validation_split = 0.25f;
    o.on_epoch_end = record;
    o.user_data = &r;
    clseq_early_stopping es = clseq_early_stopping_defaults();
    es.patience = 100;            /* never stops: restores at the end */
    es.mode = CLSEQ_MODE_MAX;     /* the worst val_loss is the "best" */
    es.restore_best_weights = 1;
    o.early_stopping = &es;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, &h));
    ck_assert_int_eq(r.epochs, 6);
    const float *val = clseq_history_values(h, "val_loss");
    int best = 0;
    for (int e = 1; e < 6; e++)
        if (val[e] > val[best])
            best = e;
    float now[64];
    test_read_variables(m, now, 64);
    for (size_t i = 0; i < count; i++)
        ck_assert_float_eq(now[i], r.weights[best][i]);
    /* and they differ from the last epoch's unless that was the best */
    int differs = 0;
    for (size_t i = 0; i < count; i++)
        differs |= now[i] != r.weights[5][i];
    ck_assert_int_eq(differs, best != 5);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

START_TEST(checkpoint_every_epoch_and_best_only)
{
    clseq_model *m = small_model(0.5f);
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    const char *dir = test_temp_dir();
    char pattern[512], path[600];
    snprintf(pattern, sizeof pattern, "%s/ck-{epoch:02d}-{val_loss:.3f}.clseq", dir);
    recording r = {.m = m};
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 3;
    o.shuffle = 0;
    o.validation_split = 0.25f;
    o.on_epoch_end = record;
    o.user_data = &r;
    clseq_model_checkpoint ck = clseq_model_checkpoint_defaults(pattern);
    o.checkpoint = &ck;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, &h));
    const float *val = clseq_history_values(h, "val_loss");
    size_t count = test_read_variables(m, NULL, 0);
    for (int e = 0; e < 3; e++) {
        snprintf(path, sizeof path, "%s/ck-%02d-%.3f.clseq", dir, e + 1, (double)val[e]);
        ck_assert_msg(file_exists(path), "%s missing", path);
        clseq_model *saved = NULL;
        ck_assert_clseq_ok(clseq_load(test_ctx(), path, &saved));
        float w[64];
        ck_assert_uint_eq(test_read_variables(saved, w, 64), count);
        for (size_t i = 0; i < count; i++)
            ck_assert_float_eq(w[i], r.weights[e][i]);
        clseq_model_free(saved);
    }
    clseq_history_free(h);
    /* save_best_only in mode MAX: saved after epoch 0 and whenever
     * val_loss rose above the best so far */
    snprintf(pattern, sizeof pattern, "%s/best-{epoch}.clseq", dir);
    ck.save_best_only = 1;
    ck.mode = CLSEQ_MODE_MAX;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, &h));
    val = clseq_history_values(h, "val_loss");
    float best = -INFINITY;
    for (int e = 0; e < 3; e++) {
        snprintf(path, sizeof path, "%s/best-%d.clseq", dir, e + 1);
        ck_assert_int_eq(file_exists(path), val[e] > best);
        best = val[e] > best ? val[e] : best;
    }
    clseq_history_free(h);
    /* a field the path cannot be formatted with is refused before training */
    snprintf(pattern, sizeof pattern, "%s/x-{mae}.clseq", dir);
    ck_assert_int_eq(clseq_fit(m, x, y, ROWS, &o, NULL), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "{mae}"));
    clseq_model_free(m);
}
END_TEST

/* The whole of a small text file. */
static void read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

START_TEST(csv_logger_rows)
{
    clseq_model *m = small_model(0.5f);
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    char path[512], text[4096];
    snprintf(path, sizeof path, "%s/log.csv", test_temp_dir());
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 2;
    o.validation_split = 0.25f;
    clseq_csv_logger log = clseq_csv_logger_defaults(path);
    o.csv_logger = &log;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, &h));
    read_text(path, text, sizeof text);
    /* Keras's keys sorted by name; every value read back is the history's */
    ck_assert_int_eq(strncmp(text, "epoch,accuracy,loss,val_accuracy,val_loss\r\n", 43), 0);
    const char *row = text + 43;
    for (int e = 0; e < 2; e++) {
        int epoch;
        double acc, loss, vacc, vloss;
        ck_assert_int_eq(sscanf(row, "%d,%lf,%lf,%lf,%lf", &epoch, &acc, &loss, &vacc, &vloss), 5);
        ck_assert_int_eq(epoch, e);
        ck_assert_float_eq((float)acc, clseq_history_values(h, "accuracy")[e]);
        ck_assert_float_eq((float)loss, clseq_history_values(h, "loss")[e]);
        ck_assert_float_eq((float)vloss, clseq_history_values(h, "val_loss")[e]);
        row = strstr(row, "\r\n") + 2;
    }
    ck_assert_str_eq(row, "");
    clseq_history_free(h);
    /* without validation data Keras still writes val_ columns, as NA; with
     * append the header is not repeated */
    o.validation_split = 0;
    o.epochs = 1;
    log.append = 1;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, NULL));
    read_text(path, text, sizeof text);
    char *third = strstr(strstr(strstr(text, "\r\n") + 2, "\r\n") + 2, "\r\n") + 2;
    ck_assert_int_eq(strncmp(third, "0,", 2), 0);
    ck_assert_ptr_nonnull(strstr(third, ",NA,NA\r\n"));
    /* a separator that cannot separate is refused */
    log.separator = '\n';
    ck_assert_int_eq(clseq_fit(m, x, y, ROWS, &o, NULL), CLSEQ_E_ARG);
    clseq_model_free(m);
}
END_TEST

START_TEST(csv_logger_refuses_special_files)
{
    clseq_model *m = small_model(0.5f);
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    clseq_fit_options o = test_quiet_fit_options();
    clseq_csv_logger log = clseq_csv_logger_defaults("/dev/null");
    o.csv_logger = &log;
    ck_assert_int_eq(clseq_fit(m, x, y, ROWS, &o, NULL), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "not a regular file"));
    log.path = test_temp_dir(); /* a directory */
    ck_assert_int_eq(clseq_fit(m, x, y, ROWS, &o, NULL), CLSEQ_E_IO);
    clseq_model_free(m);
}
END_TEST

/* An epoch callback that tries what a callback may and may not do. */
typedef struct inside {
    clseq_model *m;
    clseq_status compile, predict, set_variable, fit, add, set_lr, save;
    float lr_seen;
    const char *save_path;
} inside;

static int try_calls(int epoch, const clseq_history *h, void *user_data)
{
    (void)epoch;
    (void)h;
    inside *t = user_data;
    float x[FEATURES] = {0}, out[CLASSES], y[1] = {0}, b[CLASSES] = {0};
    t->compile = clseq_compile(t->m, clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f),
                               CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, 0);
    t->predict = clseq_predict(t->m, x, 1, out);
    t->set_variable = clseq_set_variable(t->m, 1, 1, b);
    clseq_fit_options o = clseq_fit_defaults();
    t->fit = clseq_fit(t->m, x, y, 1, &o, NULL);
    t->add = clseq_add_dense(t->m, 2, CLSEQ_SOFTMAX);
    clseq_model_free(t->m); /* refused: does nothing */
    t->set_lr = clseq_set_learning_rate(t->m, 0.25f);
    clseq_get_learning_rate(t->m, &t->lr_seen);
    t->save = clseq_save(t->m, t->save_path);
    return 1; /* stop after the first epoch */
}

START_TEST(calls_from_inside_a_fit)
{
    clseq_model *m = small_model(0.5f);
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    char path[512];
    snprintf(path, sizeof path, "%s/inside.clseq", test_temp_dir());
    inside t = {.m = m, .save_path = path};
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 3;
    o.on_epoch_end = try_calls;
    o.user_data = &t;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, &h));
    ck_assert_int_eq(clseq_history_epochs(h), 1); /* the callback stopped it */
    ck_assert_int_eq(t.compile, CLSEQ_E_STATE);
    ck_assert_int_eq(t.predict, CLSEQ_E_STATE);
    ck_assert_int_eq(t.set_variable, CLSEQ_E_STATE);
    ck_assert_int_eq(t.fit, CLSEQ_E_STATE);
    ck_assert_int_eq(t.add, CLSEQ_E_STATE);
    ck_assert_clseq_ok(t.set_lr);
    ck_assert_clseq_ok(t.save);
    ck_assert_float_eq(t.lr_seen, 0.25f);
    /* the model survived its refused free and works after the fit */
    float lr, out[CLASSES];
    ck_assert_clseq_ok(clseq_get_learning_rate(m, &lr));
    ck_assert_float_eq(lr, 0.25f);
    ck_assert_clseq_ok(clseq_predict(m, x, 1, out));
    ck_assert_int_eq(clseq_set_learning_rate(m, -1.0f), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_set_learning_rate(m, NAN), CLSEQ_E_ARG);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

/* initial_epoch: 4 epochs in one fit equal 2 + 2 with initial_epoch = 2
 * (shuffle off), also when the learning rate changes between the two
 * halves, set from an epoch callback in the one-fit run. */
static int halve_after_second(int epoch, const clseq_history *h, void *user_data)
{
    (void)h;
    if (epoch == 1)
        ck_assert_clseq_ok(clseq_set_learning_rate(user_data, 0.125f));
    return 0;
}

START_TEST(initial_epoch_and_learning_rate_between_fits)
{
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    clseq_model *whole = small_model(0.25f), *halves = small_model(0.25f);
    clseq_fit_options o = test_quiet_fit_options();
    o.shuffle = 0;
    o.batch_size = 16;
    o.epochs = 4;
    o.on_epoch_end = halve_after_second;
    o.user_data = whole;
    ck_assert_clseq_ok(clseq_fit(whole, x, y, ROWS, &o, NULL));
    o.on_epoch_end = NULL;
    o.epochs = 2;
    ck_assert_clseq_ok(clseq_fit(halves, x, y, ROWS, &o, NULL));
    ck_assert_clseq_ok(clseq_set_learning_rate(halves, 0.125f));
    o.epochs = 4;
    o.initial_epoch = 2;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(halves, x, y, ROWS, &o, &h));
    ck_assert_int_eq(clseq_history_epochs(h), 2);
    float a[64], b[64];
    size_t count = test_read_variables(whole, a, 64);
    ck_assert_uint_eq(test_read_variables(halves, b, 64), count);
    for (size_t i = 0; i < count; i++)
        ck_assert_float_eq(a[i], b[i]);
    o.initial_epoch = 5;
    ck_assert_int_eq(clseq_fit(halves, x, y, ROWS, &o, NULL), CLSEQ_E_ARG);
    clseq_history_free(h);
    clseq_model_free(whole);
    clseq_model_free(halves);
}
END_TEST

/* Exact resume through a file: 4 epochs, save, load, then epochs 4..7 with
 * initial_epoch from the file's epoch count equal 8 epochs in one go
 * (shuffle off); the metric options come back too. */
START_TEST(resume_from_file_counts_epochs)
{
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    clseq_model *whole = small_model(0.25f), *half = small_model(0.25f), *back = NULL;
    clseq_metric_options mo = clseq_metric_defaults();
    mo.threshold = 0.7f;
    ck_assert_clseq_ok(clseq_set_metric_options(half, &mo));
    clseq_fit_options o = test_quiet_fit_options();
    o.shuffle = 0;
    o.batch_size = 16;
    o.epochs = 8;
    ck_assert_clseq_ok(clseq_fit(whole, x, y, ROWS, &o, NULL));
    ck_assert_int_eq(clseq_model_epochs(whole), 8);
    o.epochs = 4;
    ck_assert_clseq_ok(clseq_fit(half, x, y, ROWS, &o, NULL));
    char path[512];
    snprintf(path, sizeof path, "%s/half.clseq", test_temp_dir());
    ck_assert_clseq_ok(clseq_save(half, path));
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &back));
    ck_assert_int_eq(clseq_model_epochs(back), 4);
    clseq_metric_options got;
    ck_assert_clseq_ok(clseq_get_metric_options(back, &got));
    ck_assert_float_eq(got.threshold, 0.7f);
    o.initial_epoch = clseq_model_epochs(back);
    o.epochs = 8;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(back, x, y, ROWS, &o, &h));
    ck_assert_int_eq(clseq_history_epochs(h), 4);
    ck_assert_int_eq(clseq_model_epochs(back), 8);
    float a[64], b[64];
    int count = test_read_variables(whole, a, 64);
    ck_assert_int_eq(test_read_variables(back, b, 64), count);
    for (int i = 0; i < count; i++)
        ck_assert_float_eq(a[i], b[i]);
    clseq_history_free(h);
    clseq_model_free(whole);
    clseq_model_free(half);
    clseq_model_free(back);
}
END_TEST

START_TEST(terminate_on_nan_off_keeps_going)
{
    float x[ROWS * FEATURES], y[ROWS];
    small_data(x, y);
    for (int i = 0; i < ROWS * FEATURES; i++)
        x[i] *= 1e18f;
    clseq_model *m = small_model(1e20f);
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 2;
    /* the default: divergence ends the fit */
    ck_assert_int_eq(clseq_fit(m, x, y, ROWS, &o, NULL), CLSEQ_E_NUMERIC);
    o.terminate_on_nan = 0;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, &h));
    ck_assert_int_eq(clseq_history_epochs(h), 2);
    /* what made the default stop is still there: a loss or weight that is
     * not finite */
    float w[64];
    int finite = isfinite(clseq_history_values(h, "loss")[1]);
    size_t count = test_read_variables(m, w, 64);
    for (size_t i = 0; i < count; i++)
        finite &= isfinite(w[i]) != 0;
    ck_assert(!finite);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

static Suite *callbacks_suite(void)
{
    Suite *s = suite_create("callbacks");
    TCase *tc = tcase_create("callbacks");
    tcase_add_test(tc, early_stopping_patience_and_min_delta);
    tcase_add_test(tc, early_stopping_mode_baseline_start);
    tcase_add_test(tc, reduce_lr_on_plateau_steps);
    tcase_add_test(tc, monitor_must_name_a_series);
    tcase_add_test(tc, early_stopping_restores_best_weights);
    tcase_add_test(tc, checkpoint_every_epoch_and_best_only);
    tcase_add_test(tc, csv_logger_rows);
    tcase_add_test(tc, csv_logger_refuses_special_files);
    tcase_add_test(tc, calls_from_inside_a_fit);
    tcase_add_test(tc, initial_epoch_and_learning_rate_between_fits);
    tcase_add_test(tc, terminate_on_nan_off_keeps_going);
    tcase_add_test(tc, resume_from_file_counts_epochs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(callbacks_suite());
}
