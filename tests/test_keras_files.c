/* Keras model files (.keras and legacy .h5) through clseq_load and
 * clseq_save, against real Keras 3: the files under
 * tests/fixtures/keras_files/ were written by Keras itself
 * (tests/keras/make_keras_files.py, whose docstring describes NAME.txt).
 *
 * For each model the test loads NAME.keras and NAME.h5 and checks that
 * every variable is the one Keras saved (exactly: loading copies float32
 * values), that predict matches model.predict, that compiled files come
 * back compiled with Keras's optimizer, loss and metrics, and that
 * training continued in clseq from the loaded optimizer state lands on
 * the weights Keras reached continuing from the same file (same batches,
 * shuffle off). clseq_save's .keras files must load back to the same model
 * bit for bit (tests/keras/roundtrip.sh checks that Keras reads them).
 * Files clseq cannot run must be refused with CLSEQ_E_FORMAT and a message
 * naming the layer, class or argument; damaged files (truncated, bytes
 * flipped, members renamed) must be refused or loaded without harm, and
 * without a word on stderr (HDF5 prints its error stack unless told not
 * to). Whether a compiled file should come back compiled is asked of
 * clseq_optimizer_from_name (does clseq have Keras's optimizer?), so the
 * fixtures need not change when clseq gains optimizers.
 *
 * Tolerances (as tests/test_keras.c, whose header has the argument in
 * full). R.err is the largest |float32 - float64| between Keras's float32
 * run and a float64 run of the same computation from the same float32
 * start: the rounding error one valid float32 evaluation order makes,
 * conditioning included (for the continuation: all its steps, Adam's and
 * RMSprop's divisions included). clseq sums in other orders, so
 * |clseq - Keras| <= |clseq - exact| + |Keras - exact| is about 2 err;
 * ERR_FACTOR 4 leaves a factor 2 for clseq's orders being less lucky. A
 * floor of FLOOR_ULP float32 ulp of the tensor's largest value covers
 * OpenCL's built-ins (exp, log 3 ulp, tanh 5 ulp, erf 16 ulp) where
 * Keras's rounding happened to be exact. The tolerance applies to the
 * whole tensor, like the error of a sum, which scales with the sum of
 * its terms' magnitudes rather than with the (possibly small) result.
 *
 * The checks can fail: a 1% change of one weight must put predict outside
 * the tolerance, and a continuation from a reset optimizer state (compiled
 * again) must miss Keras's continuation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keras_records.h"
#include "testutil.h"

/* The models the script's MODELS lists (each as NAME.keras and NAME.h5). */
static const char *const models[] = {
    "acts_dense", "acts_layers", "pools_reshape", "cnn", "adam_dense_bn",
    "sgd_cnn", "rmsprop_dense", "dense_nobias", "sgd_regularized", "uncompiled_ftrl",
};
enum { MODELS = sizeof models / sizeof models[0] };

/* ... those with a continuation (cont/ records). */
static const char *const continued[] = {"adam_dense_bn", "sgd_cnn", "rmsprop_dense",
                                        "sgd_regularized"};
enum { CONTINUED = sizeof continued / sizeof continued[0] };

static const char *const exts[] = {".keras", ".h5"};

/* The script's REFUSALS: NAME.txt's @expect lists the message's substrings;
 * the second field says whether an .h5 exists too. */
static const struct {
    const char *name;
    int has_h5;
} refusals[] = {
    {"refuse_functional", 1}, {"refuse_activity_regularizer", 0}, {"refuse_constraint", 0},
    {"refuse_channels_first", 1}, {"refuse_float64", 1}, {"refuse_mish", 0},
    {"refuse_layernorm", 0}, {"refuse_groups", 0},
};
enum { REFUSALS = sizeof refusals / sizeof refusals[0] };

/* Writes size bytes of data to path. */
static void spit(const char *path, const char *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "cannot write %s", path);
    ck_assert(fwrite(data, 1, size, fp) == size);
    ck_assert(fclose(fp) == 0);
}

/* ---- comparing ------------------------------------------------------------ */

/* Compares got[0..n) with record name (keras_compare: tolerance from
 * name.err, see the header); returns the largest |difference| /
 * tolerance, with its index in *at and the largest |difference| in
 * *max_diff (either may be NULL). */
static double compare(const keras_fixture *f, const char *name, const float *got, size_t n,
                      size_t *at, double *max_diff)
{
    keras_diff d = keras_compare(f, name, got, n, NULL);
    if (at)
        *at = d.at;
    if (max_diff)
        *max_diff = d.max_diff;
    return d.ratio;
}

