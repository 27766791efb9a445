/* Per-row loss, metrics and the gradient that starts backprop; AUC's
 * confusion histogram.
 *
 * P[rows, cols] holds the model's outputs (probabilities after a softmax or
 * sigmoid where the loss needs them); Z, when use_logits, the logits those
 * came from (the last softmax's or sigmoid's input). Y holds targets: rows
 * x cols, or rows x 1 class indices for sparse categorical cross-entropy.
 * For each row r, stats[r*STATS_PER_ROW + ST_*] receives the row's loss
 * and metrics (codes.h). With want_grad, D[r, :] receives dL/dZ for the
 * cross-entropies (whose softmax or sigmoid output is differentiated
 * together with the loss: the stable p - y form) or dL/dP for MSE and MAE,
 * each scaled by grad_scale (1 / batch rows) to average over the batch.
 *
 * The cross-entropies' reported loss comes from the logits when there are
 * any, as Keras's TensorFlow backend computes it
 * (keras/src/backend/tensorflow/nn.py, categorical_crossentropy and
 * binary_crossentropy through _get_logits: softmax_cross_entropy_with_logits
 * = logsumexp(z) - z_y, sigmoid_cross_entropy_with_logits = max(z, 0) - z y
 * + log1p(exp(-|z|))), so it agrees with the p - y gradient however
 * saturated the outputs; probabilities from elsewhere are clipped to
 * [1e-7, 1 - 1e-7] as Keras clips them. */



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

/* Keras's binary_accuracy (keras/src/metrics/accuracy_metrics.py): the
 * share of outputs whose thresholded prediction (p > threshold) equals the
 * target. */
inline float row_binary_accuracy(__global const float *p, __global const float *y,
                                 const int cols, const float threshold)
{
    float hits = 0.0f;
    for (int c = 0; c < cols; c++)
        hits += ((p[c] > threshold ? 1.0f : 0.0f) == y[c]) ? 1.0f : 0.0f;
    return hits / cols;
}

inline float row_accuracy(__global const float *p, __global const float *y, const int cols,
                          const int acc_kind)
{
    if (acc_kind == ACC_SPARSE)
        return row_argmax(p, cols) == (int)y[0] ? 1.0f : 0.0f;
    if (acc_kind == ACC_CATEGORICAL)
        return row_argmax(p, cols) == row_argmax(y, cols) ? 1.0f : 0.0f;
    return row_binary_accuracy(p, y, cols, 0.5f); /* BinaryAccuracy's default */
}

/* Keras's (sparse_)top_k_categorical_accuracy through ops.in_top_k
 * (keras/src/backend/jax/math.py, in_top_k): the label's rank is 1 + the
 * outputs strictly above its own (ties count in its favour, as
 * tf.math.in_top_k counts them); a hit when the rank is at most k. The label
 * is the sparse index or the target row's arg-max. */
inline float row_top_k(__global const float *p, __global const float *y, const int cols,
                       const int sparse, const int k)
{
    const int label = sparse ? (int)y[0] : row_argmax(y, cols);
    if (label < 0 || label >= cols)
        return 0.0f;
    const float at = isnan(p[label]) ? -INFINITY : p[label];
    int rank = 1;
    for (int c = 0; c < cols; c++)
        rank += p[c] > at ? 1 : 0;
    return rank <= k ? 1.0f : 0.0f;
}

/* Keras's confusion counts at one threshold over a row's outputs
 * (keras/src/metrics/metrics_utils.py, update_confusion_matrix_variables:
 * targets cast to bool, predictions positive when > threshold) into
 * stats[ST_TP], [ST_FP], [ST_FN]. */
inline void row_confusion(__global const float *p, __global const float *y, const int cols,
                          const float threshold, float *stats)
{
    float tp = 0.0f, fp = 0.0f, fn = 0.0f;
    for (int c = 0; c < cols; c++) {
        const int label = y[c] != 0.0f, predicted = p[c] > threshold;
        tp += label && predicted ? 1.0f : 0.0f;
        fp += !label && predicted ? 1.0f : 0.0f;
        fn += label && !predicted ? 1.0f : 0.0f;
    }
    stats[ST_TP] = tp;
    stats[ST_FP] = fp;
    stats[ST_FN] = fn;
}

/* Categorical cross-entropy from logits z whose log-sum-exp is lse. */
inline float lse_crossentropy(__global const float *z, __global const float *y, const int cols,
                              const int sparse, const float lse)
{
    float total = 0.0f;
    for (int c = 0; c < cols; c++) {
        const float t = row_target(y, c, sparse);
        if (t != 0.0f) /* one-hot targets: skip the terms that add nothing */
            total += t * (lse - z[c]);
    }
    return total;
}

/* A row's cross-entropy from its logits z (see the file's comment). */
inline float logits_crossentropy(__global const float *z, __global const float *y,
                                 const int cols, const int loss)
{
    const int sparse = loss == LOSS_SPARSE_CCE;
    float total = 0.0f;
    if (loss == LOSS_BCE) {
        for (int c = 0; c < cols; c++)
            total += fmax(z[c], 0.0f) - z[c] * y[c] + log1p(exp(-fabs(z[c])));
        return total / cols;
    }
    float top = z[0], sum = 0.0f;
    for (int c = 1; c < cols; c++)
        top = fmax(top, z[c]);
    for (int c = 0; c < cols; c++)
        sum += exp(z[c] - top);
    return lse_crossentropy(z, y, cols, sparse, top + log(sum));
}

/* The metric settings loss_row needs besides the loss. */
typedef struct metric_args {
    int acc_kind;    /* ACC_*: what "accuracy" is */
    float threshold; /* binary_accuracy, precision, recall */
    int top_k;       /* k of the top-k accuracies */
} metric_args;

