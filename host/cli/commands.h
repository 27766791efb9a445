/* The clseq tool's subcommands; each returns the process exit status. */
#ifndef CLSEQ_CLI_COMMANDS_H
#define CLSEQ_CLI_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_blobs(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
