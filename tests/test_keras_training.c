/* clseq's training features against real Keras 3: learning-rate schedules,
 * sample_weight and class_weight, the confusion-count and top-k metrics,
 * EarlyStopping and ReduceLROnPlateau. The fixtures,
 * tests/fixtures/keras/train_{schedules,weights,metrics,callbacks}.txt,
 * come from tests/keras/make_fixtures.py (main_training; the records are
 * described there), in test_keras.c's record format, read with
 * keras_records.c.
 *
 *   schedules  ExponentialDecay (staircase and not), PiecewiseConstantDecay,
 *              CosineDecay (alpha; warm-up): clseq_lr_schedule_value at
 *              steps 0..60, then an SGD fit of 24 steps (6 epochs of 4
 *              batches, shuffle off) with each schedule through
 *              clseq_set_lr_schedule: the loss history and the variables.
 *   weights    a softmax classifier fitted 3 epochs with sample_weight (one
 *              weight 0), then with class_weight (2 entries for 3 classes):
 *              the loss, mse and mae histories (Keras's metrics=, which it
 *              does not weight)
 *              and the variables; clseq_evaluate_weighted against
 *              model.evaluate with sample_weight.
 *   metrics    model.evaluate's binary_accuracy, precision, recall (at
 *              threshold 0.7 and 0.5, with and without sample_weight),
 *              AUC (ROC, 200 thresholds), top_k_categorical_accuracy (k 2
 *              and 1) and sparse_top_k_categorical_accuracy (k 2).
 *   callbacks  EarlyStopping on the loss (patience 2, min_delta,
 *              restore_best_weights): the epochs run, the histories and the
 *              restored weights; ReduceLROnPlateau (factor, patience,
 *              min_delta, cooldown, min_lr): the learning rate of every
 *              epoch, the loss history and the variables.
 *
 * Tolerances, as test_keras.c's (see there): R.err is |float32 - float64|
 * of Keras's float32 run against a float64 run from the same float32-exact
 * weights and data, the rounding error of one valid float32 evaluation;
 * clseq's own is of that size, so |clseq - Keras| <= about 2 err, and
 * ERR_FACTOR 4 leaves a factor 2 for clseq's summation orders; FLOOR_ULP
 * 32 float32 ulp of the tensor's largest value covers a tensor Keras
 * happened to round exactly and OpenCL's looser exp/log/tanh (3 to 5 ulp).
 * A tensor's tolerance covers it whole (a loss history, a kernel), as an
 * error of sums scales with the terms; the schedules' values are compared
 * one by one (their .err has one value each), since a schedule is an
 * elementwise formula whose small late values would otherwise pass
 * unchecked. The metrics are ratios of counts: the script keeps every
 * prediction more than 1e-4 from each threshold (and the 2nd and 3rd
 * class apart), so they agree up to the rounding of the ratio, which the
 * same tolerance covers. The callbacks' decisions are kept by the script
 * more than 2e-4 from flipping (losses ~0.2 with tolerances ~1e-6), so the
 * epoch counts and learning rates must agree exactly, the rates up to
 * float32 rounding of lr * factor (the same formula).
 *
 * Each comparison can fail: a wrong setting (the other staircase, a
 * boundary one step later, no schedule, no weights, the other threshold or
 * k, no restore, another factor) must put the result outside the
 * tolerance, which also shows how far the tolerances are from a real
 * mistake. The fits run on both training paths (the layer path and, where
 * the model allows it, the fused kernel). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras_records.h"
#include "testutil.h"

/* ---- comparing ----------------------------------------------------------- */

/* The largest |got - ref| / tolerance over got[0..n) against record name
 * (keras_compare: name.err holds one error for the tensor, or one per
 * value); its index into *where (may be NULL). */
static double compare(const keras_fixture *f, const char *name, const float *got, size_t n,
                      size_t *where)
{
    keras_diff d = keras_compare(f, name, got, n, NULL);
    if (where)
        *where = d.at;
    return d.ratio;
}

/* The worst ratio a suite's comparisons reached, printed at the end of
 * each test (the report of how close clseq is). */
