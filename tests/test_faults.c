/* Faults and soak: device operations that fail (injected with the context
 * option fail_after, runtime/buffer.c) and many cycles in one process.
 *
 * For a Dense model and a small CNN (Conv2D, BatchNormalization,
 * MaxPooling2D, Dropout, Dense) and each of model building, fit (layer and
 * fused paths, with validation data, EarlyStopping restoring the best
 * weights and a ModelCheckpoint per epoch), evaluate, predict, save and
 * load, a first run counts the device operations the call makes; then,
 * for every k (or every stride-th k, the last always included), a fresh
 * model runs the call with the k-th operation failing. Each time:
 *   - the call returns CLSEQ_E_NOMEM or CLSEQ_E_CL with the injected
 *     fault in its message (never CLSEQ_OK: no failure is swallowed);
 *   - a failed load or build hands back no model;
 *   - the model's variables are all finite: a fault before a step leaves
 *     the weights from before the fit, one inside a step may leave some
 *     layers updated and others not, but never a non-finite value;
 *   - with injection off again, evaluate, predict and fit work on the
 *     same model and give finite results;
 *   - every checkpoint file that exists, and the file a failed save was
 *     overwriting, loads as a complete model; no temporary is left;
 *   - once the models are freed, the device's buffer ledger is back at
 *     what it held before (no buffer leaked on an error path).
 * The soak runs hundreds of fit/evaluate/save/load cycles and checks the
 * ledger returns to its baseline after each. */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "testutil.h"

enum { ROWS = 48, VAL_ROWS = 16, CLASSES = 3, BATCH = 16, PATH_CHARS = 4096 };
enum { MAX_VARS = 4096 };

typedef enum { DENSE, CNN } model_kind;
typedef enum { OP_BUILD, OP_FIT, OP_EVALUATE, OP_PREDICT, OP_SAVE, OP_LOAD } op_kind;
static const char *const op_names[] = {"build", "fit", "evaluate", "predict", "save", "load"};
static const char *const kind_names[] = {"dense", "cnn"};

typedef struct scenario {
    clseq_ctx *ctx;
    clseq_device *dev;
    model_kind kind;
    int in_dim;
    float *x, *y, *vx, *vy;
    char dir[PATH_CHARS];
    char checkpoint[PATH_CHARS]; /* a pattern with {epoch} */
    char file[PATH_CHARS];       /* what save overwrites and load reads */
    cl_ulong baseline;           /* the ledger with no model alive */
} scenario;

static void format(char *out, size_t size, const char *fmt, const char *a, const char *b)
{
    int n = snprintf(out, size, fmt, a, b);
    ck_assert_msg(n > 0 && (size_t)n < size, "path too long");
}

/* A context of its own (fused as clseq_ctx_options.fused; data_bytes 0 or
 * the most a fit's rows may take on the device, less streams them), data
 * and a temporary folder. */
static void scenario_open(scenario *sc, model_kind kind, int fused, long long data_bytes)
{
    memset(sc, 0, sizeof *sc);
    clseq_ctx_options o = clseq_ctx_defaults();
    o.fused = fused;
    o.data_bytes = data_bytes;
    sc->ctx = test_ctx_with(&o);
    sc->dev = clseq_ctx_main_device(sc->ctx);
    sc->kind = kind;
    sc->in_dim = kind == DENSE ? 8 : 6 * 6 * 2;
    size_t n = ROWS + VAL_ROWS;
    float *x = malloc(n * (size_t)sc->in_dim * sizeof *x), *y = calloc(n * CLASSES, sizeof *y);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    test_fill_uniform(x, n * (size_t)sc->in_dim, 11, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) {
        const float *row = x + i * (size_t)sc->in_dim;
        y[i * CLASSES + (row[0] > 0.3f ? 0 : row[1] > 0 ? 1 : 2)] = 1;
    }
    sc->x = x;
    sc->y = y;
    sc->vx = x + ROWS * (size_t)sc->in_dim;
    sc->vy = y + ROWS * CLASSES;
    const char *dir = test_temp_dir();
    ck_assert_ptr_nonnull(dir);
    format(sc->dir, sizeof sc->dir, "%s/%s", dir, ".");
    format(sc->checkpoint, sizeof sc->checkpoint, "%s/%s", dir, "ckpt-{epoch}.clseq");
    format(sc->file, sizeof sc->file, "%s/%s", dir, "model.clseq");
    sc->baseline = clseq_buffer_allocated(sc->dev);
}

