/* clseq evaluate and clseq predict: a saved model on a CSV file. */
#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "commands.h"

static const char evaluate_usage[] =
    "usage: clseq evaluate --model MODEL --data FILE [--device S]\n"
    "  Prints 'loss: X' and one 'NAME: X' line per metric the model was compiled with.\n";
static const char predict_usage[] =
    "usage: clseq predict --model MODEL --data FILE [--out FILE] [--device S]\n"
    "  Writes the model's outputs, one row per sample (and the arg-max class for\n"
    "  models with several outputs), as CSV to FILE or standard output. The data may\n"
    "  have a target column or not.\n";

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
    s->x = cli_inputs(&s->data, clseq_model_input_dim(s->model), data);
    return s->x ? 0 : 1;
}

int cmd_evaluate(int argc, char **argv)
{
    cli_option opts[] = {{"--model", 1, NULL}, {"--data", 1, NULL}, {"--device", 1, NULL}};
    int n = 3, parsed = cli_parse("evaluate", evaluate_usage, argc, argv, opts, n);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    session s = {0};
    float *y = NULL, loss_value, metrics[3];
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
    if (!(y = cli_targets("evaluate", s.model, loss, s.data.y, s.data.rows))) {
        rc = 1;
        goto done;
    }
    if (clseq_evaluate(s.model, s.x, y, s.data.rows, &loss_value, metrics) != CLSEQ_OK) {
        rc = cli_fail("evaluate");
        goto done;
    }
    printf("loss: %.6f\n", (double)loss_value);
    int k = 0;
    for (unsigned bit = 1; bit <= CLSEQ_METRIC_MAE; bit <<= 1)
        if (bits & bit)
            printf("%s: %.6f\n", clseq_metric_name(bit), (double)metrics[k++]);
done:
    free(y);
    session_close(&s);
    return rc;
}

static int write_predictions(FILE *out, const float *p, size_t rows, int width)
{
    for (int c = 0; c < width; c++)
        fprintf(out, "%sp%d", c ? "," : "", c);
    fprintf(out, width > 1 ? ",class\n" : "\n");
    for (size_t r = 0; r < rows; r++) {
        const float *row = p + r * (size_t)width;
        int best = 0;
        for (int c = 0; c < width; c++) {
            fprintf(out, "%s%.9g", c ? "," : "", (double)row[c]);
            if (row[c] > row[best])
                best = c;
        }
        if (width > 1)
            fprintf(out, ",%d", best);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

int cmd_predict(int argc, char **argv)
{
    cli_option opts[] = {{"--model", 1, NULL}, {"--data", 1, NULL}, {"--out", 1, NULL},
                         {"--device", 1, NULL}};
    int n = 4, parsed = cli_parse("predict", predict_usage, argc, argv, opts, n);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    session s = {0};
    float *p = NULL;
    int rc = session_open("predict", opts, n, &s);
    if (rc)
        goto done;
    int width = clseq_model_output_dim(s.model);
    p = malloc(s.data.rows * (size_t)width * sizeof *p);
    if (!p || clseq_predict(s.model, s.x, s.data.rows, p) != CLSEQ_OK) {
        rc = p ? cli_fail("predict") : 1;
        goto done;
    }
    const char *path = cli_get(opts, n, "--out");
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) {
        perror(path);
        rc = 1;
        goto done;
    }
    rc = write_predictions(out, p, s.data.rows, width) == 0 ? 0 : 1;
    if (path && fclose(out) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "clseq predict: writing %s failed\n", path ? path : "standard output");
done:
    free(p);
    session_close(&s);
    return rc;
}
