/* Heat map of a small matrix (a Dense layer's kernel or bias): annotated
 * cells on a diverging colour map centred on 0, and a colour bar. The image
 * is sized to the matrix rather than to a fixed canvas. */
#include "plot.h"

#include <math.h>
#include <stdio.h>

#define BAR_GAP 24.0   /* between the cells and the colour bar */
#define BAR_W 18.0     /* colour bar width */
#define TICK_LEN 5.0
#define TICK_GAP 4.0

/* ColorBrewer RdBu, reversed so negative is blue and positive red, with
 * near-white at 0; t in [-1, 1] is value / max |value|. */
static const double cmap_stops[5][4] = {
    {-1.0, 0.020, 0.188, 0.380}, {-0.5, 0.263, 0.576, 0.765}, {0.0, 0.969, 0.969, 0.969},
    {0.5, 0.839, 0.376, 0.302},  {1.0, 0.404, 0.000, 0.122},
};

static plot_rgb diverging(double t)
{
    int i = 0;
    double u;

    t = fmax(-1.0, fmin(1.0, t));
    while (i < 3 && t > cmap_stops[i + 1][0])
        i++;
    u = (t - cmap_stops[i][0]) / (cmap_stops[i + 1][0] - cmap_stops[i][0]);
    return (plot_rgb){cmap_stops[i][1] + u * (cmap_stops[i + 1][1] - cmap_stops[i][1]),
                      cmap_stops[i][2] + u * (cmap_stops[i + 1][2] - cmap_stops[i][2]),
                      cmap_stops[i][3] + u * (cmap_stops[i + 1][3] - cmap_stops[i][3])};
}

typedef struct heat_layout {
    int width, height;
    double cell, left, top; /* the cells start at (left, top) */
    double vmax;            /* the colour map spans [-vmax, vmax] */
    plot_ticks bar;
    int row_every, col_every; /* label every n-th row / column when crowded */
} heat_layout;

static void name_of(const char *const *names, int i, char *buf, size_t len)
{
    if (names != NULL && names[i] != NULL)
        snprintf(buf, len, "%s", names[i]);
    else
        snprintf(buf, len, "%d", i);
}

static double max_name_width(cairo_t *cr, const char *const *names, int n)
{
    char buf[128];
    double w = 0.0;

    for (int i = 0; i < n; i++) {
        name_of(names, i, buf, sizeof buf);
        w = fmax(w, plot_text_width(cr, buf, PLOT_FONT_TICK, 0));
    }
    return w;
}

static double bar_label_width(cairo_t *cr, const plot_ticks *t)
{
    char buf[64];
    double w = 0.0;

    for (int i = 0; i < t->count; i++) {
        plot_tick_label(t, i, buf, sizeof buf);
        w = fmax(w, plot_text_width(cr, buf, PLOT_FONT_TICK, 0));
    }
    return w;
}

/* Measures with a scratch surface: the image size depends on text widths. */
static void heat_measure(cairo_t *cr, const char *title, const float *v, int rows, int cols,
                         const char *const *rn, const char *const *cn, heat_layout *L)
{
    double grid_h, right, title_w, content_w, col_w;

    L->vmax = 0.0;
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
        if (isfinite(v[i]))
            L->vmax = fmax(L->vmax, fabs(v[i]));
    if (!(L->vmax > 0.0))
        L->vmax = 1.0; /* all zero or all NaN: any symmetric scale will do */
    /* Square cells, big enough for "-0.00" but so a big matrix still fits. */
    L->cell = floor(fmax(4.0, fmin(110.0, fmin(440.0 / cols, 330.0 / rows))));
    grid_h = L->cell * rows;
    L->bar = plot_nice_ticks(-L->vmax, L->vmax, grid_h / 40.0, 0.0);
    while (L->bar.count > 2 && L->bar.step / (2.0 * L->vmax) * grid_h < 1.8 * PLOT_FONT_TICK)
        L->bar = plot_coarser_ticks(L->bar, -L->vmax, L->vmax);
    col_w = max_name_width(cr, cn, cols);
    L->row_every = (int)ceil(PLOT_FONT_TICK * 1.4 / L->cell);
    L->col_every = (int)ceil((col_w + 8.0) / L->cell);
    L->left = ceil(20.0 + max_name_width(cr, rn, rows) + 8.0);
    L->top = 18.0 + ((title != NULL && title[0] != '\0') ? PLOT_FONT_TITLE + 16.0 : 0.0);
    right = BAR_GAP + BAR_W + TICK_LEN + TICK_GAP + bar_label_width(cr, &L->bar) + 20.0;
    content_w = L->left + L->cell * cols + right;
    /* Up to 900 px, a long title widens the picture; past that it is shrunk. */
    title_w = title != NULL ? plot_text_width(cr, title, PLOT_FONT_TITLE, 1) + 40.0 : 0.0;
    title_w = fmin(title_w, 900.0);
    /* A title wider than the picture widens it; the content stays centred. */
    if (title_w > content_w)
        L->left += floor((title_w - content_w) / 2.0);
    L->width = (int)ceil(fmax(content_w, title_w));
    L->height = (int)ceil(L->top + grid_h + 8.0 + PLOT_FONT_TICK + 20.0);
}

