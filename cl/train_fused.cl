/* Fused training of small models: ONE work-group runs every step of an
 * epoch (gather, forward, loss, backward, optimizer update) with barriers
 * between the phases, so an epoch costs one launch instead of ~10 per
 * batch. It computes what the layer-by-layer kernels compute, in the same
 * order of summation, through the same inline helpers.
 *
 * layout holds FL_FIELDS ints per layer (see FL_*). scratch holds the
 * batch's inputs (input_off, batch x in_dim), targets (target_off, batch x
 * target_width), each layer's outputs (layout[FL_OUT]) and two gradient
 * buffers (delta_off and delta_off + delta_stride); with logits_off >= 0,
 * the logits the cross-entropy's loss is computed from (a dense last
 * layer's z, kept there by its forward, or an activation layer's input).
 * Work-items stride over each phase's elements; every loop that contains a
 * barrier has the same trip count on all work-items. Loss and metric sums
 * (STATS_PER_ROW) are added to totals[0..STATS_PER_ROW) once, at the end;
 * with auc_off >= 0, AUC's histogram goes to totals + auc_off as each batch
 * is done (auc_accumulate: each bucket has one work-item). */



#define SYNC() barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE)

/* The work-group size, fixed at build time (-DFUSED_SIZE) so the compiler
 * sees the loops' strides: with one work-item on a CPU they become plain
 * loops. */
#ifndef FUSED_SIZE
#define FUSED_SIZE 64
#endif

/* Walks this work-item's share (lid, lid + FUSED_SIZE, ...) of a rows x
 * cols index space as (r, c) pairs, stepping without a division per
 * element: integer division dominated the small models' steps. */
#define FOR_EACH_RC(r, c, rows, cols)                                                    \
    for (int r = lid / (cols), c = lid % (cols); r < (rows);                             \
         c += FUSED_SIZE % (cols), r += FUSED_SIZE / (cols) + (c >= (cols)),              \
             c -= c >= (cols) ? (cols) : 0)

/* Layer l's forward pass over rows rows; with keep_z, a dense layer's
 * pre-activations also go to z; with keep_lse, a softmax's rows'
 * log-sum-exp go to lse. */
inline void fused_forward_layer(__global const int *L, __global const float *P,
                                __global const float *in, __global float *out, const int rows,
                                const int keep_z, __global float *z, const int keep_lse,
                                __global float *lse)
{
    const int lid = get_local_id(0), size = FUSED_SIZE;
    const int in_dim = L[FL_IN], units = L[FL_UNITS], act = L[FL_ACT];
    if (L[FL_DENSE]) {
        __global const float *W = P + L[FL_KERNEL];
        __global const float *b = P + L[FL_BIAS];
        FOR_EACH_RC(r, u, rows, units) {
            float acc = 0.0f;
            for (int k = 0; k < in_dim; k++)
                acc = fma(in[r * in_dim + k], W[k * units + u], acc);
            acc += b[u];
            if (keep_z)
                z[r * units + u] = acc;
            out[r * units + u] = act == ACT_SOFTMAX ? acc : act_forward(act, acc);
        }
        SYNC();
        if (act == ACT_SOFTMAX) {
            for (int r = lid; r < rows; r += size) {
                const float row_lse = softmax_row_lse(out + r * units, out + r * units, units);
                if (keep_lse)
                    lse[r] = row_lse;
            }
            SYNC();
        }
    } else {
        if (act == ACT_SOFTMAX)
            for (int r = lid; r < rows; r += size) {
                const float row_lse = softmax_row_lse(in + r * units, out + r * units, units);
                if (keep_lse)
                    lse[r] = row_lse;
            }
        else
            for (int i = lid; i < rows * units; i += size)
                out[i] = act_forward(act, in[i]);
        SYNC();
    }
}

/* dL/dA -> dL/dZ through layer l's activation, in place in d. */
inline void fused_activation_backward(__global const int *L, __global const float *out,
                                      __global float *d, const int rows)
{
    const int lid = get_local_id(0), size = FUSED_SIZE;
    const int units = L[FL_UNITS], act = L[FL_ACT];
    if (act == ACT_SOFTMAX)
        for (int r = lid; r < rows; r += size)
            softmax_backward_row(d + r * units, out + r * units, units);
    else if (act != ACT_LINEAR)
        for (int i = lid; i < rows * units; i += size)
            d[i] *= act_derivative(act, out[i], out[i]); /* no ACT_NEEDS_INPUT here */
    SYNC();
}

/* A dense layer's kernel and bias gradients into G and, with want_prev,
 * the gradient at its input: three independent loops (they write disjoint
 * outputs) before one barrier. */
inline void fused_dense_backward(__global const int *L, __global const float *P,
                                 __global float *G, __global const float *in,
                                 __global const float *d, __global float *d_prev,
                                 const int rows, const int want_prev)
{
    const int lid = get_local_id(0), size = FUSED_SIZE;
    const int in_dim = L[FL_IN], units = L[FL_UNITS];
    __global const float *W = P + L[FL_KERNEL];
    __global float *gW = G + L[FL_KERNEL], *gb = G + L[FL_BIAS];
    FOR_EACH_RC(k, u, in_dim, units) {
        float acc = 0.0f;
        for (int r = 0; r < rows; r++)
            acc = fma(in[r * in_dim + k], d[r * units + u], acc);
        gW[k * units + u] = acc;
    }
    for (int u = lid; u < units; u += size) {
        float acc = 0.0f;
        for (int r = 0; r < rows; r++)
            acc += d[r * units + u];
        gb[u] = acc;
    }
    if (want_prev) {
        FOR_EACH_RC(r, k, rows, in_dim) {
            float acc = 0.0f;
            for (int u = 0; u < units; u++)
                acc = fma(d[r * units + u], W[k * units + u], acc);
            d_prev[r * in_dim + k] = acc;
        }
    }
    SYNC();
}

