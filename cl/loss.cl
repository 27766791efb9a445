/* Per-row loss, metrics and the gradient that starts backprop.
 *
 * P[rows, cols] holds the model's outputs (probabilities after a softmax or
 * sigmoid where the loss needs them). Y holds targets: rows x cols, or rows
 * x 1 class indices for sparse categorical cross-entropy. For each row r:
 *   stats[r*4 + 0] = the row's loss, stats[r*4 + 1] = accuracy (0..1),
 *   stats[r*4 + 2] = squared error and stats[r*4 + 3] = absolute error, both
 *   averaged over the columns.
 * With want_grad, D[r, :] receives dL/dZ for the cross-entropies (whose
 * softmax or sigmoid output is differentiated together with the loss: the
 * stable p - y form) or dL/dP for MSE and MAE, each scaled by grad_scale
 * (1 / batch rows) to average over the batch. */



#define PROB_EPSILON 1e-7f

inline float clip_probability(const float p)
{
    return clamp(p, PROB_EPSILON, 1.0f - PROB_EPSILON);
}

inline float row_target(__global const float *y, const int c, const int sparse)
{
    return sparse ? ((int)y[0] == c ? 1.0f : 0.0f) : y[c];
}

inline int row_argmax(__global const float *x, const int cols)
{
    int best = 0;
    for (int c = 1; c < cols; c++)
        if (x[c] > x[best])
            best = c;
    return best;
}

inline float row_accuracy(__global const float *p, __global const float *y, const int cols,
                          const int acc_kind)
{
    if (acc_kind == ACC_SPARSE)
        return row_argmax(p, cols) == (int)y[0] ? 1.0f : 0.0f;
    if (acc_kind == ACC_CATEGORICAL)
        return row_argmax(p, cols) == row_argmax(y, cols) ? 1.0f : 0.0f;
    float hits = 0.0f;
    for (int c = 0; c < cols; c++)
        hits += ((p[c] > 0.5f ? 1.0f : 0.0f) == y[c]) ? 1.0f : 0.0f;
    return hits / cols;
}

/* One row: p and y point at the row's outputs and targets (y at its label
 * for sparse targets), d at its gradient (written only if want_grad).
 * Writes the row's loss, accuracy, mse and mae to stats[0..3]. Shared by
 * loss_rows and the fused trainer so both compute the same thing. */
inline void loss_row(__global const float *p, __global const float *y, const int cols,
                     const int loss, const int acc_kind, const float grad_scale,
                     const int want_grad, __global float *d, float *stats)
{
    const int sparse = loss == LOSS_SPARSE_CCE;
    float total = 0.0f, squared = 0.0f, absolute = 0.0f;
    for (int c = 0; c < cols; c++) {
        const float t = row_target(y, c, sparse);
        const float diff = p[c] - t;
        float grad;
        squared += diff * diff;
        absolute += fabs(diff);
        switch (loss) {
        case LOSS_CCE:
        case LOSS_SPARSE_CCE:
            if (t != 0.0f) /* one-hot targets: skip the logs that add nothing */
                total -= t * log(clip_probability(p[c]));
            grad = diff;
            break;
        case LOSS_BCE: {
            const float q = clip_probability(p[c]);
            total -= t * log(q) + (1.0f - t) * log(1.0f - q);
            grad = diff / cols;
            break;
        }
        case LOSS_MSE:
            total += diff * diff;
            grad = 2.0f * diff / cols;
            break;
        default: /* LOSS_MAE */
            total += fabs(diff);
            grad = (diff > 0.0f ? 1.0f : diff < 0.0f ? -1.0f : 0.0f) / cols;
            break;
        }
        if (want_grad)
            d[c] = grad * grad_scale;
    }
    const int averaged = loss == LOSS_BCE || loss == LOSS_MSE || loss == LOSS_MAE;
    stats[0] = averaged ? total / cols : total;
    stats[1] = row_accuracy(p, y, cols, acc_kind);
    stats[2] = squared / cols;
    stats[3] = absolute / cols;
}

/* With weighted, row r's loss, metrics and gradient are scaled by its
 * sample weight W[r] (Keras's sample_weight: the loss is sum(w l) over the
 * batch size, the metrics weighted means, whose divisor the host keeps). */
__kernel void loss_rows(__global const float *P, __global const float *Y, const int rows,
                        const int cols, const int loss, const int acc_kind,
                        const float grad_scale, const int want_grad, __global float *D,
                        __global float *stats, const int weighted, __global const float *W)
{
    const int r = get_global_id(0);
    if (r >= rows)
        return;
    const int y_width = loss == LOSS_SPARSE_CCE ? 1 : cols;
    float row_stats[STATS_PER_ROW];
    const float w = weighted ? W[r] : 1.0f;
    loss_row(P + r * cols, Y + r * y_width, cols, loss, acc_kind, grad_scale * w, want_grad,
             D + r * cols, row_stats);
    for (int i = 0; i < STATS_PER_ROW; i++)
        stats[r * STATS_PER_ROW + i] = row_stats[i] * w;
}
