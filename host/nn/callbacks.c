/* Keras's training callbacks (callbacks.h), following Keras 3's
 * keras/src/callbacks/{monitor_callback,early_stopping,model_checkpoint,
 * reduce_lr_on_plateau,csv_logger}.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/callbacks.h"
#include "sys/fileio.h"

enum { PATH_MAX_BYTES = 4096 };

clseq_early_stopping clseq_early_stopping_defaults(void)
{
    clseq_early_stopping e;
    memset(&e, 0, sizeof e);
    e.monitor = "val_loss";
    e.baseline = NAN;
    return e;
}

clseq_model_checkpoint clseq_model_checkpoint_defaults(const char *path)
{
    clseq_model_checkpoint c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.monitor = "val_loss";
    c.initial_value_threshold = NAN;
    return c;
}

clseq_reduce_lr_on_plateau clseq_reduce_lr_on_plateau_defaults(void)
{
    clseq_reduce_lr_on_plateau r;
    memset(&r, 0, sizeof r);
    r.monitor = "val_loss";
    r.factor = 0.1f;
    r.patience = 10;
    r.min_delta = 1e-4f;
    return r;
}

clseq_csv_logger clseq_csv_logger_defaults(const char *path)
{
    clseq_csv_logger c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.separator = ',';
    return c;
}

/* ---- monitored series ------------------------------------------------ */

static int find_series(const clseq_history *h, const char *name)
{
    for (int i = 0; i < clseq_history_series_count(h); i++)
        if (strcmp(clseq_history_series_name(h, i), name) == 0)
            return i;
    return -1;
}

/* "loss, accuracy, val_loss, val_accuracy" into buf, for messages. */
static void list_series(const clseq_history *h, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < clseq_history_series_count(h) && used + 1 < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         clseq_history_series_name(h, i));
        used += n > 0 ? (size_t)n : 0;
    }
}

/* MonitorCallback._set_monitor_op: mode auto goes down for losses and
 * error metrics and up for accuracy (Keras asks the metric's _direction:
 * "up" for the accuracy metrics, "down" for mean squared and absolute
 * error). The min_delta is made negative for min, as Keras does. */
static clseq_status monitor_init(clseq_monitor *mon, const clseq_history *h, const char *name,
                                 clseq_monitor_mode mode, float min_delta, float baseline,
                                 const char *what)
{
    memset(mon, 0, sizeof *mon);
    if (!name)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: %s: monitor is NULL", what);
    mon->series = find_series(h, name);
    if (mon->series < 0) {
        char names[256];
        list_series(h, names, sizeof names);
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: %s: monitor '%s' is not a series of this fit "
                          "(%s)%s", what, name, names,
                          strncmp(name, "val_", 4) == 0 ? "; val_ series need validation data"
                                                         : "");
    }
    if (mode != CLSEQ_MODE_AUTO && mode != CLSEQ_MODE_MIN && mode != CLSEQ_MODE_MAX)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: %s: mode %d is not AUTO, MIN or MAX", what,
                          (int)mode);
    if (!isfinite(min_delta))
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: %s: min_delta is not finite", what);
    const char *metric = strncmp(name, "val_", 4) == 0 ? name + 4 : name;
    /* every series but the loss and the errors has _direction "up": the
     * accuracies, precision, recall, auc */
    int goes_up = strcmp(metric, "loss") != 0 && strcmp(metric, "mse") != 0 &&
                  strcmp(metric, "mae") != 0;
    mon->up = mode == CLSEQ_MODE_MAX || (mode == CLSEQ_MODE_AUTO && goes_up);
    mon->min_delta = mon->up ? fabs((double)min_delta) : -fabs((double)min_delta);
    if (!isnan(baseline)) {
        mon->best = baseline;
        mon->has_best = 1;
    }
    return CLSEQ_OK;
}

/* MonitorCallback._is_improvement: op(value - min_delta, reference), where
 * no reference yet always improves. */
static int improves(const clseq_monitor *mon, double value, int has_reference, double reference)
{
    if (!has_reference)
        return 1;
    double shifted = value - mon->min_delta;
    return mon->up ? shifted > reference : shifted < reference;
}

/* ---- EarlyStopping --------------------------------------------------- */