static double worst_ratio;
static char worst_what[200];

static void check(const keras_fixture *f, const char *name, const float *got, size_t n,
                  const char *what)
{
    size_t at;
    double ratio = compare(f, name, got, n, &at);
    if (ratio > worst_ratio) {
        worst_ratio = ratio;
        snprintf(worst_what, sizeof worst_what, "%s %s[%zu] (%s): clseq %.9g, Keras %.9g",
                 f->name, name, at, what, (double)got[at], keras_need(f, name, n)->v[at]);
    }
    ck_assert_msg(ratio <= 1.0, "%s, %s: %s[%zu] is %.9g, Keras gives %.9g: %.3g times the "
                  "tolerance", f->name, what, name, at, (double)got[at],
                  keras_need(f, name, n)->v[at], ratio);
}

/* A comparison that must fail (a wrong setting): returns its ratio. */
static double check_misses(const keras_fixture *f, const char *name, const float *got, size_t n,
                           const char *wrong)
{
    double ratio = compare(f, name, got, n, NULL);
    ck_assert_msg(ratio > 1.0, "%s: %s with %s is still within tolerance (%.3g of it)", f->name,
                  name, wrong, ratio);
    printf("keras-training %-16s %s with %s: %.3g times the tolerance\n", f->name, name, wrong,
           ratio);
    return ratio;
}

static void report(const char *test)
{
    printf("keras-training %-16s worst %.3f of tolerance: %s\n", test, worst_ratio, worst_what);
    worst_ratio = 0;
    worst_what[0] = '\0';
}

/* ---- models -------------------------------------------------------------- */

/* The model of prefix's records (prefix "" or "binary/" ...: @PREFIXspec,
 * input_shape, PREFIXinit/L/I/VAR) with its initial variables. */
static clseq_model *build(const keras_fixture *f, clseq_ctx *ctx, const char *prefix)
{
    char key[120];
    const keras_record *shape = keras_need(f, "input_shape", 0);
    int dims[CLSEQ_MAX_RANK], rank = (int)shape->count;
    ck_assert(rank >= 1 && rank <= CLSEQ_MAX_RANK);
    for (int i = 0; i < rank; i++)
        dims[i] = (int)shape->v[i];
    clseq_model *m;
    ck_assert_clseq_ok(clseq_model_create_shaped(ctx, rank, dims, &m));
    snprintf(key, sizeof key, "@%sspec", prefix);
    const char *spec = keras_need_text(f, key);
    clseq_status s = clseq_add_layers(m, spec);
    ck_assert_msg(s == CLSEQ_OK, "%s: clseq_add_layers(\"%s\"): %s", f->name, spec,
                  clseq_last_error());
    return m;
}

static void set_initial(const keras_fixture *f, clseq_model *m, const char *prefix)
{
    char key[120];
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int i = 0; i < clseq_variable_count(m, l); i++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(m, l, i, &info));
            snprintf(key, sizeof key, "%sinit/%d/%d/%s", prefix, l, i, info.name);
            float *v = keras_floats(keras_need(f, key, info.count));
            ck_assert_clseq_ok(clseq_set_variable(m, l, i, v));
            free(v);
        }
}

/* Compares every variable with KEY/after/L/I/VAR; with must_miss, returns
 * the largest ratio instead (which a wrong setting must push above 1). */
static double check_variables(const keras_fixture *f, clseq_model *m, const char *key,
                              const char *what, int must_miss)
{
    char name[160];
    double most = 0;
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int i = 0; i < clseq_variable_count(m, l); i++) {
            clseq_variable_info info;
            float *v = test_get_variable(m, l, i, &info);
            snprintf(name, sizeof name, "%s/after/%d/%d/%s", key, l, i, info.name);
            if (must_miss)
                most = fmax(most, compare(f, name, v, info.count, NULL));
            else
                check(f, name, v, info.count, what);
            free(v);
        }
    if (must_miss) {
        ck_assert_msg(most > 1.0, "%s: %s's variables with %s are still within tolerance "
                      "(%.3g of it)", f->name, key, what, most);
        printf("keras-training %-16s %s's variables with %s: %.3g times the tolerance\n",
               f->name, key, what, most);
    }
    return most;
}

