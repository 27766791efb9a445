/* clseq_fit_source: a fit whose rows come from a read callback, a block at
 * a time (the context's data_bytes forces small blocks here).
 *
 * References: with shuffle off the steps see the rows in order, batch by
 * batch, exactly as clseq_fit over the same arrays does, so the weights
 * and every history value must equal clseq_fit's from the same seed bit
 * for bit (tolerance 0), streamed from the arrays in blocks of the same
 * size and with every row resident (there the fused trainer's loss may
 * round differently: see same_as_clseq_fit): on the fused trainer and the
 * layer path, with validation_split, a validation source and class_weight.
 * With
 * shuffle on, what the source is asked for is recorded and checked
 * against the contract (every training row once per epoch, in whole
 * blocks, the partial one last). Errors: the callback's own status and
 * message, and the source rows named. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { N = 203, F = 5, K = 3, BATCH = 16, VAL_N = 37, MAX_READS = 4096, EPOCHS = 3 };

/* A block of 48 rows (three batches) for the unweighted models here: two
 * blocks of rows, targets and order fit 2700 bytes. The tests never rely
 * on the number: they read the block size from what the fit asks for. */
static const long long SMALL_DATA_BYTES = 2700;

/* Rows from arrays, every read recorded. */
typedef struct array_source {
    const float *x, *y;
    int width;
    size_t rows;
    int epoch;                    /* moved on by on_epoch_end */
    int reads;
    size_t first[MAX_READS], count[MAX_READS];
    int epoch_of[MAX_READS];
    /* failures */
    int fail_epoch;               /* fail the first read in this epoch (-1: never) */
    clseq_status fail_status;
    size_t fail_min_row;          /* ... among reads that start at or past it */
    clseq_csv_file *csv;          /* read through it (x and y unused) */
    int failed;
    size_t failed_first, failed_count;
    char message[1024];           /* what the failing read left */
} array_source;

static clseq_status array_read(void *user, size_t first, size_t count, float *x, float *y)
{
    array_source *s = user;
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    ck_assert_uint_gt(count, 0);
    ck_assert_msg(first <= s->rows && count <= s->rows - first, "read of %zu + %zu of %zu rows",
                  first, count, s->rows);
    ck_assert_int_lt(s->reads, MAX_READS);
    s->first[s->reads] = first;
    s->count[s->reads] = count;
    s->epoch_of[s->reads] = s->epoch;
    s->reads++;
    if (!s->failed && s->fail_epoch >= 0 && s->epoch >= s->fail_epoch &&
        first >= s->fail_min_row) {
        s->failed = 1;
        s->failed_first = first;
        s->failed_count = count;
        if (s->csv) {
            /* a read beyond the file: clseq_csv_read_rows's own message */
            clseq_status st = clseq_csv_read_rows(s->csv, first + s->rows, count, x, y);
            snprintf(s->message, sizeof s->message, "%s", clseq_last_error());
            return st;
        }
        return s->fail_status;
    }
    if (s->csv)
        return clseq_csv_read_rows(s->csv, first, count, x, y);
    memcpy(x, s->x + first * F, count * F * sizeof *x);
    memcpy(y, s->y + first * (size_t)s->width, count * (size_t)s->width * sizeof *y);
    return CLSEQ_OK;
}

static array_source *new_source(const float *x, const float *y, int width, size_t rows)
{
    array_source *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->x = x;
    s->y = y;
    s->width = width;
    s->rows = rows;
    s->fail_epoch = -1;
    return s;
}

static clseq_source source_of(array_source *s)
{
    return (clseq_source){.rows = s->rows, .read = array_read, .user = s};
}

static int next_epoch(int epoch, const clseq_history *h, void *user)
{
    (void)h;
    array_source **sources = user;
    for (int i = 0; i < 2; i++)
        if (sources[i])
            sources[i]->epoch = epoch + 1;
    return 0;
}

