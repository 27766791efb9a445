/* Helpers shared by every kernel family; each program lists it right after
 * codes.h (host/runtime/sources.c). */

/* Keras 3's constants (keras/src/activations/activations.py): leaky_relu's
 * default negative_slope, selu's alpha and scale. */
#define LEAKY_SLOPE 0.2f
#define SELU_ALPHA 1.6732632423543772f
#define SELU_SCALE 1.0507009873554805f

inline float sigmoid_of(const float z)
{
    return 1.0f / (1.0f + exp(-z));
}

/* Element-wise activation, Keras 3's formulas (softmax and log_softmax are
 * row operations: see softmax.cl). */
inline float act_forward(const int act, const float z)
{
    switch (act) {
    case ACT_RELU: return fmax(z, 0.0f);
    case ACT_SIGMOID: return sigmoid_of(z);
    case ACT_TANH: return tanh(z);
    case ACT_LEAKY_RELU: return z >= 0.0f ? z : LEAKY_SLOPE * z;
    case ACT_ELU: return z > 0.0f ? z : expm1(z);
    case ACT_SELU: return SELU_SCALE * (z > 0.0f ? z : SELU_ALPHA * expm1(z));
    case ACT_GELU: return 0.5f * z * (1.0f + erf(z * M_SQRT1_2_F));
    case ACT_SOFTPLUS: return fmax(z, 0.0f) + log1p(exp(-fabs(z)));
    case ACT_SOFTSIGN: return z / (1.0f + fabs(z));
    case ACT_SILU: return z * sigmoid_of(z);
    case ACT_HARD_SIGMOID: return clamp(z / 6.0f + 0.5f, 0.0f, 1.0f);
    case ACT_EXPONENTIAL: return exp(z);
    case ACT_RELU6: return clamp(z, 0.0f, 6.0f);
    default: return z;
    }
}

/* d act / d z, written in terms of the activation's output a wherever the
 * output determines it, so backprop needs only the stored outputs; gelu
 * and silu are not invertible and read z (ACT_NEEDS_INPUT; other callers
 * may pass anything). At kinks the derivative is the right-hand one at 0
 * for relu, relu6 and hard_sigmoid's flat ends count as flat, as in
 * TensorFlow and JAX (relu'(0) = 0). */
inline float act_derivative(const int act, const float a, const float z)
{
    switch (act) {
    case ACT_RELU: return a > 0.0f ? 1.0f : 0.0f;
    case ACT_SIGMOID: return a * (1.0f - a);
    case ACT_TANH: return 1.0f - a * a;
    case ACT_LEAKY_RELU: return a > 0.0f ? 1.0f : LEAKY_SLOPE;
    case ACT_ELU: return a > 0.0f ? 1.0f : a + 1.0f;
    case ACT_SELU: return a > 0.0f ? SELU_SCALE : a + SELU_SCALE * SELU_ALPHA;
    case ACT_GELU:
        return 0.5f * (1.0f + erf(z * M_SQRT1_2_F)) +
               z * exp(-0.5f * z * z) * (0.5f * M_2_SQRTPI_F * M_SQRT1_2_F);
    case ACT_SOFTPLUS: return -expm1(-a); /* sigmoid(z) = 1 - exp(-softplus(z)) */
    case ACT_SOFTSIGN: return (1.0f - fabs(a)) * (1.0f - fabs(a));
    case ACT_SILU: {
        const float s = sigmoid_of(z);
        return s * (1.0f + z * (1.0f - s));
    }
    case ACT_HARD_SIGMOID: return a > 0.0f && a < 1.0f ? 1.0f / 6.0f : 0.0f;
    case ACT_EXPONENTIAL: return a;
    case ACT_RELU6: return a > 0.0f && a < 6.0f ? 1.0f : 0.0f;
    default: return 1.0f;
    }
}

/* The sum of every work-item's partial over the work-group, returned to
 * all of them: a tree in local memory (scratch: one float per work-item;
 * the local size must be a power of two). Ends with a barrier, so scratch
 * may be reused at once. */
inline float group_sum(__local float *scratch, const float partial)
{
    const int lid = get_local_id(0);
    scratch[lid] = partial;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = get_local_size(0) / 2; stride > 0; stride /= 2) {
        if (lid < stride)
            scratch[lid] += scratch[lid + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}
