/* clseq train's callback options: --early-stopping, --checkpoint,
 * --reduce-lr-on-plateau, --csv-log and the --monitor settings they share. */
#ifndef CLSEQ_CLI_TRAIN_CALLBACKS_H
#define CLSEQ_CLI_TRAIN_CALLBACKS_H

#include "cli_util.h"

/* The callbacks' settings; fit options point into it. */
typedef struct train_callbacks {
    clseq_early_stopping early_stopping;
    clseq_model_checkpoint checkpoint;
    clseq_reduce_lr_on_plateau reduce_lr;
    clseq_csv_logger csv_log;
} train_callbacks;

/* The option table entries these take, for the command's table. */
#define TRAIN_CALLBACK_OPTIONS                                                          \
    {"--early-stopping", 1, NULL}, {"--monitor", 1, NULL}, {"--min-delta", 1, NULL},    \
        {"--restore-best-weights", 0, NULL}, {"--checkpoint", 1, NULL},                 \
        {"--save-best-only", 0, NULL}, {"--reduce-lr-on-plateau", 0, NULL},             \
        {"--csv-log", 1, NULL}, {"--lr-schedule", 1, NULL}, {"--class-weight", 1, NULL}

/* Help text for them. */
extern const char train_callbacks_usage[];

/* --lr-schedule SPEC (train_schedule.c): its help, and the schedule it
 * names starting from learning_rate; 0 after printing why. */
extern const char train_schedule_usage[];
int train_schedule_parse(const char *spec, float learning_rate, clseq_lr_schedule *out);

/* --class-weight auto|W0,W1,... (train_schedule.c): weights per class
 * into out[0..classes): "auto" is scikit-learn's "balanced", n / (classes
 * x count of the class), computed from the labels; a list gives them (at
 * most classes). Returns the count, or 0 after printing why. */
int train_class_weights(const char *spec, const float *labels, size_t rows, int classes,
                        float *out);

/* Reads the options into cb and points fo at the callbacks asked for;
 * with_validation picks the default monitor (val_loss, else loss).
 * Returns 0 after printing why when an option is bad. */
int train_callbacks_read(const cli_option *opts, int n, int with_validation, train_callbacks *cb,
                         clseq_fit_options *fo);

#endif
