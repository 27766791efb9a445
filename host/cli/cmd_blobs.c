/* clseq blobs: scikit-learn's make_blobs as CSV (features, then the label). */
#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "commands.h"
#include "sys/fileio.h"

static const char blobs_usage[] =
    "usage: clseq blobs --samples N --features F --centers C --std S --seed R [--out FILE]\n"
    "  The numbers scikit-learn's make_blobs(N, F, C, cluster_std=S, random_state=R) gives,\n"
    "  as CSV with a header x0..x{F-1},label; to FILE or standard output.\n";

static int write_blobs(FILE *out, const double *x, const int *labels, size_t n, int features)
{
    for (int f = 0; f < features; f++)
        fprintf(out, "x%d,", f);
    fprintf(out, "label\n");
    for (size_t i = 0; i < n; i++) {
        for (int f = 0; f < features; f++)
            fprintf(out, "%.17g,", x[i * (size_t)features + (size_t)f]);
        fprintf(out, "%d\n", labels[i]);
    }
    return ferror(out) ? -1 : 0;
}

int cmd_blobs(int argc, char **argv)
{
    cli_option opts[] = {{"--samples", 1, NULL}, {"--features", 1, NULL}, {"--centers", 1, NULL},
                         {"--std", 1, NULL},     {"--seed", 1, NULL},     {"--out", 1, NULL}};
    int n_opts = (int)(sizeof opts / sizeof opts[0]);
    int parsed = cli_parse("blobs", blobs_usage, argc, argv, opts, n_opts);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    clseq_blobs_options b = clseq_blobs_defaults();
    long samples = (long)b.n_samples, features = b.n_features, centers = b.centers, seed = 0;
    const char *v;
    if (((v = cli_get(opts, n_opts, "--samples")) && !cli_int("blobs", "--samples", v, 1, 100000000, &samples)) ||
        ((v = cli_get(opts, n_opts, "--features")) && !cli_int("blobs", "--features", v, 1, 100000, &features)) ||
        ((v = cli_get(opts, n_opts, "--centers")) && !cli_int("blobs", "--centers", v, 1, 100000, &centers)) ||
        ((v = cli_get(opts, n_opts, "--seed")) && !cli_int("blobs", "--seed", v, 0, 4294967295L, &seed)) ||
        ((v = cli_get(opts, n_opts, "--std")) && !cli_double("blobs", "--std", v, &b.cluster_std)))
        return 2;
    b.n_samples = (size_t)samples;
    b.n_features = (int)features;
    b.centers = (int)centers;
    b.random_state = (uint32_t)seed;
    double *x = malloc(b.n_samples * (size_t)b.n_features * sizeof *x);
    int *labels = malloc(b.n_samples * sizeof *labels);
    int rc = 1;
    if (!x || !labels) {
        fprintf(stderr, "clseq blobs: out of memory\n");
        goto done;
    }
    if (clseq_make_blobs(&b, x, labels) != CLSEQ_OK) {
        rc = cli_fail("blobs");
        goto done;
    }
    const char *path = cli_get(opts, n_opts, "--out");
    if (!path) {
        rc = write_blobs(stdout, x, labels, b.n_samples, b.n_features) == 0 ? 0 : 1;
        if (rc)
            fprintf(stderr, "clseq blobs: writing standard output failed\n");
        goto done;
    }
    /* a file is written whole or not at all: the text is built in memory and
     * handed to the atomic writer, which also refuses a FIFO or device */
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    if (!mem) {
        perror("clseq blobs: open_memstream");
        goto done;
    }
    int bad = write_blobs(mem, x, labels, b.n_samples, b.n_features) != 0;
    if (fclose(mem) != 0 || bad)
        fprintf(stderr, "clseq blobs: out of memory for the text of %s\n", path);
    else
        rc = clseq_write_file_atomic(path, (const unsigned char *)text, size) == CLSEQ_OK
                 ? 0 : cli_fail("blobs");
    free(text);
done:
    free(x);
    free(labels);
    return rc;
}
