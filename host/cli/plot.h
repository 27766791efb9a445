/* Figures for the command-line tool, drawn with cairo into PNG files.
 *
 * Every function writes one PNG (white background, antialiased, axes with
 * "nice" ticks, a title and a legend or colour bar) and returns 0, or -1 with
 * a message naming the path and the fault (an argument, or cairo's status
 * string) in err[errlen]. NaN and infinite data values are skipped, never
 * drawn. The caller keeps ownership of every array it passes.
 */
#ifndef CLSEQ_CLI_PLOT_H
#define CLSEQ_CLI_PLOT_H

#include <stddef.h>

#include <cairo.h>

/* Decision boundary: a grid of predicted classes (grid_rows x grid_cols, row 0 at y_min, every
 * value in [0,classes)) over [x_min,x_max] x [y_min,y_max] as a light colour per class, with the
 * points (xy: n x 2 floats, labels: n ints in [0,classes)) on top in a darker shade of their class
 * colour with a thin outline; axes, ticks, axis labels, a title and a legend "class 0".."class C-1"
 * beside the frame (20 rows at most; the last then counts the classes left out). */
int plot_decision_boundary(const char *png_path, const char *title,
                           const int *grid_classes, int grid_rows, int grid_cols,
                           double x_min, double x_max, double y_min, double y_max,
                           const float *xy, const int *labels, size_t n, int classes,
                           char *err, size_t errlen);

/* Heat map of a rows x cols matrix (row-major), each cell annotated with its value ("%.2f")
 * when it fits, on a blue-white-red colour map centred on 0, with a colour bar, row labels from
 * row_names and column labels from col_names (either may be NULL: indices are used), and a title.
 * Used for a Dense layer's kernel (inputs x units) and bias (1 x units). */
int plot_heatmap(const char *png_path, const char *title, const float *values, int rows, int cols,
                 const char *const *row_names, const char *const *col_names,
                 char *err, size_t errlen);

/* Colour maps of the matrix figures. */
typedef enum plot_cmap {
    PLOT_CMAP_DIVERGING = 0, /* blue-white-red over [-m, m], m = max |value|: weights */
    PLOT_CMAP_SEQUENTIAL,    /* white to dark blue over [min(0, lo), hi]: counts */
    PLOT_CMAP_GREY           /* white to black over [min(0, lo), hi]: ink, pixels */
} plot_cmap;

/* How plot_heatmap_styled draws its matrix. */
typedef struct plot_heat_style {
    plot_cmap cmap;
    int decimals;                   /* digits after the point in each cell's annotation */
    const char *x_label, *y_label;  /* under the columns and left of the rows; NULL: none */
} plot_heat_style;

/* plot_heatmap with a choice of colour map, annotation and axis titles; plot_heatmap is this
 * with {PLOT_CMAP_DIVERGING, 2, NULL, NULL}. A confusion matrix is {PLOT_CMAP_SEQUENTIAL, 0,
 * "predicted", "true"}. */
int plot_heatmap_styled(const char *png_path, const char *title, const float *values, int rows,
                        int cols, const char *const *row_names, const char *const *col_names,
                        const plot_heat_style *style, char *err, size_t errlen);

/* A grid of small images (count of them, each height x width values row-major, one after the
 * other in `images`), per_row to a row, each with a caption under it (captions or any
 * captions[i] may be NULL: none), all on one colour scale; with colour_bar != 0 a colour bar
 * beside them. Used for a convolution's filters and for misclassified inputs. */
int plot_image_grid(const char *png_path, const char *title, const float *images, int count,
                    int height, int width, int per_row, const char *const *captions,
                    plot_cmap cmap, int colour_bar, char *err, size_t errlen);

/* Regression: scatter of data points (px, py: n) in a translucent colour, the fitted curve
 * (cx, cy: m points, joined by a line in the order given) and, if tx != NULL, the true curve
 * (tx, ty: tm points) dashed; axes with ticks and labels, a title and a legend ("data",
 * "model", "true") in the corner that hides the least data. n or m may be 0. */
