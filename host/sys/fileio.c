/* Whole-file reads and atomic writes (temporary file, fsync, rename, then
 * the directory synced), shared by model files and CSV output. */
#include "sys/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/error.h"

enum { PATH_BYTES = 4096 + 16 }; /* room for a PATH_MAX path and ".tmp.XXXXXX" */

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

clseq_status clseq_write_file_atomic(const char *path, const unsigned char *data, size_t size)
{
    char tmp[PATH_BYTES];
    if (!path || !*path || (!data && size))
        return clseq_fail(CLSEQ_E_ARG, "clseq_write_file_atomic: NULL path or data");
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return clseq_io_fail(path, "creating a temporary file", ENAMETOOLONG);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return clseq_io_fail(path, "creating a temporary file", errno);
    int err = 0;
    const char *step = fill_temp(fd, path, data, size, &err);
    if (!step && rename(tmp, path) != 0) {
        step = "renaming the temporary file over it";
        err = errno;
    }
    if (step) {
        unlink(tmp);
        return clseq_io_fail(path, step, err);
    }
    return sync_parent_dir(path);
}

clseq_status clseq_read_file(const char *path, unsigned char **data, size_t *size)
{
    if (!path || !data || !size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_read_file: NULL argument");
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return clseq_io_fail(path, "opening", errno);
    struct stat st;
    unsigned char *buf = NULL;
    clseq_status s = CLSEQ_OK;
    /* a FIFO or device could stream forever: only regular files, read to
     * their size (a file that shrank reads short: the decoder says so) */
    if (fstat(fileno(f), &st) != 0)
        s = clseq_io_fail(path, "reading its size", errno);
    else if (!S_ISREG(st.st_mode))
        s = clseq_fail(CLSEQ_E_IO, "%s: not a regular file", path);
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