static clseq_ctx *path_ctx(int fused)
{
    static clseq_ctx *ctx[2];
    if (!ctx[fused])
        ctx[fused] = test_ctx_with_fused(fused);
    return ctx[fused];
}

static const char *path_name(int fused)
{
    return fused ? "fused option 1" : "layer path";
}

static clseq_fit_options fit_options(const keras_fixture *f)
{
    clseq_fit_options fo = test_quiet_fit_options();
    const double *fit = keras_need(f, "fit", 2)->v;
    fo.batch_size = (int)fit[0];
    fo.epochs = (int)fit[1];
    fo.shuffle = 0;
    return fo;
}

static clseq_optimizer sgd(const keras_fixture *f)
{
    const double *c = keras_need(f, "sgd/config", 3)->v;
    /* a schedule replaces the rate: any valid one then */
    return clseq_sgd(c[0] > 0 ? (float)c[0] : 0.01f, (float)c[1], c[2] != 0);
}

/* ---- schedules ----------------------------------------------------------- */

enum { MAX_SCHEDULES = 8 };

/* The @schedules words KEY:KIND into keys/kinds (storage in store). */
static int schedule_keys(const keras_fixture *f, char store[][2][40], const char **keys,
                         const char **kinds)
{
    return keras_key_kinds(f, "@schedules", keras_need_text(f, "@schedules"), MAX_SCHEDULES,
                           store, keys, kinds);
}

/* Schedule key of kind from KEY/config (see the script). */
static clseq_lr_schedule schedule(const keras_fixture *f, const char *key, const char *kind)
{
    char name[80];
    snprintf(name, sizeof name, "%s/config", key);
    const keras_record *r = keras_need(f, name, 0);
    const double *c = r->v;
    if (strcmp(kind, "exponential") == 0) {
        ck_assert(r->count == 4);
        return clseq_exponential_decay((float)c[0], (long long)c[1], (float)c[2], c[3] != 0);
    }
    if (strcmp(kind, "piecewise") == 0) {
        int count = (int)c[0];
        ck_assert(count >= 1 && count <= CLSEQ_SCHEDULE_MAX_BOUNDARIES &&
                  r->count == (size_t)(2 * count + 2));
        long long bounds[CLSEQ_SCHEDULE_MAX_BOUNDARIES];
        float values[CLSEQ_SCHEDULE_MAX_BOUNDARIES + 1];
        for (int i = 0; i < count; i++)
            bounds[i] = (long long)c[1 + i];
        for (int i = 0; i <= count; i++)
            values[i] = (float)c[1 + count + i];
        return clseq_piecewise_constant_decay(count, bounds, values);
    }
    ck_assert_msg(strcmp(kind, "cosine") == 0, "%s: unknown schedule kind '%s'", f->name, kind);
    ck_assert(r->count == 5);
    long long warmup = (long long)c[4];
    return clseq_cosine_decay((float)c[0], (long long)c[1], (float)c[2],
                              warmup > 0 ? (float)c[3] : NAN, warmup);
}

/* The wrong setting each kind must miss with: the other staircase, the
 * first boundary a step later, a decay one step longer. */
static clseq_lr_schedule mistaken(clseq_lr_schedule s, const char **what)
{
    switch (s.kind) {
    case CLSEQ_SCHEDULE_EXPONENTIAL:
        s.staircase = !s.staircase;
        *what = "the other staircase";
        break;
    case CLSEQ_SCHEDULE_PIECEWISE:
        s.boundaries[0]++;
        *what = "the first boundary a step later";
        break;
    default:
        s.decay_steps++;
        *what = "decay_steps + 1";
        break;
    }
    return s;
}

