/* File safety against a hostile or careless user: atomic writes refuse
 * special files and write through symbolic links, reads never block on a
 * FIFO, stale temporaries of a killed writer go away, and the tool refuses
 * an output that is one of its inputs. */
/* mknod, to put back a /dev/null a regression replaced */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cache.h"
#include "sys/error.h"
#include "sys/fileio.h"
#include "testutil.h"

/* A regression that blocks fails the suite instead of hanging ctest. */
enum { HANG_SECONDS = 20 };

static void hung(int sig)
{
    (void)sig;
    static const char msg[] = "test_files: a file operation blocked (FIFO?); failing\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(3);
}

/* alarm() with our own handler: Check may have its own for SIGALRM. */
static void watchdog(unsigned seconds)
{
    signal(SIGALRM, hung);
    alarm(seconds);
}

static const unsigned char new_bytes[] = "new contents\n";

enum { PATH_CHARS = 4200, ARGS_CHARS = 8192 };

/* snprintf into out (size chars) that fails the test on truncation. */
static char *format(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *format(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < size, "'%s...' does not fit", fmt);
    return out;
}

static char *join(char *out, const char *dir, const char *name)
{
    return format(out, PATH_CHARS, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file as a string (static buffer). */
static const char *read_text(const char *path)
{
    static char text[1 << 16];
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Entries in dir whose name holds ".tmp.". */
static int count_temporaries(const char *dir)
{
    char command[PATH_CHARS + 100], line[64];
    format(command, sizeof command, "ls -a '%s' | grep -c '\\.tmp\\.'", dir);
    FILE *p = popen(command, "r");
    ck_assert_ptr_nonnull(p);
    int n = fgets(line, sizeof line, p) ? atoi(line) : -1;
    pclose(p);
    return n;
}

/* ---- atomic writes and special files ------------------------------------ */

START_TEST(fifo_is_refused_and_kept)
{
    const char *dir = test_temp_dir();
    char path[PATH_CHARS];
    join(path, dir, "pipe");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    watchdog(HANG_SECONDS);
    ck_assert_int_eq(clseq_write_file_atomic(path, new_bytes, sizeof new_bytes), CLSEQ_E_IO);
    ck_assert_msg(strstr(clseq_last_error(), path) && strstr(clseq_last_error(), "a FIFO"),
                  "message should name the path and what it is: %s", clseq_last_error());
    float x[2] = {1, 2};
    const char *header[] = {"a", "b"};
    ck_assert_int_eq(clseq_csv_write(path, x, 1, 2, NULL, header), CLSEQ_E_IO);
    alarm(0);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(S_ISFIFO(st.st_mode), "the FIFO was replaced");
    ck_assert_int_eq(count_temporaries(dir), 0);
}
END_TEST

START_TEST(directory_is_refused)
{
    const char *dir = test_temp_dir();
    char path[PATH_CHARS];
    join(path, dir, "folder");
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(clseq_write_file_atomic(path, new_bytes, sizeof new_bytes), CLSEQ_E_IO);
    ck_assert_msg(strstr(clseq_last_error(), "a directory") &&
                  strstr(clseq_last_error(), "refusing"), "%s", clseq_last_error());
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(count_temporaries(dir), 0);
}
END_TEST

/* As root a rename over /dev/null succeeds and would break the machine:
 * the check runs only where /dev/null's folder is writable, and puts a
 * replaced node back before failing. */
START_TEST(dev_null_is_refused)
{
    struct stat before, after;
    ck_assert_int_eq(stat("/dev/null", &before), 0);
    if (access("/dev", W_OK) != 0) {
        fprintf(stderr, "dev_null_is_refused: /dev is not writable here; skipped\n");
        return;
    }
    clseq_status s = clseq_write_file_atomic("/dev/null", new_bytes, sizeof new_bytes);
    ck_assert_int_eq(lstat("/dev/null", &after), 0);
    if (!S_ISCHR(after.st_mode) || after.st_rdev != before.st_rdev) {
        unlink("/dev/null");
        mknod("/dev/null", S_IFCHR | 0666, before.st_rdev);
        chmod("/dev/null", 0666);
        ck_abort_msg("/dev/null was replaced (restored)");
    }
    ck_assert_int_eq(s, CLSEQ_E_IO);
    ck_assert_msg(strstr(clseq_last_error(), "/dev/null") &&
                  strstr(clseq_last_error(), "a character device"), "%s", clseq_last_error());
    ck_assert_int_eq(count_temporaries("/dev"), 0);
}
END_TEST

START_TEST(symlink_is_written_through)
{
    const char *dir = test_temp_dir();
    char sub[PATH_CHARS], target[PATH_CHARS], link[PATH_CHARS], chain[PATH_CHARS];
    join(sub, dir, "real");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    join(target, sub, "data.csv");
    write_text(target, "old\n");
    ck_assert_int_eq(chmod(target, 0640), 0);
    /* relative link text: resolved against the link's folder, not ours */
    join(link, dir, "link.csv");
    ck_assert_int_eq(symlink("real/data.csv", link), 0);
    join(chain, dir, "chain.csv");
    ck_assert_int_eq(symlink(link, chain), 0);

    ck_assert_clseq_ok(clseq_write_file_atomic(chain, new_bytes, sizeof new_bytes - 1));
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "the link was replaced");
    ck_assert_int_eq(lstat(chain, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "the link to the link was replaced");
    ck_assert_str_eq(read_text(target), (const char *)new_bytes);
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    ck_assert_int_eq(count_temporaries(dir), 0);
    ck_assert_int_eq(count_temporaries(sub), 0);

    float x[2] = {1, 2};
    const char *header[] = {"a", "b"};
    ck_assert_clseq_ok(clseq_csv_write(link, x, 1, 2, NULL, header));
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_str_eq(read_text(target), "a,b\n1,2\n");

    /* a link to a FIFO is refused, naming both */
    char fifo[PATH_CHARS], to_fifo[PATH_CHARS];
    ck_assert_int_eq(mkfifo(join(fifo, dir, "pipe"), 0600), 0);
    ck_assert_int_eq(symlink(fifo, join(to_fifo, dir, "to_pipe")), 0);
    ck_assert_int_eq(clseq_write_file_atomic(to_fifo, new_bytes, 3), CLSEQ_E_IO);
    ck_assert_msg(strstr(clseq_last_error(), to_fifo) && strstr(clseq_last_error(), "a FIFO"),
                  "%s", clseq_last_error());
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));

    /* a dangling link creates its target, as writing through it would */
    char dangling[PATH_CHARS], made[PATH_CHARS];
    ck_assert_int_eq(symlink("made.csv", join(dangling, dir, "dangling")), 0);
    ck_assert_clseq_ok(clseq_write_file_atomic(dangling, new_bytes, sizeof new_bytes - 1));
    ck_assert_str_eq(read_text(join(made, dir, "made.csv")), (const char *)new_bytes);
    ck_assert_int_eq(lstat(dangling, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));

    /* a loop ends with an error, not a hang */
    char loop_a[PATH_CHARS], loop_b[PATH_CHARS];
    ck_assert_int_eq(symlink("loop_b", join(loop_a, dir, "loop_a")), 0);
    ck_assert_int_eq(symlink("loop_a", join(loop_b, dir, "loop_b")), 0);
    ck_assert_int_eq(clseq_write_file_atomic(loop_a, new_bytes, 3), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), loop_a));
}
END_TEST