static void check(const keras_fixture *f, const char *what, const char *name, const float *got,
                  size_t n, double *worst_ratio)
{
    size_t at;
    double ratio = compare(f, name, got, n, &at, NULL);
    ck_assert_msg(ratio <= 1.0, "%s (%s): %s[%zu] is %.9g, Keras gives %.9g: %.3g times the "
                  "tolerance", f->name, what, name, at, (double)got[at],
                  keras_need(f, name, n)->v[at], ratio);
    if (worst_ratio)
        *worst_ratio = fmax(*worst_ratio, ratio);
}

/* ---- loading --------------------------------------------------------------- */

static const char *fixture_file(const char *name, const char *ext)
{
    static char file[128];
    snprintf(file, sizeof file, "keras_files/%s%s", name, ext);
    return test_fixture_path(file);
}

static clseq_model *load_ok(const char *path)
{
    clseq_model *m = NULL;
    clseq_status s = clseq_load(test_ctx(), path, &m);
    ck_assert_msg(s == CLSEQ_OK, "clseq_load(%s): %s: %s", path, clseq_status_name(s),
                  clseq_last_error());
    ck_assert(m != NULL);
    return m;
}

/* One temporary folder for the whole run (removed at exit). */
static const char *work_dir(void)
{
    static char dir[4096];
    if (!dir[0]) {
        const char *d = test_temp_dir();
        ck_assert(d != NULL);
        snprintf(dir, sizeof dir, "%s", d);
    }
    return dir;
}

/* clseq_load with the process's stderr sent to a file, which must stay
 * empty: the library never prints, and HDF5, which prints a trace of every
 * failing call unless told not to, must have been told. */
static clseq_status load_quietly(const char *path, clseq_model **m)
{
    static char log[4200];
    if (!log[0]) {
        snprintf(log, sizeof log, "%s/stderr.log", work_dir());
        /* a crash inside clseq_load (a sanitizer's report) lands there too */
        printf("keras_files: clseq_load's stderr goes to %s while it runs\n", log);
        fflush(stdout);
    }
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert(saved >= 0 && fd >= 0 && dup2(fd, 2) == 2);
    close(fd);
    *m = NULL;
    clseq_status s = clseq_load(test_ctx(), path, m);
    fflush(stderr);
    ck_assert(dup2(saved, 2) == 2);
    close(saved);
    struct stat st;
    ck_assert(stat(log, &st) == 0);
    if (st.st_size > 0) {
        char *text = test_read_file(log, NULL);
        if (s == CLSEQ_OK)
            clseq_model_free(*m);
        ck_assert_msg(0, "clseq_load(%s) (%s) printed on stderr:\n%.600s", path,
                      clseq_status_name(s), text);
    }
    return s;
}

/* m's outputs for the fixture's x (malloc'd, rows x output_dim). */
static float *predict_x(const keras_fixture *f, clseq_model *m, size_t *n)
{
    size_t rows = keras_need_size(f, "rows");
    size_t in = (size_t)clseq_model_input_dim(m), out = (size_t)clseq_model_output_dim(m);
    float *x = keras_floats(keras_need(f, "x", rows * in));
    float *p = malloc(rows * out * sizeof *p);
    ck_assert(p != NULL);
    ck_assert_clseq_ok(clseq_predict(m, x, rows, p));
    free(x);
    *n = rows * out;
    return p;
}

/* Every variable of m against the fixture's var/ records (prefix "var/")
 * or cont/after/ records: exactly (tolerance 0) or by compare. */
static void check_variables(const keras_fixture *f, const clseq_model *m, const char *prefix,
                            int exact, const char *what, double *worst_ratio)
{
    char key[128];
    int total = 0, in_file = 0;
    ck_assert_msg(clseq_layer_count(m) == (int)keras_need_size(f, "layers"),
                  "%s (%s): %d layers, Keras has %zu", f->name, what, clseq_layer_count(m),
                  keras_need_size(f, "layers"));
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int i = 0; i < clseq_variable_count(m, l); i++, total++) {
            clseq_variable_info info;
            float *v = test_get_variable(m, l, i, &info);
            snprintf(key, sizeof key, "%s%d/%d/%s", prefix, l, i, info.name);
            const keras_record *r = keras_find(f, key);
            ck_assert_msg(r != NULL, "%s (%s): clseq's layer %d (%s) variable %d '%s' is not "
                          "Keras's", f->name, what, l, clseq_layer_class(m, l), i, info.name);
            ck_assert_msg(r->count == info.count, "%s (%s): %s: %zu values, Keras has %zu",
                          f->name, what, key, info.count, r->count);
            if (exact) {
                for (size_t k = 0; k < info.count; k++)
                    ck_assert_msg(v[k] == (float)r->v[k], "%s (%s): %s[%zu] is %.9g, the file "
                                  "holds %.9g", f->name, what, key, k, (double)v[k], r->v[k]);
            } else {
                check(f, what, key, v, info.count, worst_ratio);
            }
            free(v);
        }
    size_t len = strlen(prefix);
    for (int i = 0; i < f->count; i++)
        in_file += strncmp(f->r[i].name, prefix, len) == 0 &&
                   strcmp(f->r[i].name + strlen(f->r[i].name) - 4, ".err") != 0;
    ck_assert_msg(in_file == total, "%s (%s): Keras has %d variables, clseq %d", f->name, what,
                  in_file, total);
}