/* Contexts made once: resident (the whole data set on the device) and
 * small (blocks of a few batches); both train fused whenever a model
 * allows, so a Dense model takes the fused kernel on either. */
static clseq_ctx *made[2];

static clseq_ctx *context(int small)
{
    if (!made[small]) {
        clseq_ctx_options o = clseq_ctx_defaults();
        o.data_bytes = small ? SMALL_DATA_BYTES : 0;
        o.fused = 1;
        made[small] = test_ctx_with(&o);
    }
    return made[small];
}

/* The data: labels from a rule on x, sparse (width 1) or one-hot (K). */
static float X[N * F], Y_SPARSE[N], Y_ONEHOT[N * K];
static float VX[VAL_N * F], VY_SPARSE[VAL_N], VY_ONEHOT[VAL_N * K];

static void make_rows(float *x, float *ys, float *yh, int n, uint64_t seed)
{
    test_fill_uniform(x, (size_t)n * F, seed, -1.0f, 1.0f);
    for (int r = 0; r < n; r++) {
        const float *v = x + r * F;
        int c = v[0] + v[2] > 0.2f ? 2 : v[1] - v[4] > 0 ? 1 : 0;
        ys[r] = (float)c;
        for (int k = 0; k < K; k++)
            yh[r * K + k] = k == c ? 1.0f : 0.0f;
    }
}

static void make_data(void)
{
    make_rows(X, Y_SPARSE, Y_ONEHOT, N, 41);
    make_rows(VX, VY_SPARSE, VY_ONEHOT, VAL_N, 43);
}

typedef enum model_kind { DENSE_SOFTMAX, LAYERED } model_kind;

/* DENSE_SOFTMAX: Dense(7, tanh), Dense(K, softmax), sparse targets (the
 * fused trainer takes it). LAYERED: Dense with an L2 kernel regularizer,
 * BatchNormalization, Dropout, Dense(K, softmax), one-hot targets (the
 * layer path). */
static clseq_model *model(clseq_ctx *ctx, model_kind kind)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(ctx, F, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, 5));
    if (kind == DENSE_SOFTMAX) {
        ck_assert_clseq_ok(clseq_add_dense(m, 7, CLSEQ_TANH));
        ck_assert_clseq_ok(clseq_add_dense(m, K, CLSEQ_SOFTMAX));
        ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                                         CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                         CLSEQ_METRIC_ACCURACY));
    } else {
        ck_assert_clseq_ok(clseq_add_dense(m, 8, CLSEQ_RELU));
        ck_assert_clseq_ok(clseq_set_regularizer(m, 0, "kernel", 0.0f, 0.01f));
        ck_assert_clseq_ok(clseq_add_batch_normalization(m, 0.9f, 0.001f));
        ck_assert_clseq_ok(clseq_add_dropout(m, 0.25f));
        ck_assert_clseq_ok(clseq_add_dense(m, K, CLSEQ_SOFTMAX));
        ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                                         CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY));
    }
    return m;
}

static int width_of(model_kind kind)
{
    return kind == DENSE_SOFTMAX ? 1 : K;
}

static const float *y_of(model_kind kind)
{
    return kind == DENSE_SOFTMAX ? Y_SPARSE : Y_ONEHOT;
}

static const float *vy_of(model_kind kind)
{
    return kind == DENSE_SOFTMAX ? VY_SPARSE : VY_ONEHOT;
}

enum { MAX_WEIGHTS = 256 };

typedef struct outcome {
    float w[MAX_WEIGHTS];
    size_t nw;
    int series, epochs;
    char names[8][64];
    float values[8][EPOCHS];
} outcome;

static void take(const clseq_model *m, const clseq_history *h, outcome *out)
{
    memset(out, 0, sizeof *out);
    out->nw = test_read_variables(m, out->w, MAX_WEIGHTS);
    out->series = clseq_history_series_count(h);
    out->epochs = clseq_history_epochs(h);
    ck_assert_int_le(out->series, 8);
    ck_assert_int_le(out->epochs, EPOCHS);
    for (int i = 0; i < out->series; i++) {
        snprintf(out->names[i], sizeof out->names[i], "%s", clseq_history_series_name(h, i));
        memcpy(out->values[i], clseq_history_values(h, out->names[i]),
               (size_t)out->epochs * sizeof(float));
    }
}