/* One row: p and y point at the row's outputs and targets (y at its label
 * for sparse targets), z at its logits (read only if use_logits), d at its
 * gradient (written only if want_grad). Writes the row's STATS_PER_ROW
 * statistics. Shared by loss_rows and the fused trainer so both compute the
 * same thing. */
inline void loss_row(__global const float *p, __global const float *z, const int use_logits,
                     __global const float *y, const int cols, const int loss,
                     const metric_args metric, const float grad_scale, const int want_grad,
                     __global float *d, float *stats, const int have_lse, const float lse)
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
            /* one-hot targets: skip the logs that add nothing; from
             * logits the loss comes from logits_crossentropy instead */
            if (t != 0.0f && !use_logits)
                total -= t * log(clip_probability(p[c]));
            grad = diff;
            break;
        case LOSS_BCE: {
            const float q = clip_probability(p[c]);
            if (!use_logits)
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
    const int cross_entropy = loss == LOSS_CCE || loss == LOSS_SPARSE_CCE || loss == LOSS_BCE;
    /* the fused trainer's softmax hands over the row's log-sum-exp: the
     * same float logits_crossentropy would compute again */
    stats[ST_LOSS] = use_logits && have_lse && loss != LOSS_BCE
                         ? lse_crossentropy(z, y, cols, sparse, lse)
                     : use_logits && cross_entropy ? logits_crossentropy(z, y, cols, loss)
                     : averaged                  ? total / cols
                                                 : total;
    stats[ST_ACCURACY] = row_accuracy(p, y, cols, metric.acc_kind);
    stats[ST_MSE] = squared / cols;
    stats[ST_MAE] = absolute / cols;
    stats[ST_TOP_K] = row_top_k(p, y, cols, sparse, metric.top_k);
    /* targets as wide as the outputs only (clseq_compile refuses these
     * metrics with sparse targets) */
    stats[ST_BINARY_ACCURACY] = sparse ? 0.0f : row_binary_accuracy(p, y, cols, metric.threshold);
    stats[ST_TP] = stats[ST_FP] = stats[ST_FN] = 0.0f;
    if (!sparse)
        row_confusion(p, y, cols, metric.threshold, stats);
}

/* With weighted, row r's loss and gradient are scaled by its sample weight
 * W[r] (Keras's sample_weight: the loss is sum(w l) over the batch size);
 * its metrics are not: Keras's compile metrics ignore sample weights
 * (CompileMetrics.update_state gets none; weighted_metrics would). */
__kernel void loss_rows(__global const float *P, __global const float *Z, const int use_logits,
                        __global const float *Y, const int rows, const int cols,
                        const int loss, const int acc_kind, const float threshold,
                        const int top_k, const float grad_scale, const int want_grad,
                        __global float *D, __global float *stats, const int weighted,
                        __global const float *W)
{
    const int r = get_global_id(0);
    if (r >= rows)
        return;
    const int y_width = loss == LOSS_SPARSE_CCE ? 1 : cols;
    const metric_args metric = {acc_kind, threshold, top_k};
    float row_stats[STATS_PER_ROW];
    const float w = weighted ? W[r] : 1.0f;
    loss_row(P + r * cols, Z + (use_logits ? r * cols : 0), use_logits, Y + r * y_width, cols,
             loss, metric, grad_scale * w, want_grad, D + r * cols, row_stats, 0, 0.0f);
    for (int i = 0; i < STATS_PER_ROW; i++)
        stats[r * STATS_PER_ROW + i] = i == ST_LOSS ? row_stats[i] * w : row_stats[i];
}

/* An output's bucket in AUC's histogram (codes.h, AUC_THRESHOLDS): Keras's
 * ceil(clip(p, 0, 1) * (num_thresholds - 1)) - 1 in float, raised to 0
 * because its first threshold is -epsilon (thresholds_with_epsilon). */
inline int auc_bucket(const float p)
{
    const float v = clamp(p, 0.0f, 1.0f);
    return max((int)(ceil(v * (float)(AUC_THRESHOLDS - 1)) - 1.0f), 0);
}

/* acc[i] += v with Kahan compensation kept in comp[i]. */
inline void kahan_add(__global float *acc, __global float *comp, const float v)
{
    const float sum = *acc, y = v - *comp, t = sum + y;
    *comp = (t - sum) - y;
    *acc = t;
}

/* Adds rows x cols outputs P with targets Y to AUC's histogram acc: acc[b]
 * the positives' count in bucket b, acc[AUC_THRESHOLDS + b] the
 * negatives' (unweighted, as Keras's compile metrics), their Kahan
 * compensations in the
 * next 2 * AUC_THRESHOLDS floats. Work-item lid of size adds the outputs
 * whose bucket is lid modulo size, in row order, so each bucket has one
 * writer and its sum one order: no atomics, the same result every run. */
inline void auc_accumulate(__global const float *P, __global const float *Y, const int rows,
                           const int cols, __global float *acc, const int lid, const int size)
{
    for (int i = 0; i < rows * cols; i++) {
        const int b = auc_bucket(P[i]);
        if (b % size != lid)
            continue;
        const int at = (Y[i] != 0.0f ? 0 : AUC_THRESHOLDS) + b;
        kahan_add(acc + at, acc + 2 * AUC_THRESHOLDS + at, 1.0f);
    }
}

/* AUC's histogram of a batch added into acc + acc_off (auc_accumulate);
 * one work-item per bucket. */
__kernel void auc_buckets(__global const float *P, __global const float *Y, const int rows,
                          const int cols, __global float *acc, const int acc_off)
{
    const int b = get_global_id(0);
    if (b < AUC_THRESHOLDS)
        auc_accumulate(P, Y, rows, cols, acc + acc_off, b, AUC_THRESHOLDS);
}