static void scenario_close(scenario *sc)
{
    free(sc->x);
    free(sc->y);
    clseq_ctx_free(sc->ctx);
}

/* The model, freshly built, seeded and compiled; the status of the first
 * failing step, with *out NULL then. */
static clseq_status build_model(const scenario *sc, clseq_model **out)
{
    clseq_model *m = NULL;
    clseq_status s;
    if (sc->kind == DENSE) {
        s = clseq_model_create(sc->ctx, sc->in_dim, &m);
        if (s == CLSEQ_OK)
            s = clseq_model_set_seed(m, 7);
        if (s == CLSEQ_OK)
            s = clseq_add_dense(m, 16, CLSEQ_RELU);
        if (s == CLSEQ_OK)
            s = clseq_add_dense(m, CLASSES, CLSEQ_SOFTMAX);
    } else {
        const int dims[3] = {6, 6, 2};
        s = clseq_model_create_shaped(sc->ctx, 3, dims, &m);
        if (s == CLSEQ_OK)
            s = clseq_model_set_seed(m, 7);
        if (s == CLSEQ_OK)
            s = clseq_add_conv2d(m, 4, 3, 3, 1, 1, CLSEQ_PADDING_SAME, CLSEQ_RELU);
        if (s == CLSEQ_OK)
            s = clseq_add_batch_normalization(m, 0.9f, 0.001f);
        if (s == CLSEQ_OK)
            s = clseq_add_max_pooling2d(m, 2, 2, 0, 0, CLSEQ_PADDING_VALID);
        if (s == CLSEQ_OK)
            s = clseq_add_dropout(m, 0.25f);
        if (s == CLSEQ_OK)
            s = clseq_add_flatten(m);
        if (s == CLSEQ_OK)
            s = clseq_add_dense(m, CLASSES, CLSEQ_SOFTMAX);
    }
    if (s == CLSEQ_OK)
        s = clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                          CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY);
    if (s != CLSEQ_OK) {
        clseq_model_free(m);
        m = NULL;
    }
    *out = m;
    return s;
}

/* The fit under test: two epochs with validation data, EarlyStopping that
 * restores the best weights and a checkpoint after each epoch. */
static clseq_status full_fit(const scenario *sc, clseq_model *m)
{
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 2;
    o.batch_size = BATCH;
    o.val_x = sc->vx;
    o.val_y = sc->vy;
    o.val_n = VAL_ROWS;
    clseq_early_stopping es = clseq_early_stopping_defaults();
    es.patience = 3;
    es.restore_best_weights = 1;
    clseq_model_checkpoint ck = clseq_model_checkpoint_defaults(sc->checkpoint);
    o.early_stopping = &es;
    o.checkpoint = &ck;
    return clseq_fit(m, sc->x, sc->y, ROWS, &o, NULL);
}

/* One quiet epoch without callbacks; its loss into *loss. */
static clseq_status plain_fit(const scenario *sc, clseq_model *m, float *loss)
{
    clseq_fit_options o = test_quiet_fit_options();
    o.batch_size = BATCH;
    clseq_history *h = NULL;
    clseq_status s = clseq_fit(m, sc->x, sc->y, ROWS, &o, &h);
    if (s == CLSEQ_OK)
        *loss = clseq_history_values(h, "loss")[0];
    clseq_history_free(h);
    return s;
}

/* The model an operation starts from (none for build and load); a save
 * starts from one trained an epoch, whose weights are on the device only. */
static void prepare(const scenario *sc, op_kind op, clseq_model **m)
{
    *m = NULL;
    if (op == OP_BUILD || op == OP_LOAD)
        return;
    ck_assert_clseq_ok(build_model(sc, m));
    float loss;
    if (op == OP_SAVE)
        ck_assert_clseq_ok(plain_fit(sc, *m, &loss));
}

static clseq_status run_op(const scenario *sc, op_kind op, clseq_model **m, clseq_model **loaded)
{
    float loss, metrics[CLSEQ_METRIC_COUNT];
    static float out[(ROWS + VAL_ROWS) * CLASSES];
    switch (op) {
    case OP_BUILD: return build_model(sc, m);
    case OP_FIT: return full_fit(sc, *m);
    case OP_EVALUATE: return clseq_evaluate(*m, sc->x, sc->y, ROWS, &loss, metrics);
    case OP_PREDICT: return clseq_predict(*m, sc->x, ROWS, out);
    case OP_SAVE: return clseq_save(*m, sc->file);
    case OP_LOAD: return clseq_load(sc->ctx, sc->file, loaded);
    }
    return CLSEQ_E_ARG;
}