/* a and b equal bit for bit, but for the training loss when loss_rel > 0:
 * then within that relative tolerance. */
static void expect_close(const outcome *a, const outcome *b, const char *what, double loss_rel)
{
    ck_assert_uint_eq(a->nw, b->nw);
    for (size_t i = 0; i < a->nw; i++)
        ck_assert_msg(a->w[i] == b->w[i] || (isnan(a->w[i]) && isnan(b->w[i])),
                      "%s: weight %zu: %.9g vs %.9g", what, i, (double)a->w[i], (double)b->w[i]);
    ck_assert_int_eq(a->series, b->series);
    ck_assert_int_eq(a->epochs, b->epochs);
    for (int i = 0; i < a->series; i++) {
        ck_assert_str_eq(a->names[i], b->names[i]);
        int loose = loss_rel > 0 && strcmp(a->names[i], "loss") == 0;
        for (int e = 0; e < a->epochs; e++) {
            double u = a->values[i][e], v = b->values[i][e];
            ck_assert_msg(loose ? fabs(u - v) <= loss_rel * fabs(u) : u == v,
                          "%s: %s epoch %d: %.9g vs %.9g", what, a->names[i], e + 1, u, v);
        }
    }
}

static void expect_same(const outcome *a, const outcome *b, const char *what)
{
    expect_close(a, b, what, 0);
}

/* How a fit is run: the validation (none, split or separate rows), the
 * class weights, the shuffle. */
typedef struct setup {
    model_kind kind;
    int validation;  /* 0 none, 1 validation_split 0.25, 2 VAL_N separate rows */
    const float *class_weight;
    int shuffle;
} setup;

static clseq_fit_options options(const setup *u)
{
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = EPOCHS;
    o.batch_size = BATCH;
    o.shuffle = u->shuffle;
    o.validation_split = u->validation == 1 ? 0.25f : 0.0f;
    o.class_weight = u->class_weight;
    o.class_weight_count = u->class_weight ? K : 0;
    return o;
}

static void fit_arrays(clseq_ctx *ctx, const setup *u, outcome *out)
{
    clseq_model *m = model(ctx, u->kind);
    clseq_fit_options o = options(u);
    if (u->validation == 2) {
        o.val_x = VX;
        o.val_y = vy_of(u->kind);
        o.val_n = VAL_N;
    }
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, X, y_of(u->kind), N, &o, &h));
    take(m, h, out);
    clseq_history_free(h);
    clseq_model_free(m);
}

/* The fit over sources on ctx; the sources' records stay in *train and
 * *val (the caller frees them). */
static void fit_sources(clseq_ctx *ctx, const setup *u, outcome *out, array_source **train,
                        array_source **val)
{
    clseq_model *m = model(ctx, u->kind);
    *train = new_source(X, y_of(u->kind), width_of(u->kind), N);
    *val = u->validation == 2 ? new_source(VX, vy_of(u->kind), width_of(u->kind), VAL_N) : NULL;
    clseq_fit_options o = options(u);
    array_source *both[2] = {*train, *val};
    o.on_epoch_end = next_epoch;
    o.user_data = both;
    clseq_source ts = source_of(*train), vs = *val ? source_of(*val) : ts;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit_source(m, &ts, *val ? &vs : NULL, &o, &h));
    take(m, h, out);
    clseq_history_free(h);
    clseq_model_free(m);
}

/* Training rows of the source: the first N, less the split's. */
static size_t train_rows(const setup *u)
{
    /* Keras: int(203 * (1 - 0.25)) = 152 */
    return u->validation == 1 ? 152 : N;
}

