/* Metric results at the end of a pass: Keras's reductions of the sums the
 * device accumulated (nn/pass.c, cl/loss.cl), in double on the host. */
#include "nn/infer.h"
#include "nn/train.h"

void clseq_pass_sums_read(const float *acc, clseq_pass_sums *out)
{
    for (int i = 0; i < STATS_PER_ROW; i++)
        out->stats[i] = (double)acc[i] - (double)acc[STATS_PER_ROW + i];
    const float *auc = acc + CLSEQ_SUMS_AUC;
    for (int b = 0; b < AUC_THRESHOLDS; b++) {
        out->positives[b] = (double)auc[b] - (double)auc[2 * AUC_THRESHOLDS + b];
        out->negatives[b] =
            (double)auc[AUC_THRESHOLDS + b] - (double)auc[3 * AUC_THRESHOLDS + b];
    }
}

/* Keras's ops.divide_no_nan: 0 where the divisor is 0. */
static double divide_no_nan(double a, double b)
{
    return b == 0.0 ? 0.0 : a / b;
}

/* keras.metrics.AUC().result() (keras/src/metrics/confusion_metrics.py,
 * AUC.result; curve ROC, summation_method "interpolation"): the true and
 * false positives at threshold i are the reversed cumulative sums of the
 * histogram from bucket i on (_update_confusion_matrix_variables_optimized),
 * recall = tp / (tp + fn) and fp_rate = fp / (fp + tn) with divide_no_nan
 * (so all-positive or all-negative data give 0 on that axis), and the area
 * sums (x[i] - x[i+1]) (y[i] + y[i+1]) / 2 over the 200 thresholds. */
static double auc_result(const clseq_pass_sums *sums)
{
    double tp[AUC_THRESHOLDS], fp[AUC_THRESHOLDS], pos = 0, neg = 0;
    for (int b = AUC_THRESHOLDS - 1; b >= 0; b--) {
        pos += sums->positives[b];
        neg += sums->negatives[b];
        tp[b] = pos;
        fp[b] = neg;
    }
    double area = 0;
    for (int i = 0; i + 1 < AUC_THRESHOLDS; i++) {
        /* fn = total positives - tp, tn = total negatives - fp */
        double recall0 = divide_no_nan(tp[i], tp[i] + (pos - tp[i]));
        double recall1 = divide_no_nan(tp[i + 1], tp[i + 1] + (pos - tp[i + 1]));
        double fpr0 = divide_no_nan(fp[i], fp[i] + (neg - fp[i]));
        double fpr1 = divide_no_nan(fp[i + 1], fp[i + 1] + (neg - fp[i + 1]));
        area += (fpr0 - fpr1) * (recall0 + recall1) / 2.0;
    }
    return area;
}

/* One metric's value from the sums. */
static double metric_value(unsigned bit, const clseq_pass_sums *sums, size_t n)
{
    const double *st = sums->stats;
    switch (bit) {
    /* Keras's Precision and Recall results (confusion_metrics.py):
     * divide_no_nan(tp, tp + fp) and divide_no_nan(tp, tp + fn) */
    case CLSEQ_METRIC_PRECISION: return divide_no_nan(st[ST_TP], st[ST_TP] + st[ST_FP]);
    case CLSEQ_METRIC_RECALL: return divide_no_nan(st[ST_TP], st[ST_TP] + st[ST_FN]);
    case CLSEQ_METRIC_AUC: return auc_result(sums);
    default: break;
    }
    /* Keras's Mean metrics (MeanMetricWrapper): the mean over the rows,
     * unweighted (compile metrics get no sample weights) */
    int column = bit == CLSEQ_METRIC_ACCURACY          ? ST_ACCURACY
                 : bit == CLSEQ_METRIC_MSE             ? ST_MSE
                 : bit == CLSEQ_METRIC_MAE             ? ST_MAE
                 : bit == CLSEQ_METRIC_BINARY_ACCURACY ? ST_BINARY_ACCURACY
                                                       : ST_TOP_K; /* TOP_K, SPARSE_TOP_K */
    return divide_no_nan(st[column], (double)n);
}

int clseq_totals_to_values(const clseq_model *m, const clseq_pass_sums *sums, size_t n,
                           float *values)
{
    int count = 0;
    values[count++] = (float)(sums->stats[ST_LOSS] / (double)n);
    for (int i = 0; i < CLSEQ_METRIC_COUNT; i++)
        if (m->metrics & (1u << i))
            values[count++] = (float)metric_value(1u << i, sums, n);
    return count;
}