static void check_finite_variables(const clseq_model *m, const char *what)
{
    static float v[MAX_VARS];
    size_t n = test_read_variables(m, v, MAX_VARS);
    ck_assert_uint_gt(n, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(isfinite(v[i]), "%s: variable value %zu is %g", what, i, (double)v[i]);
}

/* evaluate, predict, fit and evaluate again work on m and give finite
 * numbers. */
static void check_usable(const scenario *sc, clseq_model *m, const char *what)
{
    float loss = NAN, fit_loss = NAN, metrics[CLSEQ_METRIC_COUNT];
    static float out[ROWS * CLASSES];
    ck_assert_clseq_ok(clseq_evaluate(m, sc->x, sc->y, ROWS, &loss, metrics));
    ck_assert_msg(isfinite(loss), "%s: evaluate gave loss %g", what, (double)loss);
    ck_assert_clseq_ok(clseq_predict(m, sc->x, ROWS, out));
    for (size_t i = 0; i < ROWS * CLASSES; i++)
        ck_assert_msg(isfinite(out[i]), "%s: prediction %zu is %g", what, i, (double)out[i]);
    ck_assert_clseq_ok(plain_fit(sc, m, &fit_loss));
    ck_assert_msg(isfinite(fit_loss), "%s: fit gave loss %g", what, (double)fit_loss);
    ck_assert_clseq_ok(clseq_evaluate(m, sc->x, sc->y, ROWS, &loss, metrics));
    ck_assert_msg(isfinite(loss), "%s: evaluate after fit gave loss %g", what, (double)loss);
}

/* A file that must be a whole model: it loads and predicts finite values. */
static void check_loads(const scenario *sc, const char *path, const char *what)
{
    clseq_model *m = NULL;
    clseq_status s = clseq_load(sc->ctx, path, &m);
    ck_assert_msg(s == CLSEQ_OK, "%s: %s does not load (%s): %s", what, path,
                  clseq_status_name(s), clseq_last_error());
    static float out[ROWS * CLASSES];
    ck_assert_clseq_ok(clseq_predict(m, sc->x, ROWS, out));
    for (size_t i = 0; i < ROWS * CLASSES; i++)
        ck_assert_msg(isfinite(out[i]), "%s: %s predicts %g", what, path, (double)out[i]);
    clseq_model_free(m);
}

/* Every checkpoint in the folder loads, then goes; no temporary is left
 * beside them. Returns how many there were. */
static int check_and_remove_checkpoints(const scenario *sc, const char *what)
{
    DIR *d = opendir(sc->dir);
    ck_assert_ptr_nonnull(d);
    char names[8][256];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        ck_assert_msg(!strstr(e->d_name, ".tmp."), "%s: temporary %s left in %s", what,
                      e->d_name, sc->dir);
        if (strncmp(e->d_name, "ckpt-", 5) == 0 && count < 8)
            snprintf(names[count++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    for (int i = 0; i < count; i++) {
        char path[PATH_CHARS];
        format(path, sizeof path, "%s/%s", sc->dir, names[i]);
        check_loads(sc, path, what);
        ck_assert_int_eq(unlink(path), 0);
    }
    return count;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Times the ledger was above its baseline right after the models were
 * freed and came back to it later. */
static int late_settles;

/* Whether sc's ledger is back at its baseline, now or (once the queue
 * is done and the driver has run its destructors, which PoCL may do on its
 * own thread after clReleaseMemObject returns) within 2 s. */
static int ledger_at_baseline(const scenario *sc)
{
    if (clseq_buffer_allocated(sc->dev) == sc->baseline)
        return 1;
    clFinish(sc->dev->queue);
    for (int i = 0; i < 2000; i++) {
        if (clseq_buffer_allocated(sc->dev) == sc->baseline) {
            late_settles++;
            return 1;
        }
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return 0;
}

/* Counts op's device operations, then fails each stride-th of them in
 * turn (and the last). Returns the number of faults injected. */
static int inject_each(scenario *sc, op_kind op, int max_points)
{
    char what[128];
    clseq_model *m = NULL, *loaded = NULL;
    /* the file save overwrites and load reads: a model of this kind */
    ck_assert_clseq_ok(build_model(sc, &m));
    ck_assert_clseq_ok(clseq_save(m, sc->file));
    clseq_model_free(m);

    prepare(sc, op, &m);
    clseq_fault_arm(sc->ctx, LLONG_MAX);
    clseq_status s = run_op(sc, op, &m, &loaded);
    long long count = clseq_fault_count(sc->dev);
    clseq_fault_arm(sc->ctx, 0);
    ck_assert_msg(s == CLSEQ_OK, "%s %s, counting: %s", kind_names[sc->kind], op_names[op],
                  clseq_last_error());
    ck_assert_int_gt(count, 0);
    clseq_model_free(m);
    clseq_model_free(loaded);
    check_and_remove_checkpoints(sc, "counting run");
    ck_assert(ledger_at_baseline(sc));

    long long stride = (count + max_points - 1) / max_points;
    int injected = 0;
    double start = now_s();
    for (long long k = 1; k <= count; k = k == count ? count + 1
                                         : k + stride > count ? count : k + stride) {
        snprintf(what, sizeof what, "%s %s, fault at operation %lld of %lld",
                 kind_names[sc->kind], op_names[op], k, count);
        prepare(sc, op, &m);
        loaded = NULL;
        clseq_fault_arm(sc->ctx, k);
        s = run_op(sc, op, &m, &loaded);
        long long reached = clseq_fault_count(sc->dev);
        clseq_fault_arm(sc->ctx, 0);
        injected++;
        ck_assert_msg(s != CLSEQ_OK, "%s: the call returned CLSEQ_OK (%lld operations ran)",
                      what, reached);
        ck_assert_msg(s == CLSEQ_E_NOMEM || s == CLSEQ_E_CL, "%s: %s: %s", what,
                      clseq_status_name(s), clseq_last_error());
        ck_assert_msg(strstr(clseq_last_error(), "injected fault") != NULL,
                      "%s: the message lost the fault: %s", what, clseq_last_error());
        if (op == OP_LOAD)
            ck_assert_msg(loaded == NULL, "%s: a failed load handed back a model", what);
        if (op == OP_BUILD)
            ck_assert_msg(m == NULL, "%s: a failed build handed back a model", what);
        if (m) {
            check_finite_variables(m, what);
            check_usable(sc, m, what);
            check_finite_variables(m, what);
        }
        check_and_remove_checkpoints(sc, what);
        check_loads(sc, sc->file, what);
        clseq_model_free(m);
        m = NULL;
        ck_assert_msg(ledger_at_baseline(sc), "%s: %llu bytes of device buffers left behind",
                      what, (unsigned long long)(clseq_buffer_allocated(sc->dev) - sc->baseline));
    }
    fprintf(stderr, "faults: %s %s (fused %d): %lld operations, %d faults injected, %.1f s\n",
            kind_names[sc->kind], op_names[op], sc->ctx->options.fused, count, injected,
            now_s() - start);
    return injected;
}

/* ---- the option --------------------------------------------------------- */

START_TEST(option_is_checked_and_fails_once)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    ck_assert_int_eq(o.fail_after, 0);
    o.fail_after = -1;
    clseq_ctx *bad = NULL;
    ck_assert_int_eq(clseq_ctx_create_with(&o, &bad), CLSEQ_E_ARG);
    ck_assert_ptr_null(bad);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "fail_after"));
    /* the third operation from the context's creation: building a model
     * makes more than three */
    o.fail_after = 3;
    clseq_ctx *ctx = test_ctx_with(&o);
    scenario sc;
    memset(&sc, 0, sizeof sc);
    sc.ctx = ctx;
    sc.kind = DENSE;
    sc.in_dim = 8;
    clseq_model *m = NULL;
    clseq_status s = build_model(&sc, &m);
    ck_assert_msg(s == CLSEQ_E_NOMEM || s == CLSEQ_E_CL, "%s", clseq_status_name(s));
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "injected fault"));
    ck_assert_ptr_null(m);
    ck_assert_int_eq(clseq_fault_count(clseq_ctx_main_device(ctx)), 3);
    /* once: the next build works */
    ck_assert_clseq_ok(build_model(&sc, &m));
    clseq_model_free(m);
    clseq_ctx_free(ctx);
}
END_TEST