START_TEST(model_save_through_symlink)
{
    const char *dir = test_temp_dir();
    char target[PATH_CHARS], link[PATH_CHARS];
    clseq_model *m = NULL, *back = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 2, &m));
    ck_assert_clseq_ok(clseq_add_layers(m, "dense:3"));
    write_text(join(target, dir, "model.clseq"), "placeholder");
    ck_assert_int_eq(symlink(target, join(link, dir, "current.clseq")), 0);
    ck_assert_clseq_ok(clseq_save(m, link));
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_clseq_ok(clseq_load(test_ctx(), target, &back));
    ck_assert_int_eq(clseq_model_output_dim(back), 3);
    clseq_model_free(back);

    char fifo[PATH_CHARS];
    ck_assert_int_eq(mkfifo(join(fifo, dir, "pipe.clseq"), 0600), 0);
    watchdog(HANG_SECONDS);
    ck_assert_int_eq(clseq_save(m, fifo), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "a FIFO"));
    alarm(0);
    clseq_model_free(m);
}
END_TEST

/* ---- reads never block on a FIFO ---------------------------------------- */

START_TEST(reading_a_fifo_does_not_block)
{
    const char *dir = test_temp_dir();
    char path[PATH_CHARS];
    join(path, dir, "pipe");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    watchdog(HANG_SECONDS);
    clseq_model *m = NULL;
    ck_assert_int_eq(clseq_load(test_ctx(), path, &m), CLSEQ_E_IO);
    ck_assert_msg(strstr(clseq_last_error(), path) && strstr(clseq_last_error(), "a FIFO"),
                  "%s", clseq_last_error());
    ck_assert_ptr_null(m);
    clseq_dataset d = {0};
    ck_assert_int_eq(clseq_csv_read(path, &d), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "a FIFO"));
    unsigned char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(clseq_read_file(path, &data, &size), CLSEQ_E_IO);
    ck_assert_ptr_null(data);
    /* a cache entry that is a FIFO reads as missing */
    char entry[PATH_CHARS];
    ck_assert_int_eq(clseq_cache_path(dir, 42, entry, sizeof entry), 1);
    ck_assert_int_eq(mkfifo(entry, 0600), 0);
    ck_assert_ptr_null(clseq_cache_load(dir, 42, &size));
    alarm(0);
    /* a character device is refused as well, not read forever */
    ck_assert_int_eq(clseq_read_file("/dev/zero", &data, &size), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "a character device"));
}
END_TEST

