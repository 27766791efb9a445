/* Dropout (host/nn/layer_dropout.c, launches in host/ops/ops_norm.c).
 *
 * The mask is a pure function of (key, element index): Philox4x32-10, the
 * counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel
 * random numbers: as easy as 1, 2, 3" (SC 2011), written here from the
 * paper's description. The host draws one 64-bit key per training forward
 * pass from the model's dropout stream; the forward kernel records the
 * key in the layer's saved buffer and the backward kernel rebuilds the
 * same mask from it, so no mask is stored and nothing but the key crosses
 * from the host. Work-item g draws the four words of counter (g, 0, 0, 0)
 * for elements g + k ceil(n / 4), k = 0..3.
 *
 * Saved buffer (4 uints): key low word, key high word, whether the last
 * forward pass dropped anything (0 after an inference pass: backward is
 * then the identity), unused. */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* key schedule: the golden ratio's and sqrt(3)'s bits */
#define PHILOX_W1 0xBB67AE85u

enum { DROPOUT_KEY_LO = 0, DROPOUT_KEY_HI = 1, DROPOUT_ACTIVE = 2 };

/* Ten rounds of Philox4x32 on counter ctr. Each round multiplies two
 * words by M0, M1 into 64-bit products; the widened product rather than
 * mul_hi, which PoCL runs as a slow call (x2.5 this kernel's time), while
 * GPU compilers turn either into one wide multiply. */
inline uint4 philox4x32_10(uint4 ctr, uint2 key)
{
    for (int round = 0; round < 10; round++) {
        const ulong p0 = (ulong)PHILOX_M0 * ctr.x, p1 = (ulong)PHILOX_M1 * ctr.z;
        ctr = (uint4)((uint)(p1 >> 32) ^ ctr.y ^ key.x, (uint)p1, (uint)(p0 >> 32) ^ ctr.w ^ key.y,
                      (uint)p0);
        key += (uint2)(PHILOX_W0, PHILOX_W1);
    }
    return ctr;
}

/* x / b rounded to nearest, from inv_b = RN(1 / b): OpenCL's '/' may be
 * off by 2.5 ulp (GPUs take that licence), and Keras 3 divides kept values
 * by keep_prob (jax and numpy backends: inputs / keep_prob). q is within
 * about 2 ulp of x / b; one Newton correction with an exact fma remainder
 * brings it within 1 ulp, and a second is then correctly rounded
 * (Markstein's theorem; Muller et al., Handbook of Floating-Point
 * Arithmetic, "Newton-Raphson-based division with an FMA"). */
inline float divide_rn(const float x, const float b, const float inv_b)
{
    const float q0 = x * inv_b;
    float r = fma(-q0, b, x);
    const float q1 = fma(r, inv_b, q0);
    r = fma(-q1, b, x);
    const float q2 = fma(r, inv_b, q1);
    /* zeros keep their sign, infinities and NaN pass (r would be NaN) */
    return q0 == 0.0f || isinf(q0) || isnan(q0) ? q0 : q2;
}

/* Element value v kept (bits >= threshold: probability 1 - threshold / 2^32)
 * and scaled, or dropped. */
inline float drop_one(const float v, const uint bits, const uint threshold, const float keep,
                      const float inv_keep)
{
    return bits >= threshold ? divide_rn(v, keep, inv_keep) : 0.0f;
}

/* The mask applied to elements g, g + q, g + 2q, g + 3q of src (q =
 * ceil(n / 4): the four words of block g go a quarter of the tensor
 * apart, so neighbouring work-items touch neighbouring floats) into dst,
 * which may be src. */
inline void drop_four(__global const float *src, __global float *dst, const int g, const int n,
                      const uint2 key, const uint threshold, const float keep,
                      const float inv_keep)
{
    const int q = (n - 1) / 4 + 1; /* ceil(n / 4) without overflow; g < q */
    const uint4 bits = philox4x32_10((uint4)((uint)g, 0u, 0u, 0u), key);
    dst[g] = drop_one(src[g], bits.x, threshold, keep, inv_keep);
    if (g + q < n)
        dst[g + q] = drop_one(src[g + q], bits.y, threshold, keep, inv_keep);
    if (g + 2 * q < n)
        dst[g + 2 * q] = drop_one(src[g + 2 * q], bits.z, threshold, keep, inv_keep);
    if (g + 3 * q < n)
        dst[g + 3 * q] = drop_one(src[g + 3 * q], bits.w, threshold, keep, inv_keep);
}

/* Y = the dropped and scaled X (active) or a copy of X (an inference pass
 * of a layer with rate > 0); records key and mode in saved for backward.
 * One work-item per 4 elements, ceil(n / 4) of them. */
__kernel void dropout_forward(__global const float *X, __global float *Y, const int n,
                              const uint key_lo, const uint key_hi, const uint threshold,
                              const float keep, const float inv_keep, const int active,
                              __global uint *saved)
{
    const int g = get_global_id(0);
    if (g == 0) {
        saved[DROPOUT_KEY_LO] = key_lo;
        saved[DROPOUT_KEY_HI] = key_hi;
        saved[DROPOUT_ACTIVE] = (uint)active;
    }
    if (n == 0 || g > (n - 1) / 4)
        return;
    if (active) {
        drop_four(X, Y, g, n, (uint2)(key_lo, key_hi), threshold, keep, inv_keep);
        return;
    }
    const int q = (n - 1) / 4 + 1;
    for (int k = 0; k < 4 && g + k * q < n; k++) /* g + 3 q < 4 q <= 2^31 */
        Y[g + k * q] = X[g + k * q];
}

/* D = dL/d(in) from D = dL/d(out), in place: the forward mask and scale
 * again (y = x / keep where kept, so dx = dy / keep), or nothing after an
 * inference pass. */
__kernel void dropout_backward(__global float *D, const int n, const uint threshold,
                               const float keep, const float inv_keep,
                               __global const uint *saved)
{
    const int g = get_global_id(0);
    if (!saved[DROPOUT_ACTIVE] || n == 0 || g > (n - 1) / 4)
        return;
    const uint2 key = (uint2)(saved[DROPOUT_KEY_LO], saved[DROPOUT_KEY_HI]);
    drop_four(D, D, g, n, key, threshold, keep, inv_keep);
}