/* Every trainable variable's regularizer is the file's (reg/L/VAR: l1 l2),
 * or none. */
static void check_regularizers(const keras_fixture *f, const clseq_model *m, const char *what)
{
    char key[96];
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int i = 0; i < clseq_variable_count(m, l); i++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(m, l, i, &info));
            if (!info.trainable)
                continue;
            snprintf(key, sizeof key, "reg/%d/%s", l, info.name);
            const keras_record *r = keras_find(f, key);
            float want_l1 = r ? (float)keras_need(f, key, 2)->v[0] : 0, l1 = -1;
            float want_l2 = r ? (float)keras_need(f, key, 2)->v[1] : 0, l2 = -1;
            ck_assert_clseq_ok(clseq_get_regularizer(m, l, info.name, &l1, &l2));
            ck_assert_msg(l1 == want_l1 && l2 == want_l2, "%s (%s): layer %d %s: regularizer "
                          "l1 %g l2 %g, Keras's %g %g", f->name, what, l, info.name, (double)l1,
                          (double)l2, (double)want_l1, (double)want_l2);
        }
}

/* dense_nobias: clseq may lack Dense(use_bias=False); then the load must be
 * a refusal that names the argument. Returns 1 when it was refused so. */
static int refused_nobias(const keras_fixture *f, const char *path)
{
    if (strcmp(f->name, "dense_nobias") != 0)
        return 0;
    clseq_model *m = NULL;
    clseq_status s = clseq_load(test_ctx(), path, &m);
    if (s == CLSEQ_OK) {
        clseq_model_free(m);
        return 0;
    }
    ck_assert_msg(s == CLSEQ_E_FORMAT && strstr(clseq_last_error(), "use_bias"),
                  "%s: refused with %s: '%s' (expected CLSEQ_E_FORMAT naming use_bias)", path,
                  clseq_status_name(s), clseq_last_error());
    printf("keras_files %-20s refused: %s\n", f->name, clseq_last_error());
    return 1;
}

/* Model name's fixture into *f and its file NAME + ext loaded; NULL, with
 * f freed, where clseq refuses dense_nobias as refused_nobias allows (the
 * test has nothing more to check). */
static clseq_model *load_model(keras_fixture *f, const char *name, const char *ext)
{
    keras_fixture_load(f, "keras_files", name);
    const char *path = fixture_file(f->name, ext);
    if (refused_nobias(f, path)) {
        keras_fixture_free(f);
        return NULL;
    }
    return load_ok(path);
}

/* ---- the tests ----------------------------------------------------------- */

/* _i: model * 2 + (0 .keras, 1 .h5) */
START_TEST(loads_and_predicts)
{
    keras_fixture f;
    const char *ext = exts[_i % 2];
    clseq_model *m = load_model(&f, models[_i / 2], ext);
    if (!m)
        return;
    const keras_record *shape = keras_need(&f, "input_shape", 0);
    size_t in = 1;
    for (size_t d = 0; d < shape->count; d++)
        in *= (size_t)shape->v[d];
    ck_assert_msg((size_t)clseq_model_input_dim(m) == in, "%s%s: input size %d, Keras's %zu",
                  f.name, ext, clseq_model_input_dim(m), in);
    check_variables(&f, m, "var/", 1, ext, NULL);
    check_regularizers(&f, m, ext);
    size_t n;
    float *p = predict_x(&f, m, &n);
    double diff, ratio = compare(&f, "predict", p, n, NULL, &diff);
    check(&f, ext, "predict", p, n, NULL);
    printf("keras_files %-20s %-6s predict: largest |clseq - Keras| %.3g, %.3f of the "
           "tolerance\n", f.name, ext, diff, ratio);
    free(p);
    clseq_model_free(m);
    keras_fixture_free(&f);
}
END_TEST

/* The metric bits a comma-separated list of Keras names means. */
static unsigned metric_bits(const char *list)
{
    unsigned bits = 0;
    char name[32];
    while (*list) {
        size_t len = strcspn(list, ",");
        ck_assert(len < sizeof name);
        memcpy(name, list, len);
        name[len] = '\0';
        unsigned bit = 0;
        for (unsigned b = 1; b && !bit; b <<= 1)
            if (clseq_metric_name(b) && strcmp(clseq_metric_name(b), name) == 0)
                bit = b;
        ck_assert_msg(bit != 0, "no clseq metric named '%s'", name);
        bits |= bit;
        list += len + (list[len] == ',');
    }
    return bits;
}