/* Shuffle off: the reads go through the training rows in order, whole
 * blocks (a multiple of the batch) and a short last one, each epoch, and
 * validation rows once an epoch. Returns the block size. */
static size_t expect_in_order(const array_source *s, size_t n, size_t val_first, size_t val_n)
{
    size_t block = s->count[0];
    ck_assert_uint_eq(block % BATCH, 0);
    ck_assert_uint_lt(block, n); /* the small budget made several blocks */
    for (int e = 0; e < EPOCHS; e++) {
        size_t next = 0, val_next = val_first;
        for (int i = 0; i < s->reads; i++) {
            if (s->epoch_of[i] != e)
                continue;
            if (s->first[i] >= n && val_n) {
                /* validation reads, in order; their sizes are the pass's own */
                ck_assert_uint_eq(s->first[i], val_next);
                val_next += s->count[i];
                continue;
            }
            ck_assert_uint_eq(s->first[i], next);
            ck_assert_uint_eq(s->count[i], n - next < block ? n - next : block);
            next += s->count[i];
        }
        ck_assert_uint_eq(next, n);
        ck_assert_uint_eq(val_next, val_first + val_n);
    }
    ck_assert_uint_ne(n % block, 0); /* a ragged last block */
    return block;
}

/* A validation source: read through once an epoch, in order. */
static void expect_val_reads(const array_source *s)
{
    for (int e = 0; e < EPOCHS; e++) {
        size_t next = 0;
        for (int i = 0; i < s->reads; i++)
            if (s->epoch_of[i] == e) {
                ck_assert_uint_eq(s->first[i], next);
                next += s->count[i];
            }
        ck_assert_uint_eq(next, VAL_N);
    }
}

/* The references: clseq_fit with every row on the device, and streamed
 * from the arrays in blocks as small as the source's. The source's fit
 * equals the streamed one bit for bit, and the resident one in weights and
 * history; but the fused trainer adds its loss sums to the epoch's once a
 * launch, and a streamed fit launches once a block, so there the loss may
 * round differently: relative 1e-6 (a few ulps of a sum of 203 terms). */
static void same_as_clseq_fit(const setup *u, const char *what)
{
    outcome resident, streamed, b;
    fit_arrays(context(0), u, &resident);
    fit_arrays(context(1), u, &streamed);
    array_source *train, *val;
    fit_sources(context(1), u, &b, &train, &val);
    expect_same(&streamed, &b, what);
    expect_close(&resident, &b, what, u->kind == DENSE_SOFTMAX && !u->class_weight ? 1e-6 : 0);
    size_t n = train_rows(u);
    expect_in_order(train, n, n, u->validation == 1 ? N - n : 0);
    if (val)
        expect_val_reads(val);
    free(train);
    free(val);
}

START_TEST(dense_softmax_equals_clseq_fit)
{
    make_data();
    same_as_clseq_fit(&(setup){DENSE_SOFTMAX, 0, NULL, 0}, "dense");
    same_as_clseq_fit(&(setup){DENSE_SOFTMAX, 1, NULL, 0}, "dense, validation_split");
    same_as_clseq_fit(&(setup){DENSE_SOFTMAX, 2, NULL, 0}, "dense, val source");
}
END_TEST

START_TEST(layer_path_equals_clseq_fit)
{
    make_data();
    same_as_clseq_fit(&(setup){LAYERED, 0, NULL, 0}, "layered");
    same_as_clseq_fit(&(setup){LAYERED, 1, NULL, 0}, "layered, validation_split");
    same_as_clseq_fit(&(setup){LAYERED, 2, NULL, 0}, "layered, val source");
}
END_TEST

START_TEST(class_weight_equals_clseq_fit)
{
    make_data();
    static const float cw[K] = {1.0f, 3.0f, 0.5f};
    same_as_clseq_fit(&(setup){DENSE_SOFTMAX, 1, cw, 0}, "dense, class_weight");
    same_as_clseq_fit(&(setup){LAYERED, 0, cw, 0}, "layered, class_weight");
}
END_TEST

