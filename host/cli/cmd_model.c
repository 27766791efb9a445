/* clseq train, evaluate and predict: a model from and on CSV files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "train_callbacks.h"
#include "train_data.h"
#include "train_mpi.h"

static const char train_usage[] =
    "usage: clseq train --data FILE --layers SPEC --loss LOSS --optimizer NAME[:lr]\n"
    "                   [--input-shape H,W,C] [--epochs E] [--batch-size B]\n"
    "       clseq train --data FILE --model MODEL [--loss LOSS] [--optimizer NAME[:lr]] ...\n"
    "                   [--validation-split F | --val FILE] [--metrics METRICS]\n"
    "                   [--seed S] [--no-shuffle] [--initial-epoch E0] [--verbose 0|1|2]\n"
    "                   [--device S] [callbacks] --save MODEL\n"
    "  Each CSV row holds one sample's values, then the target. For\n"
    "  categorical_crossentropy the target column holds class indices, one-hot\n"
    "  encoded here. --input-shape gives a sample's shape (1 to 3 dimensions,\n"
    "  channels last, e.g. 8,8,1); the row holds it flattened in row-major H, W, C\n"
    "  order. Default: one dimension, the CSV's feature count.\n"
    "  SPEC: layers separated by ',', fields by ':'\n"
    "    dense:UNITS[:ACT]                activation:ACT\n"
    "    conv2d:FILTERS:KH[xKW][:OPT...]  OPT: ACT, same, valid, sN[xM] strides,\n"
    "                                     dN[xM] dilation, nobias\n"
    "    maxpool2d[:PH[xPW]][:OPT...]     avgpool2d[:PH[xPW]][:OPT...]\n"
    "                                     OPT: same, valid, sN[xM] strides (default\n"
    "                                     the pool size; pool default 2x2)\n"
    "    globalavgpool2d  globalmaxpool2d  flatten  reshape:D1[xD2[xD3]] (-1 once)\n"
    "    dropout:RATE     batchnorm[:MOMENTUM[:EPSILON]] (0.99, 0.001)\n"
    "  ACT: linear relu sigmoid tanh softmax leaky_relu elu selu gelu softplus\n"
    "  softsign silu (swish) hard_sigmoid exponential relu6 log_softmax.\n"
    "  LOSS: categorical_crossentropy sparse_categorical_crossentropy\n"
    "  binary_crossentropy mean_squared_error (mse) mean_absolute_error (mae).\n"
    "  METRICS: accuracy mse mae binary_accuracy precision recall auc\n"
    "           top_k_categorical_accuracy sparse_top_k_categorical_accuracy, comma-separated\n"
    "           (default accuracy for the cross-entropies).\n"
    "  Defaults: --epochs 1, --batch-size 32, --seed 0, --verbose 2, no validation.\n"
    "  --optimizer NAME: sgd adam rmsprop adamw adagrad adadelta adamax nadam lion,\n"
    "  with Keras's defaults; :lr sets the learning rate (e.g. adamw:0.01).\n"
    "  Example: --input-shape 8,8,1 --layers conv2d:16:3x3:relu:same,maxpool2d:2,\n"
    "  conv2d:32:3:relu,flatten,dropout:0.25,dense:64:relu,dense:10:softmax\n"
    "  --model continues training a saved model (clseq's format, Keras's .keras or\n"
    "  legacy .h5) instead of building one from --layers: a compiled model keeps its\n"
    "  optimizer, its state and its metrics unless --loss, --optimizer or --metrics\n"
    "  is given, which compiles it again (fresh optimizer state). --save MODEL.keras\n"
    "  writes a Keras 3 file.\n"
    "  --stream reads --data (and --val) a block at a time, for files larger than\n"
    "  memory (automatic for a file larger than half the free memory): one checking\n"
    "  pass, then one pass per epoch; the shuffle then permutes blocks of rows and\n"
    "  the rows within each block.\n"
    "  --mpi: one of the processes of `mpirun -np N clseq train --mpi ...`: each takes\n"
    "  its share of every batch of --data's rows (--batch-size is the global batch)\n"
    "  and its part of the validation rows; gradients are summed over all of them\n"
    "  every step. Rank 0 prints and saves. A --device naming several devices\n"
    "  (0:0,0:1 or all) trains on all of them, in one process or in each.\n"
    "  --no-shuffle keeps the rows in file order every epoch. --initial-epoch E0\n"
    "  runs epochs E0+1..E (Keras's initial_epoch), for going on with --model.\n"
    "  With --verbose 1 or 2 the model's summary is printed before training.\n"
    "%s%s"
    "  Exit status: 0 done, 1 failed, 2 bad usage, 3 training diverged after at\n"
    "  least one good epoch (the weights from the last good epoch are saved).\n";

/* "s" after a count other than 1, for messages that quote counts. */
static const char *plural(long n)
{
    return n == 1 ? "" : "s";
}

