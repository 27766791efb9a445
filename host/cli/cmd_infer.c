/* clseq evaluate and clseq predict: a saved model on a CSV file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"

static const char evaluate_usage[] =
    "usage: clseq evaluate --model MODEL --data FILE [--device S]\n"
    "  Prints 'loss: X' and one 'NAME: X' line per metric the model was compiled with.\n"
    "  MODEL: clseq's format, .keras or .h5; the data's last column is the target.\n";
static const char predict_usage[] =
    "usage: clseq predict --model MODEL --data FILE [--out FILE|-] [--device S]\n"
    "  Writes the model's outputs, one row per sample, as CSV to FILE or (without\n"
    "  --out, or with --out -) standard output, with a class column: the arg-max\n"
    "  of several outputs, or for one sigmoid output 1 above 0.5, else 0. The data\n"
    "  may have a target column or not. MODEL: clseq's format, .keras or .h5.\n";

/* A loaded model and its data set. */
typedef struct session {
    clseq_ctx *ctx;
    clseq_model *model;
    clseq_dataset data;
    float *x;
} session;

static void session_close(session *s)
{
    free(s->x);
    clseq_dataset_free(&s->data);
    clseq_model_free(s->model);
    clseq_ctx_free(s->ctx);
}

static int session_open(const char *command, cli_option *opts, int n, session *s)
{
    const char *model = cli_get(opts, n, "--model"), *data = cli_get(opts, n, "--data");
    if (!model || !data) {
        fprintf(stderr, "clseq %s: --model and --data are required\n", command);
        return 2;
    }
    if (clseq_ctx_create(cli_get(opts, n, "--device"), &s->ctx) != CLSEQ_OK ||
        clseq_load(s->ctx, model, &s->model) != CLSEQ_OK || clseq_csv_read(data, &s->data) != CLSEQ_OK)
        return cli_fail(command);
    s->x = cli_inputs(command, &s->data, clseq_model_input_dim(s->model), data);
    return s->x ? 0 : 1;
}

int cmd_evaluate(int argc, char **argv)
{
    cli_option opts[] = {{"--model", 1, NULL}, {"--data", 1, NULL}, {"--device", 1, NULL}};
    int n = 3, parsed = cli_parse("evaluate", evaluate_usage, argc, argv, opts, n);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    session s = {0};
    float *y = NULL, loss_value, metrics[CLSEQ_METRIC_COUNT];
    clseq_loss loss;
    unsigned bits;
    int rc = session_open("evaluate", opts, n, &s);
    if (rc)
        goto done;
    if (s.data.features != clseq_model_input_dim(s.model)) {
        fprintf(stderr, "clseq evaluate: %s has no target column for a %d-feature model\n",
                cli_get(opts, n, "--data"), clseq_model_input_dim(s.model));
        rc = 1;
        goto done;
    }
    if (clseq_model_compile_settings(s.model, NULL, &loss, &bits) != CLSEQ_OK) {
        rc = cli_fail("evaluate");
        goto done;
    }
    if (!(y = cli_targets("evaluate", s.model, loss, &s.data, cli_get(opts, n, "--data")))) {
        rc = 1;
        goto done;
    }
    if (clseq_evaluate(s.model, s.x, y, s.data.rows, &loss_value, metrics) != CLSEQ_OK) {
        rc = cli_fail("evaluate");
        goto done;
    }
    printf("loss: %.6f\n", (double)loss_value);
    int k = 0;
    for (int i = 0; i < CLSEQ_METRIC_COUNT; i++)
        if (bits & (1u << i))
            printf("%s: %.6f\n", clseq_metric_name(1u << i), (double)metrics[k++]);
done:
    free(y);
    session_close(&s);
    return rc;
}

/* The class each row predicts, or NULL when the outputs are no classes:
 * the arg-max of several outputs, and for one sigmoid output 1 when it is
 * above 0.5 (Keras's binary_accuracy threshold), else 0. *has_classes
 * says which; NULL with *has_classes set means out of memory. */
