/* Helpers shared by every kernel family; each program lists it right after
 * codes.h (host/runtime/sources.c). */

/* Element-wise activation (softmax is a row operation: see softmax.cl). */
inline float act_forward(const int act, const float z)
{
    switch (act) {
    case ACT_RELU: return fmax(z, 0.0f);
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-z));
    case ACT_TANH: return tanh(z);
    default: return z;
    }
}

/* d act / d z written in terms of the activation's output a, so backprop
 * needs only the stored outputs. relu'(0) is 0, as in TensorFlow. */
inline float act_derivative(const int act, const float a)
{
    switch (act) {
    case ACT_RELU: return a > 0.0f ? 1.0f : 0.0f;
    case ACT_SIGMOID: return a * (1.0f - a);
    case ACT_TANH: return 1.0f - a * a;
    default: return 1.0f;
    }
}
