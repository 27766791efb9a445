/* clseq against real Keras 3: fixtures made by tests/keras/make_fixtures.py
 * (Keras on JAX, CPU; versions in tests/keras/requirements.txt) and
 * committed under tests/fixtures/keras/, one text file per model.
 *
 * For each fixture the test builds the model from its clseq spec
 * (clseq_model_create_shaped + clseq_add_layers), checks that the layers
 * and every variable's name and shape are Keras's, sets every variable to
 * Keras's values, and compares clseq_predict with model.predict; then, for
 * SGD(0.1) and Adam(0.01, epsilon 1e-3) each from the same start, it
 * compiles with the fixture's loss, compares clseq_evaluate with
 * model.evaluate (first optimizer only: evaluate does not depend on it),
 * runs one clseq_fit step over the whole batch and compares the loss fit
 * reports and every variable after the step (BatchNormalization's moving
 * statistics included) with Keras's. The optimizer fixtures (optimizers,
 * clipping) list their own optimizers instead (@optimizers: AdamW,
 * Adagrad, Adadelta, Adamax, Nadam, Lion, at Keras's defaults and not;
 * clipnorm, clipvalue, global_clipnorm, weight decay), each trained for a
 * few epochs of several batches (fit), and compare the last epoch's loss
 * and the variables at the end of that trajectory. Every fixture runs on both training
 * paths (the layer path and, where the model allows it, the fused kernel).
 * Models with a real Dropout rate have no step to compare: Keras's masks
 * are random draws clseq cannot repeat, so they check predict and evaluate.
 *
 * File format (the script's docstring is the full description): records
 *   # comment
 *   @NAME TEXT          (text: spec, loss, train)
 *   NAME COUNT          then COUNT whitespace-separated values
 * with names input_shape, rows, layers, x, y, predict, evaluate,
 * shape/L/I/VAR, init/L/I/VAR, OPT/config, OPT/loss, OPT/after/L/I/VAR,
 * and R.err for each value R Keras computed; optimizer fixtures add
 * @optimizers (KEY:KIND words), fit (batch size, epochs) and OPT/options
 * (weight_decay clipnorm clipvalue global_clipnorm, 0 for None).
 *
 * Tolerances. R.err is the largest |float32 - float64| difference between
 * Keras's float32 run and a float64 run of the same model on the same
 * (float32-exact) weights and data: the rounding error that one valid
 * float32 evaluation of exactly this computation made, conditioning
 * included (a BatchNormalization of a small variance, a softmax, Adam's
 * division by sqrt(v) + epsilon all show in it). clseq evaluates the same
 * expressions in float32 with other summation orders (tree reductions,
 * im2col GEMM, fused loss gradients), so its own error is of the same size;
 * |clseq - keras| <= |clseq - exact| + |keras - exact| is then about 2 err,
 * and ERR_FACTOR 4 leaves a factor 2 for clseq's orders being less lucky
 * than Keras's. Keras may also round a tensor unusually well (err can be 0
 * when no value needed rounding), and OpenCL's built-ins are allowed more
 * error than XLA's (exp, log 3 ulp, tanh 5 ulp, erf 16 ulp in the OpenCL
 * 1.2 full profile), so a floor of FLOOR_ULP float32 ulp of the tensor's
 * largest value is added: 32 ulp covers erf's 16 ulp through gelu's
 * multiply and a few O(1) terms summed after it. The tolerance applies to
 * the whole tensor, like the error of a sum, which scales with the sum of
 * its terms' magnitudes rather than with the (possibly small) result.
 *
 * The checks can fail: a 1% change of one weight (the first layer's
 * largest kernel entry) must put predict outside the tolerance for every
 * fixture, which also shows how far the tolerances are from the errors a
 * real mistake makes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras_records.h"
#include "testutil.h"

/* The fixtures (tests/fixtures/keras/NAME.txt), one per model the script's
 * MODELS lists. */
static const char *const fixtures[] = {
    "act_linear", "act_relu", "act_sigmoid", "act_tanh", "act_softmax", "act_leaky_relu",
    "act_elu", "act_selu", "act_gelu", "act_softplus", "act_softsign", "act_silu",
    "act_hard_sigmoid", "act_exponential", "act_relu6", "act_log_softmax", "dense_rank2",
    "reshape", "cnn_strides", "cnn_dilation", "avgpool_same", "pool_same_strides",
    "globalavgpool", "globalmaxpool_nobias", "spec_defaults", "dense_batchnorm",
    "dense_linear_batchnorm", "dropout_predict", "optimizers", "clipping",
};
enum { FIXTURES = sizeof fixtures / sizeof fixtures[0] };