/* ---- stale temporaries --------------------------------------------------- */

/* A pid that named a process a moment ago and names none now. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return pid;
}

static void make_temp(const char *path, time_t age)
{
    write_text(path, "partial");
    struct timespec t[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

START_TEST(stale_temporaries_are_removed)
{
    const char *dir = test_temp_dir();
    enum { N = PATH_CHARS + 100 };
    char path[PATH_CHARS], dead_old[N], dead_new[N], alive[N], legacy_old[N], legacy_new[N],
        other[N];
    join(path, dir, "model.clseq");
    pid_t gone = dead_pid();
    format(dead_old, sizeof dead_old, "%s.tmp.%ld.Ab12Cd", path, (long)gone);
    format(dead_new, sizeof dead_new, "%s.tmp.%ld.Ef34Gh", path, (long)gone);
    format(alive, sizeof alive, "%s.tmp.%ld.Ij56Kl", path, (long)getppid());
    format(legacy_old, sizeof legacy_old, "%s.tmp.Mn78Op", path);
    format(legacy_new, sizeof legacy_new, "%s.tmp.Qr90St", path);
    format(other, sizeof other, "%s/other.clseq.tmp.%ld.Uv12Wx", dir, (long)gone);
    make_temp(dead_old, 60);
    make_temp(dead_new, 0);        /* may still be on its way: kept */
    make_temp(alive, 3600 * 24);   /* its writer lives: kept */
    make_temp(legacy_old, 7200);   /* no pid: could be a user's file, kept */
    make_temp(legacy_new, 60);
    make_temp(other, 3600);        /* another target's: not ours to touch */

    ck_assert_clseq_ok(clseq_write_file_atomic(path, new_bytes, sizeof new_bytes - 1));
    ck_assert_str_eq(read_text(path), (const char *)new_bytes);
    ck_assert_msg(access(dead_old, F_OK) != 0, "stale temporary of a dead writer kept");
    ck_assert_msg(access(dead_new, F_OK) == 0, "a fresh temporary was removed");
    ck_assert_msg(access(alive, F_OK) == 0, "a live writer's temporary was removed");
    ck_assert_msg(access(legacy_old, F_OK) == 0 && access(legacy_new, F_OK) == 0,
                  "a name without a pid was removed");
    ck_assert_msg(access(other, F_OK) == 0, "another target's temporary was removed");
    ck_assert_int_eq(count_temporaries(dir), 5);
}
END_TEST

