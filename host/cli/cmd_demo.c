/* clseq demo: the seed session (a Keras softmax-classifier lesson) end to
 * end: blobs, split, one-hot, Dense(4, softmax), fit, evaluate, predict, a
 * decision boundary, a two-class model's weights as heat maps, and a small
 * regression net, with pictures in --out DIR. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_util.h"
#include "commands.h"
#include "demo.h"

static const char demo_usage[] =
    "usage: clseq demo [--out DIR] [--device S] [--quick]\n"
    "  Runs the seed session end to end and writes its pictures into DIR\n"
    "  (default: clseq-demo). --quick trains for fewer epochs (for tests).\n";

int demo_check(clseq_status s, const char *what)
{
    if (s == CLSEQ_OK)
        return 1;
    fprintf(stderr, "clseq demo: %s: %s\n", what, clseq_last_error());
    return 0;
}

int demo_picture(int rc, const char *path, const char *err)
{
    if (rc == 0) {
        printf("  picture: %s\n", path);
        return 1;
    }
    fprintf(stderr, "clseq demo: %s\n", err);
    return 0;
}

void demo_path(char *out, size_t size, const demo_session *d, const char *name)
{
    snprintf(out, size, "%s/%s", d->out_dir, name);
}

int cmd_demo(int argc, char **argv)
{
    cli_option opts[] = {{"--out", 1, NULL}, {"--device", 1, NULL}, {"--quick", 0, NULL}};
    int n = 3, parsed = cli_parse("demo", demo_usage, argc, argv, opts, n);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    demo_session d;
    memset(&d, 0, sizeof d);
    d.out_dir = cli_get(opts, n, "--out") ? cli_get(opts, n, "--out") : "clseq-demo";
    d.quick = cli_get(opts, n, "--quick") != NULL;
    if (mkdir(d.out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "clseq demo: cannot create %s: %s\n", d.out_dir, strerror(errno));
        return 1;
    }
    double start = cli_seconds();
    if (!demo_check(clseq_ctx_create(cli_get(opts, n, "--device"), &d.ctx), "opening the device"))
        return 1;
    printf("clseq %s on %s\n", clseq_version(), clseq_ctx_device_name(d.ctx));
    int ok = demo_classifier(&d) && demo_two_classes(&d) && demo_regression(&d);
    clseq_ctx_free(d.ctx);
    if (!ok)
        return 1;
    printf("\ndemo finished in %.1f s; pictures in %s/\n", cli_seconds() - start, d.out_dir);
    return 0;
}