/* ---- comparing --------------------------------------------------------- */

/* The worst |got - ref| / tolerance over one comparison, with where. */
typedef struct worst {
    double ratio;
    char what[160];
} worst;

/* Compares got[0..n) with the record name (keras_compare: name.err; see
 * the header for the tolerance); returns the largest |difference| /
 * tolerance, its index into *where (may be NULL), and keeps the fixture's
 * worst in *w (may be NULL). */
static double compare(const keras_fixture *f, const char *name, const float *got, size_t n,
                      const char *path, size_t *where, worst *w)
{
    keras_diff d = keras_compare(f, name, got, n, path);
    if (where)
        *where = d.at;
    if (w && d.ratio > w->ratio) {
        w->ratio = d.ratio;
        snprintf(w->what, sizeof w->what, "%s[%zu] (%s): clseq %.9g, Keras %.9g, tolerance %.3g",
                 name, d.at, path, (double)got[d.at], keras_need(f, name, n)->v[d.at], d.tol);
    }
    return d.ratio;
}

static void check(const keras_fixture *f, const char *name, const float *got, size_t n,
                  const char *path, worst *w)
{
    size_t at;
    double ratio = compare(f, name, got, n, path, &at, w);
    ck_assert_msg(ratio <= 1.0, "%s, %s: %s[%zu] is %.9g, Keras gives %.9g: %.3g times the "
                  "tolerance", f->name, path, name, at, (double)got[at],
                  keras_need(f, name, n)->v[at], ratio);
}

/* ---- building and running ---------------------------------------------- */

static clseq_model *build(const keras_fixture *f, clseq_ctx *ctx)
{
    const keras_record *shape = keras_need(f, "input_shape", 0);
    int dims[CLSEQ_MAX_RANK], rank = (int)shape->count;
    ck_assert(rank >= 1 && rank <= CLSEQ_MAX_RANK);
    for (int i = 0; i < rank; i++)
        dims[i] = (int)shape->v[i];
    clseq_model *m;
    ck_assert_clseq_ok(clseq_model_create_shaped(ctx, rank, dims, &m));
    const char *spec = keras_need_text(f, "@spec");
    clseq_status s = clseq_add_layers(m, spec);
    ck_assert_msg(s == CLSEQ_OK, "%s: clseq_add_layers(\"%s\"): %s", f->name, spec,
                  clseq_last_error());
    ck_assert_msg(clseq_layer_count(m) == (int)keras_need(f, "layers", 1)->v[0],
                  "%s: %d layers, Keras has %g", f->name, clseq_layer_count(m),
                  keras_need(f, "layers", 1)->v[0]);
    return m;
}

/* Sets every variable to the fixture's init/ values after checking its
 * name and shape against Keras's; the fixture has no variable clseq lacks. */
static void set_initial(const keras_fixture *f, clseq_model *m)
{
    int total = 0, in_file = 0;
    char key[96];
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int i = 0; i < clseq_variable_count(m, l); i++, total++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(m, l, i, &info));
            snprintf(key, sizeof key, "shape/%d/%d/%s", l, i, info.name);
            const keras_record *shape = keras_find(f, key);
            ck_assert_msg(shape != NULL, "%s: clseq's layer %d variable %d '%s' is not Keras's",
                          f->name, l, i, info.name);
            ck_assert_msg(shape->count == (size_t)info.rank, "%s: %s: rank %d, Keras's %zu",
                          f->name, key, info.rank, shape->count);
            for (int d = 0; d < info.rank; d++)
                ck_assert_msg(info.shape[d] == (int)shape->v[d],
                              "%s: %s: dimension %d is %d, Keras's %g", f->name, key, d,
                              info.shape[d], shape->v[d]);
            snprintf(key, sizeof key, "init/%d/%d/%s", l, i, info.name);
            float *v = keras_floats(keras_need(f, key, info.count));
            ck_assert_clseq_ok(clseq_set_variable(m, l, i, v));
            free(v);
        }
    for (int i = 0; i < f->count; i++)
        in_file += strncmp(f->r[i].name, "init/", 5) == 0;
    ck_assert_msg(in_file == total, "%s: Keras has %d variables, clseq %d", f->name, in_file,
                  total);
}