/* Shuffle on: each epoch reads every training row exactly once, in runs
 * of whole blocks at block boundaries, the partial block last; the order
 * of the whole blocks changes from epoch to epoch; validation rows are
 * read once an epoch. */
static void expect_block_shuffle(const array_source *s, size_t n, int order_changes)
{
    size_t block = s->count[0];
    ck_assert_uint_eq(block % BATCH, 0);
    size_t whole = n / block, partial = n % block;
    ck_assert_uint_ge(whole, 3);
    ck_assert_uint_ne(partial, 0);
    int order[EPOCHS][64];
    for (int e = 0; e < EPOCHS; e++) {
        unsigned char seen[N];
        memset(seen, 0, sizeof seen);
        size_t blocks = 0, val_rows = 0;
        for (int i = 0; i < s->reads; i++) {
            if (s->epoch_of[i] != e)
                continue;
            if (s->first[i] >= n) {
                val_rows += s->count[i];
                continue;
            }
            ck_assert_uint_eq(s->first[i] % block, 0);
            ck_assert_uint_eq(s->count[i], s->first[i] + block > n ? partial : block);
            /* the partial block comes last */
            ck_assert_uint_lt(blocks, whole + 1);
            if (blocks < whole)
                ck_assert_uint_eq(s->count[i], block);
            ck_assert_uint_lt(blocks, 64);
            order[e][blocks++] = (int)(s->first[i] / block);
            for (size_t r = s->first[i]; r < s->first[i] + s->count[i]; r++)
                seen[r]++;
        }
        ck_assert_uint_eq(blocks, whole + 1);
        for (size_t r = 0; r < n; r++)
            ck_assert_msg(seen[r] == 1, "epoch %d: row %zu read %d times", e + 1, r, seen[r]);
        ck_assert_uint_eq(val_rows, N - n);
    }
    int changed = 0;
    for (int e = 1; e < EPOCHS; e++)
        changed |= memcmp(order[e], order[0], whole * sizeof(int)) != 0;
    ck_assert_msg(changed || !order_changes, "the blocks came in the same order in every epoch");
}

START_TEST(shuffled_blocks_repeat_and_cover_every_row)
{
    make_data();
    /* 203 rows: four whole blocks and a partial one */
    setup u = {DENSE_SOFTMAX, 0, NULL, 1};
    outcome a, b, off;
    array_source *t1, *v1, *t2, *v2;
    fit_sources(context(1), &u, &a, &t1, &v1);
    fit_sources(context(1), &u, &b, &t2, &v2);
    expect_same(&a, &b, "shuffled, same seed");
    /* four whole blocks over three epochs: the same order every time
     * would have odds of 1 in 576 from a working shuffle (and with seed 5
     * it does not happen) */
    expect_block_shuffle(t1, train_rows(&u), 1);
    /* the same reads both times */
    ck_assert_int_eq(t1->reads, t2->reads);
    ck_assert_mem_eq(t1->first, t2->first, (size_t)t1->reads * sizeof t1->first[0]);
    free(t1);
    free(t2);
    /* with a validation split (the train source's last rows) */
    u.validation = 1;
    fit_sources(context(1), &u, &a, &t1, &v1);
    /* (three whole blocks: with seed 5 their shuffles happen to leave the
     * first epoch's order, odds 1 in 36, so only the coverage is checked) */
    expect_block_shuffle(t1, train_rows(&u), 0);
    free(t1);
    /* one block: no block order to change, yet the rows within it are
     * shuffled, so the training differs from an unshuffled one */
    fit_sources(context(0), &u, &a, &t1, &v1);
    u.shuffle = 0;
    fit_sources(context(0), &u, &off, &t2, &v2);
    ck_assert_uint_eq(t1->count[0], train_rows(&u));
    int differ = 0;
    for (size_t i = 0; i < a.nw; i++)
        differ |= a.w[i] != off.w[i];
    ck_assert_msg(differ, "shuffle on trained as shuffle off");
    free(t1);
    free(t2);
}
END_TEST