int plot_regression(const char *png_path, const char *title,
                    const float *px, const float *py, size_t n,
                    const float *cx, const float *cy, size_t m,
                    const float *tx, const float *ty, size_t tm,
                    char *err, size_t errlen);

/* Training curves: one line per series (values[s][0..epochs), at most 20 series), names in a
 * legend (names or any names[s] may be NULL: "series s"), x = epoch (1-based), y autoscaled;
 * axes, ticks, title. A NaN value leaves a gap in its line. */
int plot_history(const char *png_path, const char *title, const float *const *values,
                 const char *const *names, int series, int epochs, char *err, size_t errlen);

/* ---- shared machinery of plot*.c (not for other callers) ------------- */

typedef struct plot_rgb {
    double r, g, b;
} plot_rgb;

/* An image surface and its drawing context; both NULL when not open. */
typedef struct plot_canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    int width, height;
} plot_canvas;

/* Ticks at first + i * step, i < count, printed with `decimals` digits. */
typedef struct plot_ticks {
    double first, step;
    int count, decimals;
} plot_ticks;

/* What a chart's axes show; the layout turns it into a plot_frame. */
typedef struct plot_axes_spec {
    const char *title, *x_label, *y_label;
    double x_min, x_max, y_min, y_max;
    int integer_x;        /* x ticks on whole numbers only (epochs) */
    int grid;             /* light grid lines behind the data */
    double right_reserve; /* pixels kept free right of the frame, for a legend */
} plot_axes_spec;

/* The data rectangle in pixels, the data range it shows and its ticks. */
typedef struct plot_frame {
    double left, top, width, height;
    double x_min, x_max, y_min, y_max;
    plot_ticks xt, yt;
    double canvas_width;
    const plot_axes_spec *spec;
} plot_frame;

/* How one series is drawn, in the chart and in its legend sample. */
typedef struct plot_style {
    plot_rgb colour;    /* line colour or point fill */
    double alpha;       /* opacity of the line or point */
    double line_width;  /* > 0: a line */
    int dashed;         /* the line is dashed */
    double radius;      /* > 0: a round marker */
    int outline;        /* a thin dark ring around the marker */
    int has_patch;      /* legend sample sits on a swatch of `patch` */
    plot_rgb patch;
} plot_style;

typedef struct plot_legend_entry {
    const char *label;
    plot_style style;
} plot_legend_entry;

/* Data the legend should not cover: points, or a polyline when line != 0. */
typedef struct plot_obstacle {
    const float *x, *y;
    size_t n;
    int line;
} plot_obstacle;

/* M_PI is not in strict C11 with only _POSIX_C_SOURCE. */
#define PLOT_PI 3.14159265358979323846

enum { PLOT_FONT_TICK = 12, PLOT_FONT_LABEL = 14, PLOT_FONT_TITLE = 18, PLOT_FONT_LEGEND = 13 };

/* Writes "path: message" into err (path may be NULL); always returns -1. */
int plot_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks the arguments every figure shares: a path and an error buffer. */
int plot_check_common(const char *path, char *err, size_t errlen);

/* Opens a white width x height canvas; on failure closes what it opened. */
int plot_canvas_open(plot_canvas *cv, int width, int height, const char *path,
                     char *err, size_t errlen);
/* Writes the canvas to path if ok != 0 (ok == 0 discards it), then frees it.
 * Returns -1 if cairo reported an error or the PNG could not be written.
 * Safe on a canvas that failed to open. */
int plot_canvas_close(plot_canvas *cv, int ok, const char *path, char *err, size_t errlen);
/* Encodes surface as PNG in memory and writes it to path with
 * clseq_write_file_atomic: a symbolic link is written through, a FIFO,
 * device or folder refused, and a crash never leaves half a file. 0, or -1
 * with the reason (naming path) in err[errlen]. */
int plot_write_png(cairo_surface_t *surface, const char *path, char *err, size_t errlen);

/* Text anchored at (x, y): ha 0/0.5/1 = left/centre/right, va 0/0.5/1 =
 * top/middle/baseline-bottom; angle in radians (counter-clockwise is negative y). */
void plot_text(cairo_t *cr, double x, double y, const char *s, double size, int bold,
               double ha, double va, double angle);