START_TEST(compile_settings_are_keras)
{
    keras_fixture f;
    const char *ext = exts[_i % 2];
    clseq_model *m = load_model(&f, models[_i / 2], ext);
    if (!m)
        return;
    clseq_optimizer opt;
    clseq_loss loss;
    unsigned metrics;
    clseq_status s = clseq_model_compile_settings(m, &opt, &loss, &metrics);
    /* compiled when Keras compiled it with an optimizer clseq has */
    const keras_record *opt_name = keras_find(&f, "@optimizer");
    clseq_optimizer want;
    if (!opt_name || clseq_optimizer_from_name(opt_name->text, 0, &want) != CLSEQ_OK) {
        ck_assert_msg(s == CLSEQ_E_STATE, "%s%s: compiled with %s, which clseq lacks, yet it "
                      "came back compiled (%s)", f.name, ext,
                      opt_name ? opt_name->text : "nothing", clseq_status_name(s));
        clseq_model_free(m);
        keras_fixture_free(&f);
        return;
    }
    ck_assert_msg(s == CLSEQ_OK, "%s%s: not compiled: %s: %s", f.name, ext,
                  clseq_status_name(s), clseq_last_error());
    clseq_loss want_loss;
    ck_assert_clseq_ok(clseq_loss_from_name(keras_need_text(&f, "@loss"), &want_loss));
    ck_assert_msg(loss == want_loss, "%s%s: loss %s, Keras's %s", f.name, ext,
                  clseq_loss_name(loss), keras_need_text(&f, "@loss"));
    unsigned want_metrics = metric_bits(keras_need_text(&f, "@metrics"));
    ck_assert_msg(metrics == want_metrics, "%s%s: metrics 0x%x, Keras's '%s' (0x%x)", f.name, ext,
                  metrics, keras_need_text(&f, "@metrics"), want_metrics);
    const char *name = opt_name->text;
    ck_assert_msg(opt.kind == want.kind, "%s%s: optimizer kind %d, Keras's %s", f.name, ext,
                  (int)opt.kind, name);
    ck_assert_msg(opt.learning_rate == (float)keras_need(&f, "opt/lr", 1)->v[0],
                  "%s%s: learning rate %.9g, Keras's %.9g", f.name, ext,
                  (double)opt.learning_rate, keras_need(&f, "opt/lr", 1)->v[0]);
    /* each value is the float32 Keras kept (its config holds the float32
     * learning rate), so they compare exactly */
    if (strcmp(name, "adam") == 0) {
        const double *c = keras_need(&f, "opt/config", 4)->v;
        ck_assert_msg(opt.kind == CLSEQ_OPT_ADAM, "%s%s: optimizer kind %d", f.name, ext,
                      (int)opt.kind);
        ck_assert_msg(opt.learning_rate == (float)c[0] && opt.beta1 == (float)c[1] &&
                      opt.beta2 == (float)c[2] && opt.epsilon == (float)c[3],
                      "%s%s: Adam(%.9g, %.9g, %.9g, %.9g), Keras's (%.9g, %.9g, %.9g, %.9g)",
                      f.name, ext, (double)opt.learning_rate, (double)opt.beta1,
                      (double)opt.beta2, (double)opt.epsilon, c[0], c[1], c[2], c[3]);
    } else if (strcmp(name, "sgd") == 0) {
        const double *c = keras_need(&f, "opt/config", 3)->v;
        ck_assert_msg(opt.kind == CLSEQ_OPT_SGD, "%s%s: optimizer kind %d", f.name, ext,
                      (int)opt.kind);
        ck_assert_msg(opt.learning_rate == (float)c[0] && opt.momentum == (float)c[1] &&
                      opt.nesterov == (c[2] != 0),
                      "%s%s: SGD(%.9g, %.9g, %d), Keras's (%.9g, %.9g, %g)", f.name, ext,
                      (double)opt.learning_rate, (double)opt.momentum, opt.nesterov, c[0], c[1],
                      c[2]);
    } else if (strcmp(name, "rmsprop") == 0) {
        const double *c = keras_need(&f, "opt/config", 3)->v;
        ck_assert_msg(opt.kind == CLSEQ_OPT_RMSPROP, "%s%s: optimizer kind %d", f.name, ext,
                      (int)opt.kind);
        ck_assert_msg(opt.learning_rate == (float)c[0] && opt.rho == (float)c[1] &&
                      opt.epsilon == (float)c[2],
                      "%s%s: RMSprop(%.9g, %.9g, %.9g), Keras's (%.9g, %.9g, %.9g)", f.name, ext,
                      (double)opt.learning_rate, (double)opt.rho, (double)opt.epsilon, c[0], c[1],
                      c[2]);
    }
    clseq_model_free(m);
    keras_fixture_free(&f);
}
END_TEST

