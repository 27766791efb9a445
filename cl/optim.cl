/* Optimizer updates over the flat parameter buffer (all layers at once),
 * with Keras 3's update rules (keras/src/optimizers/<name>.py,
 * update_step). n is the parameter count. The per-parameter rules of SGD,
 * Adam and RMSprop are inline functions shared with the fused trainer; the
 * others run only on the layer path. Before an update, the host may clip
 * the gradients (clip_values, clip_by_norm) and decay the weights
 * (decay_weights), as base_optimizer._backend_apply_gradients does. One
 * work-item per parameter unless a kernel says otherwise. */

/* SGD: w -= lr g; with momentum, m = momentum m - lr g and w += m, or for
 * Nesterov w += momentum m - lr g. */
inline void sgd_param(__global float *w, const float g, __global float *m, const float lr,
                      const float momentum, const int nesterov)
{
    if (momentum == 0.0f) {
        *w -= lr * g;
        return;
    }
    const float v = momentum * *m - lr * g;
    *m = v;
    *w += nesterov ? momentum * v - lr * g : v;
}

/* Adam as Keras computes it: alpha = lr sqrt(1 - b2^t) / (1 - b1^t) folds
 * both bias corrections into the step; m += (g - m)(1 - b1);
 * v += (g^2 - v)(1 - b2); w -= alpha m / (sqrt(v) + eps). */
inline void adam_param(__global float *w, const float g, __global float *m, __global float *v,
                       const float alpha, const float beta1, const float beta2,
                       const float epsilon)
{
    const float mt = *m + (g - *m) * (1.0f - beta1);
    const float vt = *v + (g * g - *v) * (1.0f - beta2);
    *m = mt;
    *v = vt;
    *w -= alpha * mt / (sqrt(vt) + epsilon);
}

/* RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps). */
inline void rmsprop_param(__global float *w, const float g, __global float *v, const float lr,
                          const float rho, const float epsilon)
{
    const float vt = rho * *v + (1.0f - rho) * g * g;
    *v = vt;
    *w -= lr * g / sqrt(vt + epsilon);
}

__kernel void sgd_update(__global float *W, __global const float *G, __global float *M,
                         const int n, const float lr, const float momentum, const int nesterov)
{
    const int i = get_global_id(0);
    if (i < n)
        sgd_param(W + i, G[i], M + (momentum == 0.0f ? 0 : i), lr, momentum, nesterov);
}

__kernel void adam_update(__global float *W, __global const float *G, __global float *M,
                          __global float *V, const int n, const float alpha, const float beta1,
                          const float beta2, const float epsilon)
{
    const int i = get_global_id(0);
    if (i < n)
        adam_param(W + i, G[i], M + i, V + i, alpha, beta1, beta2, epsilon);
}

__kernel void rmsprop_update(__global float *W, __global const float *G, __global float *V,
                             const int n, const float lr, const float rho, const float epsilon)
{
    const int i = get_global_id(0);
    if (i < n)
        rmsprop_param(W + i, G[i], V + i, lr, rho, epsilon);
}

/* Adagrad: a += g^2 (a starts at initial_accumulator_value);
 * w -= lr g / sqrt(a + eps). */
__kernel void adagrad_update(__global float *W, __global const float *G, __global float *A,
                             const int n, const float lr, const float epsilon)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    const float a = A[i] + g * g;
    A[i] = a;
    W[i] -= lr * g / sqrt(a + epsilon);
}

/* Adadelta: ag = rho ag + (1 - rho) g^2;
 * d = -sqrt(ad + eps) g / sqrt(ag + eps); ad = rho ad + (1 - rho) d^2;
 * w += lr d. AG and AD are Keras's accumulated_grad and
 * accumulated_delta_var. */
__kernel void adadelta_update(__global float *W, __global const float *G, __global float *AG,
                              __global float *AD, const int n, const float lr, const float rho,
                              const float epsilon)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    const float ag = rho * AG[i] + (1.0f - rho) * (g * g);
    AG[i] = ag;
    const float d = -(sqrt(AD[i] + epsilon) * g / sqrt(ag + epsilon));
    AD[i] = rho * AD[i] + (1.0f - rho) * (d * d);
    W[i] += lr * d;
}

/* Adamax: m += (g - m)(1 - b1); u = max(b2 u, |g|);
 * w -= lr m / ((1 - b1^t)(u + eps)), bc1 = 1 - b1^t from the host. */