/* ---- faults ------------------------------------------------------------- */

static void run_ops(model_kind kind, int fused, long long data_bytes, const op_kind *ops,
                    int count, int max_points)
{
    scenario sc;
    scenario_open(&sc, kind, fused, data_bytes);
    for (int i = 0; i < count; i++)
        inject_each(&sc, ops[i], max_points);
    scenario_close(&sc);
}

START_TEST(dense_fit_layer_path)
{
    const op_kind ops[] = {OP_FIT};
    run_ops(DENSE, 0, 0, ops, 1, 1000);
}
END_TEST

START_TEST(dense_fit_fused_path)
{
    const op_kind ops[] = {OP_FIT};
    run_ops(DENSE, 1, 0, ops, 1, 1000);
}
END_TEST

START_TEST(dense_other_calls)
{
    const op_kind ops[] = {OP_BUILD, OP_EVALUATE, OP_PREDICT, OP_SAVE, OP_LOAD};
    run_ops(DENSE, 0, 0, ops, 5, 1000);
}
END_TEST

/* rows that do not fit in data_bytes go to the device a block at a time */
START_TEST(dense_fit_streamed)
{
    const op_kind ops[] = {OP_FIT};
    run_ops(DENSE, 0, 1024, ops, 1, 1000);
}
END_TEST