/* EarlyStopping.on_epoch_end; the baseline is kept apart from best. */
static clseq_status early_stopping_epoch(clseq_callbacks *cb, clseq_model *m, int epoch,
                                         const float *values, int *stop)
{
    const clseq_early_stopping *e = cb->opt->early_stopping;
    clseq_monitor *mon = &cb->stop_watch;
    double current = values[mon->series];
    if (epoch < e->start_from_epoch)
        return CLSEQ_OK;
    clseq_status s = CLSEQ_OK;
    /* Keras also copies the weights when it has none yet, but that epoch
     * is always an improvement (no best yet) and copies them below */
    cb->stop_wait++;
    if (improves(mon, current, mon->has_best, mon->best)) {
        mon->best = current;
        mon->has_best = 1;
        if (e->restore_best_weights)
            s = clseq_snapshot_take(m, &cb->best_weights, "EarlyStopping's best weights");
        if (isnan(e->baseline) || improves(mon, current, 1, e->baseline))
            cb->stop_wait = 0;
        return s;
    }
    if (cb->stop_wait >= e->patience && epoch > 0)
        *stop = 1;
    return s;
}

/* ---- ModelCheckpoint ------------------------------------------------- */

/* The checkpoint's path for an epoch: Keras formats it with str.format
 * (epoch=epoch + 1, **logs); clseq knows "{epoch}", "{epoch:Nd}",
 * "{epoch:0Nd}", "{SERIES}" and "{SERIES:.Nf}" / "{SERIES:.Ne}". */
static clseq_status format_path(const char *pattern, int epoch, const clseq_history *h,
                                const float *values, char *out, size_t size)
{
    size_t used = 0;
    for (const char *p = pattern; *p;) {
        if (*p != '{') {
            if (used + 1 >= size)
                break;
            out[used++] = *p++;
            continue;
        }
        const char *close = strchr(p, '}');
        char field[64], spec[16] = "";
        int len = close ? (int)(close - p - 1) : -1;
        if (len <= 0 || len >= (int)sizeof field)
            return clseq_fail(CLSEQ_E_ARG, "clseq_fit: checkpoint path '%s': a '{' without a "
                              "field name and '}'", pattern);
        snprintf(field, sizeof field, "%.*s", len, p + 1);
        char *colon = strchr(field, ':');
        if (colon) {
            snprintf(spec, sizeof spec, "%s", colon + 1);
            *colon = 0;
        }
        char fmt[24], text[64];
        int width = 0, digits = -1;
        char conv = 0, zero = spec[0] == '0';
        if (!spec[0] || sscanf(spec, "%d%c", &width, &conv) == 2 ||
            sscanf(spec, ".%d%c", &digits, &conv) == 2) {
            int series = strcmp(field, "epoch") == 0 ? -2 : find_series(h, field);
            int ok = series == -2 ? (conv == 0 || conv == 'd') && digits < 0
                                  : series >= 0 && (conv == 0 || conv == 'f' || conv == 'e') &&
                                        width == 0;
            if (ok && series == -2) {
                snprintf(fmt, sizeof fmt, "%%%s%dd", zero ? "0" : "", width);
                snprintf(text, sizeof text, fmt, epoch + 1);
            } else if (ok) {
                snprintf(fmt, sizeof fmt, "%%.%d%c", digits < 0 ? 9 : digits,
                         conv ? conv : 'g');
                snprintf(text, sizeof text, fmt, (double)values[series]);
            }
            if (ok) {
                int n = snprintf(out + used, size - used, "%s", text);
                used += n > 0 && (size_t)n < size - used ? (size_t)n : 0;
                p = close + 1;
                continue;
            }
        }
        char names[256];
        list_series(h, names, sizeof names);
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: checkpoint path '%s': cannot format '{%.*s}' "
                          "(epoch with d, or a series with .Nf or .Ne: %s)", pattern, len, p + 1,
                          names);
    }
    if (used + 1 >= size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: checkpoint path '%s' is too long", pattern);
    out[used] = 0;
    return CLSEQ_OK;
}

/* ModelCheckpoint._should_save_model and _save_model. */
static clseq_status checkpoint_epoch(clseq_callbacks *cb, clseq_model *m, int epoch,
                                     const clseq_history *h, const float *values)
{
    const clseq_model_checkpoint *c = cb->opt->checkpoint;
    clseq_monitor *mon = &cb->save_watch;
    if (c->save_best_only) {
        double current = values[mon->series];
        if (!improves(mon, current, mon->has_best, mon->best))
            return CLSEQ_OK;
        mon->best = current;
        mon->has_best = 1;
    }
    char path[PATH_MAX_BYTES];
    clseq_status s = format_path(c->path, epoch, h, values, path, sizeof path);
    if (s == CLSEQ_OK && (s = clseq_save(m, path)) != CLSEQ_OK)
        s = clseq_fail_context(s, "clseq_fit: checkpoint after epoch %d: ", epoch + 1);
    return s;
}