__kernel void adamax_update(__global float *W, __global const float *G, __global float *M,
                            __global float *U, const int n, const float lr, const float bc1,
                            const float beta1, const float beta2, const float epsilon)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    const float m = M[i] + (g - M[i]) * (1.0f - beta1);
    const float u = fmax(beta2 * U[i], fabs(g));
    M[i] = m;
    U[i] = u;
    W[i] -= lr * m / (bc1 * (u + epsilon));
}

/* Nadam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
 * m_hat = u_t1 m / d1 + c_g g / d0; v_hat = v / bc2;
 * w -= m_hat lr / (sqrt(v_hat) + eps). The host passes u_t1 = u_{t+1},
 * d1 = 1 - u_product_t u_{t+1}, c_g = 1 - u_t, d0 = 1 - u_product_t and
 * bc2 = 1 - b2^t (Keras's momentum cache, host/nn/optimizer.c). */
__kernel void nadam_update(__global float *W, __global const float *G, __global float *M,
                           __global float *V, const int n, const float lr, const float u_t1,
                           const float d1, const float c_g, const float d0, const float bc2,
                           const float beta1, const float beta2, const float epsilon)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    const float m = M[i] + (g - M[i]) * (1.0f - beta1);
    const float v = V[i] + (g * g - V[i]) * (1.0f - beta2);
    M[i] = m;
    V[i] = v;
    const float m_hat = u_t1 * m / d1 + c_g * g / d0;
    W[i] -= m_hat * lr / (sqrt(v / bc2) + epsilon);
}

/* Lion: w -= lr sign(b1 m + (1 - b1) g); then m = b2 m + (1 - b2) g. */
__kernel void lion_update(__global float *W, __global const float *G, __global float *M,
                          const int n, const float lr, const float beta1, const float beta2)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    W[i] -= lr * sign(M[i] * beta1 + g * (1.0f - beta1));
    M[i] = M[i] * beta2 + g * (1.0f - beta2);
}

/* Weight decay (base_optimizer._apply_weight_decay): w -= w wd lr. */
__kernel void decay_weights(__global float *W, const int n, const float wd, const float lr)
{
    const int i = get_global_id(0);
    if (i < n)
        W[i] = W[i] - W[i] * wd * lr;
}

/* clipvalue (base_optimizer._clip_gradients): g = min(max(g, -c), c). */
__kernel void clip_values(__global float *G, const int n, const float clip)
{
    const int i = get_global_id(0);
    if (i < n)
        G[i] = fmin(fmax(G[i], -clip), clip);
}

/* Scales gradients by their L2 norm, one work-group per segment: with
 * global_norm 0, group s takes G[seg[2s], seg[2s] + seg[2s + 1]) (one
 * trainable variable) and does base_optimizer._clip_by_norm:
 * g = g c / max(norm, c); with global_norm 1, one group takes G[0, n) and
 * does clip_by_global_norm: g = g (c min(1 / norm, 1 / c) + (norm - norm)),
 * NaN for a non-finite norm as in Keras. The group's work-items stride
 * over the segment, combine their sums of squares in local memory
 * (scratch: one float per work-item, a power-of-two local size), then scale
 * the values they summed. */
__kernel void clip_by_norm(__global float *G, __global const int *seg, const int n,
                           const float clip, const int global_norm, __local float *scratch)
{
    const int s = get_group_id(0);
    const int lid = get_local_id(0), size = get_local_size(0);
    const int first = global_norm ? 0 : seg[2 * s];
    const int count = global_norm ? n : seg[2 * s + 1];
    __global float *g = G + first;
    float partial = 0.0f;
    for (int i = lid; i < count; i += size)
        partial += g[i] * g[i];
    const float l2sum = group_sum(scratch, partial);
    if (global_norm) {
        const float norm = sqrt(l2sum);
        const float scale = clip * fmin(1.0f / norm, 1.0f / clip) + (norm - norm);
        for (int i = lid; i < count; i += size)
            g[i] = g[i] * scale;
    } else {
        const float norm = l2sum > 0.0f ? sqrt(l2sum) : l2sum;
        const float denom = fmax(norm, clip);
        for (int i = lid; i < count; i += size)
            g[i] = g[i] * clip / denom;
    }
}
