/* The x-y figures: decision boundary, regression and training history.
 * Each validates its arguments, opens a canvas, draws data before axes (so
 * the frame and ticks stay on top) and closes the canvas on one path. */
#include "plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FIG_W 800
#define FIG_H 600
#define BOUNDARY_W 720 /* with the legend beside it, the frame comes out nearly square */
#define LEGEND_MAX_ROWS 20 /* more classes than this are summarised in one row */

/* The finite extent of the points (x[i], y[i]) merged into the ranges;
 * ranges start as lo = +inf, hi = -inf. */
static void extend_xy(const float *x, const float *y, size_t n, double xr[2], double yr[2])
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        xr[0] = fmin(xr[0], x[i]);
        xr[1] = fmax(xr[1], x[i]);
        yr[0] = fmin(yr[0], y[i]);
        yr[1] = fmax(yr[1], y[i]);
    }
}

/* ---- decision boundary ------------------------------------------------ */

static int check_ints(const int *v, size_t n, int classes, const char *what, const char *path,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0 || v[i] >= classes)
            return plot_fail(err, errlen, path, "%s[%zu] = %d is not a class in [0, %d)", what,
                             i, v[i], classes);
    return 0;
}

static int check_boundary(const char *path, const int *grid, int rows, int cols,
                          const double r[4], const float *xy, const int *labels, size_t n,
                          int classes, char *err, size_t errlen)
{
    if (plot_check_common(path, err, errlen) != 0)
        return -1;
    if (grid == NULL || rows <= 0 || cols <= 0)
        return plot_fail(err, errlen, path, "the class grid must be non-empty, got %s %dx%d",
                         grid == NULL ? "NULL" : "size", rows, cols);
    for (int i = 0; i < 4; i++)
        if (!isfinite(r[i]))
            return plot_fail(err, errlen, path, "the grid range must be finite");
    if (!(r[0] < r[1]) || !(r[2] < r[3]))
        return plot_fail(err, errlen, path, "empty grid range [%g,%g] x [%g,%g]", r[0], r[1],
                         r[2], r[3]);
    if (n > 0 && (xy == NULL || labels == NULL))
        return plot_fail(err, errlen, path, "%zu points but no coordinates or labels", n);
    if (n > SIZE_MAX / 2)
        return plot_fail(err, errlen, path, "too many points: %zu", n);
    if (classes <= 0)
        return plot_fail(err, errlen, path, "classes must be > 0, got %d", classes);
    if (check_ints(grid, (size_t)rows * (size_t)cols, classes, "grid", path, err, errlen) != 0)
        return -1;
    return check_ints(labels, n, classes, "labels", path, err, errlen);
}

/* Each row of the grid as runs of one class, with edges on whole pixels so
 * neighbouring cells meet without antialiased seams. */
static void draw_class_grid(cairo_t *cr, const plot_frame *f, const int *grid, int rows,
                            int cols, int classes)
{
    double bottom = f->top + f->height;

    for (int r = 0; r < rows; r++) {
        double y0 = round(bottom - (double)(r + 1) * f->height / rows);
        double y1 = round(bottom - (double)r * f->height / rows);
        const int *row = grid + (size_t)r * (size_t)cols;
        int c0 = 0;
        if (y1 <= y0)
            continue; /* more rows than pixels: this one is not visible */
        for (int c = 1; c <= cols; c++) {
            double x0, x1;
            if (c < cols && row[c] == row[c0])
                continue;
            x0 = round(f->left + (double)c0 * f->width / cols);
            x1 = round(f->left + (double)c * f->width / cols);
            plot_set_rgb(cr, plot_lighter(plot_class_colour(row[c0], classes), 0.68), 1.0);
            cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
            cairo_fill(cr);
            c0 = c;
        }
    }
}

static plot_style point_style(int k, int classes)
{
    plot_style st = {0};

    st.colour = plot_darker(plot_class_colour(k, classes), 0.12);
    st.alpha = 0.9;
    st.radius = 3.2;
    st.outline = 1;
    st.has_patch = 1;
    st.patch = plot_lighter(plot_class_colour(k, classes), 0.68);
    return st;
}

/* "class 0".."class C-1"; past LEGEND_MAX_ROWS the last row says how many
 * are left out. `names` holds the label text. */
static int class_legend(plot_legend_entry *e, char names[][32], int classes)
{
    int n = classes <= LEGEND_MAX_ROWS ? classes : LEGEND_MAX_ROWS;

    for (int k = 0; k < n; k++) {
        snprintf(names[k], 32, "class %d", k);
        e[k].label = names[k];
        e[k].style = point_style(k, classes);
    }
    if (classes > LEGEND_MAX_ROWS) {
        snprintf(names[n - 1], 32, "(%d more)", classes - (n - 1));
        e[n - 1].style = (plot_style){0};
    }
    return n;
}

