/* The MPI collective (mpi_link.h). Every message is one MPI_Allreduce
 * (MPI_SUM of floats) of the same length on every process: a header, then
 * the payload. The header counts, per message kind, the processes that
 * sent that kind, and the failed processes, their ranks + 1 and their
 * statuses, summed. A process that finds fewer of its own kind than there
 * are processes knows another is elsewhere (failed, or finished); it
 * leaves its fit and sends END until every process does, so nobody waits
 * on a process that will not call again. */
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_link.h"

enum {
    H_KINDS = 0,                  /* one count per clseq_message_kind (1-based) */
    H_FAILED = CLSEQ_MSG_END + 1, /* processes that failed */
    H_WHO,                        /* the sum of their ranks + 1 */
    H_STATUS,                     /* the sum of their statuses */
    HEADER
};

/* A failure from MPI itself: the communicator cannot be trusted again. */
static clseq_status mpi_fail(clseq_mpi_link *l, int err, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    l->broken = 1;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS)
        text[0] = '\0';
    return clseq_fail(CLSEQ_E_IO, "%s failed: %s", call, text);
}

/* One message: kind, the caller's status, count floats of buf (summed in
 * place on success). */
static clseq_status exchange(clseq_mpi_link *l, clseq_message_kind kind, clseq_status local,
                             float *buf, size_t count)
{
    size_t total = HEADER + l->coll.payload;
    if (count > l->coll.payload)
        return clseq_fail(CLSEQ_E_SHAPE, "MPI message of %zu floats exceeds the %zu agreed",
                          count, l->coll.payload);
    memset(l->msg, 0, total * sizeof *l->msg);
    l->msg[H_KINDS + kind] = 1.0f;
    if (local != CLSEQ_OK) {
        l->msg[H_FAILED] = 1.0f;
        l->msg[H_WHO] = (float)(l->coll.rank + 1);
        l->msg[H_STATUS] = (float)local;
    }
    if (count)
        memcpy(l->msg + HEADER, buf, count * sizeof *buf);
    int err = MPI_Allreduce(MPI_IN_PLACE, l->msg, (int)total, MPI_FLOAT, MPI_SUM, l->comm);
    if (err != MPI_SUCCESS)
        return mpi_fail(l, err, "MPI_Allreduce");
    if (count)
        memcpy(buf, l->msg + HEADER, count * sizeof *buf);
    return CLSEQ_OK;
}

/* What a message says about the others: CLSEQ_OK when every process sent
 * kind and none failed. */
static clseq_status others(clseq_mpi_link *l, clseq_message_kind kind)
{
    float failed = l->msg[H_FAILED];
    if (failed == 1.0f) {
        clseq_status s = (clseq_status)(int)l->msg[H_STATUS];
        return clseq_fail(s, "the fit failed on MPI process %d (%s); it ended on every process",
                          (int)l->msg[H_WHO] - 1, clseq_status_name(s));
    }
    if (failed > 1.0f)
        return clseq_fail(CLSEQ_E_STATE, "the fit failed on %d MPI processes; it ended on every "
                          "process", (int)failed);
    if (l->msg[H_KINDS + kind] != (float)l->coll.size)
        return clseq_fail(CLSEQ_E_STATE, "MPI processes out of step: %d of %d are at the same "
                          "point of the fit (another left it); it ended on every process",
                          (int)l->msg[H_KINDS + kind], l->coll.size);
    return CLSEQ_OK;
}

static clseq_status link_allreduce(void *impl, clseq_message_kind kind, float *buf, size_t count)
{
    clseq_mpi_link *l = impl;
    if (l->broken)
        return clseq_fail(CLSEQ_E_IO, "an earlier MPI call failed");
    clseq_status s = exchange(l, kind, CLSEQ_OK, buf, count);
    if (s == CLSEQ_OK && (s = others(l, kind)) != CLSEQ_OK)
        l->failed_remote = 1;
    return s;
}

clseq_status clseq_mpi_link_open(clseq_mpi_link *l, MPI_Comm comm, const clseq_model *m,
                                 int batch_size)
{
    memset(l, 0, sizeof *l);
    l->comm = comm;
    int err = MPI_Comm_rank(comm, &l->coll.rank);
    if (err == MPI_SUCCESS)
        err = MPI_Comm_size(comm, &l->coll.size);
    if (err != MPI_SUCCESS)
        return mpi_fail(l, err, "MPI_Comm_rank/size");
    /* every process's message length and batch must agree: max and -min */
    long long mine[4] = {0, 0, batch_size, -(long long)batch_size}, all[4];
    mine[0] = m ? (long long)clseq_parallel_payload(m, l->coll.size) : -1;
    mine[1] = -mine[0];
    err = MPI_Allreduce(mine, all, 4, MPI_LONG_LONG, MPI_MAX, comm);
    if (err != MPI_SUCCESS)
        return mpi_fail(l, err, "MPI_Allreduce");
    if (all[0] != -all[1] || all[0] < 0)
        return clseq_fail(CLSEQ_E_ARG, "MPI processes have models of different sizes (or no "
                          "model); build the same model on every process");
    if (all[2] != -all[3])
        return clseq_fail(CLSEQ_E_ARG, "MPI processes were given different batch sizes "
                          "(%lld to %lld)", -all[3], all[2]);
    l->coll.payload = (size_t)all[0];
    l->coll.impl = l;
    l->coll.allreduce = link_allreduce;
    l->msg = malloc((HEADER + l->coll.payload) * sizeof *l->msg);
    if (!l->msg)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for MPI messages of %zu floats",
                          l->coll.payload);
    return CLSEQ_OK;
}

clseq_status clseq_mpi_link_finish(clseq_mpi_link *l, clseq_status s)
{
    /* the first failure seen from elsewhere stays the answer */
    clseq_status seen = CLSEQ_OK;
    char message[1024] = "";
    /* a local failure that came from another process is not announced
     * again: that process has announced it */
    clseq_status mine = l->failed_remote ? CLSEQ_OK : s;
    while (!l->broken) {
        clseq_status e = exchange(l, CLSEQ_MSG_END, mine, NULL, 0);
        if (e != CLSEQ_OK)
            return s != CLSEQ_OK ? s : e;
        /* what the others announced: this process's own part taken off */
        if (mine != CLSEQ_OK) {
            l->msg[H_FAILED] -= 1.0f;
            l->msg[H_WHO] -= (float)(l->coll.rank + 1);
            l->msg[H_STATUS] -= (float)mine;
        }
        /* a process that failed keeps its own message */
        if (s == CLSEQ_OK && seen == CLSEQ_OK && l->msg[H_FAILED] > 0) {
            seen = others(l, CLSEQ_MSG_END);
            snprintf(message, sizeof message, "%s", clseq_last_error());
        }
        if (l->msg[H_KINDS + CLSEQ_MSG_END] == (float)l->coll.size)
            break;
    }
    if (s == CLSEQ_OK && seen != CLSEQ_OK)
        return clseq_fail(seen, "%s", message);
    return s;
}

void clseq_mpi_link_close(clseq_mpi_link *l)
{
    free(l->msg);
    l->msg = NULL;
}