static int parse_metrics(const char *text, clseq_loss loss, unsigned *out)
{
    if (!text) {
        *out = loss <= CLSEQ_BINARY_CROSSENTROPY ? CLSEQ_METRIC_ACCURACY : 0;
        return 1;
    }
    *out = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        unsigned bit = 0;
        if (clseq_metric_from_name(tok, &bit) != CLSEQ_OK) {
            fprintf(stderr, "clseq train: --metrics: %s\n", clseq_last_error());
            return 0;
        }
        *out |= bit;
    }
    return 1;
}

/* --optimizer NAME[:lr] */
static int parse_optimizer(const char *text, clseq_optimizer *out)
{
    char name[64];
    double lr = 0;
    const char *colon = strchr(text, ':');
    snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - text) : (int)strlen(text), text);
    if (colon && !cli_double("train", "--optimizer learning rate", colon + 1, &lr))
        return 0;
    if (colon && !(lr > 0 && isfinite(lr))) {
        fprintf(stderr, "clseq train: --optimizer: the learning rate must be > 0, got '%s'\n",
                colon + 1);
        return 0;
    }
    if (clseq_optimizer_from_name(name, (float)lr, out) != CLSEQ_OK)
        return !cli_fail("train");
    return 1;
}

/* --input-shape "H,W,C" (1 to CLSEQ_MAX_RANK positive integers) whose
 * product must be the CSV's feature count. */
static int parse_input_shape(const char *text, int features, int *rank, int *dims)
{
    *rank = 0;
    long size = 1;
    const char *p = text;
    for (;;) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > CLSEQ_MAX_UNITS || *rank == CLSEQ_MAX_RANK ||
            (*end && *end != ',')) {
            fprintf(stderr, "clseq train: --input-shape '%s' should be 1 to %d positive integers "
                    "separated by ',' (e.g. 8,8,1)\n", text, CLSEQ_MAX_RANK);
            return 0;
        }
        dims[(*rank)++] = (int)v;
        size *= v;
        if (size > CLSEQ_MAX_UNITS)
            break;
        if (!*end)
            break;
        p = end + 1;
    }
    if (size != features) {
        fprintf(stderr, "clseq train: --input-shape %s holds %ld value%s, but the data has %d "
                "feature%s per row\n", text, size, plural(size), features, plural(features));
        return 0;
    }
    return 1;
}

static clseq_status build_model(clseq_ctx *ctx, int rank, const int *dims, const char *spec,
                                long seed, clseq_model **out)
{
    clseq_status s = clseq_model_create_shaped(ctx, rank, dims, out);
    if (s == CLSEQ_OK)
        s = clseq_model_set_seed(*out, (uint64_t)seed);
    return s == CLSEQ_OK ? clseq_add_layers(*out, spec) : s;
}

/* --model: a saved model to go on training. Compiled again when the
 * command line names a loss or optimizer (the other taken from the file),
 * or when the file's model was never compiled (then both are required).
 * Returns 0, or the exit status after printing why. */
static int open_saved_model(clseq_ctx *ctx, const char *path, const clseq_optimizer *opt,
                            const clseq_loss *loss, const char *metric_list, clseq_model **out)
{
    if (clseq_load(ctx, path, out) != CLSEQ_OK)
        return cli_fail("train");
    clseq_optimizer file_opt;
    clseq_loss file_loss;
    unsigned file_metrics;
    int compiled = clseq_model_compile_settings(*out, &file_opt, &file_loss, &file_metrics) ==
                   CLSEQ_OK;
    if (!compiled && (!opt || !loss)) {
        fprintf(stderr, "clseq train: %s was saved without compile settings: give --loss and "
                "--optimizer\n", path);
        return 2;
    }
    if (compiled && !opt && !loss && !metric_list)
        return 0; /* the file's optimizer, state and metrics go on */
    clseq_optimizer o = opt ? *opt : file_opt;
    clseq_loss l = loss ? *loss : file_loss;
    unsigned metrics = file_metrics;
    if ((loss || metric_list) && !parse_metrics(metric_list, l, &metrics))
        return 2;
    return clseq_compile(*out, o, l, metrics) == CLSEQ_OK ? 0 : cli_fail("train");
}