START_TEST(schedule_values_match_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", "train_schedules");
    char store[MAX_SCHEDULES][2][40], name[80];
    const char *keys[MAX_SCHEDULES], *kinds[MAX_SCHEDULES];
    int count = schedule_keys(&f, store, keys, kinds);
    for (int k = 0; k < count; k++) {
        snprintf(name, sizeof name, "%s/values", keys[k]);
        size_t steps = keras_need(&f, name, 0)->count;
        float *v = malloc(steps * sizeof *v);
        ck_assert(v != NULL);
        clseq_lr_schedule s = schedule(&f, keys[k], kinds[k]);
        for (size_t t = 0; t < steps; t++)
            ck_assert_clseq_ok(clseq_lr_schedule_value(&s, (long long)t, &v[t]));
        check(&f, name, v, steps, keys[k]);
        const char *wrong;
        clseq_lr_schedule w = mistaken(s, &wrong);
        for (size_t t = 0; t < steps; t++)
            ck_assert_clseq_ok(clseq_lr_schedule_value(&w, (long long)t, &v[t]));
        check_misses(&f, name, v, steps, wrong);
        free(v);
    }
    report("schedule values");
    keras_fixture_free(&f);
}
END_TEST

/* Fits the schedule fixture's model with schedule s (NULL: the fixed rate
 * of the schedule's step 0) on ctx; the loss history into loss (epochs). */
static clseq_model *fit_with_schedule(const keras_fixture *f, clseq_ctx *ctx,
                                      const clseq_lr_schedule *s, float *loss)
{
    clseq_model *m = build(f, ctx, "");
    set_initial(f, m, "");
    clseq_loss kind;
    ck_assert_clseq_ok(clseq_loss_from_name(keras_need_text(f, "@loss"), &kind));
    clseq_optimizer opt = sgd(f);
    ck_assert_clseq_ok(clseq_lr_schedule_value(s, 0, &opt.learning_rate));
    ck_assert_clseq_ok(clseq_compile(m, opt, kind, 0));
    if (loss)
        ck_assert_clseq_ok(clseq_set_lr_schedule(m, s));
    size_t rows = keras_need_size(f, "rows");
    float *x = keras_floats(keras_need(f, "x", rows * (size_t)clseq_model_input_dim(m)));
    float *y = keras_floats(keras_need(f, "y", rows * (size_t)clseq_model_output_dim(m)));
    clseq_fit_options fo = fit_options(f);
    clseq_history *h;
    ck_assert_clseq_ok(clseq_fit(m, x, y, rows, &fo, &h));
    ck_assert_int_eq(clseq_history_epochs(h), fo.epochs);
    if (loss)
        memcpy(loss, clseq_history_values(h, "loss"), (size_t)fo.epochs * sizeof *loss);
    clseq_history_free(h);
    free(x);
    free(y);
    return m;
}

START_TEST(schedule_training_matches_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", "train_schedules");
    char store[MAX_SCHEDULES][2][40], name[80], what[120];
    const char *keys[MAX_SCHEDULES], *kinds[MAX_SCHEDULES];
    int count = schedule_keys(&f, store, keys, kinds);
    int epochs = (int)keras_need(&f, "fit", 2)->v[1];
    float loss[64];
    ck_assert(epochs >= 1 && epochs <= 64);
    for (int k = 0; k < count; k++) {
        clseq_lr_schedule s = schedule(&f, keys[k], kinds[k]);
        for (int fused = 0; fused < 2; fused++) {
            snprintf(what, sizeof what, "%s, %s", keys[k], path_name(fused));
            clseq_model *m = fit_with_schedule(&f, path_ctx(fused), &s, loss);
            snprintf(name, sizeof name, "%s/loss", keys[k]);
            check(&f, name, loss, (size_t)epochs, what);
            check_variables(&f, m, keys[k], what, 0);
            clseq_model_free(m);
        }
        /* without the schedule (its first rate throughout) the weights miss */
        clseq_model *m = fit_with_schedule(&f, path_ctx(0), &s, NULL);
        check_variables(&f, m, keys[k], "a fixed rate", 1);
        clseq_model_free(m);
    }
    report("schedule fits");
    keras_fixture_free(&f);
}
END_TEST

/* ---- sample_weight and class_weight --------------------------------------- */