static float *class_column(const clseq_model *m, const float *p, size_t rows, int width,
                           int *has_classes)
{
    clseq_activation act = CLSEQ_LINEAR;
    clseq_layer_info(m, clseq_layer_count(m) - 1, NULL, NULL, &act, NULL);
    *has_classes = width > 1 || act == CLSEQ_SIGMOID;
    float *best = *has_classes ? malloc((rows ? rows : 1) * sizeof *best) : NULL;
    for (size_t r = 0; best && r < rows; r++) {
        const float *row = p + r * (size_t)width;
        int k = 0;
        for (int c = 1; c < width; c++)
            if (row[c] > row[k])
                k = c;
        best[r] = width > 1 ? (float)k : row[0] > 0.5f ? 1.0f : 0.0f;
    }
    return best;
}

/* Standard output: the rows as they come. */
static int print_predictions(const float *p, size_t rows, int width, const float *classes)
{
    for (int c = 0; c < width; c++)
        printf("%sp%d", c ? "," : "", c);
    printf(classes ? ",class\n" : "\n");
    for (size_t r = 0; r < rows; r++) {
        const float *row = p + r * (size_t)width;
        for (int c = 0; c < width; c++)
            printf("%s%.9g", c ? "," : "", (double)row[c]);
        if (classes)
            printf(",%d", (int)classes[r]);
        putchar('\n');
    }
    return fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
}

/* A file: the same table through clseq_csv_write, which writes a
 * temporary file and renames it, so a failure or a kill never leaves a
 * half-written file in place of an old one. */
static int save_predictions(const char *path, const float *p, size_t rows, int width,
                            const float *classes)
{
    enum { NAME_BYTES = 16 };
    char *names = malloc(((size_t)width + 1) * NAME_BYTES);
    const char **header = malloc(((size_t)width + 1) * sizeof *header);
    int rc = 1;
    if (!names || !header) {
        fprintf(stderr, "clseq predict: out of memory writing %s\n", path);
        goto done;
    }
    for (int c = 0; c <= width; c++) {
        snprintf(names + (size_t)c * NAME_BYTES, NAME_BYTES, c < width ? "p%d" : "class", c);
        header[c] = names + (size_t)c * NAME_BYTES;
    }
    rc = clseq_csv_write(path, p, rows, width, classes, header) == CLSEQ_OK ? 0
                                                                           : cli_fail("predict");
done:
    free(names);
    free(header);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    cli_option opts[] = {{"--model", 1, NULL}, {"--data", 1, NULL}, {"--out", 1, NULL},
                         {"--device", 1, NULL}};
    int n = 4, parsed = cli_parse("predict", predict_usage, argc, argv, opts, n);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    const char *path = cli_get(opts, n, "--out");
    if (path && strcmp(path, "-") == 0)
        path = NULL; /* "-": standard output, as without --out */
    /* before any work: the output must not be one of the inputs */
    if (cli_same_file("predict", "--out", path, "--data", cli_get(opts, n, "--data")) ||
        cli_same_file("predict", "--out", path, "--model", cli_get(opts, n, "--model")))
        return 2;
    session s = {0};
    float *p = NULL, *classes = NULL;
    int rc = session_open("predict", opts, n, &s);
    if (rc)
        goto done;
    int width = clseq_model_output_dim(s.model);
    p = malloc(s.data.rows * (size_t)width * sizeof *p);
    if (!p || clseq_predict(s.model, s.x, s.data.rows, p) != CLSEQ_OK) {
        rc = p ? cli_fail("predict") : 1;
        goto done;
    }
    int has_classes = 0;
    classes = class_column(s.model, p, s.data.rows, width, &has_classes);
    if (has_classes && !classes) {
        fprintf(stderr, "clseq predict: out of memory for %zu classes\n", s.data.rows);
        rc = 1;
    } else if (path) {
        rc = save_predictions(path, p, s.data.rows, width, classes);
    } else if (print_predictions(p, s.data.rows, width, classes) != 0) {
        fprintf(stderr, "clseq predict: writing standard output failed: %s\n", strerror(errno));
        rc = 1;
    }
done:
    free(p);
    free(classes);
    session_close(&s);
    return rc;
}