/* Continues training m on the fixture's cont/ batches; the history (may be
 * NULL) for the caller to free. */
static void continue_training(const keras_fixture *f, clseq_model *m, clseq_history **h)
{
    size_t rows = keras_need_size(f, "cont/rows");
    clseq_loss loss;
    ck_assert_clseq_ok(clseq_model_compile_settings(m, NULL, &loss, NULL));
    size_t y_width =
        loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : (size_t)clseq_model_output_dim(m);
    float *x = keras_floats(keras_need(f, "cont/x", rows * (size_t)clseq_model_input_dim(m)));
    float *y = keras_floats(keras_need(f, "cont/y", rows * y_width));
    clseq_fit_options fo = clseq_fit_defaults();
    fo.epochs = (int)keras_need_size(f, "cont/epochs");
    fo.batch_size = (int)keras_need_size(f, "cont/batch_size");
    fo.shuffle = 0;
    fo.verbose = 0;
    ck_assert_clseq_ok(clseq_fit(m, x, y, rows, &fo, h));
    free(x);
    free(y);
}

START_TEST(continues_training_like_keras)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras_files", continued[_i / 2]);
    const char *ext = exts[_i % 2];
    clseq_model *m = load_ok(fixture_file(f.name, ext));
    clseq_history *h;
    continue_training(&f, m, &h);
    double worst = 0;
    int epochs = (int)keras_need_size(&f, "cont/epochs");
    ck_assert_int_eq(clseq_history_epochs(h), epochs);
    check(&f, ext, "cont/loss", clseq_history_values(h, "loss"), (size_t)epochs, &worst);
    check_variables(&f, m, "cont/after/", 0, ext, &worst);
    printf("keras_files %-20s %-6s continued training: worst %.3f of the tolerance\n", f.name,
           ext, worst);
    clseq_history_free(h);
    clseq_model_free(m);
    keras_fixture_free(&f);
}
END_TEST

/* The continuation check sees the optimizer state: compiling the loaded
 * model again (fresh state, same settings and weights) must miss Keras. */
START_TEST(fresh_optimizer_state_is_caught)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras_files", continued[_i]);
    clseq_model *m = load_ok(fixture_file(f.name, ".keras"));
    clseq_optimizer opt;
    clseq_loss loss;
    unsigned metrics;
    ck_assert_clseq_ok(clseq_model_compile_settings(m, &opt, &loss, &metrics));
    ck_assert_clseq_ok(clseq_compile(m, opt, loss, metrics));
    continue_training(&f, m, NULL);
    double worst = 0;
    char key[128];
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int i = 0; i < clseq_variable_count(m, l); i++) {
            clseq_variable_info info;
            float *v = test_get_variable(m, l, i, &info);
            snprintf(key, sizeof key, "cont/after/%d/%d/%s", l, i, info.name);
            worst = fmax(worst, compare(&f, key, v, info.count, NULL, NULL));
            free(v);
        }
    ck_assert_msg(worst > 1.0, "%s: training from a fresh optimizer state still matches "
                  "Keras's continuation (%.3g of the tolerance)", f.name, worst);
    printf("keras_files %-20s fresh optimizer state: %.3g times the tolerance\n", f.name, worst);
    clseq_model_free(m);
    keras_fixture_free(&f);
}
END_TEST

/* A 1% change of the first kernel's largest entry takes predict outside
 * the tolerance. */
START_TEST(one_percent_weight_change_is_caught)
{
    keras_fixture f;
    clseq_model *m = load_model(&f, models[_i], ".keras");
    if (!m)
        return;
    clseq_variable_info info;
    size_t at;
    keras_scale_largest_weight(m, 1.01f, &info, &at);
    size_t n;
    float *p = predict_x(&f, m, &n);
    double ratio = compare(&f, "predict", p, n, NULL, NULL);
    ck_assert_msg(ratio > 1.0, "%s: predict with %s[%zu] 1%% larger is still within tolerance "
                  "(%.3g of it)", f.name, info.name, at, ratio);
    printf("keras_files %-20s 1%% weight change: %.3g times the tolerance\n", f.name, ratio);
    free(p);
    clseq_model_free(m);
    keras_fixture_free(&f);
}
END_TEST