/* ---- ReduceLROnPlateau ----------------------------------------------- */

static clseq_status reduce_lr_epoch(clseq_callbacks *cb, clseq_model *m, const float *values)
{
    const clseq_reduce_lr_on_plateau *r = cb->opt->reduce_lr_on_plateau;
    clseq_monitor *mon = &cb->lr_watch;
    double current = values[mon->series];
    if (cb->lr_cooldown > 0) {
        cb->lr_cooldown--;
        cb->lr_wait = 0;
    }
    if (improves(mon, current, mon->has_best, mon->best)) {
        mon->best = current;
        mon->has_best = 1;
        cb->lr_wait = 0;
        return CLSEQ_OK;
    }
    if (cb->lr_cooldown > 0 || ++cb->lr_wait < r->patience)
        return CLSEQ_OK;
    /* _reduce_optimizer_lr: only while above min_lr; the product in double,
     * stored as the float32 variable Keras keeps */
    double old_lr = m->optimizer.learning_rate;
    if (old_lr > (double)r->min_lr) {
        double new_lr = old_lr * (double)r->factor;
        m->optimizer.learning_rate = (float)(new_lr > (double)r->min_lr ? new_lr : r->min_lr);
        cb->lr_cooldown = r->cooldown;
        cb->lr_wait = 0;
    }
    return CLSEQ_OK;
}

/* ---- CSVLogger ------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* CSVLogger.on_epoch_end's keys: the series sorted by name; with no val_
 * series, a val_ column per series is added (and holds "NA"). */
static void csv_columns(clseq_callbacks *cb, const clseq_history *h)
{
    int count = clseq_history_series_count(h), has_val = 0;
    for (int i = 0; i < count; i++) {
        const char *name = clseq_history_series_name(h, i);
        snprintf(cb->csv_names[i], sizeof cb->csv_names[i], "%s", name);
        has_val |= strncmp(name, "val_", 4) == 0;
    }
    qsort(cb->csv_names, (size_t)count, sizeof cb->csv_names[0], compare_names);
    cb->csv_columns = count;
    for (int i = 0; !has_val && i < count; i++) {
        char name[sizeof cb->csv_names[0]];
        memcpy(name, cb->csv_names[i], sizeof name);
        snprintf(cb->csv_names[cb->csv_columns++], sizeof cb->csv_names[0], "val_%.48s", name);
    }
    for (int i = 0; i < cb->csv_columns; i++)
        cb->csv_series[i] = find_series(h, cb->csv_names[i]);
}

/* A float as Python's csv module writes float(value): the shortest decimal
 * that reads back as the same double (repr), with ".0" on whole numbers. */
static void python_float(double v, char *out, size_t size)
{
    if (!isfinite(v)) {
        snprintf(out, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, size, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (!strpbrk(out, ".e"))
        strncat(out, ".0", size - strlen(out) - 1);
}

static clseq_status csv_epoch(clseq_callbacks *cb, int epoch, const float *values)
{
    const clseq_csv_logger *c = cb->opt->csv_logger;
    FILE *f = cb->csv;
    if (cb->csv_header) {
        fputs("epoch", f);
        for (int i = 0; i < cb->csv_columns; i++)
            fprintf(f, "%c%s", c->separator, cb->csv_names[i]);
        fputs("\r\n", f); /* Python's csv.excel dialect ends rows with CRLF */
        cb->csv_header = 0;
    }
    fprintf(f, "%d", epoch);
    for (int i = 0; i < cb->csv_columns; i++) {
        char text[40] = "NA";
        if (cb->csv_series[i] >= 0)
            python_float(values[cb->csv_series[i]], text, sizeof text);
        fprintf(f, "%c%s", c->separator, text);
    }
    fputs("\r\n", f);
    if (fflush(f) != 0 || ferror(f))
        return clseq_fail(CLSEQ_E_IO, "clseq_fit: CSV log %s: write failed", c->path);
    return CLSEQ_OK;
}

/* Whether an existing log already has a first line (CSVLogger with
 * append=True writes no second header). */
static int has_first_line(const char *path)
{
    unsigned mode = 0;
    int fd = clseq_open_regular(path, &mode);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return 0;
    }
    int c = fgetc(f);
    fclose(f);
    return c != EOF && c != '\n' && c != '\r';
}

static clseq_status csv_begin(clseq_callbacks *cb, const clseq_history *h)
{
    const clseq_csv_logger *c = cb->opt->csv_logger;
    if (!c->path || !*c->path)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: csv_logger: path is NULL or empty");
    if (!c->separator || c->separator == '\n' || c->separator == '\r' || c->separator == '"')
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: csv_logger: separator %d cannot separate "
                          "CSV fields", c->separator);
    csv_columns(cb, h);
    cb->csv_header = !(c->append && has_first_line(c->path));
    clseq_status s = clseq_open_log(c->path, c->append, &cb->csv);
    return s == CLSEQ_OK ? s : clseq_fail_context(s, "clseq_fit: csv_logger: ");
}