/* Fits the weights fixture's model with what ("sw": sample_weight, "cw":
 * class_weight, "none") on ctx; the loss, mse and mae histories into hist
 * (3 x epochs) if not NULL. */
static clseq_model *fit_weighted(const keras_fixture *f, clseq_ctx *ctx, const char *what,
                                 float *hist)
{
    clseq_model *m = build(f, ctx, "");
    set_initial(f, m, "");
    clseq_loss kind;
    ck_assert_clseq_ok(clseq_loss_from_name(keras_need_text(f, "@loss"), &kind));
    ck_assert_clseq_ok(clseq_compile(m, sgd(f), kind, CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE));
    size_t rows = keras_need_size(f, "rows");
    float *x = keras_floats(keras_need(f, "x", rows * (size_t)clseq_model_input_dim(m)));
    float *y = keras_floats(keras_need(f, "y", rows * (size_t)clseq_model_output_dim(m)));
    float *sw = keras_floats(keras_need(f, "sample_weight", rows));
    float *cw = keras_floats(keras_need(f, "class_weight", 0));
    clseq_fit_options fo = fit_options(f);
    if (strcmp(what, "sw") == 0)
        fo.sample_weight = sw;
    else if (strcmp(what, "cw") == 0) {
        fo.class_weight = cw;
        fo.class_weight_count = (int)keras_need(f, "class_weight", 0)->count;
    }
    clseq_history *h;
    ck_assert_clseq_ok(clseq_fit(m, x, y, rows, &fo, &h));
    ck_assert_int_eq(clseq_history_epochs(h), fo.epochs);
    static const char *const series[3] = {"loss", "mse", "mae"};
    for (int s = 0; hist && s < 3; s++) {
        const float *v = clseq_history_values(h, series[s]);
        ck_assert_msg(v != NULL, "no history series '%s'", series[s]);
        memcpy(hist + (size_t)s * (size_t)fo.epochs, v, (size_t)fo.epochs * sizeof *v);
    }
    clseq_history_free(h);
    free(x);
    free(y);
    free(sw);
    free(cw);
    return m;
}

START_TEST(sample_and_class_weights_match_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", "train_weights");
    int epochs = (int)keras_need(&f, "fit", 2)->v[1];
    ck_assert(epochs >= 1 && epochs <= 16);
    float hist[3 * 16];
    char name[80], what[80];
    static const char *const keys[2] = {"sw", "cw"};
    static const char *const series[3] = {"loss", "mse", "mae"};
    for (int k = 0; k < 2; k++) {
        for (int fused = 0; fused < 2; fused++) {
            snprintf(what, sizeof what, "%s, %s", keys[k], path_name(fused));
            clseq_model *m = fit_weighted(&f, path_ctx(fused), keys[k], hist);
            for (int s = 0; s < 3; s++) {
                snprintf(name, sizeof name, "%s/%s", keys[k], series[s]);
                check(&f, name, hist + s * epochs, (size_t)epochs, what);
            }
            check_variables(&f, m, keys[k], what, 0);
            clseq_model_free(m);
        }
        /* without the weights the trajectory misses */
        clseq_model *m = fit_weighted(&f, path_ctx(0), "none", NULL);
        check_variables(&f, m, keys[k], "no weights", 1);
        clseq_model_free(m);
    }
    report("weights fits");
    keras_fixture_free(&f);
}
END_TEST

START_TEST(weighted_evaluate_matches_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", "train_weights");
    clseq_model *m = build(&f, path_ctx(0), "");
    set_initial(&f, m, "");
    clseq_loss kind;
    ck_assert_clseq_ok(clseq_loss_from_name(keras_need_text(&f, "@loss"), &kind));
    ck_assert_clseq_ok(clseq_compile(m, sgd(&f), kind, CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE));
    size_t rows = keras_need_size(&f, "rows");
    float *x = keras_floats(keras_need(&f, "x", rows * (size_t)clseq_model_input_dim(m)));
    float *y = keras_floats(keras_need(&f, "y", rows * (size_t)clseq_model_output_dim(m)));
    float *sw = keras_floats(keras_need(&f, "sample_weight", rows));
    float got[1 + CLSEQ_METRIC_COUNT];
    ck_assert_clseq_ok(clseq_evaluate_weighted(m, x, y, sw, rows, &got[0], &got[1]));
    check(&f, "evaluate_weighted", got, 3, "clseq_evaluate_weighted");
    /* unweighted, it misses */
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, rows, &got[0], &got[1]));
    check_misses(&f, "evaluate_weighted", got, 3, "no sample_weight");
    report("weighted evaluate");
    free(x);
    free(y);
    free(sw);
    clseq_model_free(m);
    keras_fixture_free(&f);
}
END_TEST