START_TEST(cnn_fit)
{
    const op_kind ops[] = {OP_FIT};
    run_ops(CNN, 0, 0, ops, 1, 1000);
}
END_TEST

START_TEST(cnn_other_calls)
{
    const op_kind ops[] = {OP_BUILD, OP_EVALUATE, OP_PREDICT, OP_SAVE, OP_LOAD};
    run_ops(CNN, 0, 0, ops, 5, 1000);
}
END_TEST

/* ---- soak --------------------------------------------------------------- */

/* Cycles of build, fit, evaluate, save, load and predict, alternating the
 * two models, for at most 500 cycles or about 20 s: the ledger is back at
 * its baseline after each (a leak of one buffer a cycle would show at
 * once), and every result stays finite. */
START_TEST(soak_keeps_the_ledger_flat)
{
    scenario dense, cnn;
    scenario_open(&dense, DENSE, -1, 0);
    scenario_open(&cnn, CNN, -1, 0);
    double start = now_s();
    int cycles = 0;
    for (; cycles < 500 && now_s() - start < 20.0; cycles++) {
        scenario *sc = cycles % 4 == 3 ? &cnn : &dense;
        clseq_model *m = NULL, *loaded = NULL;
        float loss = NAN, metrics[CLSEQ_METRIC_COUNT];
        static float out[ROWS * CLASSES];
        ck_assert_clseq_ok(build_model(sc, &m));
        ck_assert_clseq_ok(plain_fit(sc, m, &loss));
        ck_assert(isfinite(loss));
        ck_assert_clseq_ok(clseq_evaluate(m, sc->vx, sc->vy, VAL_ROWS, &loss, metrics));
        ck_assert(isfinite(loss));
        ck_assert_clseq_ok(clseq_save(m, sc->file));
        clseq_model_free(m);
        ck_assert_clseq_ok(clseq_load(sc->ctx, sc->file, &loaded));
        ck_assert_clseq_ok(clseq_predict(loaded, sc->x, ROWS, out));
        ck_assert(isfinite(out[0]) && isfinite(out[ROWS * CLASSES - 1]));
        clseq_model_free(loaded);
        ck_assert_msg(ledger_at_baseline(sc), "cycle %d: the ledger holds %llu bytes, %llu at "
                      "the start", cycles, (unsigned long long)clseq_buffer_allocated(sc->dev),
                      (unsigned long long)sc->baseline);
    }
    fprintf(stderr, "soak: %d cycles in %.1f s; the ledger came back late %d times\n", cycles,
            now_s() - start, late_settles);
    ck_assert_int_ge(cycles, 20);
    scenario_close(&dense);
    scenario_close(&cnn);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, option_is_checked_and_fails_once);
    tcase_add_test(tc, dense_fit_layer_path);
    tcase_add_test(tc, dense_fit_fused_path);
    tcase_add_test(tc, dense_other_calls);
    tcase_add_test(tc, dense_fit_streamed);
    tcase_add_test(tc, cnn_fit);
    tcase_add_test(tc, cnn_other_calls);
    tcase_add_test(tc, soak_keeps_the_ledger_flat);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(faults_suite());
}