/* Trajectory key's optimizer of kind (clseq's name): KEY/config holds
 * the arguments of clseq's constructor for the kind, KEY/options (if there)
 * weight_decay, clipnorm, clipvalue and global_clipnorm. */
static clseq_optimizer optimizer(const keras_fixture *f, const char *key, const char *kind)
{
    static const size_t config_count[] = {
        [CLSEQ_OPT_SGD] = 3,     [CLSEQ_OPT_ADAM] = 4,   [CLSEQ_OPT_RMSPROP] = 3,
        [CLSEQ_OPT_ADAMW] = 5,   [CLSEQ_OPT_ADAGRAD] = 3, [CLSEQ_OPT_ADADELTA] = 3,
        [CLSEQ_OPT_ADAMAX] = 4,  [CLSEQ_OPT_NADAM] = 4,  [CLSEQ_OPT_LION] = 3,
    };
    char name[120];
    clseq_optimizer o;
    ck_assert_clseq_ok(clseq_optimizer_from_name(kind, 0, &o));
    snprintf(name, sizeof name, "%s/config", key);
    const double *c = keras_need(f, name, config_count[o.kind])->v;
    float v[5];
    for (size_t i = 0; i < config_count[o.kind]; i++)
        v[i] = (float)c[i];
    switch (o.kind) {
    case CLSEQ_OPT_SGD: o = clseq_sgd(v[0], v[1], v[2] != 0); break;
    case CLSEQ_OPT_ADAM: o = clseq_adam(v[0], v[1], v[2], v[3]); break;
    case CLSEQ_OPT_RMSPROP: o = clseq_rmsprop(v[0], v[1], v[2]); break;
    case CLSEQ_OPT_ADAMW: o = clseq_adamw(v[0], v[1], v[2], v[3], v[4]); break;
    case CLSEQ_OPT_ADAGRAD: o = clseq_adagrad(v[0], v[1], v[2]); break;
    case CLSEQ_OPT_ADADELTA: o = clseq_adadelta(v[0], v[1], v[2]); break;
    case CLSEQ_OPT_ADAMAX: o = clseq_adamax(v[0], v[1], v[2], v[3]); break;
    case CLSEQ_OPT_NADAM: o = clseq_nadam(v[0], v[1], v[2], v[3]); break;
    case CLSEQ_OPT_LION: o = clseq_lion(v[0], v[1], v[2]); break;
    }
    snprintf(name, sizeof name, "%s/options", key);
    if (keras_find(f, name)) {
        const double *opt = keras_need(f, name, 4)->v;
        if (opt[0] != 0)
            o.weight_decay = (float)opt[0];
        o.clipnorm = (float)opt[1];
        o.clipvalue = (float)opt[2];
        o.global_clipnorm = (float)opt[3];
    }
    return o;
}

enum { MAX_TRAJECTORIES = 16 };

/* The fixture's trajectories: @optimizers' KEY:KIND words, or SGD and
 * Adam. Returns their count; keys and kinds point into store. */
static int trajectories(const keras_fixture *f, char store[][2][40], const char **keys,
                        const char **kinds)
{
    const keras_record *r = keras_find(f, "@optimizers");
    const char *text = r && r->text ? r->text : "sgd:sgd adam:adam";
    return keras_key_kinds(f, "@optimizers", text, MAX_TRAJECTORIES, store, keys, kinds);
}

static const char *path_name(int fused)
{
    return fused ? "fused option 1" : "layer path";
}

/* Runs fixture f on ctx (fused: which option ctx has, for messages);
 * the worst comparison goes to w. */