/* "rows A..B" in msg: A and B into *a and *b; 0 if absent. */
static int rows_named(const char *msg, const char *lead, size_t *a, size_t *b)
{
    const char *at = strstr(msg, lead);
    return at && sscanf(at + strlen(lead), "%zu..%zu", a, b) == 2;
}

/* A fit that fails: its status, no history, and a usable model after. */
static clseq_status failing_fit(clseq_model *m, array_source *train, array_source *val,
                                const clseq_fit_options *base, char *message, size_t size)
{
    clseq_fit_options o = *base;
    array_source *both[2] = {train, val};
    o.on_epoch_end = next_epoch;
    o.user_data = both;
    clseq_source ts = source_of(train), vs = val ? source_of(val) : ts;
    clseq_history *h = (clseq_history *)&o; /* anything but NULL */
    clseq_status s = clseq_fit_source(m, &ts, val ? &vs : NULL, &o, &h);
    snprintf(message, size, "%s", clseq_last_error());
    ck_assert_ptr_null(h);
    /* the model trains again, from a good source */
    array_source *good = new_source(X, Y_SPARSE, 1, N);
    clseq_source gs = source_of(good);
    clseq_fit_options g = test_quiet_fit_options();
    g.batch_size = BATCH;
    ck_assert_clseq_ok(clseq_fit_source(m, &gs, NULL, &g, &h));
    ck_assert_ptr_nonnull(h);
    ck_assert(isfinite(clseq_history_values(h, "loss")[0]));
    clseq_history_free(h);
    free(good);
    return s;
}

START_TEST(read_failure_ends_the_fit)
{
    make_data();
    clseq_model *m = model(context(1), DENSE_SOFTMAX);
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = EPOCHS;
    o.batch_size = BATCH;
    char msg[2048], want[64];
    size_t a, b;
    static const clseq_status statuses[] = {CLSEQ_E_IO, CLSEQ_E_FORMAT, CLSEQ_E_NOMEM};
    for (int i = 0; i < 3; i++) {
        /* no message of its own: the fit names the rows */
        array_source *s = new_source(X, Y_SPARSE, 1, N);
        s->fail_epoch = 1;
        s->fail_status = statuses[i];
        o.shuffle = i % 2;
        ck_assert_int_eq(failing_fit(m, s, NULL, &o, msg, sizeof msg), statuses[i]);
        ck_assert(s->failed);
        ck_assert_int_eq(s->epoch_of[s->reads - 1], 1);
        snprintf(want, sizeof want, "%zu..%zu", s->failed_first,
                 s->failed_first + s->failed_count);
        ck_assert_msg(strstr(msg, want), "'%s' not in: %s", want, msg);
        ck_assert_msg(strstr(msg, clseq_status_name(statuses[i])), "%s", msg);
        free(s);
    }
    /* a validation read fails (rows past the split) */
    array_source *s = new_source(X, Y_SPARSE, 1, N);
    s->fail_epoch = 1;
    s->fail_status = CLSEQ_E_IO;
    s->fail_min_row = 152;
    o.validation_split = 0.25f;
    ck_assert_int_eq(failing_fit(m, s, NULL, &o, msg, sizeof msg), CLSEQ_E_IO);
    ck_assert(s->failed);
    ck_assert_msg(rows_named(msg, "rows ", &a, &b) && a == s->failed_first &&
                  b == s->failed_first + s->failed_count, "%s", msg);
    free(s);
    clseq_model_free(m);
}
END_TEST

/* A source over a CSV file: the fit equals clseq_fit on clseq_csv_read's
 * arrays; a read that fails inside clseq_csv_read_rows leaves that
 * message, which the fit keeps. */