/* The model's summary before training, as Keras users print it. */
static int print_summary(const clseq_model *m)
{
    char text[16384];
    if (clseq_model_summary(m, text, sizeof text) != CLSEQ_OK)
        return !cli_fail("train");
    fputs(text, stdout);
    return 1;
}

/* Epochs that finished with finite loss and weights: clseq_fit returns no
 * history when it fails, so a diverged fit is counted as it goes. */
static int count_epochs(int epoch, const clseq_history *history, void *user_data)
{
    (void)epoch;
    *(int *)user_data = clseq_history_epochs(history);
    return 0;
}

/* The loss clseq_fit's divergence message quotes ("(loss nan, ..."), into
 * out; "" when the message has none, so the report still reads whole. */
static void diverged_loss(const char *message, char *out, size_t size)
{
    const char *at = strstr(message, "(loss ");
    size_t n = 0;
    if (at) {
        at += strlen("(loss ");
        n = strcspn(at, ",)");
        if (n > 1 && strncmp(at, "-nan", 4) == 0) { /* a NaN's sign means nothing */
            at++;
            n--;
        }
    }
    snprintf(out, size, "%s%.*s%s", at ? " (loss " : "", (int)n, at ? at : "", at ? ")" : "");
}

/* A fit that diverged after `good` whole epochs has the weights from the
 * end of the last of them back in the model: those are worth keeping, so
 * they go to --save and the exit status (3) tells a script that the run
 * did not finish. With no good epoch there is nothing worth saving. */
static int report_divergence(const clseq_model *m, int good, const char *save)
{
    char loss[64];
    diverged_loss(clseq_last_error(), loss, sizeof loss);
    if (good == 0) {
        fprintf(stderr, "clseq train: training diverged in epoch 1%s, before any epoch finished; "
                "nothing was saved to %s (try a smaller learning rate)\n", loss, save);
        return 1;
    }
    if (clseq_save(m, save) != CLSEQ_OK) {
        fprintf(stderr, "clseq train: training diverged in epoch %d%s; saving the weights from the "
                "end of epoch %d failed: %s\n", good + 1, loss, good, clseq_last_error());
        return 1;
    }
    fprintf(stderr, "clseq train: training diverged in epoch %d%s; saved the weights from the end "
            "of epoch %d to %s (exit status 3)\n", good + 1, loss, good, save);
    return 3;
}

/* Options train reads beyond the required ones. */
typedef struct train_settings {
    long epochs, batch, seed, verbose, initial_epoch;
    double split;
} train_settings;

static int read_settings(cli_option *opts, int n, train_settings *t)
{
    const char *v;
    t->epochs = 1;
    t->batch = 32;
    t->seed = 0;
    t->verbose = 2;
    t->split = 0;
    t->initial_epoch = 0;
    if ((v = cli_get(opts, n, "--initial-epoch")) &&
        !cli_int("train", "--initial-epoch", v, 0, 1000000, &t->initial_epoch))
        return 0;
    return !(((v = cli_get(opts, n, "--epochs")) && !cli_int("train", "--epochs", v, 1, 1000000, &t->epochs)) ||
             ((v = cli_get(opts, n, "--batch-size")) && !cli_int("train", "--batch-size", v, 1, 1 << 24, &t->batch)) ||
             ((v = cli_get(opts, n, "--seed")) && !cli_int("train", "--seed", v, 0, 0x7fffffffL, &t->seed)) ||
             ((v = cli_get(opts, n, "--verbose")) && !cli_int("train", "--verbose", v, 0, 2, &t->verbose)) ||
             ((v = cli_get(opts, n, "--validation-split")) && !cli_double("train", "--validation-split", v, &t->split)));
}