/* ---- metrics --------------------------------------------------------------- */

/* model.evaluate's loss and metrics for model prefix ("binary", ...) with
 * metrics, threshold and k (0: default), weighted or not, into got. */
static void evaluate_metrics(const keras_fixture *f, const char *model, unsigned metrics,
                             float threshold, int k, int weighted, float *got)
{
    char prefix[40], key[80];
    snprintf(prefix, sizeof prefix, "%s/", model);
    clseq_model *m = build(f, path_ctx(0), prefix);
    set_initial(f, m, prefix);
    snprintf(key, sizeof key, "@%s/loss", model);
    clseq_loss kind;
    ck_assert_clseq_ok(clseq_loss_from_name(keras_need_text(f, key), &kind));
    clseq_metric_options mo = clseq_metric_defaults();
    if (threshold > 0)
        mo.threshold = threshold;
    if (k > 0)
        mo.k = k;
    ck_assert_clseq_ok(clseq_set_metric_options(m, &mo));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.1f, 0, 0), kind, metrics));
    size_t rows = keras_need_size(f, "rows");
    size_t y_width = kind == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY
                         ? 1 : (size_t)clseq_model_output_dim(m);
    snprintf(key, sizeof key, "%s/x", model);
    float *x = keras_floats(keras_need(f, key, rows * (size_t)clseq_model_input_dim(m)));
    snprintf(key, sizeof key, "%s/y", model);
    float *y = keras_floats(keras_need(f, key, rows * y_width));
    snprintf(key, sizeof key, "%s/sample_weight", model);
    float *sw = weighted ? keras_floats(keras_need(f, key, rows)) : NULL;
    ck_assert_clseq_ok(clseq_evaluate_weighted(m, x, y, sw, rows, &got[0], &got[1]));
    free(x);
    free(y);
    free(sw);
    clseq_model_free(m);
}

START_TEST(metrics_match_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", "train_metrics");
    const unsigned binary = CLSEQ_METRIC_BINARY_ACCURACY | CLSEQ_METRIC_PRECISION |
                            CLSEQ_METRIC_RECALL | CLSEQ_METRIC_AUC;
    float got[1 + CLSEQ_METRIC_COUNT];
    char name[80];
    static const float thresholds[2] = {0.7f, 0.5f};
    for (int t = 0; t < 2; t++)
        for (int weighted = 0; weighted < 2; weighted++) {
            snprintf(name, sizeof name, "binary/t%g%s/evaluate", (double)thresholds[t],
                     weighted ? "/weighted" : "");
            evaluate_metrics(&f, "binary", binary, thresholds[t], 0, weighted, got);
            check(&f, name, got, 5, weighted ? "sample_weight" : "unweighted");
            /* at the other threshold they miss */
            evaluate_metrics(&f, "binary", binary, thresholds[1 - t], 0, weighted, got);
            check_misses(&f, name, got, 5, t ? "threshold 0.7" : "threshold 0.5");
        }
    evaluate_metrics(&f, "categorical", CLSEQ_METRIC_TOP_K, 0, 2, 0, got);
    check(&f, "categorical/k2/evaluate", got, 2, "k 2");
    check_misses(&f, "categorical/k1/evaluate", got, 2, "k 2");
    evaluate_metrics(&f, "categorical", CLSEQ_METRIC_TOP_K, 0, 1, 0, got);
    check(&f, "categorical/k1/evaluate", got, 2, "k 1");
    check_misses(&f, "categorical/k2/evaluate", got, 2, "k 1");
    evaluate_metrics(&f, "sparse", CLSEQ_METRIC_SPARSE_TOP_K, 0, 2, 0, got);
    check(&f, "sparse/k2/evaluate", got, 2, "k 2");
    evaluate_metrics(&f, "sparse", CLSEQ_METRIC_SPARSE_TOP_K, 0, 1, 0, got);
    check_misses(&f, "sparse/k2/evaluate", got, 2, "k 1");
    report("metrics");
    keras_fixture_free(&f);
}
END_TEST

