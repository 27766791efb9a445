/* The Keras fixture records and the comparison with Keras's values (see
 * keras_records.h). */
#include "keras_records.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The tolerance's factor on Keras's float32 rounding error and its floor
 * in float32 ulp (tests/test_keras.c's header says why these). */
enum { ERR_FACTOR = 4, FLOOR_ULP = 32 };

void keras_fixture_free(keras_fixture *f)
{
    for (int i = 0; i < f->count; i++)
        free(f->r[i].v);
    free(f->r);
    free(f->buf);
}

/* The next record at *p (past white space and comments) into a new entry
 * of f; 0 at the end of the file. */
static int next_record(keras_fixture *f, char **p, int *capacity, const char *file)
{
    for (;;) {
        *p += strspn(*p, " \t\r\n");
        if (**p != '#')
            break;
        *p += strcspn(*p, "\n");
    }
    if (!**p)
        return 0;
    if (f->count == *capacity) {
        *capacity = *capacity ? 2 * *capacity : 64;
        f->r = realloc(f->r, (size_t)*capacity * sizeof *f->r);
        ck_assert(f->r != NULL);
    }
    keras_record *r = &f->r[f->count++];
    memset(r, 0, sizeof *r);
    size_t len = strcspn(*p, " \t\r\n");
    ck_assert_msg(len < sizeof r->name, "%s: record name '%.20s...' too long", file, *p);
    memcpy(r->name, *p, len);
    *p += len;
    if (r->name[0] == '@') {
        if (**p == ' ')
            (*p)++;
        r->text = *p;
        *p += strcspn(*p, "\r\n");
        if (**p)
            *(*p)++ = '\0';
        return 1;
    }
    char *end;
    unsigned long count = strtoul(*p, &end, 10);
    ck_assert_msg(end != *p && count < (1ul << 24), "%s: record %s has no count", file, r->name);
    *p = end;
    r->count = count;
    r->v = malloc((count ? count : 1) * sizeof *r->v);
    ck_assert(r->v != NULL);
    for (size_t i = 0; i < count; i++) {
        r->v[i] = strtod(*p, &end);
        ck_assert_msg(end != *p && isfinite(r->v[i]), "%s: record %s: value %zu is bad", file,
                      r->name, i);
        *p = end;
    }
    return 1;
}

void keras_fixture_load(keras_fixture *f, const char *dir, const char *name)
{
    char file[160];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(file, sizeof file, "%s/%s.txt", dir, name);
    f->buf = test_read_file(test_fixture_path(file), NULL);
    int capacity = 0;
    char *p = f->buf;
    while (next_record(f, &p, &capacity, file))
        ;
}

const keras_record *keras_find(const keras_fixture *f, const char *name)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->r[i].name, name) == 0)
            return &f->r[i];
    return NULL;
}

const keras_record *keras_need(const keras_fixture *f, const char *name, size_t count)
{
    const keras_record *r = keras_find(f, name);
    ck_assert_msg(r && !r->text, "%s: no numeric record '%s'", f->name, name);
    ck_assert_msg(count == 0 || r->count == count, "%s: '%s' has %zu values, expected %zu",
                  f->name, name, r->count, count);
    return r;
}

const char *keras_need_text(const keras_fixture *f, const char *name)
{
    const keras_record *r = keras_find(f, name);
    ck_assert_msg(r && r->text, "%s: no text record '%s'", f->name, name);
    return r->text;
}

size_t keras_need_size(const keras_fixture *f, const char *name)
{
    return (size_t)keras_need(f, name, 1)->v[0];
}

float *keras_floats(const keras_record *r)
{
    float *out = malloc((r->count ? r->count : 1) * sizeof *out);
    ck_assert(out != NULL);
    for (size_t i = 0; i < r->count; i++)
        out[i] = (float)r->v[i]; /* exact: the scripts wrote float32 values */
    return out;
}

/* The tolerance of value i of ref: ERR_FACTOR times its error (err's one
 * value, or its i-th) plus FLOOR_ULP ulp of scale (the tensor's largest
 * |value|, or with one error per value |ref[i]|). */
static double tolerance(const keras_record *err, const keras_record *ref, size_t i, double scale)
{
    int each = err->count != 1;
    double e = err->v[each ? i : 0], s = each ? fabs(ref->v[i]) : scale;
    /* an all-zero tensor computed exactly leaves nothing to scale from:
     * then only (practically) exact values pass */
    return fmax(ERR_FACTOR * e + FLOOR_ULP * FLT_EPSILON * s, FLT_MIN);
}

keras_diff keras_compare(const keras_fixture *f, const char *name, const float *got, size_t n,
                         const char *what)
{
    char err_name[128];
    const keras_record *ref = keras_need(f, name, n);
    snprintf(err_name, sizeof err_name, "%s.err", name);
    const keras_record *err = keras_need(f, err_name, 0);
    ck_assert_msg(err->count == 1 || (n > 1 && err->count == n), "%s: %s has %zu values",
                  f->name, err_name, err->count);
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(ref->v[i]));
    keras_diff d = {0, 0, 0, tolerance(err, ref, 0, scale)};
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(isfinite(got[i]), "%s%s%s: %s[%zu] is %g", f->name, what ? ", " : "",
                      what ? what : "", name, i, (double)got[i]);
        double diff = fabs((double)got[i] - ref->v[i]), tol = tolerance(err, ref, i, scale);
        d.max_diff = fmax(d.max_diff, diff);
        if (diff / tol > d.ratio)
            d.ratio = diff / tol, d.at = i, d.tol = tol;
    }
    return d;
}

int keras_key_kinds(const keras_fixture *f, const char *record, const char *text, int max,
                    char store[][2][40], const char **keys, const char **kinds)
{
    int n = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, " "), colon = strcspn(p, ":");
        ck_assert_msg(n < max && colon < len && colon < 40 && len - colon <= 40,
                      "%s: bad %s word '%.*s'", f->name, record, (int)len, p);
        snprintf(store[n][0], 40, "%.*s", (int)colon, p);
        snprintf(store[n][1], 40, "%.*s", (int)(len - colon - 1), p + colon + 1);
        keys[n] = store[n][0];
        kinds[n] = store[n][1];
        n++;
        p += len;
        p += strspn(p, " ");
    }
    return n;
}

void keras_scale_largest_weight(clseq_model *m, float factor, clseq_variable_info *info,
                                size_t *at)
{
    int layer = 0;
    while (layer < clseq_layer_count(m) && clseq_variable_count(m, layer) == 0)
        layer++;
    ck_assert(layer < clseq_layer_count(m));
    float *v = test_get_variable(m, layer, 0, info);
    *at = 0;
    for (size_t i = 1; i < info->count; i++)
        if (fabsf(v[i]) > fabsf(v[*at]))
            *at = i;
    v[*at] *= factor;
    ck_assert_clseq_ok(clseq_set_variable(m, layer, 0, v));
    free(v);
}
