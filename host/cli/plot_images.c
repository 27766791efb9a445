/* A grid of small images on one colour scale, each with a caption: a
 * convolution's filters, or the inputs a model got wrong. Sized to its
 * contents, like the heat map, and built from the same colour maps, colour
 * bar and title. */
#include "plot.h"

#include <math.h>
#include <stdio.h>

#define MARGIN 20.0
#define GAP 16.0         /* between neighbouring tiles */
#define CAPTION_GAP 6.0  /* between an image and its caption */
#define BAR_GAP 24.0     /* between the last column and the colour bar */
#define MAX_SIDE 64      /* larger images belong in a picture of their own */
#define MAX_IMAGES 256

typedef struct grid_layout {
    int width, height, columns, rows;
    double pixel;            /* one image pixel, in picture pixels */
    double image_w, image_h; /* one image */
    double tile_w, tile_h;   /* an image, its caption and the gap after them */
    double left, top;
    double lo, hi;           /* the colour map's range */
    plot_ticks bar;
} grid_layout;

static const char *caption_of(const char *const *captions, int i)
{
    return captions != NULL ? captions[i] : NULL;
}

static void grid_measure(cairo_t *cr, const char *title, const float *images, int count,
                         int height, int width, int per_row, const char *const *captions,
                         plot_cmap cmap, int colour_bar, grid_layout *L)
{
    double caption_w = 0.0, content_w, title_w;

    plot_cmap_range(cmap, images, (size_t)count * (size_t)height * (size_t)width, &L->lo,
                    &L->hi);
    /* About 80 px an image: a 3x3 filter and an 8x8 digit both read at a glance. */
    L->pixel = floor(fmax(4.0, fmin(24.0, 80.0 / (height > width ? height : width))));
    L->image_w = L->pixel * width;
    L->image_h = L->pixel * height;
    for (int i = 0; i < count; i++) {
        const char *c = caption_of(captions, i);
        if (c != NULL)
            caption_w = fmax(caption_w, plot_text_width(cr, c, PLOT_FONT_TICK, 0));
    }
    L->columns = per_row < count ? per_row : count;
    L->rows = (count + L->columns - 1) / L->columns;
    L->tile_w = ceil(fmax(L->image_w, caption_w)) + GAP;
    L->tile_h = L->image_h + CAPTION_GAP + PLOT_FONT_TICK + GAP;
    L->left = MARGIN;
    L->top = 18.0 + ((title != NULL && title[0] != '\0') ? PLOT_FONT_TITLE + 16.0 : 0.0);
    content_w = L->left + L->columns * L->tile_w - GAP + MARGIN;
    if (colour_bar) {
        L->bar = plot_colour_bar_ticks(L->lo, L->hi, L->rows * L->tile_h - GAP);
        content_w += BAR_GAP + plot_colour_bar_width(cr, &L->bar);
    }
    title_w = plot_title_width(cr, title);
    /* A title wider than the picture widens it; the content stays centred. */
    if (title_w > content_w)
        L->left += floor((title_w - content_w) / 2.0);
    L->width = (int)ceil(fmax(content_w, title_w));
    L->height = (int)ceil(L->top + L->rows * L->tile_h - GAP + MARGIN);
}

/* Image i at (x, y): one square per pixel, a thin frame, the caption. */
static void draw_tile(cairo_t *cr, const grid_layout *L, const float *image, int height,
                      int width, const char *caption, plot_cmap cmap, double x, double y)
{
    for (int r = 0; r < height; r++)
        for (int c = 0; c < width; c++) {
            plot_set_rgb(cr, plot_cmap_colour(cmap, image[r * width + c], L->lo, L->hi), 1.0);
            cairo_rectangle(cr, x + c * L->pixel, y + r * L->pixel, L->pixel, L->pixel);
            cairo_fill(cr);
        }
    /* Grey, not black: the frame marks the image's edge without looking like ink. */
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x - 0.5, y - 0.5, L->image_w + 1.0, L->image_h + 1.0);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    plot_text(cr, x + L->image_w / 2.0, y + L->image_h + CAPTION_GAP, caption, PLOT_FONT_TICK, 0,
              0.5, 0.0, 0.0);
}

static int check_grid(const char *path, const float *images, int count, int height, int width,
                      int per_row, plot_cmap cmap, char *err, size_t errlen)
{
    if (plot_check_common(path, err, errlen) != 0)
        return -1;
    if (images == NULL || count <= 0 || count > MAX_IMAGES)
        return plot_fail(err, errlen, path, "need 1 to %d images, got %d%s", MAX_IMAGES, count,
                         images == NULL ? " (images is NULL)" : "");
    if (height <= 0 || width <= 0 || height > MAX_SIDE || width > MAX_SIDE)
        return plot_fail(err, errlen, path, "images must be 1x1 to %dx%d, got %dx%d", MAX_SIDE,
                         MAX_SIDE, height, width);
    if (per_row <= 0)
        return plot_fail(err, errlen, path, "per_row must be > 0, got %d", per_row);
    if ((unsigned)cmap > PLOT_CMAP_GREY)
        return plot_fail(err, errlen, path, "unknown colour map %d", (int)cmap);
    return 0;
}

int plot_image_grid(const char *png_path, const char *title, const float *images, int count,
                    int height, int width, int per_row, const char *const *captions,
                    plot_cmap cmap, int colour_bar, char *err, size_t errlen)
{
    plot_canvas cv;
    grid_layout L;

    if (check_grid(png_path, images, count, height, width, per_row, cmap, err, errlen) != 0
        || plot_canvas_open(&cv, 1, 1, png_path, err, errlen) != 0)
        return -1;
    /* A scratch canvas measures the captions; the real one is sized from it. */
    grid_measure(cv.cr, title, images, count, height, width, per_row, captions, cmap, colour_bar,
                 &L);
    if (plot_canvas_close(&cv, 0, png_path, err, errlen) != 0
        || plot_canvas_open(&cv, L.width, L.height, png_path, err, errlen) != 0)
        return -1;
    for (int i = 0; i < count; i++) {
        /* Centred in its tile, so a caption wider than the image stays inside it. */
        double x = L.left + (i % L.columns) * L.tile_w + (L.tile_w - GAP - L.image_w) / 2.0;
        double y = L.top + (i / L.columns) * L.tile_h;
        draw_tile(cv.cr, &L, images + (size_t)i * (size_t)height * (size_t)width, height, width,
                  caption_of(captions, i), cmap, round(x), y);
    }
    if (colour_bar)
        plot_draw_colour_bar(cv.cr, cmap, L.lo, L.hi, &L.bar,
                             L.left + L.columns * L.tile_w - GAP + BAR_GAP, L.top,
                             L.rows * L.tile_h - GAP);
    plot_draw_title_centred(cv.cr, title, L.width, L.top - 16.0);
    return plot_canvas_close(&cv, 1, png_path, err, errlen);
}
