/* BatchNormalization over the last axis (host/nn/layer_batch_norm.c,
 * launches in host/ops/ops_norm.c). Its input is P positions x C channels
 * row-major (a Dense output: P = rows; a conv output: P = rows x H x W).
 *
 * Per-channel sums run in two stages so that they are deterministic
 * (fixed order, no atomics) and spread over the device: bn_partial_sums
 * gives each work-group BN_SPAN consecutive positions of LX channels
 * (get_local_size(0)); its LY lanes (get_local_size(1), a power of two)
 * stride over those positions, reading LX consecutive floats per row
 * (coalesced), and combine in local memory. The bn_finish_* kernels then
 * add the segments' partial sums per channel with Kahan compensation.
 * Partial sums: scratch[(segment C + c) 2 + k], k = 0, 1.
 *
 * The batch statistics are the corrected two-pass algorithm (Chan, Golub
 * and LeVeque, "Algorithms for computing the sample variance", 1983): a
 * first mean m1, then d = x - m1 with sum(d) and sum(d^2); mean = m1 +
 * sum(d) / P and var = (sum(d^2) - sum(d)^2 / P) / P. It stays accurate
 * where E[x^2] - E[x]^2 cancels (inputs far from zero), and the second
 * pass repairs most of the first mean's rounding.
 *
 * Saved buffer (4 C + 1 floats, kept from forward to backward): the mean
 * and 1 / sqrt(var + epsilon) the forward pass normalised with (batch
 * statistics in training, moving ones in inference), then backward's
 * sum(dy) and sum(dy xhat), then a flag: 1 after a training pass (the
 * statistics depend on the batch, and the input gradient has their
 * terms), 0 after an inference pass. */

enum { BN_MEAN = 0, BN_INV_STD = 1, BN_SUM_DY = 2, BN_SUM_DY_XHAT = 3, BN_FLAG = 4 };
enum { BN_STAT_X = 0, BN_STAT_DEV = 1, BN_STAT_GRAD = 2 };

/* The two quantities position p of channel c adds to the sums. */
inline float2 bn_terms(const int what, __global const float *X, __global const float *D,
                       __global const float *saved, const int C, const int p, const int c)
{
    const float x = X[p * C + c];
    if (what == BN_STAT_X)
        return (float2)(x, 0.0f);
    const float d = x - saved[BN_MEAN * C + c];
    if (what == BN_STAT_DEV)
        return (float2)(d, d * d);
    const float dy = D[p * C + c];
    return (float2)(dy, dy * (d * saved[BN_INV_STD * C + c]));
}

/* Partial sums over the segment of positions [group(1) span, + span) for
 * channel get_global_id(0): what is BN_STAT_X (x), BN_STAT_DEV (x - mean
 * and its square; the mean in saved) or BN_STAT_GRAD (dy and dy xhat; D
 * is dL/dy). local: 2 LX LY floats. */
__kernel void bn_partial_sums(__global const float *X, __global const float *D,
                              __global const float *saved, const int P, const int C,
                              const int what, const int span, __global float *partial,
                              __local float *local_sums)
{
    const int c = get_global_id(0), lx = get_local_id(0), LX = get_local_size(0);
    const int lane = get_local_id(1), LY = get_local_size(1), segment = get_group_id(1);
    const int start = segment * span;
    const int end = P - start < span ? P : start + span;
    float2 sum = (float2)(0.0f, 0.0f);
    if (c < C)
        for (int p = start + lane; p < end; p += LY)
            sum += bn_terms(what, X, D, saved, C, p, c);
    __local float *s0 = local_sums, *s1 = local_sums + LX * LY;
    s0[lane * LX + lx] = sum.x;
    s1[lane * LX + lx] = sum.y;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = LY / 2; stride > 0; stride /= 2) {
        if (lane < stride) {
            s0[lane * LX + lx] += s0[(lane + stride) * LX + lx];
            s1[lane * LX + lx] += s1[(lane + stride) * LX + lx];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && c < C) {
        partial[(segment * C + c) * 2] = s0[lx];
        partial[(segment * C + c) * 2 + 1] = s1[lx];
    }
}

/* Channel c's totals over the segments, Kahan-compensated (a large batch
 * has hundreds of segments). */