START_TEST(csv_source_and_its_message)
{
    make_data();
    char path[4200];
    snprintf(path, sizeof path, "%s/rows.csv", test_temp_dir());
    ck_assert_clseq_ok(clseq_csv_write(path, X, N, F, Y_SPARSE, NULL));
    clseq_dataset d;
    ck_assert_clseq_ok(clseq_csv_read(path, &d));
    clseq_csv_file *csv = NULL;
    ck_assert_clseq_ok(clseq_csv_open(path, &csv));
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 2;
    o.batch_size = BATCH;
    o.shuffle = 0;
    o.validation_split = 0.25f;

    /* the reference streams from arrays in the same blocks: the fused
     * loss sums then round alike (same_as_clseq_fit) */
    clseq_model *m = model(context(1), DENSE_SOFTMAX);
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, d.x, d.y, d.rows, &o, &h));
    outcome a, b;
    take(m, h, &a);
    clseq_history_free(h);
    clseq_model_free(m);
    m = model(context(1), DENSE_SOFTMAX);
    array_source *s = new_source(NULL, NULL, 1, N);
    s->csv = csv;
    clseq_source src = source_of(s);
    ck_assert_clseq_ok(clseq_fit_source(m, &src, NULL, &o, &h));
    take(m, h, &b);
    clseq_history_free(h);
    expect_same(&a, &b, "csv source");
    free(s);

    char msg[2048];
    s = new_source(NULL, NULL, 1, N);
    s->csv = csv;
    s->fail_epoch = 1;
    ck_assert_int_eq(failing_fit(m, s, NULL, &o, msg, sizeof msg), CLSEQ_E_ARG);
    ck_assert(s->failed);
    ck_assert_ptr_nonnull(strstr(s->message, "csv_read_rows"));
    ck_assert_msg(strstr(msg, s->message), "'%s' not in: %s", s->message, msg);
    free(s);
    clseq_model_free(m);
    clseq_csv_close(csv);
    clseq_dataset_free(&d);
}
END_TEST

/* A non-finite value in a block: CLSEQ_E_NUMERIC naming source rows that
 * hold it; in a validation source likewise. */