int plot_decision_boundary(const char *png_path, const char *title,
                           const int *grid_classes, int grid_rows, int grid_cols,
                           double x_min, double x_max, double y_min, double y_max,
                           const float *xy, const int *labels, size_t n, int classes,
                           char *err, size_t errlen)
{
    const double range[4] = {x_min, x_max, y_min, y_max};
    plot_axes_spec spec = {title, "feature 0", "feature 1", x_min, x_max, y_min, y_max, 0, 0, 0};
    plot_legend_entry entries[LEGEND_MAX_ROWS];
    char names[LEGEND_MAX_ROWS][32];
    plot_canvas cv;
    plot_frame f;
    double lw, lh;
    int nleg;

    if (check_boundary(png_path, grid_classes, grid_rows, grid_cols, range, xy, labels, n,
                       classes, err, errlen) != 0
        || plot_canvas_open(&cv, BOUNDARY_W, FIG_H, png_path, err, errlen) != 0)
        return -1;
    /* The grid fills the whole frame, so the legend goes beside it. */
    nleg = class_legend(entries, names, classes);
    plot_legend_size(cv.cr, entries, nleg, &lw, &lh);
    spec.right_reserve = lw + 16.0;
    plot_layout(cv.cr, BOUNDARY_W, FIG_H, &spec, &f);
    draw_class_grid(cv.cr, &f, grid_classes, grid_rows, grid_cols, classes);
    plot_clip_to_frame(cv.cr, &f);
    for (size_t i = 0; i < n; i++) {
        plot_style st = point_style(labels[i], classes);
        double x = plot_px(&f, xy[2 * i]), y = plot_py(&f, xy[2 * i + 1]);
        /* Points far outside the grid are not drawn: the clip would hide
         * them anyway, and huge coordinates overflow cairo's fixed point. */
        if (fabs(x - f.left - f.width / 2.0) < f.width
            && fabs(y - f.top - f.height / 2.0) < f.height)
            plot_draw_marker(cv.cr, x, y, &st);
    }
    cairo_restore(cv.cr);
    plot_draw_axes(cv.cr, &f);
    plot_draw_legend(cv.cr, &f, entries, nleg, 1, NULL, 0);
    return plot_canvas_close(&cv, 1, png_path, err, errlen);
}

/* ---- regression ------------------------------------------------------- */

static int check_regression(const char *path, const float *px, const float *py, size_t n,
                            const float *cx, const float *cy, size_t m, const float *tx,
                            const float *ty, char *err, size_t errlen)
{
    if (plot_check_common(path, err, errlen) != 0)
        return -1;
    if (n > 0 && (px == NULL || py == NULL))
        return plot_fail(err, errlen, path, "%zu data points but px or py is NULL", n);
    if (m > 0 && (cx == NULL || cy == NULL))
        return plot_fail(err, errlen, path, "%zu model points but cx or cy is NULL", m);
    if (tx != NULL && ty == NULL)
        return plot_fail(err, errlen, path, "a true curve needs both tx and ty");
    return 0;
}

int plot_regression(const char *png_path, const char *title,
                    const float *px, const float *py, size_t n,
                    const float *cx, const float *cy, size_t m,
                    const float *tx, const float *ty, size_t tm,
                    char *err, size_t errlen)
{
    plot_style data = {{0.12, 0.47, 0.71}, 0.35, 0.0, 0, 2.6, 0, 0, {0, 0, 0}};
    plot_style model = {{0.84, 0.15, 0.16}, 1.0, 2.5, 0, 0.0, 0, 0, {0, 0, 0}};
    plot_style truth = {{0.1, 0.1, 0.1}, 0.85, 1.6, 1, 0.0, 0, 0, {0, 0, 0}};
    plot_legend_entry entries[3] = {{"data", data}, {"model", model}, {"true", truth}};
    double xr[2] = {INFINITY, -INFINITY}, yr[2] = {INFINITY, -INFINITY};
    plot_axes_spec spec = {title, "x", "y", 0, 0, 0, 0, 0, 1, 0};
    plot_obstacle obs[3] = {{px, py, n, 0}, {cx, cy, m, 1}, {tx, ty, tx != NULL ? tm : 0, 1}};
    plot_canvas cv;
    plot_frame f;

    if (check_regression(png_path, px, py, n, cx, cy, m, tx, ty, err, errlen) != 0)
        return -1;
    extend_xy(px, py, n, xr, yr);
    extend_xy(cx, cy, m, xr, yr);
    extend_xy(tx, ty, obs[2].n, xr, yr);
    if (!(xr[0] <= xr[1]))
        return plot_fail(err, errlen, png_path, "no finite points to plot");
    if (plot_canvas_open(&cv, FIG_W, FIG_H, png_path, err, errlen) != 0)
        return -1;
    plot_pad_range(&xr[0], &xr[1], 0.04);
    plot_pad_range(&yr[0], &yr[1], 0.06);
    spec.x_min = xr[0];
    spec.x_max = xr[1];
    spec.y_min = yr[0];
    spec.y_max = yr[1];
    plot_layout(cv.cr, FIG_W, FIG_H, &spec, &f);
    plot_draw_grid(cv.cr, &f);
    plot_clip_to_frame(cv.cr, &f);
    for (size_t i = 0; i < n; i++)
        if (isfinite(px[i]) && isfinite(py[i]))
            plot_draw_marker(cv.cr, plot_px(&f, px[i]), plot_py(&f, py[i]), &data);
    plot_draw_polyline(cv.cr, &f, cx, cy, m, &model);
    /* The dashed true curve goes on top so it shows where the model matches it. */
    plot_draw_polyline(cv.cr, &f, tx, ty, obs[2].n, &truth);
    cairo_restore(cv.cr);
    plot_draw_axes(cv.cr, &f);
    plot_draw_legend(cv.cr, &f, entries, tx != NULL ? 3 : 2, 0, obs, 3);
    return plot_canvas_close(&cv, 1, png_path, err, errlen);
}