static int same_floats(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* Two models have the same variables, bit for bit. */
static void check_same_variables(const clseq_model *a, const clseq_model *b, const char *what)
{
    ck_assert_int_eq(clseq_layer_count(a), clseq_layer_count(b));
    for (int l = 0; l < clseq_layer_count(a); l++) {
        ck_assert_str_eq(clseq_layer_class(a, l), clseq_layer_class(b, l));
        ck_assert_int_eq(clseq_variable_count(a, l), clseq_variable_count(b, l));
        for (int i = 0; i < clseq_variable_count(a, l); i++) {
            clseq_variable_info ia, ib;
            float *va = test_get_variable(a, l, i, &ia), *vb = test_get_variable(b, l, i, &ib);
            ck_assert_str_eq(ia.name, ib.name);
            ck_assert_uint_eq(ia.count, ib.count);
            ck_assert_int_eq(ia.trainable, ib.trainable);
            ck_assert_msg(same_floats(va, vb, ia.count), "%s: layer %d variable '%s' differs",
                          what, l, ia.name);
            free(va);
            free(vb);
        }
    }
}

START_TEST(save_load_round_trip)
{
    keras_fixture f;
    const char *ext = exts[_i % 2];
    clseq_model *a = load_model(&f, models[_i / 2], ext);
    if (!a)
        return;
    char what[128], saved[4200];
    snprintf(what, sizeof what, "%s%s saved by clseq", f.name, ext);
    snprintf(saved, sizeof saved, "%s/%s.keras", work_dir(), f.name);
    ck_assert_clseq_ok(clseq_save(a, saved));
    size_t size;
    char *bytes = test_read_file(saved, &size);
    ck_assert_msg(size > 4 && memcmp(bytes, "PK\3\4", 4) == 0,
                  "%s: a .keras file clseq saved does not start with a zip member", what);
    free(bytes);
    clseq_model *b = load_ok(saved);
    check_same_variables(a, b, what);
    size_t n;
    float *pa = predict_x(&f, a, &n), *pb = predict_x(&f, b, &n);
    ck_assert_msg(same_floats(pa, pb, n), "%s: predictions differ from the model saved", what);
    clseq_optimizer oa, ob;
    clseq_loss la, lb;
    unsigned ma, mb;
    clseq_status sa = clseq_model_compile_settings(a, &oa, &la, &ma);
    clseq_status sb = clseq_model_compile_settings(b, &ob, &lb, &mb);
    ck_assert_msg(sa == sb, "%s: compiled %s, saved and loaded %s", what, clseq_status_name(sa),
                  clseq_status_name(sb));
    if (sa == CLSEQ_OK) {
        ck_assert_msg(la == lb && ma == mb && oa.kind == ob.kind &&
                      oa.learning_rate == ob.learning_rate && oa.momentum == ob.momentum &&
                      oa.nesterov == ob.nesterov && oa.beta1 == ob.beta1 &&
                      oa.beta2 == ob.beta2 && oa.rho == ob.rho && oa.epsilon == ob.epsilon,
                      "%s: the compile settings changed", what);
        /* the optimizer state travels too: the same continuation, bit for bit */
        if (keras_find(&f, "cont/rows")) {
            continue_training(&f, a, NULL);
            continue_training(&f, b, NULL);
            snprintf(what, sizeof what, "%s%s saved by clseq, continued", f.name, ext);
            check_same_variables(a, b, what);
        }
    }
    free(pa);
    free(pb);
    clseq_model_free(a);
    clseq_model_free(b);
    keras_fixture_free(&f);
}
END_TEST

/* Refused with CLSEQ_E_FORMAT, the message holding every '|'-separated
 * substring of expect. */
static void check_refused(const char *path, const char *expect)
{
    clseq_model *m;
    clseq_status s = load_quietly(path, &m);
    if (s == CLSEQ_OK)
        clseq_model_free(m);
    ck_assert_msg(s == CLSEQ_E_FORMAT, "%s: clseq_load gave %s (%s), expected CLSEQ_E_FORMAT",
                  path, clseq_status_name(s), s == CLSEQ_OK ? "" : clseq_last_error());
    const char *msg = clseq_last_error();
    ck_assert_msg(msg[0] != '\0', "%s: refused without a message", path);
    while (*expect) {
        char part[64];
        size_t len = strcspn(expect, "|");
        ck_assert(len < sizeof part);
        memcpy(part, expect, len);
        part[len] = '\0';
        ck_assert_msg(strstr(msg, part) != NULL, "%s: the message '%s' does not name '%s'", path,
                      msg, part);
        expect += len + (expect[len] == '|');
    }
}

START_TEST(refuses_what_clseq_cannot_run)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras_files", refusals[_i / 2].name);
    if (_i % 2 == 0 || refusals[_i / 2].has_h5) {
        const char *path = fixture_file(f.name, exts[_i % 2]);
        check_refused(path, keras_need_text(&f, "@expect"));
        printf("keras_files %-22s %-6s refused: %s\n", f.name, exts[_i % 2], clseq_last_error());
    }
    keras_fixture_free(&f);
}
END_TEST