START_TEST(non_finite_rows_are_named)
{
    make_data();
    static float x[N * F], y[N], vy[VAL_N];
    clseq_model *m = model(context(1), DENSE_SOFTMAX);
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 2;
    o.batch_size = BATCH;
    char msg[2048];
    size_t a, b;
    for (int shuffle = 0; shuffle < 2; shuffle++) {
        memcpy(x, X, sizeof x);
        x[150 * F + 3] = NAN;
        array_source *s = new_source(x, Y_SPARSE, 1, N);
        o.shuffle = shuffle;
        ck_assert_int_eq(failing_fit(m, s, NULL, &o, msg, sizeof msg), CLSEQ_E_NUMERIC);
        ck_assert_msg(rows_named(msg, "source rows ", &a, &b) && a <= 150 && 150 < b, "%s", msg);
        free(s);
    }
    /* an infinite target */
    memcpy(y, Y_SPARSE, sizeof y);
    y[7] = INFINITY;
    array_source *s = new_source(X, y, 1, N);
    ck_assert_int_eq(failing_fit(m, s, NULL, &o, msg, sizeof msg), CLSEQ_E_NUMERIC);
    ck_assert_msg(rows_named(msg, "source rows ", &a, &b) && a <= 7 && 7 < b, "%s", msg);
    free(s);
    /* in a validation source */
    memcpy(vy, VY_SPARSE, sizeof vy);
    vy[30] = NAN;
    s = new_source(X, Y_SPARSE, 1, N);
    array_source *v = new_source(VX, vy, 1, VAL_N);
    ck_assert_int_eq(failing_fit(m, s, v, &o, msg, sizeof msg), CLSEQ_E_NUMERIC);
    ck_assert_msg(rows_named(msg, "validation source rows ", &a, &b) && a <= 30 && 30 < b, "%s",
                  msg);
    free(s);
    free(v);
    clseq_model_free(m);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    make_data();
    clseq_model *m = model(context(1), DENSE_SOFTMAX);
    array_source *s = new_source(X, Y_SPARSE, 1, N);
    clseq_source good = source_of(s), bad;
    clseq_fit_options o = test_quiet_fit_options();
    o.batch_size = BATCH;
    clseq_history *h = (clseq_history *)&o;
    ck_assert_int_eq(clseq_fit_source(NULL, &good, NULL, &o, &h), CLSEQ_E_ARG);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(clseq_fit_source(m, NULL, NULL, &o, &h), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_fit_source(m, &good, NULL, NULL, &h), CLSEQ_E_ARG);
    bad = good;
    bad.read = NULL;
    ck_assert_int_eq(clseq_fit_source(m, &bad, NULL, &o, &h), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_fit_source(m, &good, &bad, &o, &h), CLSEQ_E_ARG);
    bad = good;
    bad.rows = 0;
    ck_assert_int_eq(clseq_fit_source(m, &bad, NULL, &o, &h), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_fit_source(m, &good, &bad, &o, &h), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "val"));
    /* a split that leaves no row to train on or none to validate */
    bad = good;
    bad.rows = 1;
    o.validation_split = 0.5f;
    ck_assert_int_eq(clseq_fit_source(m, &bad, NULL, &o, &h), CLSEQ_E_ARG);
    o.validation_split = 0;
    float w[N];
    for (int i = 0; i < N; i++)
        w[i] = 1.0f;
    o.sample_weight = w;
    ck_assert_int_eq(clseq_fit_source(m, &good, NULL, &o, &h), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "sample_weight"));
    o.sample_weight = NULL;
    o.val_x = VX;
    o.val_y = VY_SPARSE;
    o.val_n = VAL_N;
    ck_assert_int_eq(clseq_fit_source(m, &good, NULL, &o, &h), CLSEQ_E_ARG);
    o.val_y = NULL;
    o.val_n = 0;
    ck_assert_int_eq(clseq_fit_source(m, &good, NULL, &o, &h), CLSEQ_E_ARG);
    o.val_x = NULL;
    o.batch_size = 0;
    ck_assert_int_eq(clseq_fit_source(m, &good, NULL, &o, &h), CLSEQ_E_ARG);
    o.batch_size = BATCH;
    ck_assert_int_eq(s->reads, 0); /* nothing was read */
    ck_assert_ptr_null(h);
    /* an uncompiled model */
    clseq_model *raw = NULL;
    ck_assert_clseq_ok(clseq_model_create(context(1), F, &raw));
    ck_assert_clseq_ok(clseq_add_dense(raw, K, CLSEQ_SOFTMAX));
    ck_assert_int_eq(clseq_fit_source(raw, &good, NULL, &o, &h), CLSEQ_E_STATE);
    clseq_model_free(raw);
    /* and the model still trains */
    ck_assert_clseq_ok(clseq_fit_source(m, &good, NULL, &o, &h));
    ck_assert_ptr_nonnull(h);
    clseq_history_free(h);
    free(s);
    clseq_model_free(m);
}
END_TEST

static Suite *fit_source_suite(void)
{
    Suite *s = suite_create("fit_source");
    TCase *same = tcase_create("same_as_clseq_fit");
    tcase_add_test(same, dense_softmax_equals_clseq_fit);
    tcase_add_test(same, layer_path_equals_clseq_fit);
    tcase_add_test(same, class_weight_equals_clseq_fit);
    tcase_add_test(same, shuffled_blocks_repeat_and_cover_every_row);
    tcase_set_timeout(same, 300);
    suite_add_tcase(s, same);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, read_failure_ends_the_fit);
    tcase_add_test(errors, csv_source_and_its_message);
    tcase_add_test(errors, non_finite_rows_are_named);
    tcase_add_test(errors, bad_arguments_are_refused);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    /* the contexts live for the whole run: one kernel build each */
    int failed = test_run_suite(fit_source_suite());
    clseq_ctx_free(made[0]);
    clseq_ctx_free(made[1]);
    return failed;
}
