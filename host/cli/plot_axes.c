/* Shared machinery of the figures: the canvas, text, nice ticks, the layout
 * of a chart and its axes. The figures themselves live in plot.c and
 * plot_heatmap.c; legends, colours and markers in plot_legend.c. */
#include "plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/fileio.h"

#define TICK_LEN 5.0   /* outward tick marks, pixels */
#define TICK_GAP 4.0   /* between a tick mark and its label */
#define MAX_TICKS 200  /* more than this means a degenerate range */

int plot_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        int used = snprintf(err, errlen, "%s: ", path != NULL ? path : "(no path)");
        if (used >= 0 && (size_t)used < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + used, errlen - (size_t)used, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

int plot_check_common(const char *path, char *err, size_t errlen)
{
    if (path == NULL || path[0] == '\0')
        return plot_fail(err, errlen, path, "the PNG path is empty");
    return 0;
}

int plot_canvas_open(plot_canvas *cv, int width, int height, const char *path,
                     char *err, size_t errlen)
{
    cairo_status_t st;

    cv->width = width;
    cv->height = height;
    cv->cr = NULL;
    /* RGB24: the background is opaque white, so an alpha channel would only
     * make the PNG bigger. */
    cv->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    st = cairo_surface_status(cv->surface);
    if (st == CAIRO_STATUS_SUCCESS) {
        cv->cr = cairo_create(cv->surface);
        st = cairo_status(cv->cr);
    }
    if (st != CAIRO_STATUS_SUCCESS) {
        plot_canvas_close(cv, 0, path, NULL, 0);
        return plot_fail(err, errlen, path, "cannot create a %dx%d canvas: %s", width, height,
                         cairo_status_to_string(st));
    }
    cairo_set_source_rgb(cv->cr, 1, 1, 1);
    cairo_paint(cv->cr);
    return 0;
}

/* The PNG as cairo streams it, gathered in memory. */
typedef struct png_buffer {
    unsigned char *data;
    size_t size, capacity;
} png_buffer;

static cairo_status_t png_append(void *closure, const unsigned char *data, unsigned int length)
{
    png_buffer *b = closure;
    if (length > b->capacity - b->size) {
        size_t capacity = b->capacity ? b->capacity : 64 * 1024;
        while (length > capacity - b->size) {
            if (capacity > SIZE_MAX / 2)
                return CAIRO_STATUS_NO_MEMORY;
            capacity *= 2;
        }
        unsigned char *grown = realloc(b->data, capacity);
        if (grown == NULL)
            return CAIRO_STATUS_NO_MEMORY;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, data, length);
    b->size += length;
    return CAIRO_STATUS_SUCCESS;
}

int plot_write_png(cairo_surface_t *surface, const char *path, char *err, size_t errlen)
{
    /* cairo_surface_write_to_png would fopen the path: follow a link into a
     * FIFO or device, and leave half a picture after a crash. The same bytes
     * (cairo's encoder either way) go through the library's atomic writer. */
    png_buffer b = {NULL, 0, 0};
    cairo_status_t st = cairo_surface_write_to_png_stream(surface, png_append, &b);
    int rc = 0;
    if (st != CAIRO_STATUS_SUCCESS)
        rc = plot_fail(err, errlen, path, "cannot write the PNG: %s", cairo_status_to_string(st));
    else if (clseq_write_file_atomic(path, b.data, b.size) != CLSEQ_OK) {
        /* the library's message already names the path */
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s", clseq_last_error());
        rc = -1;
    }
    free(b.data);
    return rc;
}

int plot_canvas_close(plot_canvas *cv, int ok, const char *path, char *err, size_t errlen)
{
    cairo_status_t st = CAIRO_STATUS_SUCCESS;

    if (cv->cr != NULL) {
        st = cairo_status(cv->cr);
        cairo_destroy(cv->cr);
        cv->cr = NULL;
    }
    if (cv->surface != NULL) {
        if (st == CAIRO_STATUS_SUCCESS)
            st = cairo_surface_status(cv->surface);
        if (ok && st == CAIRO_STATUS_SUCCESS) {
            cairo_surface_flush(cv->surface);
            int rc = plot_write_png(cv->surface, path, err, errlen);
            cairo_surface_destroy(cv->surface);
            cv->surface = NULL;
            return rc;
        }
        cairo_surface_destroy(cv->surface);
        cv->surface = NULL;
    }
    if (st != CAIRO_STATUS_SUCCESS)
        return plot_fail(err, errlen, path, "drawing failed: %s", cairo_status_to_string(st));
    return 0;
}

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double plot_text_width(cairo_t *cr, const char *s, double size, int bold)
{
    cairo_text_extents_t te;

    set_font(cr, size, bold);
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

void plot_text(cairo_t *cr, double x, double y, const char *s, double size, int bold,
               double ha, double va, double angle)
{
    cairo_text_extents_t te, digit;

    if (s == NULL || s[0] == '\0')
        return;
    set_font(cr, size, bold);
    cairo_text_extents(cr, s, &te);
    /* Vertical placement uses the height of a digit, not of this string, so
     * labels with and without descenders ("epoch", "x0") share a baseline. */
    cairo_text_extents(cr, "0", &digit);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_move_to(cr, -ha * te.x_advance, -digit.y_bearing * (1.0 - va));
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

/* Smallest 1/2/5 x 10^k that is >= raw (raw > 0). */
static double nice_step(double raw)
{
    double mag = pow(10.0, floor(log10(raw)));
    double m = raw / mag;

    /* The tolerance keeps 0.1 (stored as 0.1000...01) from becoming 0.2. */
    if (m <= 1.0 + 1e-9)
        return mag;
    if (m <= 2.0 + 1e-9)
        return 2.0 * mag;
    if (m <= 5.0 + 1e-9)
        return 5.0 * mag;
    return 10.0 * mag;
}

static plot_ticks ticks_with_step(double lo, double hi, double step)
{
    plot_ticks t = {0.0, step, 0, 0};
    double k0, n;

    if (!(step > 0.0) || !isfinite(lo) || !isfinite(hi) || !(hi >= lo))
        return t;
    k0 = ceil(lo / step - 1e-9);
    n = floor(hi / step + 1e-9) - k0 + 1.0;
    if (!(n >= 1.0) || n > MAX_TICKS)
        return t;
    t.first = k0 * step;
    t.count = (int)n;
    t.decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (t.decimals > 12)
        t.decimals = 12;
    return t;
}

plot_ticks plot_nice_ticks(double lo, double hi, double target, double min_step)
{
    double raw;

    if (target < 1.0)
        target = 1.0;
    raw = (hi - lo) / target;
    if (raw < min_step)
        raw = min_step;
    if (!(raw > 0.0) || !isfinite(raw))
        return ticks_with_step(lo, hi, 0.0);
    return ticks_with_step(lo, hi, nice_step(raw));
}

plot_ticks plot_coarser_ticks(plot_ticks t, double lo, double hi)
{
    /* 1 -> 2 -> 5 -> 10: the smallest nice step above this one. */
    return ticks_with_step(lo, hi, nice_step(t.step * 1.5));
}

void plot_tick_label(const plot_ticks *t, int i, char *buf, size_t len)
{
    /* Index from the step, not by repeated addition, so 0.1 * 3 prints as 0.3. */
    double v = (round(t->first / t->step) + i) * t->step;
    char tmp[64];

    if (fabs(v) < t->step * 1e-6)
        v = 0.0; /* never "-0.0" */
    if (fabs(v) >= 1e6 || t->step < 1e-5)
        snprintf(tmp, sizeof tmp, "%g", v);
    else
        snprintf(tmp, sizeof tmp, "%.*f", t->decimals, v);
    /* A real minus sign (U+2212) is as wide as a digit, like printed tables. */
    if (tmp[0] == '-')
        snprintf(buf, len, "\xe2\x88\x92%s", tmp + 1);
    else
        snprintf(buf, len, "%s", tmp);
}

void plot_pad_range(double *lo, double *hi, double margin)
{
    double w = *hi - *lo;

    if (!(w > 0.0)) {
        /* One value: show it in the middle of a range that still has ticks. */
        double half = fabs(*lo) > 0.0 ? fabs(*lo) * 0.1 : 0.5;
        *lo -= half;
        *hi += half;
        return;
    }
    *lo -= w * margin;
    *hi += w * margin;
}

static double tick_value(const plot_ticks *t, int i)
{
    return (round(t->first / t->step) + i) * t->step;
}

static double max_label_width(cairo_t *cr, const plot_ticks *t)
{
    char buf[64];
    double w = 0.0;

    for (int i = 0; i < t->count; i++) {
        double lw;
        plot_tick_label(t, i, buf, sizeof buf);
        lw = plot_text_width(cr, buf, PLOT_FONT_TICK, 0);
        if (lw > w)
            w = lw;
    }
    return w;
}

/* y ticks about 55 px apart, never closer than two lines of text. */
static plot_ticks choose_y_ticks(const plot_axes_spec *s, double height)
{
    plot_ticks t = plot_nice_ticks(s->y_min, s->y_max, height / 55.0, 0.0);

    while (t.count > 1 && t.step / (s->y_max - s->y_min) * height < 2.2 * PLOT_FONT_TICK)
        t = plot_coarser_ticks(t, s->y_min, s->y_max);
    return t;
}

/* x ticks about 90 px apart (60 for whole numbers, so ten epochs get a tick
 * each), coarser until the widest label fits between two. */
static plot_ticks choose_x_ticks(cairo_t *cr, const plot_axes_spec *s, double width)
{
    double target = width / (s->integer_x ? 60.0 : 90.0);
    plot_ticks t = plot_nice_ticks(s->x_min, s->x_max, target, s->integer_x ? 1.0 : 0.0);

    while (t.count > 1
           && t.step / (s->x_max - s->x_min) * width < max_label_width(cr, &t) + 18.0)
        t = plot_coarser_ticks(t, s->x_min, s->x_max);
    return t;
}

void plot_layout(cairo_t *cr, int width, int height, const plot_axes_spec *spec, plot_frame *f)
{
    double top = 18.0, bottom = 16.0 + TICK_LEN + TICK_GAP + PLOT_FONT_TICK;
    double left = 16.0 + TICK_LEN + TICK_GAP, right = 24.0;

    if (spec->title != NULL && spec->title[0] != '\0')
        top += PLOT_FONT_TITLE + 14.0;
    if (spec->x_label != NULL && spec->x_label[0] != '\0')
        bottom += PLOT_FONT_LABEL + 10.0;
    if (spec->y_label != NULL && spec->y_label[0] != '\0')
        left += PLOT_FONT_LABEL + 10.0;
    if (spec->right_reserve > 0.0)
        right += spec->right_reserve;
    f->spec = spec;
    f->canvas_width = width;
    f->x_min = spec->x_min;
    f->x_max = spec->x_max;
    f->y_min = spec->y_min;
    f->y_max = spec->y_max;
    f->top = top;
    f->height = floor(height - top - bottom);
    f->yt = choose_y_ticks(spec, f->height);
    /* The left margin depends on the widest y label, so y ticks come first. */
    f->left = ceil(left + max_label_width(cr, &f->yt));
    f->width = floor(width - f->left - right);
    f->xt = choose_x_ticks(cr, spec, f->width);
}

double plot_px(const plot_frame *f, double x)
{
    return f->left + (x - f->x_min) / (f->x_max - f->x_min) * f->width;
}

double plot_py(const plot_frame *f, double y)
{
    return f->top + f->height - (y - f->y_min) / (f->y_max - f->y_min) * f->height;
}

void plot_clip_to_frame(cairo_t *cr, const plot_frame *f)
{
    cairo_save(cr);
    cairo_rectangle(cr, f->left, f->top, f->width, f->height);
    cairo_clip(cr);
}

/* Pixel positions are snapped to half pixels so 1 px lines stay sharp. */
static double crisp(double v)
{
    return floor(v) + 0.5;
}

void plot_draw_grid(cairo_t *cr, const plot_frame *f)
{
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.91, 0.91, 0.91);
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < f->xt.count; i++) {
        double x = crisp(plot_px(f, tick_value(&f->xt, i)));
        cairo_move_to(cr, x, f->top);
        cairo_line_to(cr, x, f->top + f->height);
    }
    for (int i = 0; i < f->yt.count; i++) {
        double y = crisp(plot_py(f, tick_value(&f->yt, i)));
        cairo_move_to(cr, f->left, y);
        cairo_line_to(cr, f->left + f->width, y);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void draw_ticks(cairo_t *cr, const plot_frame *f)
{
    double bottom = f->top + f->height;
    char buf[64];

    for (int i = 0; i < f->xt.count; i++) {
        double x = crisp(plot_px(f, tick_value(&f->xt, i)));
        cairo_move_to(cr, x, bottom);
        cairo_line_to(cr, x, bottom + TICK_LEN);
        cairo_stroke(cr);
        plot_tick_label(&f->xt, i, buf, sizeof buf);
        plot_text(cr, x, bottom + TICK_LEN + TICK_GAP, buf, PLOT_FONT_TICK, 0, 0.5, 0.0, 0.0);
    }
    for (int i = 0; i < f->yt.count; i++) {
        double y = crisp(plot_py(f, tick_value(&f->yt, i)));
        cairo_move_to(cr, f->left, y);
        cairo_line_to(cr, f->left - TICK_LEN, y);
        cairo_stroke(cr);
        plot_tick_label(&f->yt, i, buf, sizeof buf);
        plot_text(cr, f->left - TICK_LEN - TICK_GAP, y, buf, PLOT_FONT_TICK, 0, 1.0, 0.5, 0.0);
    }
}

/* The title centred over the frame, or over the picture and in a smaller
 * font when it is too long for that. */
static void draw_title(cairo_t *cr, const plot_frame *f, const char *title)
{
    double size = PLOT_FONT_TITLE, x = f->left + f->width / 2.0, w;

    if (title == NULL || title[0] == '\0')
        return;
    w = plot_text_width(cr, title, size, 1);
    if (w > f->width) {
        x = f->canvas_width / 2.0;
        if (w > f->canvas_width - 20.0)
            size *= (f->canvas_width - 20.0) / w;
    }
    plot_text(cr, x, f->top - 14.0, title, size, 1, 0.5, 1.0, 0.0);
}

void plot_draw_axes(cairo_t *cr, const plot_frame *f)
{
    const plot_axes_spec *s = f->spec;
    double cx = f->left + f->width / 2.0, cy = f->top + f->height / 2.0;

    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, crisp(f->left), crisp(f->top), floor(f->width), floor(f->height));
    cairo_stroke(cr);
    draw_ticks(cr, f);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    draw_title(cr, f, s->title);
    plot_text(cr, cx, f->top + f->height + TICK_LEN + TICK_GAP + PLOT_FONT_TICK + 10.0,
              s->x_label, PLOT_FONT_LABEL, 0, 0.5, 0.0, 0.0);
    /* The y label reads bottom to top, its top edge towards the page edge. */
    plot_text(cr, 16.0, cy, s->y_label, PLOT_FONT_LABEL, 0, 0.5, 0.0, -PLOT_PI / 2.0);
    cairo_restore(cr);
}