/* ---- callbacks ------------------------------------------------------------- */

typedef struct lr_log {
    clseq_model *m;
    float lr[64]; /* the rate after each epoch's callbacks */
} lr_log;

static int log_lr(int epoch, const clseq_history *h, void *user_data)
{
    (void)h;
    lr_log *log = user_data;
    if (epoch >= 0 && epoch < 64)
        clseq_get_learning_rate(log->m, &log->lr[epoch]);
    return 0;
}

/* Fits the callbacks fixture's model on ctx with es or rop (one NULL) for
 * epochs; the history into *h; the learning rate each epoch trained with
 * into lr (if not NULL). */
static clseq_model *fit_callbacks(const keras_fixture *f, clseq_ctx *ctx, int epochs,
                                  const clseq_early_stopping *es,
                                  const clseq_reduce_lr_on_plateau *rop, clseq_history **h,
                                  float *lr)
{
    clseq_model *m = build(f, ctx, "");
    set_initial(f, m, "");
    clseq_loss kind;
    ck_assert_clseq_ok(clseq_loss_from_name(keras_need_text(f, "@loss"), &kind));
    ck_assert_clseq_ok(clseq_compile(m, sgd(f), kind, 0));
    size_t rows = keras_need_size(f, "rows");
    size_t in = (size_t)clseq_model_input_dim(m), out = (size_t)clseq_model_output_dim(m);
    float *x = keras_floats(keras_need(f, "x", rows * in));
    float *y = keras_floats(keras_need(f, "y", rows * out));
    const keras_record *xv = keras_need(f, "x_val", 0);
    float *x_val = keras_floats(xv);
    float *y_val = keras_floats(keras_need(f, "y_val", xv->count / in * out));
    clseq_fit_options fo = fit_options(f);
    fo.epochs = epochs;
    fo.val_x = x_val;
    fo.val_y = y_val;
    fo.val_n = xv->count / in;
    fo.early_stopping = es;
    fo.reduce_lr_on_plateau = rop;
    lr_log log = {.m = m};
    fo.on_epoch_end = log_lr;
    fo.user_data = &log;
    float start;
    ck_assert_clseq_ok(clseq_get_learning_rate(m, &start));
    ck_assert_clseq_ok(clseq_fit(m, x, y, rows, &fo, h));
    ck_assert(epochs <= 64);
    /* Keras logs the rate an epoch trained with: the one after the
     * previous epoch's callbacks */
    for (int e = 0; lr && e < clseq_history_epochs(*h); e++)
        lr[e] = e == 0 ? start : log.lr[e - 1];
    free(x);
    free(y);
    free(x_val);
    free(y_val);
    return m;
}

static clseq_early_stopping early_stopping(const keras_fixture *f, int *epochs)
{
    const double *c = keras_need(f, "es/config", 4)->v;
    clseq_early_stopping es = clseq_early_stopping_defaults();
    es.monitor = keras_need_text(f, "@es/monitor");
    es.patience = (int)c[0];
    es.min_delta = (float)c[1];
    es.restore_best_weights = c[2] != 0;
    *epochs = (int)c[3];
    return es;
}