inline float2 bn_total(__global const float *partial, const int segments, const int C,
                       const int c)
{
    float2 sum = (float2)(0.0f, 0.0f), comp = (float2)(0.0f, 0.0f);
    for (int s = 0; s < segments; s++) {
        const float2 y = vload2(s * C + c, partial) - comp;
        const float2 t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    return sum;
}

/* First pass: saved mean = sum(x) / P. */
__kernel void bn_finish_mean(__global const float *partial, const int segments, const int P,
                             const int C, __global float *saved)
{
    const int c = get_global_id(0);
    if (c < C)
        saved[BN_MEAN * C + c] = bn_total(partial, segments, C, c).x / (float)P;
}

/* Second pass: the refined mean and 1 / sqrt(var + epsilon) into saved
 * (flag: training), and Keras's moving update (BatchNormalization.call:
 * moving = moving momentum + batch (1 - momentum), the variance being the
 * biased one ops.moments gives) of state[mean_off + c] and
 * state[var_off + c]. */
__kernel void bn_finish_variance(__global const float *partial, const int segments,
                                 const int P, const int C, __global float *saved,
                                 __global float *state, const int mean_off, const int var_off,
                                 const float momentum, const float one_minus_momentum,
                                 const float epsilon)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    const float2 t = bn_total(partial, segments, C, c);
    const float n = (float)P;
    const float mean = saved[BN_MEAN * C + c] + t.x / n;
    const float var = fmax((t.y - t.x * (t.x / n)) / n, 0.0f);
    saved[BN_MEAN * C + c] = mean;
    saved[BN_INV_STD * C + c] = rsqrt(var + epsilon);
    if (c == 0)
        saved[BN_FLAG * C] = 1.0f;
    state[mean_off + c] = state[mean_off + c] * momentum + mean * one_minus_momentum;
    state[var_off + c] = state[var_off + c] * momentum + var * one_minus_momentum;
}

/* Inference: the moving statistics into saved (flag: inference). */
__kernel void bn_inference_stats(__global const float *state, const int mean_off,
                                 const int var_off, const float epsilon, const int C,
                                 __global float *saved)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    saved[BN_MEAN * C + c] = state[mean_off + c];
    saved[BN_INV_STD * C + c] = rsqrt(state[var_off + c] + epsilon);
    if (c == 0)
        saved[BN_FLAG * C] = 0.0f;
}

/* gamma[c] and beta[c], or 1 and 0 for a layer without them (offset < 0). */
inline float bn_gamma(__global const float *params, const int gamma_off, const int c)
{
    return gamma_off >= 0 ? params[gamma_off + c] : 1.0f;
}

/* Y = gamma (X - mean) / sqrt(var + epsilon) + beta with saved's
 * statistics; n = P C elements, one per work-item. (x - mean) first: the
 * form x inv + (beta - mean inv) would cancel for inputs far from zero. */
__kernel void bn_normalize(__global const float *X, __global float *Y, const int n, const int C,
                           __global const float *saved, __global const float *params,
                           const int gamma_off, const int beta_off)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const int c = i % C;
    const float xhat = (X[i] - saved[BN_MEAN * C + c]) * saved[BN_INV_STD * C + c];
    const float y = bn_gamma(params, gamma_off, c) * xhat;
    Y[i] = beta_off >= 0 ? y + params[beta_off + c] : y;
}

/* Backward's sums: dbeta = sum(dy), dgamma = sum(dy xhat) into grads at
 * the variables' offsets (where the layer has them), and both into saved
 * for the input gradient. */
__kernel void bn_finish_grads(__global const float *partial, const int segments, const int C,
                              __global float *saved, __global float *grads, const int gamma_off,
                              const int beta_off)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    const float2 t = bn_total(partial, segments, C, c);
    saved[BN_SUM_DY * C + c] = t.x;
    saved[BN_SUM_DY_XHAT * C + c] = t.y;
    if (gamma_off >= 0)
        grads[gamma_off + c] = t.y;
    if (beta_off >= 0)
        grads[beta_off + c] = t.x;
}

/* D = dL/dx from D = dL/dy, in place. After a training pass the mean and
 * variance depend on every x of the channel:
 *   dx = gamma inv_std (dy - sum(dy) / P - xhat sum(dy xhat) / P);
 * after an inference pass they are constants: dx = gamma inv_std dy. */
__kernel void bn_backward_input(__global const float *X, __global float *D, const int n,
                                const int C, const int P, __global const float *saved,
                                __global const float *params, const int gamma_off)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const int c = i % C;
    const float scale = bn_gamma(params, gamma_off, c) * saved[BN_INV_STD * C + c];
    float dy = D[i];
    if (saved[BN_FLAG * C] != 0.0f) {
        const float xhat = (X[i] - saved[BN_MEAN * C + c]) * saved[BN_INV_STD * C + c];
        const float inv_n = 1.0f / (float)P;
        dy -= (saved[BN_SUM_DY * C + c] + xhat * saved[BN_SUM_DY_XHAT * C + c]) * inv_n;
    }
    D[i] = scale * dy;
}