/* The kernel cache stores through the atomic writer: a killed store's
 * temporary goes away, a FIFO at the entry's name is left alone, and a
 * failed store stays silent (this thread's last error untouched). */
START_TEST(cache_store_is_atomic)
{
    char dir[PATH_CHARS], entry[PATH_CHARS], stale[PATH_CHARS + 100];
    format(dir, sizeof dir, "%s/cache/sub", test_temp_dir());
    static const unsigned char first[] = "first binary", second[] = "second, longer binary";
    size_t size = 0;
    clseq_cache_store(dir, 7, first, sizeof first);  /* creates the folders */
    unsigned char *back = clseq_cache_load(dir, 7, &size);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(size, sizeof first);
    ck_assert_int_eq(memcmp(back, first, size), 0);
    free(back);

    ck_assert_int_eq(clseq_cache_path(dir, 7, entry, sizeof entry), 1);
    format(stale, sizeof stale, "%s.tmp.%ld.Ab12Cd", entry, (long)dead_pid());
    make_temp(stale, 60);
    clseq_cache_store(dir, 7, second, sizeof second);
    ck_assert_msg(access(stale, F_OK) != 0, "a killed store's temporary was kept");
    ck_assert_ptr_nonnull(back = clseq_cache_load(dir, 7, &size));
    ck_assert_int_eq(size, sizeof second);
    ck_assert_int_eq(memcmp(back, second, size), 0);
    free(back);
    ck_assert_int_eq(count_temporaries(dir), 0);

    ck_assert_int_eq(clseq_cache_path(dir, 9, entry, sizeof entry), 1);
    ck_assert_int_eq(mkfifo(entry, 0600), 0);
    clseq_fail(CLSEQ_E_ARG, "an earlier message");
    watchdog(HANG_SECONDS);
    clseq_cache_store(dir, 9, first, sizeof first);
    alarm(0);
    ck_assert_str_eq(clseq_last_error(), "an earlier message");
    struct stat st;
    ck_assert_int_eq(lstat(entry, &st), 0);
    ck_assert_msg(S_ISFIFO(st.st_mode), "the FIFO was replaced");
    ck_assert_int_eq(count_temporaries(dir), 0);
}
END_TEST

/* ---- the tool: outputs never destroy inputs ------------------------------ */

static char output[1 << 16];

static int run_tool(const char *args)
{
    int status = test_run_tool(args, output, sizeof output);
    ck_assert_msg(status != -2, "CLSEQ_TOOL is not set");
    return status;
}

/* Runs args, which must be refused with status 2 naming both options,
 * and checks that file still holds what it held. */
static void expect_refused(const char *args, const char *out_opt, const char *in_opt,
                           const char *file)
{
    char before[1 << 16];
    format(before, sizeof before, "%s", read_text(file));
    ck_assert_msg(run_tool(args) == 2, "not refused: %s\n%s", args, output);
    ck_assert_msg(strstr(output, out_opt) && strstr(output, in_opt) &&
                  strstr(output, "same file"), "message should name %s and %s:\n%s", out_opt,
                  in_opt, output);
    ck_assert_msg(strcmp(read_text(file), before) == 0, "%s was changed by: %s", file, args);
}