/* Archives the script rebuilt from adam_dense_bn.keras. */
START_TEST(renamed_and_damaged_members)
{
    static const struct {
        const char *name;
        const char *expect; /* NULL: loads as adam_dense_bn; else '|' substrings */
    } cases[] = {
        {"member_deflated", NULL},
        {"member_reordered", NULL},
        {"member_no_config", "config.json"},
        {"member_no_weights", "model.weights.h5"},
        {"member_in_folder", "config.json"},
        {"member_bad_json", "config.json"},
        {"member_other_weights", "model.weights.h5"},
        {"member_not_a_model", "config.json"},
    };
    keras_fixture f;
    keras_fixture_load(&f, "keras_files", "adam_dense_bn");
    clseq_model *ref = load_ok(fixture_file(f.name, ".keras"));
    size_t n;
    float *want = predict_x(&f, ref, &n);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *path = fixture_file(cases[c].name, ".keras");
        if (cases[c].expect) {
            check_refused(path, cases[c].expect);
            printf("keras_files %-22s refused: %s\n", cases[c].name, clseq_last_error());
            continue;
        }
        clseq_model *m = load_ok(path);
        float *got = predict_x(&f, m, &n);
        ck_assert_msg(same_floats(got, want, n), "%s: predictions differ from adam_dense_bn's",
                      cases[c].name);
        check_same_variables(ref, m, cases[c].name);
        free(got);
        clseq_model_free(m);
    }
    free(want);
    clseq_model_free(ref);
    keras_fixture_free(&f);
}
END_TEST

/* clseq_load tells the formats by content, not by the file's name. */
START_TEST(format_chosen_by_content)
{
    static const struct {
        const char *from, *to;
    } copies[] = {
        {".keras", "as_h5.h5"}, {".keras", "no_ext"}, {".h5", "as_keras.keras"},
        {".h5", "as_bin.bin"},
    };
    keras_fixture f;
    keras_fixture_load(&f, "keras_files", "adam_dense_bn");
    clseq_model *ref = load_ok(fixture_file(f.name, ".keras"));
    size_t n;
    float *want = predict_x(&f, ref, &n);
    char path[4200];
    for (size_t c = 0; c < sizeof copies / sizeof copies[0]; c++) {
        size_t len;
        char *copy = test_read_file(fixture_file(f.name, copies[c].from), &len);
        snprintf(path, sizeof path, "%s/%s", work_dir(), copies[c].to);
        spit(path, copy, len);
        free(copy);
        clseq_model *mc = load_ok(path);
        float *pc = predict_x(&f, mc, &n);
        ck_assert_msg(same_floats(pc, want, n), "%s (a copy of %s%s): predictions differ",
                      copies[c].to, f.name, copies[c].from);
        free(pc);
        clseq_model_free(mc);
    }
    /* clseq's own format under a Keras name */
    char native[4200];
    snprintf(native, sizeof native, "%s/native.clseq", work_dir());
    ck_assert_clseq_ok(clseq_save(ref, native));
    size_t size;
    char *bytes = test_read_file(native, &size);
    ck_assert_msg(size < 4 || memcmp(bytes, "PK\3\4", 4) != 0,
                  "%s: clseq_save wrote a zip for a name not ending in .keras", native);
    snprintf(path, sizeof path, "%s/native.keras", work_dir());
    spit(path, bytes, size);
    free(bytes);
    clseq_model *m = load_ok(path);
    float *got = predict_x(&f, m, &n);
    ck_assert_msg(same_floats(got, want, n), "%s (clseq's format): predictions differ", path);
    free(got);
    clseq_model_free(m);
    /* neither format, whatever the name says */
    static const char *const junk[] = {"", "PK", "\x89HDF\r\n\x1a\n", "{\"class_name\": 1}"};
    for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++) {
        snprintf(path, sizeof path, "%s/junk%zu.keras", work_dir(), j);
        spit(path, junk[j], strlen(junk[j]));
        m = NULL;
        clseq_status s = clseq_load(test_ctx(), path, &m);
        if (s == CLSEQ_OK)
            clseq_model_free(m);
        ck_assert_msg(s == CLSEQ_E_FORMAT, "%s (%zu bytes): %s, expected CLSEQ_E_FORMAT", path,
                      strlen(junk[j]), clseq_status_name(s));
    }
    snprintf(path, sizeof path, "%s/missing.keras", work_dir());
    m = NULL;
    ck_assert_int_eq(clseq_load(test_ctx(), path, &m), CLSEQ_E_IO);
    ck_assert_msg(strstr(clseq_last_error(), "missing.keras") != NULL,
                  "the message '%s' does not name the file", clseq_last_error());
    free(want);
    clseq_model_free(ref);
    keras_fixture_free(&f);
}
END_TEST

