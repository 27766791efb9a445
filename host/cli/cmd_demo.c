/* clseq demo: the lessons end to end, with pictures in --out DIR. The seed
 * session (a Keras softmax-classifier lesson): blobs, split, one-hot,
 * Dense(4, softmax), fit, evaluate, predict, a decision boundary, a
 * two-class model's weights as heat maps, and a small regression net. Then
 * the digits: a small CNN on 8x8 images, its filters, a confusion matrix and
 * its mistakes. */
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
    "usage: clseq demo [LESSON] [--out DIR] [--device S] [--quick]\n"
    "  Runs the lessons end to end and writes their pictures into DIR\n"
    "  (default: clseq-demo). LESSON is one of\n"
    "    seed    parts 1-5: blobs, softmax classifiers, a regression net\n"
    "    digits  part 6: a small CNN on 8x8 digit images\n"
    "  (default: both). --quick trains for fewer epochs (for tests).\n";

/* The lessons, in the order a plain `clseq demo` runs them. */
static int lesson_seed(demo_session *d)
{
    return demo_classifier(d) && demo_two_classes(d) && demo_regression(d);
}

static const struct {
    const char *name;
    int (*run)(demo_session *d);
} lessons[] = {{"seed", lesson_seed}, {"digits", demo_digits}};

enum { LESSONS = sizeof lessons / sizeof lessons[0] };

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

/* The lesson named by argv[1] if it is not an option: its index, -1 for
 * all, or -2 (after a message) for an unknown name. */
static int pick_lesson(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return -1;
    for (int i = 0; i < (int)LESSONS; i++)
        if (strcmp(argv[1], lessons[i].name) == 0)
            return i;
    fprintf(stderr, "clseq demo: unknown lesson '%s'\n%s", argv[1], demo_usage);
    return -2;
}

int cmd_demo(int argc, char **argv)
{
    cli_option opts[] = {{"--out", 1, NULL}, {"--device", 1, NULL}, {"--quick", 0, NULL}};
    int lesson = pick_lesson(argc, argv);
    if (lesson == -2)
        return 2;
    if (lesson >= 0) { /* the options follow the lesson's name */
        argc--;
        argv++;
    }
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
    int ok = 1;
    for (int i = 0; ok && i < (int)LESSONS; i++)
        if (lesson < 0 || lesson == i)
            ok = lessons[i].run(&d);
    clseq_ctx_free(d.ctx);
    if (!ok)
        return 1;
    printf("\ndemo finished in %.1f s; pictures in %s/\n", cli_seconds() - start, d.out_dir);
    return 0;
}
