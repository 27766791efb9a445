/* Colours, markers, lines and legends shared by the figures. */
#include "plot.h"

#include <math.h>

#define LEGEND_PAD 8.0     /* inside the legend box */
#define LEGEND_SAMPLE 28.0 /* width of a line or marker sample */
#define LEGEND_INSET 10.0  /* from the frame to a legend inside it */

/* The ten categorical colours of matplotlib's "tab10", so class colours look
 * like the Keras tutorial's pictures. */
static const unsigned char tab10[10][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
};

/* Hue in [0,1) at fixed saturation and value, for more classes than tab10 has. */
static plot_rgb from_hue(double h)
{
    double s = 0.65, v = 0.85, f = h * 6.0 - floor(h * 6.0);
    double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));

    switch ((int)floor(h * 6.0) % 6) {
    case 0: return (plot_rgb){v, t, p};
    case 1: return (plot_rgb){q, v, p};
    case 2: return (plot_rgb){p, v, t};
    case 3: return (plot_rgb){p, q, v};
    case 4: return (plot_rgb){t, p, v};
    default: return (plot_rgb){v, p, q};
    }
}

plot_rgb plot_class_colour(int k, int classes)
{
    if (classes <= 10 && k >= 0 && k < 10)
        return (plot_rgb){tab10[k][0] / 255.0, tab10[k][1] / 255.0, tab10[k][2] / 255.0};
    return from_hue(classes > 0 ? (double)k / classes : 0.0);
}

plot_rgb plot_lighter(plot_rgb c, double t)
{
    return (plot_rgb){c.r + (1 - c.r) * t, c.g + (1 - c.g) * t, c.b + (1 - c.b) * t};
}

plot_rgb plot_darker(plot_rgb c, double t)
{
    return (plot_rgb){c.r * (1 - t), c.g * (1 - t), c.b * (1 - t)};
}

void plot_set_rgb(cairo_t *cr, plot_rgb c, double alpha)
{
    cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

void plot_draw_marker(cairo_t *cr, double x, double y, const plot_style *st)
{
    if (!(st->radius > 0.0))
        return;
    cairo_new_path(cr);
    cairo_arc(cr, x, y, st->radius, 0.0, 2.0 * PLOT_PI);
    plot_set_rgb(cr, st->colour, st->alpha);
    if (!st->outline) {
        cairo_fill(cr);
        return;
    }
    cairo_fill_preserve(cr);
    /* A thin near-black ring keeps overlapping points apart. */
    cairo_set_source_rgba(cr, 0.0, 0.0, 0.0, 0.65);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
}

static void set_line_style(cairo_t *cr, const plot_style *st)
{
    static const double dash[2] = {7.0, 4.0};

    plot_set_rgb(cr, st->colour, st->alpha);
    cairo_set_line_width(cr, st->line_width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, st->dashed ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
    cairo_set_dash(cr, dash, st->dashed ? 2 : 0, 0.0);
}

void plot_draw_polyline(cairo_t *cr, const plot_frame *f, const float *x, const float *y,
                        size_t n, const plot_style *st)
{
    int pen_down = 0;

    if (!(st->line_width > 0.0))
        return;
    cairo_save(cr);
    set_line_style(cr, st);
    cairo_new_path(cr);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            pen_down = 0; /* a gap, not a line across the missing value */
            continue;
        }
        if (pen_down)
            cairo_line_to(cr, plot_px(f, x[i]), plot_py(f, y[i]));
        else
            cairo_move_to(cr, plot_px(f, x[i]), plot_py(f, y[i]));
        pen_down = 1;
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

static double row_height(void)
{
    return PLOT_FONT_LEGEND * 1.55;
}

void plot_legend_size(cairo_t *cr, const plot_legend_entry *e, int n, double *w, double *h)
{
    double label_w = 0.0;

    for (int i = 0; i < n; i++) {
        double lw = plot_text_width(cr, e[i].label, PLOT_FONT_LEGEND, 0);
        if (lw > label_w)
            label_w = lw;
    }
    *w = ceil(2.0 * LEGEND_PAD + LEGEND_SAMPLE + 8.0 + label_w);
    *h = ceil(2.0 * LEGEND_PAD + n * row_height() - (row_height() - PLOT_FONT_LEGEND) * 0.5);
}

static void draw_sample(cairo_t *cr, double x, double y, const plot_style *st)
{
    double mid = x + LEGEND_SAMPLE / 2.0;

    if (st->has_patch) {
        plot_set_rgb(cr, st->patch, 1.0);
        cairo_rectangle(cr, x + 3.0, y - 7.0, LEGEND_SAMPLE - 6.0, 14.0);
        cairo_fill(cr);
    }
    if (st->line_width > 0.0) {
        cairo_save(cr);
        set_line_style(cr, st);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + LEGEND_SAMPLE, y);
        cairo_stroke(cr);
        cairo_restore(cr);
    }
    if (st->radius > 0.0) {
        /* A translucent scatter marker is shown opaque enough to read. */
        plot_style big = *st;
        big.radius = st->radius < 3.5 ? 3.5 : st->radius;
        big.alpha = st->alpha < 0.6 ? 0.6 : st->alpha;
        plot_draw_marker(cr, mid, y, &big);
    }
}

static void rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x + w - r, y + r, r, -PLOT_PI / 2.0, 0.0);
    cairo_arc(cr, x + w - r, y + h - r, r, 0.0, PLOT_PI / 2.0);
    cairo_arc(cr, x + r, y + h - r, r, PLOT_PI / 2.0, PLOT_PI);
    cairo_arc(cr, x + r, y + r, r, PLOT_PI, 1.5 * PLOT_PI);
    cairo_close_path(cr);
}