START_TEST(tool_refuses_output_over_input)
{
    const char *dir = test_temp_dir();
    char args[ARGS_CHARS], data[PATH_CHARS], val[PATH_CHARS], hard[PATH_CHARS], soft[PATH_CHARS], model[PATH_CHARS];
    join(data, dir, "d.csv");
    join(val, dir, "v.csv");
    join(model, dir, "m.clseq");
    format(args, sizeof args, "blobs --samples 40 --features 2 --centers 2 --seed 1 --out %s", data);
    ck_assert_int_eq(run_tool(args), 0);
    format(args, sizeof args, "blobs --samples 20 --features 2 --centers 2 --seed 2 --out %s", val);
    ck_assert_int_eq(run_tool(args), 0);
    ck_assert_int_eq(link(data, join(hard, dir, "hard.csv")), 0);
    ck_assert_int_eq(symlink(data, join(soft, dir, "soft.csv")), 0);
    const char *train = "train --layers dense:1 --loss mse --optimizer sgd --epochs 1 --verbose 0";

    format(args, sizeof args, "%s --data %s --save %s", train, data, data);
    expect_refused(args, "--save", "--data", data);
    format(args, sizeof args, "%s --data %s --val %s --save %s", train, data, val, val);
    expect_refused(args, "--save", "--val", val);
    format(args, sizeof args, "%s --data %s --save %s", train, data, hard);
    expect_refused(args, "--save", "--data", data);
    format(args, sizeof args, "%s --data %s --save %s", train, soft, data);
    expect_refused(args, "--save", "--data", data);

    format(args, sizeof args, "%s --data %s --save %s", train, data, model);
    ck_assert_msg(run_tool(args) == 0, "train failed:\n%s", output);
    format(args, sizeof args, "predict --model %s --data %s --out %s", model, data, data);
    expect_refused(args, "--out", "--data", data);
    format(args, sizeof args, "predict --model %s --data %s --out %s", model, data, soft);
    expect_refused(args, "--out", "--data", data);
    format(args, sizeof args, "predict --model %s --data %s --out %s", model, data, hard);
    expect_refused(args, "--out", "--data", data);
    format(args, sizeof args, "predict --model %s --data %s --out %s", model, data, model);
    expect_refused(args, "--out", "--model", model);

    /* a separate output is written (atomically: no temporary left), and a
     * special file as output is refused with the reason */
    char pred[PATH_CHARS], fifo[PATH_CHARS];
    format(args, sizeof args, "predict --model %s --data %s --out %s", model, data,
             join(pred, dir, "p.csv"));
    ck_assert_msg(run_tool(args) == 0, "predict failed:\n%s", output);
    ck_assert_msg(strncmp(read_text(pred), "p0\n", 3) == 0, "%s", read_text(pred));
    ck_assert_int_eq(count_temporaries(dir), 0);
    ck_assert_int_eq(mkfifo(join(fifo, dir, "pipe"), 0600), 0);
    format(args, sizeof args, "predict --model %s --data %s --out %s", model, data, fifo);
    watchdog(HANG_SECONDS * 3);
    ck_assert_int_eq(run_tool(args), 1);
    alarm(0);
    ck_assert_msg(strstr(output, fifo) && strstr(output, "a FIFO"), "%s", output);
}
END_TEST

/* Runs args, which must fail (status 1) with a message naming what is at
 * path, and leave it as it was: a FIFO (no hang) or /dev/null (as root a
 * rename over it would succeed: a replaced node is put back first). */
static void expect_special_refused(const char *args, const char *path, const char *kind)
{
    struct stat before, after;
    ck_assert_int_eq(stat(path, &before), 0);
    watchdog(HANG_SECONDS * 3);
    int rc = run_tool(args);
    alarm(0);
    ck_assert_int_eq(lstat(path, &after), 0);
    if (strcmp(path, "/dev/null") == 0 &&
        (!S_ISCHR(after.st_mode) || after.st_rdev != before.st_rdev)) {
        unlink("/dev/null");
        mknod("/dev/null", S_IFCHR | 0666, before.st_rdev);
        chmod("/dev/null", 0666);
        ck_abort_msg("/dev/null was replaced (restored) by: %s", args);
    }
    ck_assert_msg(rc == 1, "status %d from: %s\n%s", rc, args, output);
    ck_assert_msg(strstr(output, path) && strstr(output, kind), "should name %s as %s:\n%s",
                  path, kind, output);
    ck_assert_int_eq((int)(after.st_mode & S_IFMT), (int)(before.st_mode & S_IFMT));
}