static void run_fixture(const keras_fixture *f, clseq_ctx *ctx, int fused, worst *w)
{
    const char *path = path_name(fused);
    char what[160], key[160];
    clseq_model *m = build(f, ctx);
    set_initial(f, m);
    size_t rows = keras_need_size(f, "rows");
    size_t in = (size_t)clseq_model_input_dim(m), out = (size_t)clseq_model_output_dim(m);
    float *x = keras_floats(keras_need(f, "x", rows * in));
    float *p = malloc(rows * out * sizeof *p);
    ck_assert(p != NULL);
    ck_assert_clseq_ok(clseq_predict(m, x, rows, p));
    check(f, "predict", p, rows * out, path, w);

    clseq_loss loss;
    ck_assert_clseq_ok(clseq_loss_from_name(keras_need_text(f, "@loss"), &loss));
    size_t y_width = loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : out;
    float *y = keras_floats(keras_need(f, "y", rows * y_width));
    int train = strcmp(keras_need_text(f, "@train"), "yes") == 0;
    char store[MAX_TRAJECTORIES][2][40];
    const char *opts[MAX_TRAJECTORIES], *kinds[MAX_TRAJECTORIES];
    int count = trajectories(f, store, opts, kinds);
    int batch = (int)rows, epochs = 1;
    if (keras_find(f, "fit")) {
        batch = (int)keras_need(f, "fit", 2)->v[0];
        epochs = (int)keras_need(f, "fit", 2)->v[1];
    }
    for (int o = 0; o < (train ? count : 1); o++) {
        clseq_optimizer opt = train ? optimizer(f, opts[o], kinds[o]) : clseq_sgd(0.01f, 0, 0);
        set_initial(f, m); /* the same start for each optimizer */
        ck_assert_clseq_ok(clseq_compile(m, opt, loss, 0));
        if (o == 0) {
            float ev;
            ck_assert_clseq_ok(clseq_evaluate(m, x, y, rows, &ev, NULL));
            check(f, "evaluate", &ev, 1, path, w);
        }
        if (!train)
            break;
        clseq_fit_options fo = clseq_fit_defaults();
        fo.epochs = epochs;
        fo.batch_size = batch;
        fo.shuffle = 0;
        fo.verbose = 0;
        clseq_history *h;
        ck_assert_clseq_ok(clseq_fit(m, x, y, rows, &fo, &h));
        snprintf(what, sizeof what, "%s, %s", path, opts[o]);
        snprintf(key, sizeof key, "%s/loss", opts[o]);
        check(f, key, clseq_history_values(h, "loss") + epochs - 1, 1, what, w);
        clseq_history_free(h);
        for (int l = 0; l < clseq_layer_count(m); l++)
            for (int i = 0; i < clseq_variable_count(m, l); i++) {
                clseq_variable_info info;
                float *v = test_get_variable(m, l, i, &info);
                snprintf(key, sizeof key, "%s/after/%d/%d/%s", opts[o], l, i, info.name);
                check(f, key, v, info.count, what, w);
                free(v);
            }
    }
    free(x);
    free(y);
    free(p);
    clseq_model_free(m);
}

/* One context per training path, made once. */
static clseq_ctx *path_ctx(int fused)
{
    static clseq_ctx *ctx[2];
    if (!ctx[fused])
        ctx[fused] = test_ctx_with_fused(fused);
    return ctx[fused];
}

START_TEST(matches_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", fixtures[_i]);
    worst w[2] = {{0, ""}, {0, ""}};
    for (int fused = 0; fused < 2; fused++)
        run_fixture(&f, path_ctx(fused), fused, &w[fused]);
    const worst *ww = w[1].ratio > w[0].ratio ? &w[1] : &w[0];
    printf("keras %-23s worst %.3f of tolerance: %s\n", f.name, ww->ratio, ww->what);
    keras_fixture_free(&f);
}
END_TEST

/* A 1% change of the first layer's largest kernel entry must take predict
 * outside the tolerance: the comparison can fail. */
START_TEST(one_percent_weight_change_is_caught)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras", fixtures[_i]);
    clseq_model *m = build(&f, path_ctx(0));
    set_initial(&f, m);
    clseq_variable_info info;
    size_t at;
    keras_scale_largest_weight(m, 1.01f, &info, &at);
    size_t rows = keras_need_size(&f, "rows");
    size_t out = (size_t)clseq_model_output_dim(m);
    float *x = keras_floats(keras_need(&f, "x", rows * (size_t)clseq_model_input_dim(m)));
    float *p = malloc(rows * out * sizeof *p);
    ck_assert(p != NULL);
    ck_assert_clseq_ok(clseq_predict(m, x, rows, p));
    double ratio = compare(&f, "predict", p, rows * out, "layer path", NULL, NULL);
    ck_assert_msg(ratio > 1.0, "%s: predict with %s[%zu] 1%% larger is still within tolerance "
                  "(%.3g of it)", f.name, info.name, at, ratio);
    printf("keras %-23s 1%% weight change: %.3g times the tolerance\n", f.name, ratio);
    free(x);
    free(p);
    clseq_model_free(m);
    keras_fixture_free(&f);
}
END_TEST

static Suite *keras_suite(void)
{
    Suite *s = suite_create("keras");
    TCase *tc = tcase_create("keras");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, matches_keras, 0, FIXTURES);
    tcase_add_loop_test(tc, one_percent_weight_change_is_caught, 0, FIXTURES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(keras_suite());
}