/* ---- the fit's view ---------------------------------------------------- */

static clseq_status check_counts(const char *what, int patience, int extra, const char *extra_name)
{
    if (patience < 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: %s: patience must be >= 0, got %d", what,
                          patience);
    if (extra < 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: %s: %s must be >= 0, got %d", what,
                          extra_name, extra);
    return CLSEQ_OK;
}

clseq_status clseq_callbacks_begin(clseq_callbacks *cb, const clseq_fit_options *o,
                                   const clseq_history *h)
{
    memset(cb, 0, sizeof *cb);
    cb->opt = o;
    clseq_status s = CLSEQ_OK;
    const clseq_early_stopping *e = o->early_stopping;
    if (e && (s = check_counts("early_stopping", e->patience, e->start_from_epoch,
                               "start_from_epoch")) == CLSEQ_OK)
        s = monitor_init(&cb->stop_watch, h, e->monitor, e->mode, e->min_delta, NAN,
                         "early_stopping");
    const clseq_model_checkpoint *c = o->checkpoint;
    if (s == CLSEQ_OK && c) {
        char path[PATH_MAX_BYTES];
        float zeros[CLSEQ_HISTORY_MAX_SERIES] = {0};
        if (!c->path || !*c->path)
            return clseq_fail(CLSEQ_E_ARG, "clseq_fit: checkpoint: path is NULL or empty");
        s = format_path(c->path, 0, h, zeros, path, sizeof path);
        if (s == CLSEQ_OK && c->save_best_only)
            s = monitor_init(&cb->save_watch, h, c->monitor, c->mode, 0.0f,
                             c->initial_value_threshold, "checkpoint");
    }
    const clseq_reduce_lr_on_plateau *r = o->reduce_lr_on_plateau;
    if (s == CLSEQ_OK && r) {
        if (!(r->factor > 0.0f && r->factor < 1.0f))
            return clseq_fail(CLSEQ_E_ARG, "clseq_fit: reduce_lr_on_plateau: factor must be in "
                              "(0, 1), got %g", (double)r->factor);
        if (!(r->min_lr >= 0.0f) || !isfinite(r->min_lr))
            return clseq_fail(CLSEQ_E_ARG, "clseq_fit: reduce_lr_on_plateau: min_lr must be "
                              ">= 0, got %g", (double)r->min_lr);
        s = check_counts("reduce_lr_on_plateau", r->patience, r->cooldown, "cooldown");
        if (s == CLSEQ_OK)
            s = monitor_init(&cb->lr_watch, h, r->monitor, r->mode, r->min_delta, NAN,
                             "reduce_lr_on_plateau");
    }
    if (s == CLSEQ_OK && o->csv_logger)
        s = csv_begin(cb, h);
    return s;
}

clseq_status clseq_callbacks_epoch_end(clseq_callbacks *cb, clseq_model *m, int epoch,
                                       const clseq_history *h, const float *values, int *stop)
{
    const clseq_fit_options *o = cb->opt;
    clseq_status s = CLSEQ_OK;
    if (o->reduce_lr_on_plateau)
        s = reduce_lr_epoch(cb, m, values);
    if (s == CLSEQ_OK && o->early_stopping)
        s = early_stopping_epoch(cb, m, epoch, values, stop);
    if (s == CLSEQ_OK && o->checkpoint)
        s = checkpoint_epoch(cb, m, epoch, h, values);
    if (s == CLSEQ_OK && cb->csv)
        s = csv_epoch(cb, epoch, values);
    return s;
}

clseq_status clseq_callbacks_end(clseq_callbacks *cb, clseq_model *m, clseq_status fit)
{
    clseq_status s = CLSEQ_OK;
    if (fit == CLSEQ_OK && cb->best_weights.taken)
        s = clseq_snapshot_restore(m, &cb->best_weights);
    clseq_snapshot_release(&cb->best_weights);
    if (cb->csv && fclose(cb->csv) != 0 && s == CLSEQ_OK && fit == CLSEQ_OK)
        s = clseq_fail(CLSEQ_E_IO, "clseq_fit: CSV log %s: closing failed",
                       cb->opt->csv_logger->path);
    cb->csv = NULL;
    return s;
}