START_TEST(early_stopping_matches_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", "train_callbacks");
    int epochs, run = (int)keras_need(&f, "es/epochs_run", 1)->v[0];
    clseq_early_stopping es = early_stopping(&f, &epochs);
    char what[80];
    for (int fused = 0; fused < 2; fused++) {
        snprintf(what, sizeof what, "EarlyStopping, %s", path_name(fused));
        clseq_history *h;
        clseq_model *m = fit_callbacks(&f, path_ctx(fused), epochs, &es, NULL, &h, NULL);
        ck_assert_msg(clseq_history_epochs(h) == run, "%s: clseq stopped after %d epochs, "
                      "Keras after %d", what, clseq_history_epochs(h), run);
        check(&f, "es/loss", clseq_history_values(h, "loss"), (size_t)run, what);
        check(&f, "es/val_loss", clseq_history_values(h, "val_loss"), (size_t)run, what);
        check_variables(&f, m, "es", what, 0);
        clseq_history_free(h);
        clseq_model_free(m);
    }
    /* without restore_best_weights the last epoch's weights miss */
    clseq_early_stopping no_restore = es;
    no_restore.restore_best_weights = 0;
    clseq_history *h;
    clseq_model *m = fit_callbacks(&f, path_ctx(0), epochs, &no_restore, NULL, &h, NULL);
    check_variables(&f, m, "es", "restore_best_weights off", 1);
    clseq_history_free(h);
    clseq_model_free(m);
    /* patience one less stops earlier */
    clseq_early_stopping impatient = es;
    impatient.patience--;
    m = fit_callbacks(&f, path_ctx(0), epochs, &impatient, NULL, &h, NULL);
    ck_assert_int_lt(clseq_history_epochs(h), run);
    printf("keras-training %-16s patience %d stops after %d epochs, %d: after %d\n", f.name,
           es.patience, run, impatient.patience, clseq_history_epochs(h));
    clseq_history_free(h);
    clseq_model_free(m);
    report("early stopping");
    keras_fixture_free(&f);
}
END_TEST

START_TEST(reduce_lr_on_plateau_matches_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", "train_callbacks");
    const double *c = keras_need(&f, "rop/config", 6)->v;
    clseq_reduce_lr_on_plateau rop = clseq_reduce_lr_on_plateau_defaults();
    rop.monitor = keras_need_text(&f, "@rop/monitor");
    rop.factor = (float)c[0];
    rop.patience = (int)c[1];
    rop.min_delta = (float)c[2];
    rop.cooldown = (int)c[3];
    rop.min_lr = (float)c[4];
    int epochs = (int)c[5];
    ck_assert(epochs >= 1 && epochs <= 64);
    float lr[64];
    char what[80];
    for (int fused = 0; fused < 2; fused++) {
        snprintf(what, sizeof what, "ReduceLROnPlateau, %s", path_name(fused));
        clseq_history *h;
        clseq_model *m = fit_callbacks(&f, path_ctx(fused), epochs, NULL, &rop, &h, lr);
        ck_assert_int_eq(clseq_history_epochs(h), epochs);
        check(&f, "rop/learning_rate", lr, (size_t)epochs, what);
        check(&f, "rop/loss", clseq_history_values(h, "loss"), (size_t)epochs, what);
        check_variables(&f, m, "rop", what, 0);
        clseq_history_free(h);
        clseq_model_free(m);
    }
    /* another factor gives other rates */
    clseq_reduce_lr_on_plateau other = rop;
    other.factor = rop.factor * 0.8f;
    clseq_history *h;
    clseq_model *m = fit_callbacks(&f, path_ctx(0), epochs, NULL, &other, &h, lr);
    check_misses(&f, "rop/learning_rate", lr, (size_t)epochs, "factor x 0.8");
    clseq_history_free(h);
    clseq_model_free(m);
    report("reduce lr");
    keras_fixture_free(&f);
}
END_TEST

static Suite *keras_training_suite(void)
{
    Suite *s = suite_create("keras_training");
    TCase *tc = tcase_create("keras_training");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, schedule_values_match_keras);
    tcase_add_test(tc, schedule_training_matches_keras);
    tcase_add_test(tc, sample_and_class_weights_match_keras);
    tcase_add_test(tc, weighted_evaluate_matches_keras);
    tcase_add_test(tc, metrics_match_keras);
    tcase_add_test(tc, early_stopping_matches_keras);
    tcase_add_test(tc, reduce_lr_on_plateau_matches_keras);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(keras_training_suite());
}
