/* Heat map of a small matrix (a Dense layer's kernel or bias, a confusion
 * matrix): annotated cells on a colour map, optional axis titles, and a
 * colour bar. The image is sized to the matrix rather than to a fixed
 * canvas. */
#include "plot.h"

#include <math.h>
#include <stdio.h>

#define BAR_GAP 24.0 /* between the cells and the colour bar */
#define NAME_GAP 8.0 /* between the cells and the row / column names */

typedef struct heat_layout {
    int width, height;
    double cell, left, top; /* the cells start at (left, top) */
    double lo, hi;          /* the colour map's range */
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

static int has_text(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Measures with a scratch surface: the image size depends on text widths. */
static void heat_measure(cairo_t *cr, const char *title, const float *v, int rows, int cols,
                         const char *const *rn, const char *const *cn,
                         const plot_heat_style *st, heat_layout *L)
{
    double grid_h, right, title_w, content_w, col_w;

    plot_cmap_range(st->cmap, v, (size_t)rows * (size_t)cols, &L->lo, &L->hi);
    /* Square cells, big enough for "-0.00" but so a big matrix still fits. */
    L->cell = floor(fmax(4.0, fmin(110.0, fmin(440.0 / cols, 440.0 / rows))));
    grid_h = L->cell * rows;
    L->bar = plot_colour_bar_ticks(L->lo, L->hi, grid_h);
    col_w = max_name_width(cr, cn, cols);
    L->row_every = (int)ceil(PLOT_FONT_TICK * 1.4 / L->cell);
    L->col_every = (int)ceil((col_w + 8.0) / L->cell);
    L->left = ceil(20.0 + (has_text(st->y_label) ? PLOT_FONT_LABEL + 10.0 : 0.0) +
                   max_name_width(cr, rn, rows) + NAME_GAP);
    L->top = 18.0 + (has_text(title) ? PLOT_FONT_TITLE + 16.0 : 0.0);
    right = BAR_GAP + plot_colour_bar_width(cr, &L->bar) + 20.0;
    content_w = L->left + L->cell * cols + right;
    title_w = plot_title_width(cr, title);
    /* A title wider than the picture widens it; the content stays centred. */
    if (title_w > content_w)
        L->left += floor((title_w - content_w) / 2.0);
    L->width = (int)ceil(fmax(content_w, title_w));
    L->height = (int)ceil(L->top + grid_h + NAME_GAP + PLOT_FONT_TICK + 20.0 +
                          (has_text(st->x_label) ? PLOT_FONT_LABEL + 10.0 : 0.0));
}

static void draw_cells(cairo_t *cr, const heat_layout *L, const float *v, int rows, int cols,
                       plot_cmap map)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float x = v[(size_t)r * (size_t)cols + (size_t)c];
            plot_set_rgb(cr, plot_cmap_colour(map, x, L->lo, L->hi), 1.0);
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

/* Each value printed in its cell, in ink that reads on the cell's colour,
 * when it fits. */
static void annotate_cells(cairo_t *cr, const heat_layout *L, const float *v, int rows, int cols,
                           const plot_heat_style *st)
{
    double size = fmin(15.0, L->cell * 0.28), zero = 0.5 * pow(10.0, -st->decimals);
    char buf[32];

    if (L->cell < 30.0)
        return; /* text under ~8 px would be noise, not numbers */
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float x = v[(size_t)r * (size_t)cols + (size_t)c];
            if (!isfinite(x))
                snprintf(buf, sizeof buf, "nan");
            else /* values that round to zero print as 0.00, not -0.00 */
                snprintf(buf, sizeof buf, "%.*f", st->decimals, fabs(x) < zero ? 0.0 : (double)x);
            if (plot_text_width(cr, buf, size, 0) > L->cell - 6.0)
                continue;
            plot_set_rgb(cr, plot_ink_on(plot_cmap_colour(st->cmap, x, L->lo, L->hi)), 1.0);
            plot_text(cr, L->left + (c + 0.5) * L->cell, L->top + (r + 0.5) * L->cell, buf, size,
                      0, 0.5, 0.5, 0.0);
        }
}

static void draw_names(cairo_t *cr, const heat_layout *L, int rows, int cols,
                       const char *const *rn, const char *const *cn, const plot_heat_style *st)
{
    double bottom = L->top + L->cell * rows;
    char buf[128];

    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int r = 0; r < rows; r += L->row_every) {
        name_of(rn, r, buf, sizeof buf);
        plot_text(cr, L->left - NAME_GAP, L->top + (r + 0.5) * L->cell, buf, PLOT_FONT_TICK, 0,
                  1.0, 0.5, 0.0);
    }
    for (int c = 0; c < cols; c += L->col_every) {
        name_of(cn, c, buf, sizeof buf);
        plot_text(cr, L->left + (c + 0.5) * L->cell, bottom + NAME_GAP, buf, PLOT_FONT_TICK, 0,
                  0.5, 0.0, 0.0);
    }
    /* Axis titles centred on the cells, outside the names. */
    plot_text(cr, L->left + L->cell * cols / 2.0, bottom + NAME_GAP + PLOT_FONT_TICK + 10.0,
              st->x_label, PLOT_FONT_LABEL, 0, 0.5, 0.0, 0.0);
    plot_text(cr, 20.0, L->top + L->cell * rows / 2.0, st->y_label, PLOT_FONT_LABEL, 0, 0.5, 0.0,
              -PLOT_PI / 2.0);
}

