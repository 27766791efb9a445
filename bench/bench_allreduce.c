/* clseq bench allreduce: what data-parallel training exchanges each step,
 * for each bench model (seed: Dense(4) on 2 features; mlp: 784-512-512-10;
 * cnn: bench_cnn.c's Conv2D/MaxPooling2D network):
 *   allreduce_<model>_bytes        the gradient vector summed every step
 *   allreduce_<model>_host_ms      its sum over the context's devices through
 *                                  the host (best of the runs)
 *   allreduce_<model>_device_ms    the same, device to device
 *   allreduce_<model>_mpi_ms       one MPI_Allreduce of it over the processes
 *                                  (median), when run under mpirun with
 *                                  --mpi in a build with MPI
 * The device sums need a context of two or more devices (on PoCL:
 * POCL_DEVICES="pthread pthread" clseq bench allreduce --device all); with
 * one device their lines read n/a. docs/scaling.md turns these into a
 * model of speed-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nn/parallel.h"

#ifdef CLSEQ_BENCH_HAVE_MPI
#include <mpi.h>
#endif

typedef struct bench_net {
    const char *name;
    int rank, dims[3];
    const char *layers;
} bench_net;

static const bench_net nets[] = {
    {"seed", 1, {2, 0, 0}, "dense:4:softmax"},
    {"mlp", 1, {784, 0, 0}, "dense:512:relu,dense:512:relu,dense:10:softmax"},
    {"cnn", 3, {28, 28, 1},
     "conv2d:32:3x3:relu,maxpool2d:2,conv2d:64:3x3:relu,maxpool2d:2,flatten,dense:128:relu,"
     "dense:10:softmax"},
};

static clseq_model *net_create(clseq_ctx *ctx, const bench_net *net)
{
    clseq_model *m = NULL;
    if (bench_check(clseq_model_create_shaped(ctx, net->rank, net->dims, &m), "model") &&
        bench_check(clseq_add_layers(m, net->layers), net->name) &&
        bench_check(clseq_compile(m, clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f),
                                  CLSEQ_CATEGORICAL_CROSSENTROPY, 0),
                    "compile"))
        return m;
    clseq_model_free(m);
    return NULL;
}

/* The in-process sums, both ways, on replicas of m over ctx's devices. */
static int device_sums(clseq_model *m, const bench_net *net, int runs)
{
    char name[96];
    clseq_parallel p;
    memset(&p, 0, sizeof p);
    double host_ms = 0, device_ms = 0;
    int ok = bench_check(clseq_workspace_reserve(m, 1), "workspace") &&
             bench_check(clseq_replicas_create(m, &p, 1), "replicas") &&
             bench_check(clseq_allreduce_choose(&p, -1, runs, &host_ms, &device_ms), "exchange");
    if (ok) {
        snprintf(name, sizeof name, "allreduce_%s_host_ms", net->name);
        bench_print(name, host_ms, "ms");
        snprintf(name, sizeof name, "allreduce_%s_device_ms", net->name);
        bench_print(name, device_ms, "ms");
    }
    clseq_replicas_free(&p);
    clseq_buffer_release(&p.stage);
    free(p.host);
    return ok;
}

#ifdef CLSEQ_BENCH_HAVE_MPI
/* The median time of one MPI_Allreduce of count floats (rank 0 prints). */
static int mpi_sum(const bench_net *net, size_t count, int runs)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    float *buf = calloc(count ? count : 1, sizeof *buf);
    double times[BENCH_MAX_RUNS];
    int ok = buf != NULL;
    for (int i = 0; ok && i < runs; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double start = bench_now_ms();
        ok = MPI_Allreduce(MPI_IN_PLACE, buf, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) ==
             MPI_SUCCESS;
        times[i] = bench_now_ms() - start;
    }
    free(buf);
    char name[96];
    snprintf(name, sizeof name, "allreduce_%s_mpi_%d_ranks_ms", net->name, size);
    if (ok && rank == 0)
        bench_print(name, bench_median(times, runs), "ms");
    return ok;
}
#endif

int bench_allreduce(clseq_ctx *ctx, const bench_options *o, int mpi)
{
    int runs = bench_runs(o, 20), ok = 1;
    char name[96];
    for (size_t i = 0; ok && i < sizeof nets / sizeof nets[0]; i++) {
        clseq_model *m = net_create(ctx, &nets[i]);
        if (!m)
            return 0;
        snprintf(name, sizeof name, "allreduce_%s_bytes", nets[i].name);
        bench_print(name, (double)(m->param_count * sizeof(float)), "B");
        if (clseq_ctx_device_count(ctx) > 1) {
            ok = device_sums(m, &nets[i], runs);
        } else {
            snprintf(name, sizeof name, "allreduce_%s_host_ms", nets[i].name);
            bench_print_na(name);
            snprintf(name, sizeof name, "allreduce_%s_device_ms", nets[i].name);
            bench_print_na(name);
        }
#ifdef CLSEQ_BENCH_HAVE_MPI
        if (ok && mpi)
            ok = mpi_sum(&nets[i], m->param_count, runs);
#else
        (void)mpi;
#endif
        clseq_model_free(m);
    }
    return ok;
}