static void draw_cells(cairo_t *cr, const heat_layout *L, const float *v, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float x = v[(size_t)r * (size_t)cols + (size_t)c];
            /* NaN has no colour on the map: a neutral grey marks it. */
            plot_rgb col = isfinite(x) ? diverging(x / L->vmax) : (plot_rgb){0.8, 0.8, 0.8};
            plot_set_rgb(cr, col, 1.0);
            cairo_rectangle(cr, L->left + c * L->cell, L->top + r * L->cell, L->cell, L->cell);
            cairo_fill(cr);
        }
    if (L->cell >= 12.0) {
        /* Thin white gaps tell neighbouring cells of similar colour apart. */
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 1.0);
        for (int r = 1; r < rows; r++) {
            cairo_move_to(cr, L->left, L->top + r * L->cell);
            cairo_rel_line_to(cr, L->cell * cols, 0.0);
        }
        for (int c = 1; c < cols; c++) {
            cairo_move_to(cr, L->left + c * L->cell, L->top);
            cairo_rel_line_to(cr, 0.0, L->cell * rows);
        }
        cairo_stroke(cr);
    }
}

/* Each value printed in its cell, white on dark colours, when it fits. */
static void annotate_cells(cairo_t *cr, const heat_layout *L, const float *v, int rows, int cols)
{
    double size = fmin(15.0, L->cell * 0.28);
    char buf[32];

    if (L->cell < 30.0)
        return; /* text under ~8 px would be noise, not numbers */
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float x = v[(size_t)r * (size_t)cols + (size_t)c];
            double t = isfinite(x) ? fabs(x / L->vmax) : 0.0, grey;
            if (!isfinite(x))
                snprintf(buf, sizeof buf, "nan");
            else /* values that round to zero print as 0.00, not -0.00 */
                snprintf(buf, sizeof buf, "%.2f", fabs(x) < 0.005 ? 0.0 : (double)x);
            if (plot_text_width(cr, buf, size, 0) > L->cell - 6.0)
                continue;
            grey = t > 0.55 ? 1.0 : 0.1;
            cairo_set_source_rgb(cr, grey, grey, grey);
            plot_text(cr, L->left + (c + 0.5) * L->cell, L->top + (r + 0.5) * L->cell, buf, size,
                      0, 0.5, 0.5, 0.0);
        }
}

static void draw_names(cairo_t *cr, const heat_layout *L, int rows, int cols,
                       const char *const *rn, const char *const *cn)
{
    double bottom = L->top + L->cell * rows;
    char buf[128];

    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int r = 0; r < rows; r += L->row_every) {
        name_of(rn, r, buf, sizeof buf);
        plot_text(cr, L->left - 8.0, L->top + (r + 0.5) * L->cell, buf, PLOT_FONT_TICK, 0, 1.0,
                  0.5, 0.0);
    }
    for (int c = 0; c < cols; c += L->col_every) {
        name_of(cn, c, buf, sizeof buf);
        plot_text(cr, L->left + (c + 0.5) * L->cell, bottom + 8.0, buf, PLOT_FONT_TICK, 0, 0.5,
                  0.0, 0.0);
    }
}