static int check_heatmap(const char *path, const float *values, int rows, int cols,
                         const plot_heat_style *st, char *err, size_t errlen)
{
    if (plot_check_common(path, err, errlen) != 0)
        return -1;
    if (values == NULL || st == NULL)
        return plot_fail(err, errlen, path, "%s is NULL", values == NULL ? "values" : "style");
    if (rows <= 0 || cols <= 0)
        return plot_fail(err, errlen, path, "the matrix must be non-empty, got %dx%d", rows,
                         cols);
    /* Past this the cells would be under 4 px and the picture unreadable. */
    if (rows > 256 || cols > 256)
        return plot_fail(err, errlen, path, "a %dx%d matrix is too big for a heat map (max 256)",
                         rows, cols);
    if ((unsigned)st->cmap > PLOT_CMAP_GREY || st->decimals < 0 || st->decimals > 6)
        return plot_fail(err, errlen, path, "bad style: colour map %d, %d decimals",
                         (int)st->cmap, st->decimals);
    return 0;
}

int plot_heatmap_styled(const char *png_path, const char *title, const float *values, int rows,
                        int cols, const char *const *row_names, const char *const *col_names,
                        const plot_heat_style *style, char *err, size_t errlen)
{
    plot_canvas cv;
    heat_layout L;

    if (check_heatmap(png_path, values, rows, cols, style, err, errlen) != 0
        || plot_canvas_open(&cv, 1, 1, png_path, err, errlen) != 0)
        return -1;
    /* A scratch canvas measures the text; the real one is sized from it. */
    heat_measure(cv.cr, title, values, rows, cols, row_names, col_names, style, &L);
    if (plot_canvas_close(&cv, 0, png_path, err, errlen) != 0
        || plot_canvas_open(&cv, L.width, L.height, png_path, err, errlen) != 0)
        return -1;
    draw_cells(cv.cr, &L, values, rows, cols, style->cmap);
    cairo_set_source_rgb(cv.cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cv.cr, 1.0);
    cairo_rectangle(cv.cr, L.left + 0.5, L.top + 0.5, L.cell * cols - 1.0, L.cell * rows - 1.0);
    cairo_stroke(cv.cr);
    annotate_cells(cv.cr, &L, values, rows, cols, style);
    draw_names(cv.cr, &L, rows, cols, row_names, col_names, style);
    plot_draw_colour_bar(cv.cr, style->cmap, L.lo, L.hi, &L.bar, L.left + L.cell * cols + BAR_GAP,
                         L.top, L.cell * rows);
    plot_draw_title_centred(cv.cr, title, L.width, L.top - 16.0);
    return plot_canvas_close(&cv, 1, png_path, err, errlen);
}

int plot_heatmap(const char *png_path, const char *title, const float *values, int rows, int cols,
                 const char *const *row_names, const char *const *col_names,
                 char *err, size_t errlen)
{
    const plot_heat_style weights = {PLOT_CMAP_DIVERGING, 2, NULL, NULL};

    return plot_heatmap_styled(png_path, title, values, rows, cols, row_names, col_names,
                               &weights, err, errlen);
}