/* Width in pixels of s in the given font. */
double plot_text_width(cairo_t *cr, const char *s, double size, int bold);

/* Ticks covering [lo, hi] with a 1/2/5 x 10^k step at least min_step apart
 * (in data units); aims for about `target` ticks. */
plot_ticks plot_nice_ticks(double lo, double hi, double target, double min_step);
/* The next coarser 1/2/5 x 10^k step after `step`, recomputed over [lo, hi]. */
plot_ticks plot_coarser_ticks(plot_ticks t, double lo, double hi);
/* Tick i formatted into buf (a Unicode minus sign for negative values). */
void plot_tick_label(const plot_ticks *t, int i, char *buf, size_t len);
/* Extends [*lo, *hi] by `margin` of its width on both sides, widening empty ranges. */
void plot_pad_range(double *lo, double *hi, double margin);

/* Lays out a canvas-filling chart: margins, tick choices, the frame. */
void plot_layout(cairo_t *cr, int width, int height, const plot_axes_spec *spec,
                 plot_frame *f);
/* Pixel coordinates of a data point in the frame. */
double plot_px(const plot_frame *f, double x);
double plot_py(const plot_frame *f, double y);
/* Light grid lines at the ticks (call before drawing the data). */
void plot_draw_grid(cairo_t *cr, const plot_frame *f);
/* Frame, ticks, tick labels, axis labels and the title (call after the data). */
void plot_draw_axes(cairo_t *cr, const plot_frame *f);
/* Restricts drawing to the frame until cairo_restore(). */
void plot_clip_to_frame(cairo_t *cr, const plot_frame *f);

/* Categorical colours (tab10-like, then evenly spaced hues past ten). */
plot_rgb plot_class_colour(int k, int classes);
/* c blended towards white (t=1: white) or black (t=1: black). */
plot_rgb plot_lighter(plot_rgb c, double t);
plot_rgb plot_darker(plot_rgb c, double t);
void plot_set_rgb(cairo_t *cr, plot_rgb c, double alpha);

/* Draws a marker, honouring style radius/alpha/outline. */
void plot_draw_marker(cairo_t *cr, double x, double y, const plot_style *st);
/* Strokes the finite points of (x, y) as a polyline, breaking at NaNs. */
void plot_draw_polyline(cairo_t *cr, const plot_frame *f, const float *x, const float *y,
                        size_t n, const plot_style *st);

/* The range [*lo, *hi] (never empty) a colour map shows for n values. */
void plot_cmap_range(plot_cmap map, const float *v, size_t n, double *lo, double *hi);
/* The map's colour of v on [lo, hi] (clamped); grey for NaN. */
plot_rgb plot_cmap_colour(plot_cmap map, double v, double lo, double hi);
/* Near-black or white, whichever reads better on c. */
plot_rgb plot_ink_on(plot_rgb c);
/* Ticks for a colour bar `height` pixels tall showing [lo, hi]. */
plot_ticks plot_colour_bar_ticks(double lo, double hi, double height);
/* Width of a colour bar with these ticks, labels included. */
double plot_colour_bar_width(cairo_t *cr, const plot_ticks *t);
/* The bar with its top-left corner at (x, top), h pixels tall, ticks and labels right of it. */
void plot_draw_colour_bar(cairo_t *cr, plot_cmap map, double lo, double hi, const plot_ticks *t,
                          double x, double top, double h);
/* Width a title needs (0 for none): it may widen a picture up to 900 px. */
double plot_title_width(cairo_t *cr, const char *title);
/* A bold title centred on a picture `width` wide, shrunk to fit, baseline at y. */
void plot_draw_title_centred(cairo_t *cr, const char *title, double width, double baseline);

/* Size of a legend box for these entries. */
void plot_legend_size(cairo_t *cr, const plot_legend_entry *e, int n, double *w, double *h);
/* Draws the legend right of the frame (outside != 0) or in the frame corner
 * that covers the fewest obstacle points. */
void plot_draw_legend(cairo_t *cr, const plot_frame *f, const plot_legend_entry *e, int n,
                      int outside, const plot_obstacle *obs, int nobs);

#endif