START_TEST(tool_blobs_out_is_atomic)
{
    const char *dir = test_temp_dir();
    const char *blobs = "blobs --samples 40 --features 2 --centers 2 --seed 3";
    char args[ARGS_CHARS], sub[PATH_CHARS], target[PATH_CHARS], link[PATH_CHARS],
        stale[PATH_CHARS + 100], fifo[PATH_CHARS];
    static char expected[sizeof output];
    ck_assert_int_eq(run_tool(blobs), 0);
    format(expected, sizeof expected, "%s", output);
    ck_assert_msg(strncmp(expected, "x0,x1,label\n", 12) == 0, "%s", expected);

    /* through a link into another folder: the target gets the same text as
     * standard output, the link stays, a killed writer's temporary goes */
    ck_assert_int_eq(mkdir(join(sub, dir, "real"), 0700), 0);
    write_text(join(target, sub, "data.csv"), "old\n");
    ck_assert_int_eq(symlink("real/data.csv", join(link, dir, "link.csv")), 0);
    format(stale, sizeof stale, "%s.tmp.%ld.Ab12Cd", target, (long)dead_pid());
    make_temp(stale, 60);
    format(args, sizeof args, "%s --out %s", blobs, link);
    ck_assert_msg(run_tool(args) == 0, "blobs failed:\n%s", output);
    ck_assert_str_eq(read_text(target), expected);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "the link was replaced");
    ck_assert_msg(access(stale, F_OK) != 0, "a killed writer's temporary was kept");
    ck_assert_int_eq(count_temporaries(dir), 0);
    ck_assert_int_eq(count_temporaries(sub), 0);

    ck_assert_int_eq(mkfifo(join(fifo, dir, "pipe.csv"), 0600), 0);
    format(args, sizeof args, "%s --out %s", blobs, fifo);
    expect_special_refused(args, fifo, "a FIFO");
    format(args, sizeof args, "%s --out /dev/null", blobs);
    expect_special_refused(args, "/dev/null", "a character device");
    ck_assert_int_eq(count_temporaries(dir), 0);
}
END_TEST

/* The demo's pictures go through the atomic writer as well. */
START_TEST(tool_demo_pictures_are_atomic)
{
    const char *dir = test_temp_dir();
    char args[ARGS_CHARS], out[PATH_CHARS], sub[PATH_CHARS], target[PATH_CHARS],
        link[PATH_CHARS], stale[PATH_CHARS + 100], out2[PATH_CHARS], fifo[PATH_CHARS];
    ck_assert_int_eq(mkdir(join(out, dir, "demo"), 0700), 0);
    ck_assert_int_eq(mkdir(join(sub, dir, "real"), 0700), 0);
    write_text(join(target, sub, "boundary.png"), "old\n");
    ck_assert_int_eq(symlink(target, join(link, out, "decision_boundary.png")), 0);
    format(stale, sizeof stale, "%s.tmp.%ld.Ab12Cd", target, (long)dead_pid());
    make_temp(stale, 60);
    format(args, sizeof args, "demo seed --quick --out %s", out);
    ck_assert_msg(run_tool(args) == 0, "demo failed:\n%s", output);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "the link was replaced");
    unsigned char *png = NULL;
    size_t size = 0;
    ck_assert_clseq_ok(clseq_read_file(target, &png, &size));
    ck_assert_msg(size > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0,
                  "the link's target is not the picture");
    free(png);
    ck_assert_msg(access(stale, F_OK) != 0, "a killed writer's temporary was kept");
    ck_assert_int_eq(count_temporaries(out), 0);
    ck_assert_int_eq(count_temporaries(sub), 0);

    /* a FIFO where the first picture goes: refused with the reason */
    ck_assert_int_eq(mkdir(join(out2, dir, "demo2"), 0700), 0);
    ck_assert_int_eq(mkfifo(join(fifo, out2, "decision_boundary.png"), 0600), 0);
    format(args, sizeof args, "demo seed --quick --out %s", out2);
    expect_special_refused(args, fifo, "a FIFO");
    ck_assert_int_eq(count_temporaries(out2), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("files");
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, fifo_is_refused_and_kept);
    tcase_add_test(tc, directory_is_refused);
    tcase_add_test(tc, dev_null_is_refused);
    tcase_add_test(tc, symlink_is_written_through);
    tcase_add_test(tc, model_save_through_symlink);
    tcase_add_test(tc, reading_a_fifo_does_not_block);
    tcase_add_test(tc, stale_temporaries_are_removed);
    tcase_add_test(tc, cache_store_is_atomic);
    tcase_add_test(tc, tool_refuses_output_over_input);
    tcase_add_test(tc, tool_blobs_out_is_atomic);
    tcase_add_test(tc, tool_demo_pictures_are_atomic);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
