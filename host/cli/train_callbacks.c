/* clseq train's callback options (train_callbacks.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train_callbacks.h"

const char train_callbacks_usage[] =
    "  Callbacks (Keras's, after every epoch):\n"
    "    --early-stopping PATIENCE  stop after PATIENCE epochs without improvement\n"
    "    --monitor NAME             what they watch: loss, accuracy, mse, mae or\n"
    "                               val_ of one (default val_loss with validation\n"
    "                               data, loss without); accuracy goes up, the rest down\n"
    "    --min-delta D              smaller changes are no improvement (default 0;\n"
    "                               1e-4 for --reduce-lr-on-plateau)\n"
    "    --restore-best-weights     end with the weights of the best epoch\n"
    "    --checkpoint PATH          save the model after every epoch; {epoch} or\n"
    "                               {epoch:02d} in PATH number the files\n"
    "    --save-best-only           only when the monitored value improved\n"
    "    --reduce-lr-on-plateau     learning rate x0.1 after 10 epochs without improvement\n"
    "    --csv-log FILE             one CSV row per epoch: epoch, then each series\n";

static int read_float(const char *name, const char *text, float *out)
{
    double v;
    if (!cli_double("train", name, text, &v))
        return 0;
    *out = (float)v;
    return 1;
}

int train_callbacks_read(const cli_option *opts, int n, int with_validation, train_callbacks *cb,
                         clseq_fit_options *fo)
{
    const char *v, *monitor = cli_get(opts, n, "--monitor");
    if (!monitor)
        monitor = with_validation ? "val_loss" : "loss";
    cb->early_stopping = clseq_early_stopping_defaults();
    cb->reduce_lr = clseq_reduce_lr_on_plateau_defaults();
    cb->early_stopping.monitor = monitor;
    cb->reduce_lr.monitor = monitor;
    if ((v = cli_get(opts, n, "--min-delta"))) {
        float delta;
        if (!read_float("--min-delta", v, &delta))
            return 0;
        cb->early_stopping.min_delta = delta;
        cb->reduce_lr.min_delta = delta;
    }
    if ((v = cli_get(opts, n, "--early-stopping"))) {
        long patience;
        if (!cli_int("train", "--early-stopping", v, 0, 1000000, &patience))
            return 0;
        cb->early_stopping.patience = (int)patience;
        cb->early_stopping.restore_best_weights = cli_get(opts, n, "--restore-best-weights") != NULL;
        fo->early_stopping = &cb->early_stopping;
    } else if (cli_get(opts, n, "--restore-best-weights")) {
        fprintf(stderr, "clseq train: --restore-best-weights goes with --early-stopping\n");
        return 0;
    }
    if ((v = cli_get(opts, n, "--checkpoint"))) {
        cb->checkpoint = clseq_model_checkpoint_defaults(v);
        cb->checkpoint.monitor = monitor;
        cb->checkpoint.save_best_only = cli_get(opts, n, "--save-best-only") != NULL;
        fo->checkpoint = &cb->checkpoint;
    } else if (cli_get(opts, n, "--save-best-only")) {
        fprintf(stderr, "clseq train: --save-best-only goes with --checkpoint\n");
        return 0;
    }
    if (cli_get(opts, n, "--reduce-lr-on-plateau"))
        fo->reduce_lr_on_plateau = &cb->reduce_lr;
    if ((v = cli_get(opts, n, "--csv-log"))) {
        cb->csv_log = clseq_csv_logger_defaults(v);
        fo->csv_logger = &cb->csv_log;
    }
    return 1;
}