/* Damaged copies of one file: every prefix of STEP-byte steps (each must be
 * refused), and every STEP-th byte inverted (any status; a model that loads
 * must predict without harm). In a .keras every member's bytes are under
 * the zip's CRC-32, so a .keras that still loads must predict exactly as
 * the undamaged one; an .h5's raw data has no checksum, so there the values
 * may change. */
enum { STEP = 97 };

static void damage(const char *name, const char *ext)
{
    keras_fixture f;
    keras_fixture_load(&f, "keras_files", name);
    clseq_model *ref = load_ok(fixture_file(name, ext));
    size_t n, size;
    float *want = predict_x(&f, ref, &n);
    char *bytes = test_read_file(fixture_file(name, ext), &size);
    char path[4200];
    snprintf(path, sizeof path, "%s/damaged%s", work_dir(), ext);
    int truncations = 0, flips = 0, flips_loaded = 0;
    for (size_t len = 0; len < size; len += STEP, truncations++) {
        spit(path, bytes, len);
        clseq_model *m;
        clseq_status s = load_quietly(path, &m);
        if (s == CLSEQ_OK)
            clseq_model_free(m);
        ck_assert_msg(s != CLSEQ_OK, "%s%s cut to %zu of %zu bytes loads", name, ext, len, size);
        ck_assert_msg(clseq_last_error()[0] != '\0', "%s%s cut to %zu bytes: %s without a message",
                      name, ext, len, clseq_status_name(s));
    }
    for (size_t at = STEP / 2; at < size; at += STEP, flips++) {
        bytes[at] = (char)~bytes[at];
        spit(path, bytes, size);
        bytes[at] = (char)~bytes[at];
        clseq_model *m;
        if (load_quietly(path, &m) != CLSEQ_OK)
            continue;
        flips_loaded++;
        if (clseq_model_input_dim(m) == clseq_model_input_dim(ref) &&
            clseq_model_output_dim(m) == clseq_model_output_dim(ref)) {
            size_t rows = keras_need_size(&f, "rows");
            float *x = keras_floats(keras_need(&f, "x", rows * (size_t)clseq_model_input_dim(m)));
            float *got = malloc(n * sizeof *got);
            ck_assert(got != NULL);
            clseq_status s = clseq_predict(m, x, rows, got);
            if (strcmp(ext, ".keras") == 0)
                ck_assert_msg(s == CLSEQ_OK && same_floats(got, want, n),
                              "%s%s with byte %zu inverted loads, and predicts otherwise (%s)",
                              name, ext, at, clseq_status_name(s));
            free(x);
            free(got);
        } else {
            ck_assert_msg(strcmp(ext, ".keras") != 0,
                          "%s%s with byte %zu inverted loads as another model", name, ext, at);
        }
        clseq_model_free(m);
    }
    printf("keras_files %s%s: %d truncations refused; %d of %d inverted bytes loaded\n", name,
           ext, truncations, flips_loaded, flips);
    free(bytes);
    free(want);
    clseq_model_free(ref);
    keras_fixture_free(&f);
}

START_TEST(damaged_keras_file)
{
    damage("adam_dense_bn", ".keras");
}
END_TEST

START_TEST(damaged_h5_file)
{
    damage("adam_dense_bn", ".h5");
}
END_TEST

START_TEST(damaged_cnn_h5_file)
{
    damage("sgd_cnn", ".h5");
}
END_TEST

static Suite *keras_files_suite(void)
{
    Suite *s = suite_create("keras_files");
    TCase *tc = tcase_create("keras_files");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, loads_and_predicts, 0, 2 * MODELS);
    tcase_add_loop_test(tc, compile_settings_are_keras, 0, 2 * MODELS);
    tcase_add_loop_test(tc, continues_training_like_keras, 0, 2 * CONTINUED);
    tcase_add_loop_test(tc, fresh_optimizer_state_is_caught, 0, CONTINUED);
    tcase_add_loop_test(tc, one_percent_weight_change_is_caught, 0, MODELS);
    tcase_add_loop_test(tc, save_load_round_trip, 0, 2 * MODELS);
    tcase_add_loop_test(tc, refuses_what_clseq_cannot_run, 0, 2 * REFUSALS);
    tcase_add_test(tc, renamed_and_damaged_members);
    tcase_add_test(tc, format_chosen_by_content);
    tcase_add_test(tc, damaged_keras_file);
    tcase_add_test(tc, damaged_h5_file);
    tcase_add_test(tc, damaged_cnn_h5_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(keras_files_suite());
}
