/* Whole-file reads and atomic writes (temporary file, fsync, rename, then
 * the directory synced), shared by model files and CSV output. */
#include "sys/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "sys/error.h"

/* room for a PATH_MAX path and ".tmp.<pid>.XXXXXX" */
enum { PATH_BYTES = 4096 + 40, MAX_LINKS = 40 };

/* A temporary whose creator is gone is stale once unchanged this long: a
 * margin for a writer on another machine sharing the folder, whose pid
 * means nothing here. */
enum { STALE_SECONDS = 5 };

const char *clseq_file_kind(unsigned mode)
{
    mode_t m = (mode_t)mode;
    return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO"
         : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link" : "an unknown kind of file";
}

clseq_status clseq_io_fail(const char *path, const char *step, int err)
{
    /* strerror_r (XSI form under _POSIX_C_SOURCE): strerror is not thread safe */
    char msg[256];
    if (strerror_r(err, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "errno %d", err);
    return clseq_fail(CLSEQ_E_IO, "%s: %s: %s", path, step, msg);
}

/* Writes all n bytes, retrying short writes and interruptions; 0 or errno. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* mkstemp makes the file 0600; a replaced file keeps its mode, a new one
 * gets 0644 (reading the umask is not thread safe). 0 or errno. */
static int set_mode(int fd, const char *path)
{
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 07777 : 0644;
    return fchmod(fd, mode) == 0 ? 0 : errno;
}

/* Writes, syncs and closes the temporary file; the failing step or NULL. */
static const char *fill_temp(int fd, const char *path, const unsigned char *data, size_t size,
                             int *err)
{
    const char *step = NULL;
    if ((*err = set_mode(fd, path)) != 0)
        step = "setting the temporary file's mode";
    else if ((*err = write_all(fd, data, size)) != 0)
        step = "writing the temporary file";
    else if (fsync(fd) != 0) {
        step = "syncing the temporary file";
        *err = errno;
    }
    if (close(fd) != 0 && !step) {
        step = "closing the temporary file";
        *err = errno;
    }
    return step;
}

/* After the rename: make the new directory entry itself durable. */
static clseq_status sync_parent_dir(const char *path)
{
    char dir[PATH_BYTES];
    const char *slash = strrchr(path, '/');
    /* "name" -> ".", "/name" -> "/", "a/b/name" -> "a/b"; path fits dir
     * because it fitted the temporary name */
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return clseq_io_fail(path, "replaced, but opening its directory to sync it failed", errno);
    /* some file systems cannot sync a directory (EINVAL); nothing more to do */
    int err = fsync(fd) != 0 && errno != EINVAL ? errno : 0;
    close(fd);
    return err ? clseq_io_fail(path, "replaced, but syncing its directory failed", err) : CLSEQ_OK;
}

/* Follows symbolic links from path (as the kernel would, at most
 * MAX_LINKS) into out: the name an atomic write must replace, so that a
 * link stays a link and its target gets the new contents. *exists says
 * whether out names something; st is its lstat. 0 or errno. Heap free. */
static int resolve_target(const char *path, char *out, struct stat *st, int *exists)
{
    char link[PATH_BYTES];
    *exists = 0;
    if (snprintf(out, PATH_BYTES, "%s", path) >= PATH_BYTES)
        return ENAMETOOLONG;
    for (int hops = 0; hops <= MAX_LINKS; hops++) {
        if (lstat(out, st) != 0)
            return errno == ENOENT ? 0 : errno; /* absent: created as today */
        if (!S_ISLNK(st->st_mode)) {
            *exists = 1;
            return 0;
        }
        ssize_t n = readlink(out, link, sizeof link - 1);
        if (n < 0)
            return errno;
        link[n] = '\0';
        const char *slash = strrchr(out, '/');
        if (link[0] == '/' || !slash) {
            if (snprintf(out, PATH_BYTES, "%s", link) >= PATH_BYTES)
                return ENAMETOOLONG;
        } else {
            /* relative to the link's own folder */
            size_t keep = (size_t)(slash - out) + 1;
            if (keep + (size_t)n >= PATH_BYTES)
                return ENAMETOOLONG;
            memcpy(out + keep, link, (size_t)n + 1);
        }
    }
    return ELOOP;
}

/* 1 if the temporary name (after "<base>.tmp.") was left by a writer that
 * cannot still be writing it. Only our own form "<pid>.XXXXXX" counts, and
 * only a regular file of ours, unchanged for STALE_SECONDS, whose pid names
 * no process (a live pid, or one we may not signal, keeps it). Names
 * without a pid (older versions' "XXXXXX") are left alone: six characters
 * could as well be a user's "data.csv.tmp.backup". */
static int is_stale(const char *rest, const struct stat *st, time_t now)
{
    if (!S_ISREG(st->st_mode) || st->st_uid != geteuid())
        return 0;
    const char *dot = strchr(rest, '.');
    char *end = NULL;
    long pid = strtol(rest, &end, 10);
    if (!dot || end != dot || rest[0] < '0' || rest[0] > '9' || pid <= 1 ||
        (pid_t)pid == getpid() || strlen(dot + 1) != 6)
        return 0;
    for (const char *c = dot + 1; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return 0;
    return difftime(now, st->st_mtime) >= STALE_SECONDS && kill((pid_t)pid, 0) != 0 &&
           errno == ESRCH;
}

/* Removes temporaries of target that a killed writer left behind (see
 * is_stale). Best effort: a folder that cannot be listed is left as it is.
 * Its only heap use is opendir's, which glibc keeps usable after fork. */
static void remove_stale_temporaries(const char *target)
{
    char dir[PATH_BYTES], prefix[PATH_BYTES];
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == target ? 1 : (int)(slash - target), target);
    int plen = snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    if (plen < 0 || (size_t)plen >= sizeof prefix)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct stat st;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strncmp(e->d_name, prefix, (size_t)plen) == 0 &&
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            is_stale(e->d_name + plen, &st, now))
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

clseq_status clseq_write_file_atomic(const char *path, const unsigned char *data, size_t size)
{
    char target[PATH_BYTES], tmp[PATH_BYTES];
    struct stat st;
    int exists = 0;
    if (!path || !*path || (!data && size))
        return clseq_fail(CLSEQ_E_ARG, "clseq_write_file_atomic: NULL path or data");
    int err = resolve_target(path, target, &st, &exists);
    if (err)
        return clseq_io_fail(path, "finding the file to replace", err);
    /* rename would swap a device, FIFO or socket for a plain file (as root,
     * even /dev/null), and cannot replace a folder: refuse them all. This
     * guards against mistakes, not against a racer who swaps the name
     * between this check and the rename. */
    if (exists && !S_ISREG(st.st_mode)) {
        if (strcmp(target, path) == 0)
            return clseq_fail(CLSEQ_E_IO, "%s: is %s, not a regular file; refusing to replace it",
                              path, clseq_file_kind(st.st_mode));
        return clseq_fail(CLSEQ_E_IO, "%s: links to %s, which is %s, not a regular file; "
                          "refusing to replace it", path, target, clseq_file_kind(st.st_mode));
    }
    /* the pid in the name lets a later write tell a killed writer's file */
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.XXXXXX", target, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return clseq_io_fail(path, "creating a temporary file", ENAMETOOLONG);
    remove_stale_temporaries(target);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return clseq_io_fail(path, "creating a temporary file", errno);
    const char *step = fill_temp(fd, target, data, size, &err);
    if (!step && rename(tmp, target) != 0) {
        step = "renaming the temporary file over it";
        err = errno;
    }
    if (step) {
        unlink(tmp);
        return clseq_io_fail(path, step, err);
    }
    return sync_parent_dir(target);
}

clseq_status clseq_read_file(const char *path, unsigned char **data, size_t *size)
{
    if (!path || !data || !size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_read_file: NULL argument");
    *data = NULL;
    *size = 0;
    FILE *f = NULL;
    unsigned mode;
    int fd = clseq_open_regular(path, &mode);
    if (fd < 0 && mode)
        return clseq_fail(CLSEQ_E_IO, "%s: is %s, not a regular file; refusing to read it", path,
                          clseq_file_kind(mode));
    if (fd < 0)
        return clseq_io_fail(path, "opening", errno);
    if (!(f = fdopen(fd, "rb"))) {
        int err = errno;
        close(fd);
        return clseq_io_fail(path, "opening", err);
    }
    struct stat st;
    unsigned char *buf = NULL;
    clseq_status s = CLSEQ_OK;
    /* read to the size it had when opened (a file that shrank reads short:
     * the decoder says so) */
    if (fstat(fileno(f), &st) != 0)
        s = clseq_io_fail(path, "reading its size", errno);
    else if ((uintmax_t)st.st_size >= SIZE_MAX ||
             !(buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)))
        s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of host memory for %jd bytes", path,
                       (intmax_t)st.st_size);
    else if ((*size = fread(buf, 1, (size_t)st.st_size, f)) < (size_t)st.st_size && ferror(f))
        s = clseq_io_fail(path, "reading", errno);
    fclose(f);
    if (s != CLSEQ_OK) {
        free(buf);
        *size = 0;
        return s;
    }
    *data = buf;
    return CLSEQ_OK;
}

