/* clseq convert and clseq summary: model files as files. */
#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "commands.h"

static const char convert_usage[] =
    "usage: clseq convert IN OUT [--device S]\n"
    "  Reads a model file of any kind clseq loads (its own format, Keras 3 .keras,\n"
    "  legacy Keras .h5; recognised by content) and writes it as OUT: a Keras 3\n"
    "  .keras file when OUT ends in .keras, clseq's format otherwise. Weights,\n"
    "  compile settings and optimizer state travel with it. The model is loaded\n"
    "  onto a device (--device, default as for the other commands).\n";
static const char summary_usage[] =
    "usage: clseq summary MODEL [--device S]\n"
    "  Prints the Keras-style summary of any model file clseq loads: each layer's\n"
    "  name, class, output shape and parameter count, and the totals.\n";

static int load(const char *command, const char *device, const char *path, clseq_ctx **ctx,
                clseq_model **m)
{
    if (clseq_ctx_create(device, ctx) != CLSEQ_OK || clseq_load(*ctx, path, m) != CLSEQ_OK)
        return cli_fail(command);
    return 0;
}

int cmd_convert(int argc, char **argv)
{
    cli_option opts[] = {{"--device", 1, NULL}};
    const char *files[2];
    int n = 1, count = 0;
    int parsed = cli_parse_positional("convert", convert_usage, argc, argv, opts, n, files, 2, &count);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    if (count != 2) {
        fprintf(stderr, "clseq convert: give the input and the output file\n%s", convert_usage);
        return 2;
    }
    if (cli_same_file("convert", "OUT", files[1], "IN", files[0]))
        return 2;
    clseq_ctx *ctx = NULL;
    clseq_model *m = NULL;
    int rc = load("convert", cli_get(opts, n, "--device"), files[0], &ctx, &m);
    if (!rc && clseq_save(m, files[1]) != CLSEQ_OK)
        rc = cli_fail("convert");
    if (!rc)
        printf("saved: %s\n", files[1]);
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    return rc;
}

int cmd_summary(int argc, char **argv)
{
    cli_option opts[] = {{"--device", 1, NULL}};
    const char *files[1];
    int n = 1, count = 0;
    int parsed = cli_parse_positional("summary", summary_usage, argc, argv, opts, n, files, 1, &count);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    if (count != 1) {
        fprintf(stderr, "clseq summary: give one model file\n%s", summary_usage);
        return 2;
    }
    clseq_ctx *ctx = NULL;
    clseq_model *m = NULL;
    int rc = load("summary", cli_get(opts, n, "--device"), files[0], &ctx, &m);
    size_t size = 1 << 16; /* a summary line per layer, up to CLSEQ_MAX_LAYERS */
    char *text = rc ? NULL : malloc(size);
    if (!rc && !text) {
        fprintf(stderr, "clseq summary: out of memory\n");
        rc = 1;
    }
    if (!rc && clseq_model_summary(m, text, size) != CLSEQ_OK)
        rc = cli_fail("summary");
    if (!rc)
        fputs(text, stdout);
    free(text);
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    return rc;
}