__kernel __attribute__((reqd_work_group_size(FUSED_SIZE, 1, 1))) void fused_train(__global const float *X, __global const float *Y,
                          __global const int *perm, const int n, const int batch,
                          __global const int *layout, const int layers, const int target_width,
                          __global float *P, __global float *G, __global float *M,
                          __global float *V, const int param_count, __global float *scratch,
                          const int input_off, const int target_off, const int delta_off,
                          const int delta_stride, const int loss, const int acc_kind,
                          const int fused_loss, const int opt_kind, const float lr,
                          const float momentum, const int nesterov, const float beta1,
                          const float beta2, const float rho, const float epsilon,
                          const int t0, __global float *totals, const float threshold,
                          const int top_k, const int logits_off, const int auc_off,
                          const int first_step, const int last_step, __local float *reduce,
                          const int lse_off)
{
    const int lid = get_local_id(0), size = FUSED_SIZE;
    const int in_dim = layout[FL_IN];
    __global const int *last = layout + (layers - 1) * FL_FIELDS;
    __global float *input = scratch + input_off, *target = scratch + target_off;
    /* sums over the epoch with Kahan compensation: one work-item may add
     * millions of rows, which plain float sums would let drift */
    float stats[STATS_PER_ROW], comp[STATS_PER_ROW];
    for (int i = 0; i < STATS_PER_ROW; i++)
        stats[i] = comp[i] = 0.0f;
    const metric_args metric = {acc_kind, threshold, top_k};
    const int use_logits = logits_off >= 0;
    __global float *logits = scratch + (use_logits ? logits_off : 0);
    /* with a softmax last layer, its rows' log-sum-exp (lse_off >= 0) */
    __global float *lse = scratch + (lse_off >= 0 ? lse_off : 0);
    const int last_softmax = layout[(layers - 1) * FL_FIELDS + FL_ACT] == ACT_SOFTMAX;
    const int have_lse = use_logits && lse_off >= 0 && last_softmax;
    /* the epoch's steps first_step..last_step-1 (a launch may run a part
     * of an epoch, so the host can show progress between parts) */
    for (int step = first_step; step < last_step; step++) {
        const int start = step * batch, rows = min(batch, n - start);
        FOR_EACH_RC(r, c, rows, in_dim)
            input[r * in_dim + c] = X[perm[start + r] * in_dim + c];
        FOR_EACH_RC(r, c, rows, target_width)
            target[r * target_width + c] = Y[perm[start + r] * target_width + c];
        SYNC();
        for (int l = 0; l < layers; l++) {
            __global const int *L = layout + l * FL_FIELDS;
            __global const float *in = l ? scratch + L[FL_OUT - FL_FIELDS] : input;
            fused_forward_layer(L, P, in, scratch + L[FL_OUT], rows,
                                use_logits && l == layers - 1, logits,
                                have_lse && l == layers - 1, lse);
        }
        const int units = last[FL_UNITS];
        for (int r = lid; r < rows; r += size) {
            float row[STATS_PER_ROW];
            loss_row(scratch + last[FL_OUT] + r * units, logits + (use_logits ? r * units : 0),
                     use_logits, target + r * target_width, units, loss, metric, 1.0f / rows,
                     1, scratch + delta_off + r * units, row, have_lse, have_lse ? lse[r] : 0.0f);
            for (int i = 0; i < STATS_PER_ROW; i++) {
                const float y = row[i] - comp[i], t = stats[i] + y;
                comp[i] = (t - stats[i]) - y;
                stats[i] = t;
            }
        }
        if (auc_off >= 0)
            auc_accumulate(scratch + last[FL_OUT], target, rows, units, totals + auc_off, lid,
                           size);
        SYNC();
        int cur = 0;
        for (int l = layers - 1; l >= 0; l--) {
            __global const int *L = layout + l * FL_FIELDS;
            __global float *d = scratch + delta_off + cur * delta_stride;
            if (!(l == layers - 1 && fused_loss))
                fused_activation_backward(L, scratch + L[FL_OUT], d, rows);
            if (!L[FL_DENSE])
                continue;
            __global const float *in = l ? scratch + L[FL_OUT - FL_FIELDS] : input;
            fused_dense_backward(L, P, G, in, d, scratch + delta_off + (1 - cur) * delta_stride,
                                 rows, l > 0);
            cur = 1 - cur;
        }
        float alpha = 0.0f;
        if (opt_kind == OPT_ADAM) {
            const float t = (float)(t0 + step + 1);
            alpha = lr * sqrt(1.0f - pow(beta2, t)) / (1.0f - pow(beta1, t));
        }
        for (int i = lid; i < param_count; i += size) {
            if (opt_kind == OPT_SGD)
                sgd_param(P + i, G[i], M + (momentum == 0.0f ? 0 : i), lr, momentum, nesterov);
            else if (opt_kind == OPT_ADAM)
                adam_param(P + i, G[i], M + i, V + i, alpha, beta1, beta2, epsilon);
            else /* OPT_RMSPROP: nn/fused.c sends no other optimizer here */
                rmsprop_param(P + i, G[i], V + i, lr, rho, epsilon);
        }
        SYNC();
    }
    /* totals += the work-group's sums, one statistic at a time */
    for (int s = 0; s < STATS_PER_ROW; s++) {
        reduce[lid] = stats[s];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int stride = size / 2; stride > 0; stride /= 2) {
            if (lid < stride)
                reduce[lid] += reduce[lid + stride];
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (lid == 0)
            totals[s] += reduce[0];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}