int clseq_open_regular(const char *path, unsigned *mode)
{
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait
     * forever; a FIFO or device could also stream forever once open */
    *mode = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) != 0) {
        err = errno;
    } else if (!S_ISREG(st.st_mode)) {
        *mode = (unsigned)st.st_mode;
    } else {
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0)
            return fd;
        err = errno;
    }
    close(fd);
    errno = err;
    return -1;
}

clseq_status clseq_open_log(const char *path, int append, FILE **out)
{
    *out = NULL;
    /* not O_TRUNC yet: a device or FIFO is refused before anything is done
     * to it; O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of
     * waiting for one */
    int fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC | (append ? O_APPEND : 0),
                  0666);
    if (fd < 0)
        return clseq_io_fail(path, "open", errno);
    struct stat st;
    int err = fstat(fd, &st) != 0 ? errno : 0;
    if (!err && !S_ISREG(st.st_mode)) {
        close(fd);
        return clseq_fail(CLSEQ_E_IO, "%s: is %s, not a regular file", path,
                          clseq_file_kind((unsigned)st.st_mode));
    }
    int flags = err ? -1 : fcntl(fd, F_GETFL);
    if (!err && (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
                 (!append && ftruncate(fd, 0) != 0)))
        err = errno;
    FILE *f = err ? NULL : fdopen(fd, append ? "a" : "w");
    if (!f) {
        err = err ? err : errno;
        close(fd);
        return clseq_io_fail(path, "open", err);
    }
    *out = f;
    return CLSEQ_OK;
}