/* ---- training history ------------------------------------------------- */

static int check_history(const char *path, const float *const *values, int series, int epochs,
                         char *err, size_t errlen)
{
    if (plot_check_common(path, err, errlen) != 0)
        return -1;
    if (values == NULL || series <= 0 || epochs <= 0)
        return plot_fail(err, errlen, path, "need >= 1 series of >= 1 epochs, got %d x %d%s",
                         series, epochs, values == NULL ? " (values is NULL)" : "");
    if (series > LEGEND_MAX_ROWS)
        return plot_fail(err, errlen, path, "at most %d series, got %d", LEGEND_MAX_ROWS,
                         series);
    for (int s = 0; s < series; s++)
        if (values[s] == NULL)
            return plot_fail(err, errlen, path, "series %d has no values", s);
    return 0;
}

static plot_style series_style(int s, int series, int epochs)
{
    plot_style st = {0};

    st.colour = plot_class_colour(s, series);
    st.alpha = 1.0;
    st.line_width = 2.0;
    /* Markers show where the measurements are, while there are few of them. */
    st.radius = epochs <= 40 ? 3.5 : 0.0;
    return st;
}

int plot_history(const char *png_path, const char *title, const float *const *values,
                 const char *const *names, int series, int epochs, char *err, size_t errlen)
{
    plot_axes_spec spec = {title, "epoch", NULL, 1.0, (double)epochs, 0.0, 0.0, 1, 1, 0};
    plot_legend_entry entries[LEGEND_MAX_ROWS];
    plot_obstacle obs[LEGEND_MAX_ROWS];
    char fallback[LEGEND_MAX_ROWS][32];
    double xr[2] = {INFINITY, -INFINITY}, yr[2] = {INFINITY, -INFINITY};
    plot_canvas cv;
    float *ex = NULL;
    plot_frame f;
    int rc = -1;

    if (check_history(png_path, values, series, epochs, err, errlen) != 0)
        return -1;
    ex = malloc((size_t)epochs * sizeof *ex);
    if (ex == NULL) {
        plot_fail(err, errlen, png_path, "out of memory for %d epochs", epochs);
        goto done;
    }
    for (int e = 0; e < epochs; e++)
        ex[e] = (float)(e + 1);
    for (int s = 0; s < series; s++) {
        const char *name = names != NULL ? names[s] : NULL;
        snprintf(fallback[s], sizeof fallback[s], "series %d", s);
        entries[s].label = name != NULL ? name : fallback[s];
        entries[s].style = series_style(s, series, epochs);
        obs[s] = (plot_obstacle){ex, values[s], (size_t)epochs, 1};
        extend_xy(ex, values[s], (size_t)epochs, xr, yr);
    }
    if (!(yr[0] <= yr[1])) {
        plot_fail(err, errlen, png_path, "no finite values to plot");
        goto done;
    }
    if (plot_canvas_open(&cv, FIG_W, FIG_H, png_path, err, errlen) != 0)
        goto done;
    /* With one series its name is the y axis; with several the legend says. */
    spec.y_label = series == 1 ? entries[0].label : NULL;
    plot_pad_range(&spec.x_min, &spec.x_max, 0.03);
    spec.y_min = yr[0];
    spec.y_max = yr[1];
    plot_pad_range(&spec.y_min, &spec.y_max, 0.06);
    plot_layout(cv.cr, FIG_W, FIG_H, &spec, &f);
    plot_draw_grid(cv.cr, &f);
    plot_clip_to_frame(cv.cr, &f);
    for (int s = 0; s < series; s++) {
        plot_draw_polyline(cv.cr, &f, ex, values[s], (size_t)epochs, &entries[s].style);
        for (int e = 0; e < epochs; e++)
            if (isfinite(values[s][e]))
                plot_draw_marker(cv.cr, plot_px(&f, ex[e]), plot_py(&f, values[s][e]),
                                 &entries[s].style);
    }
    cairo_restore(cv.cr);
    plot_draw_axes(cv.cr, &f);
    plot_draw_legend(cv.cr, &f, entries, series, 0, obs, series);
    rc = plot_canvas_close(&cv, 1, png_path, err, errlen);
done:
    free(ex);
    return rc;
}