int cmd_train(int argc, char **argv)
{
    cli_option opts[] = {{"--data", 1, NULL},       {"--layers", 1, NULL},  {"--loss", 1, NULL},
                         {"--optimizer", 1, NULL},  {"--epochs", 1, NULL},  {"--batch-size", 1, NULL},
                         {"--validation-split", 1, NULL}, {"--val", 1, NULL}, {"--save", 1, NULL},
                         {"--metrics", 1, NULL},    {"--seed", 1, NULL},    {"--verbose", 1, NULL},
                         {"--device", 1, NULL},     {"--input-shape", 1, NULL},
                         {"--model", 1, NULL},      {"--initial-epoch", 1, NULL},
                         {"--no-shuffle", 0, NULL}, {"--stream", 0, NULL},
                         {"--mpi", 0, NULL},        TRAIN_CALLBACK_OPTIONS};
    int n = (int)(sizeof opts / sizeof opts[0]);
    char usage[sizeof train_usage + 4096]; /* and the two usages it takes */
    snprintf(usage, sizeof usage, train_usage, train_callbacks_usage, train_schedule_usage);
    int parsed = cli_parse("train", usage, argc, argv, opts, n);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    const char *data = cli_get(opts, n, "--data"), *spec = cli_get(opts, n, "--layers");
    const char *loss_name = cli_get(opts, n, "--loss"), *opt_name = cli_get(opts, n, "--optimizer");
    const char *save = cli_get(opts, n, "--save"), *val = cli_get(opts, n, "--val");
    const char *model_path = cli_get(opts, n, "--model");
    if (model_path && (spec || cli_get(opts, n, "--input-shape"))) {
        fprintf(stderr, "clseq train: --model takes its layers and input shape from the file; "
                "--layers and --input-shape go without it\n");
        return 2;
    }
    if (!data || !save || (!model_path && (!spec || !loss_name || !opt_name))) {
        fprintf(stderr, "clseq train: --data, --save and either --model or --layers, --loss and "
                "--optimizer are required\n%s", usage);
        return 2;
    }
    /* before any work: saving over a data file would destroy it */
    if (val && cli_get(opts, n, "--validation-split")) {
        fprintf(stderr, "clseq train: --val and --validation-split both give validation data; "
                "choose one\n");
        return 2;
    }
    const char *checkpoint = cli_get(opts, n, "--checkpoint"), *log = cli_get(opts, n, "--csv-log");
    if (cli_same_file("train", "--save", save, "--data", data) ||
        cli_same_file("train", "--save", save, "--val", val) ||
        cli_same_file("train", "--checkpoint", checkpoint, "--data", data) ||
        cli_same_file("train", "--checkpoint", checkpoint, "--val", val) ||
        cli_same_file("train", "--csv-log", log, "--data", data) ||
        cli_same_file("train", "--csv-log", log, "--val", val))
        return 2;
    train_settings t;
    clseq_loss loss = CLSEQ_MEAN_SQUARED_ERROR;
    clseq_optimizer opt = {0};
    unsigned metrics = 0;
    if (!read_settings(opts, n, &t) || (opt_name && !parse_optimizer(opt_name, &opt)))
        return 2;
    if (loss_name && clseq_loss_from_name(loss_name, &loss) != CLSEQ_OK)
        return cli_fail("train") + 1;
    if (loss_name && !parse_metrics(cli_get(opts, n, "--metrics"), loss, &metrics))
        return 2;

    /* --mpi: this is one of mpirun's processes (train_mpi.c) */
    train_mpi mpi;
    if (!train_mpi_begin(&mpi, cli_get(opts, n, "--mpi") != NULL))
        return 2;
    int rc = 1;
    train_data train = {0}, valid = {0};
    clseq_ctx *ctx = NULL;
    clseq_model *m = NULL;
    clseq_fit_options fo = clseq_fit_defaults();
    const char *shape = cli_get(opts, n, "--input-shape");
    int rank = 1, dims[CLSEQ_MAX_RANK] = {0};
    int stream = cli_get(opts, n, "--stream") != NULL;
    if (!train_data_open(data, stream, &train) ||
        (val && !train_data_open(val, train.streamed ? 1 : -1, &valid)))
        goto done;
    int features = train_data_features(&train);
    dims[0] = features;
    if (shape && !parse_input_shape(shape, features, &rank, dims)) {
        rc = 2;
        goto done;
    }
    if (clseq_ctx_create(cli_get(opts, n, "--device"), &ctx) != CLSEQ_OK) {
        rc = cli_fail("train");
        goto done;
    }
    if (model_path) {
        rc = open_saved_model(ctx, model_path, opt_name ? &opt : NULL, loss_name ? &loss : NULL,
                              cli_get(opts, n, "--metrics"), &m);
        if (rc)
            goto done;
        rc = 1;
        clseq_model_compile_settings(m, NULL, &loss, NULL);
        if (features != clseq_model_input_dim(m)) {
            fprintf(stderr, "clseq train: %s has %d feature%s per row, but %s takes %d\n", data,
                    features, plural(features), model_path, clseq_model_input_dim(m));
            goto done;
        }
    } else if (build_model(ctx, rank, dims, spec, t.seed, &m) != CLSEQ_OK ||
               clseq_compile(m, opt, loss, metrics) != CLSEQ_OK) {
        rc = cli_fail("train");
        goto done;
    }
    if (val && train_data_features(&valid) != features) {
        fprintf(stderr, "clseq train: %s has %d feature%s, but %s has %d\n", val,
                train_data_features(&valid), plural(train_data_features(&valid)), data, features);
        goto done;
    }
    if (!train_data_targets(&train, m, loss) || (val && !train_data_targets(&valid, m, loss)))
        goto done;
    fo.epochs = (int)t.epochs;
    fo.batch_size = (int)t.batch;
    fo.verbose = (int)t.verbose;
    fo.validation_split = (float)t.split;
    fo.shuffle = !cli_get(opts, n, "--no-shuffle");
    fo.initial_epoch = (int)t.initial_epoch;
    float class_weights[256];
    const char *class_spec = cli_get(opts, n, "--class-weight");
    if (class_spec) {
        int outputs = clseq_model_output_dim(m);
        int classes = outputs > 1 ? outputs : 2;
        if (classes > 256 || loss > CLSEQ_BINARY_CROSSENTROPY) {
            fprintf(stderr, "clseq train: --class-weight needs a classification loss and at "
                    "most 256 classes\n");
            rc = 2;
            goto done;
        }
        if (train.streamed && strcmp(class_spec, "auto") == 0) {
            fprintf(stderr, "clseq train: --class-weight auto counts every label in memory; "
                    "with --stream give the weights\n");
            rc = 2;
            goto done;
        }
        fo.class_weight_count = train_class_weights(class_spec, train.table.y, train.table.rows,
                                                    classes, class_weights);
        if (!fo.class_weight_count) {
            rc = 2;
            goto done;
        }
        fo.class_weight = class_weights;
    }
    train_callbacks callbacks;
    if (!train_callbacks_read(opts, n, val || t.split > 0, &callbacks, &fo)) {
        rc = 2;
        goto done;
    }
    const char *schedule = cli_get(opts, n, "--lr-schedule");
    if (schedule) {
        clseq_lr_schedule lr;
        float rate;
        clseq_get_learning_rate(m, &rate);
        if (!train_schedule_parse(schedule, rate, &lr)) {
            rc = 2;
            goto done;
        }
        if (clseq_set_lr_schedule(m, &lr) != CLSEQ_OK) {
            rc = cli_fail("train");
            goto done;
        }
    }
    if (t.verbose > 0 && mpi.rank == 0 && !print_summary(m))
        goto done;
    if (val && !train.streamed) {
        fo.val_x = valid.table.x;
        fo.val_y = valid.y;
        fo.val_n = valid.table.rows;
    }
    int good = 0;
    fo.on_epoch_end = count_epochs;
    fo.user_data = &good;
    clseq_status fit = mpi.on ? train_mpi_fit(&mpi, m, &train, val ? &valid : NULL, &fo)
                       : train.streamed
                           ? clseq_fit_source(m, &train.source, val ? &valid.source : NULL, &fo,
                                              NULL)
                           : clseq_fit(m, train.table.x, train.y, train.table.rows, &fo, NULL);
    /* the progress lines go first, then what ended them */
    fflush(stdout);
    /* CLSEQ_E_NUMERIC also means bad data; only divergence says so */
    if (fit == CLSEQ_E_NUMERIC && strstr(clseq_last_error(), "diverged")) {
        rc = report_divergence(m, good, save);
        goto done;
    }
    /* with --mpi, every process holds the same weights: rank 0 saves */
    if (fit != CLSEQ_OK || (mpi.rank == 0 && clseq_save(m, save) != CLSEQ_OK)) {
        rc = cli_fail("train");
        goto done;
    }
    if (fo.early_stopping && fo.initial_epoch + good < fo.epochs && mpi.rank == 0)
        printf("Epoch %d: early stopping\n", fo.initial_epoch + good);
    if (mpi.rank == 0)
        printf("saved: %s\n", save);
    rc = 0;
done:
    train_data_close(&train);
    train_data_close(&valid);
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    train_mpi_end(&mpi);
    return rc;
}
