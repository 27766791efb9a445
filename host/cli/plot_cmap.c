/* Colour maps and colour bars of the matrix figures (heat maps and image
 * grids), and the centred title those figures share. */
#include "plot.h"

#include <math.h>
#include <stdio.h>

#define BAR_W 18.0 /* colour bar width */
#define TICK_LEN 5.0
#define TICK_GAP 4.0

/* A map as colour stops {position in [0, 1], r, g, b}. */
typedef struct cmap_stops {
    int count;
    double stop[5][4];
} cmap_stops;

static const cmap_stops maps[] = {
    /* ColorBrewer RdBu reversed: negative blue, positive red, near-white at 0. */
    [PLOT_CMAP_DIVERGING] = {5, {{0.0, 0.020, 0.188, 0.380}, {0.25, 0.263, 0.576, 0.765},
                                 {0.5, 0.969, 0.969, 0.969}, {0.75, 0.839, 0.376, 0.302},
                                 {1.0, 0.404, 0.000, 0.122}}},
    /* ColorBrewer Blues: counts, from white at 0 to dark blue. */
    [PLOT_CMAP_SEQUENTIAL] = {5, {{0.0, 0.969, 0.984, 1.000}, {0.25, 0.776, 0.859, 0.937},
                                  {0.5, 0.420, 0.682, 0.839}, {0.75, 0.129, 0.443, 0.710},
                                  {1.0, 0.031, 0.188, 0.420}}},
    /* Ink on paper, as scikit-learn draws its digits (matplotlib's gray_r). */
    [PLOT_CMAP_GREY] = {2, {{0.0, 1.0, 1.0, 1.0}, {1.0, 0.0, 0.0, 0.0}}},
};

void plot_cmap_range(plot_cmap map, const float *v, size_t n, double *lo, double *hi)
{
    double mn = INFINITY, mx = -INFINITY;

    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            mn = fmin(mn, v[i]);
            mx = fmax(mx, v[i]);
        }
    if (!(mn <= mx))
        mn = mx = 0.0; /* all NaN: any range will do */
    if (map == PLOT_CMAP_DIVERGING) {
        /* Symmetric, so white always means 0 and colours compare across signs. */
        *hi = fmax(fabs(mn), fabs(mx));
        *lo = -*hi;
    } else {
        /* From 0 (blank paper, no counts) unless the data go below it. */
        *lo = fmin(0.0, mn);
        *hi = mx;
    }
    if (!(*hi > *lo))
        *hi = *lo + 1.0;
}

plot_rgb plot_cmap_colour(plot_cmap map, double v, double lo, double hi)
{
    const cmap_stops *m = &maps[map];
    double t, u;
    int i = 0;

    if (!isfinite(v))
        return (plot_rgb){0.8, 0.8, 0.8}; /* NaN has no colour on any map */
    t = fmax(0.0, fmin(1.0, (v - lo) / (hi - lo)));
    while (i < m->count - 2 && t > m->stop[i + 1][0])
        i++;
    u = (t - m->stop[i][0]) / (m->stop[i + 1][0] - m->stop[i][0]);
    return (plot_rgb){m->stop[i][1] + u * (m->stop[i + 1][1] - m->stop[i][1]),
                      m->stop[i][2] + u * (m->stop[i + 1][2] - m->stop[i][2]),
                      m->stop[i][3] + u * (m->stop[i + 1][3] - m->stop[i][3])};
}

plot_rgb plot_ink_on(plot_rgb c)
{
    /* Rec. 709 luma: white text from mid-dark colours on. */
    double luma = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    return luma < 0.5 ? (plot_rgb){1.0, 1.0, 1.0} : (plot_rgb){0.1, 0.1, 0.1};
}

plot_ticks plot_colour_bar_ticks(double lo, double hi, double height)
{
    plot_ticks t = plot_nice_ticks(lo, hi, height / 40.0, 0.0);

    /* Labels at least 1.8 lines apart, so they never touch. */
    while (t.count > 2 && t.step / (hi - lo) * height < 1.8 * PLOT_FONT_TICK)
        t = plot_coarser_ticks(t, lo, hi);
    return t;
}

double plot_colour_bar_width(cairo_t *cr, const plot_ticks *t)
{
    char buf[64];
    double w = 0.0;

    for (int i = 0; i < t->count; i++) {
        plot_tick_label(t, i, buf, sizeof buf);
        w = fmax(w, plot_text_width(cr, buf, PLOT_FONT_TICK, 0));
    }
    return BAR_W + TICK_LEN + TICK_GAP + w;
}

void plot_draw_colour_bar(cairo_t *cr, plot_cmap map, double lo, double hi, const plot_ticks *t,
                          double x, double top, double h)
{
    cairo_pattern_t *grad = cairo_pattern_create_linear(0.0, top + h, 0.0, top);
    const cmap_stops *m = &maps[map];
    char buf[64];

    /* The map's own stops, so the bar matches the cells exactly. */
    for (int i = 0; i < m->count; i++)
        cairo_pattern_add_color_stop_rgb(grad, m->stop[i][0], m->stop[i][1], m->stop[i][2],
                                         m->stop[i][3]);
    cairo_rectangle(cr, x, top, BAR_W, h);
    cairo_set_source(cr, grad);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x + 0.5, top + 0.5, BAR_W - 1.0, h - 1.0);
    cairo_stroke(cr);
    for (int i = 0; i < t->count; i++) {
        double v = (round(t->first / t->step) + i) * t->step;
        double y = floor(top + h - (v - lo) / (hi - lo) * h) + 0.5;
        cairo_move_to(cr, x + BAR_W, y);
        cairo_rel_line_to(cr, TICK_LEN, 0.0);
        cairo_stroke(cr);
        plot_tick_label(t, i, buf, sizeof buf);
        plot_text(cr, x + BAR_W + TICK_LEN + TICK_GAP, y, buf, PLOT_FONT_TICK, 0, 0.0, 0.5, 0.0);
    }
}

double plot_title_width(cairo_t *cr, const char *title)
{
    if (title == NULL || title[0] == '\0')
        return 0.0;
    /* Up to 900 px a long title widens its picture; past that it is shrunk. */
    return fmin(plot_text_width(cr, title, PLOT_FONT_TITLE, 1) + 40.0, 900.0);
}

void plot_draw_title_centred(cairo_t *cr, const char *title, double width, double baseline)
{
    double size = PLOT_FONT_TITLE, w;

    if (title == NULL || title[0] == '\0')
        return;
    w = plot_text_width(cr, title, size, 1);
    if (w > width - 20.0)
        size *= (width - 20.0) / w;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    plot_text(cr, width / 2.0, baseline, title, size, 1, 0.5, 1.0, 0.0);
}
