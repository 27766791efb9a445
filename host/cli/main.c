/* clseq: the command-line tool. Dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "clseq.h"
#include "commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"devices", cmd_devices, "list platforms and devices, mark the default"},
    {"demo", cmd_demo, "the lessons (seed session, digits CNN), pictures in DIR"},
    {"blobs", cmd_blobs, "make_blobs data as CSV"},
    {"train", cmd_train, "train a model on a CSV file and save it"},
    {"evaluate", cmd_evaluate, "loss and metrics of a saved model on a CSV file"},
    {"predict", cmd_predict, "a saved model's outputs for a CSV file"},
    {"convert", cmd_convert, "a model file in another format (clseq, .keras)"},
    {"summary", cmd_summary, "the Keras-style summary of a model file"},
    {"bench", cmd_bench, "benchmarks: NAME: VALUE UNIT lines"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: clseq COMMAND [OPTIONS]   (clseq help COMMAND or clseq COMMAND --help\n"
                 "                                  for its options)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nclseq %s\n", clseq_version());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 && argc > 2) {
        /* clseq help CMD: CMD's own --help */
        char help[] = "--help";
        char *args[] = {argv[2], help, NULL};
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[2], commands[i].name) == 0)
                return commands[i].run(2, args);
        fprintf(stderr, "clseq help: unknown command '%s'\n\n", argv[2]);
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("clseq %s\n", clseq_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "clseq: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
