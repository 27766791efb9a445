/* clseq train --lr-schedule SPEC (Keras's schedules from a short text) and
 * --class-weight. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_callbacks.h"

const char train_schedule_usage[] =
    "  --lr-schedule SPEC  the learning rate per step, from the optimizer's rate R:\n"
    "    exponential:STEPS:RATE[:staircase]  R * RATE^(step / STEPS)\n"
    "    piecewise:B1,B2,...:V0,V1,...       V0 up to step B1, V1 up to B2, ...\n"
    "    cosine:STEPS[:ALPHA[:TARGET:WARMUP]] cosine from R (or from TARGET after a\n"
    "                                        linear warm-up of WARMUP steps) to ALPHA x it\n"
    "  --class-weight auto|W0,W1,...  weigh each class's rows (Keras's class_weight);\n"
    "                      auto: n / (classes x rows of the class), scikit-learn's balanced\n";

/* A comma-separated list of count numbers into out (at most capacity). */
static int read_list(const char *text, int capacity, double *out, int *count)
{
    *count = 0;
    const char *p = text;
    for (;;) {
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p || *count == capacity || (*end && *end != ',' && *end != ':'))
            return 0;
        out[(*count)++] = v;
        if (*end != ',')
            return 1;
        p = end + 1;
    }
}

static int bad(const char *spec)
{
    fprintf(stderr, "clseq train: --lr-schedule '%s' is not exponential:STEPS:RATE[:staircase], "
            "piecewise:B1,...:V0,... or cosine:STEPS[:ALPHA[:TARGET:WARMUP]]\n", spec);
    return 0;
}

int train_schedule_parse(const char *spec, float learning_rate, clseq_lr_schedule *out)
{
    char kind[16];
    const char *colon = strchr(spec, ':');
    if (!colon || colon - spec >= (long)sizeof kind)
        return bad(spec);
    snprintf(kind, sizeof kind, "%.*s", (int)(colon - spec), spec);
    double a[CLSEQ_SCHEDULE_MAX_BOUNDARIES + 1], b[CLSEQ_SCHEDULE_MAX_BOUNDARIES + 1];
    int na = 0, nb = 0;
    const char *second = strchr(colon + 1, ':');
    if (strcmp(kind, "exponential") == 0) {
        double steps, rate;
        char flag[16] = "";
        int n = sscanf(colon + 1, "%lf:%lf:%15s", &steps, &rate, flag);
        if (n < 2 || (n == 3 && strcmp(flag, "staircase") != 0) || steps < 1)
            return bad(spec);
        *out = clseq_exponential_decay(learning_rate, (long long)steps, (float)rate, n == 3);
    } else if (strcmp(kind, "piecewise") == 0) {
        if (!second || !read_list(colon + 1, CLSEQ_SCHEDULE_MAX_BOUNDARIES, a, &na) ||
            !read_list(second + 1, CLSEQ_SCHEDULE_MAX_BOUNDARIES + 1, b, &nb) || nb != na + 1 ||
            strchr(second + 1, ':'))
            return bad(spec);
        long long bounds[CLSEQ_SCHEDULE_MAX_BOUNDARIES];
        float values[CLSEQ_SCHEDULE_MAX_BOUNDARIES + 1];
        for (int i = 0; i < na; i++)
            bounds[i] = (long long)a[i];
        for (int i = 0; i < nb; i++)
            values[i] = (float)b[i];
        *out = clseq_piecewise_constant_decay(na, bounds, values);
    } else if (strcmp(kind, "cosine") == 0) {
        double steps, alpha = 0, target = 0, warmup = 0;
        int n = sscanf(colon + 1, "%lf:%lf:%lf:%lf", &steps, &alpha, &target, &warmup);
        if (n < 1 || n == 3 || steps < 1)
            return bad(spec);
        *out = clseq_cosine_decay(learning_rate, (long long)steps, (float)alpha,
                                  n == 4 ? (float)target : NAN, (long long)warmup);
    } else {
        return bad(spec);
    }
    return 1;
}

int train_class_weights(const char *spec, const float *labels, size_t rows, int classes,
                        float *out)
{
    if (strcmp(spec, "auto") == 0) {
        /* sklearn.utils.class_weight.compute_class_weight("balanced") */
        for (int c = 0; c < classes; c++) {
            size_t count = 0;
            for (size_t r = 0; r < rows; r++)
                count += lroundf(labels[r]) == c;
            out[c] = count ? (float)((double)rows / ((double)classes * (double)count)) : 1.0f;
        }
        return classes;
    }
    double values[256];
    int count = 0;
    if (!read_list(spec, classes < 256 ? classes : 256, values, &count) || strchr(spec, ':')) {
        fprintf(stderr, "clseq train: --class-weight '%s' should be auto or up to %d weights "
                "separated by ','\n", spec, classes);
        return 0;
    }
    for (int c = 0; c < count; c++) {
        if (!(values[c] >= 0) || values[c] > 3.0e38) {
            fprintf(stderr, "clseq train: --class-weight: weight %d (%g) is not a number >= 0\n",
                    c, values[c]);
            return 0;
        }
        out[c] = (float)values[c];
    }
    return count;
}