typedef struct box {
    double x, y, w, h;
} box;

static int inside(const box *b, double x, double y)
{
    return x >= b->x && x <= b->x + b->w && y >= b->y && y <= b->y + b->h;
}

/* Samples of the segment (x0,y0)-(x1,y1), every 2 px, that fall in the box,
 * so a line crossing the box counts even when no vertex lies inside. */
static double segment_hits(const box *b, double x0, double y0, double x1, double y1)
{
    double steps = ceil(hypot(x1 - x0, y1 - y0) / 2.0), hits = 0.0;

    if (steps > 10000.0)
        steps = 10000.0;
    for (double s = 1.0; s <= steps; s += 1.0)
        hits += inside(b, x0 + (x1 - x0) * s / steps, y0 + (y1 - y0) * s / steps);
    return hits;
}

static double covered(const plot_frame *f, const plot_obstacle *o, const box *b)
{
    double count = 0.0, px0 = 0.0, py0 = 0.0;
    int have_prev = 0;

    for (size_t i = 0; i < o->n; i++) {
        double px, py;
        if (!isfinite(o->x[i]) || !isfinite(o->y[i])) {
            have_prev = 0;
            continue;
        }
        px = plot_px(f, o->x[i]);
        py = plot_py(f, o->y[i]);
        if (o->line && have_prev)
            count += segment_hits(b, px0, py0, px, py);
        else
            count += inside(b, px, py);
        px0 = px;
        py0 = py;
        have_prev = 1;
    }
    return count;
}

/* matplotlib's "best": the candidate spot that hides the fewest data. */
static void best_spot(const plot_frame *f, const plot_obstacle *obs, int nobs, double w,
                      double h, double *bx, double *by)
{
    double l = f->left + LEGEND_INSET, r = f->left + f->width - LEGEND_INSET - w;
    double t = f->top + LEGEND_INSET, b = f->top + f->height - LEGEND_INSET - h;
    double cxs = (l + r) / 2.0, cys = (t + b) / 2.0;
    /* Corners first: with equal cover, a corner is the conventional place. */
    const double spots[8][2] = {{r, t}, {l, t}, {l, b}, {r, b},
                                {r, cys}, {l, cys}, {cxs, b}, {cxs, t}};
    double best = -1.0;

    for (int s = 0; s < 8; s++) {
        /* A little slack around the box: data touching its edge is hidden too. */
        box bx4 = {spots[s][0] - 4.0, spots[s][1] - 4.0, w + 8.0, h + 8.0};
        double c = 0.0;
        for (int k = 0; k < nobs; k++)
            c += covered(f, &obs[k], &bx4);
        if (best < 0.0 || c < best) {
            best = c;
            *bx = spots[s][0];
            *by = spots[s][1];
        }
    }
}

void plot_draw_legend(cairo_t *cr, const plot_frame *f, const plot_legend_entry *e, int n,
                      int outside, const plot_obstacle *obs, int nobs)
{
    double w, h, x = 0.0, y = 0.0;

    if (n <= 0)
        return;
    plot_legend_size(cr, e, n, &w, &h);
    if (outside) {
        x = f->left + f->width + 16.0;
        y = f->top;
    } else {
        best_spot(f, obs, nobs, w, h, &x, &y);
    }
    x = floor(x) + 0.5;
    y = floor(y) + 0.5;
    cairo_save(cr);
    rounded_rect(cr, x, y, w, h, 4.0);
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.9);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.78, 0.78, 0.78);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        double ry = y + LEGEND_PAD + PLOT_FONT_LEGEND * 0.5 + i * row_height();
        draw_sample(cr, x + LEGEND_PAD, ry, &e[i].style);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, x + LEGEND_PAD + LEGEND_SAMPLE + 8.0, ry, e[i].label, PLOT_FONT_LEGEND, 0,
                  0.0, 0.5, 0.0);
    }
    cairo_restore(cr);
}
