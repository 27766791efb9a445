/* Keras's progress format:
 *   Epoch 3/10
 *   800/800 [==============================] - 0s 40us/step - loss: 0.2301 - accuracy: 0.9191
 * verbose 2 drops the bar: "800/800 - 0s - loss: ...". */
#include "nn/progress.h"

#include "sys/clock.h"

#include <time.h>
#include <unistd.h>

enum { BAR_WIDTH = 30 };

void clseq_progress_init(clseq_progress *p, FILE *out, int verbose, int epochs, int steps)
{
    p->out = out ? out : stdout;
    p->verbose = verbose;
    p->live = verbose == 1 && isatty(fileno(p->out));
    p->epochs = epochs;
    p->steps = steps;
    p->started = 0;
}

void clseq_progress_epoch_begin(clseq_progress *p, int epoch)
{
    p->started = clseq_seconds();
    if (p->verbose)
        fprintf(p->out, "Epoch %d/%d\n", epoch + 1, p->epochs);
}

static int digits(int n)
{
    int d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static void draw_bar(clseq_progress *p, int done)
{
    /* Keras: (filled - 1) '=' then '>' while unfinished, '=' when done */
    int filled = p->steps ? (int)((long long)BAR_WIDTH * done / p->steps) : BAR_WIDTH;
    fprintf(p->out, "%*d/%d [", digits(p->steps), done, p->steps);
    for (int i = 0; i < BAR_WIDTH; i++) {
        char mark = i < filled ? '=' : '.';
        if (i == filled - 1 && done < p->steps)
            mark = '>';
        fputc(mark, p->out);
    }
    fputc(']', p->out);
}

/* ANSI "erase to end of line": a redraw shorter than the line before it
 * ("ETA: 4s" after "ETA: 14s") leaves nothing behind. Live mode only, so
 * only on a terminal. */
static const char CLEAR_TO_END[] = "\033[K";

static void print_values(FILE *out, const char *const *names, const float *values, int count)
{
    for (int i = 0; i < count; i++)
        fprintf(out, " - %s: %.4f", names[i], (double)values[i]);
}

void clseq_progress_update(clseq_progress *p, int done, const char *const *names,
                           const float *values, int count)
{
    if (!p->live)
        return;
    fputc('\r', p->out);
    draw_bar(p, done);
    double elapsed = clseq_seconds() - p->started;
    if (done > 0 && done < p->steps)
        fprintf(p->out, " - ETA: %.0fs", elapsed / done * (p->steps - done));
    print_values(p->out, names, values, count);
    fputs(CLEAR_TO_END, p->out);
    fflush(p->out);
}

/* Keras's per-step time: whole seconds, milliseconds or microseconds. */
static void print_step_time(FILE *out, double per_step)
{
    if (per_step >= 1)
        fprintf(out, " %.0fs/step", per_step);
    else if (per_step >= 1e-3)
        fprintf(out, " %.0fms/step", per_step * 1e3);
    else
        fprintf(out, " %.0fus/step", per_step * 1e6);
}

void clseq_progress_epoch_end(clseq_progress *p, const char *const *names, const float *values,
                              int count)
{
    if (!p->verbose)
        return;
    double elapsed = clseq_seconds() - p->started;
    if (p->verbose == 1) {
        if (p->live)
            fputc('\r', p->out);
        draw_bar(p, p->steps);
        fprintf(p->out, " - %.0fs", elapsed);
        print_step_time(p->out, p->steps ? elapsed / p->steps : 0);
    } else {
        fprintf(p->out, "%d/%d - %.0fs", p->steps, p->steps, elapsed);
    }
    print_values(p->out, names, values, count);
    if (p->live)
        fputs(CLEAR_TO_END, p->out);
    fputc('\n', p->out);
    fflush(p->out);
}