static void draw_colour_bar(cairo_t *cr, const heat_layout *L, int rows, int cols)
{
    double x = L->left + L->cell * cols + BAR_GAP, top = L->top, h = L->cell * rows;
    cairo_pattern_t *grad = cairo_pattern_create_linear(0.0, top + h, 0.0, top);
    char buf[64];

    /* The same stops as diverging(), so the bar matches the cells exactly. */
    for (int i = 0; i < 5; i++)
        cairo_pattern_add_color_stop_rgb(grad, (cmap_stops[i][0] + 1.0) / 2.0, cmap_stops[i][1],
                                         cmap_stops[i][2], cmap_stops[i][3]);
    cairo_rectangle(cr, x, top, BAR_W, h);
    cairo_set_source(cr, grad);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x + 0.5, top + 0.5, BAR_W - 1.0, h - 1.0);
    cairo_stroke(cr);
    for (int i = 0; i < L->bar.count; i++) {
        double v = (round(L->bar.first / L->bar.step) + i) * L->bar.step;
        double y = floor(top + h - (v + L->vmax) / (2.0 * L->vmax) * h) + 0.5;
        cairo_move_to(cr, x + BAR_W, y);
        cairo_rel_line_to(cr, TICK_LEN, 0.0);
        cairo_stroke(cr);
        plot_tick_label(&L->bar, i, buf, sizeof buf);
        plot_text(cr, x + BAR_W + TICK_LEN + TICK_GAP, y, buf, PLOT_FONT_TICK, 0, 0.0, 0.5, 0.0);
    }
}

static void draw_title(cairo_t *cr, const heat_layout *L, const char *title)
{
    double size = PLOT_FONT_TITLE, w;

    if (title == NULL || title[0] == '\0')
        return;
    w = plot_text_width(cr, title, size, 1);
    if (w > L->width - 20.0)
        size *= (L->width - 20.0) / w;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    plot_text(cr, L->width / 2.0, L->top - 16.0, title, size, 1, 0.5, 1.0, 0.0);
}

static int check_heatmap(const char *path, const float *values, int rows, int cols, char *err,
                         size_t errlen)
{
    if (plot_check_common(path, err, errlen) != 0)
        return -1;
    if (values == NULL)
        return plot_fail(err, errlen, path, "values is NULL");
    if (rows <= 0 || cols <= 0)
        return plot_fail(err, errlen, path, "the matrix must be non-empty, got %dx%d", rows,
                         cols);
    /* Past this the cells would be under 4 px and the picture unreadable. */
    if (rows > 256 || cols > 256)
        return plot_fail(err, errlen, path, "a %dx%d matrix is too big for a heat map (max 256)",
                         rows, cols);
    return 0;
}

int plot_heatmap(const char *png_path, const char *title, const float *values, int rows, int cols,
                 const char *const *row_names, const char *const *col_names,
                 char *err, size_t errlen)
{
    plot_canvas cv;
    heat_layout L;

    if (check_heatmap(png_path, values, rows, cols, err, errlen) != 0
        || plot_canvas_open(&cv, 1, 1, png_path, err, errlen) != 0)
        return -1;
    /* A scratch canvas measures the text; the real one is sized from it. */
    heat_measure(cv.cr, title, values, rows, cols, row_names, col_names, &L);
    if (plot_canvas_close(&cv, 0, png_path, err, errlen) != 0
        || plot_canvas_open(&cv, L.width, L.height, png_path, err, errlen) != 0)
        return -1;
    draw_cells(cv.cr, &L, values, rows, cols);
    cairo_set_source_rgb(cv.cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cv.cr, 1.0);
    cairo_rectangle(cv.cr, L.left + 0.5, L.top + 0.5, L.cell * cols - 1.0, L.cell * rows - 1.0);
    cairo_stroke(cv.cr);
    annotate_cells(cv.cr, &L, values, rows, cols);
    draw_names(cv.cr, &L, rows, cols, row_names, col_names);
    draw_colour_bar(cv.cr, &L, rows, cols);
    draw_title(cv.cr, &L, title);
    return plot_canvas_close(&cv, 1, png_path, err, errlen);
}
