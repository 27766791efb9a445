/* The seed classifier: make_blobs -> train_test_split -> one-hot ->
 * Sequential([Dense(4, activation='softmax')]) -> fit -> evaluate. */
#include <clseq.h>
#include <stdio.h>

#define CHECK(call) do { if ((call) != CLSEQ_OK) { \
    fprintf(stderr, "%s failed: %s\n", #call, clseq_last_error()); return 1; } } while (0)

enum { N = 4000, FEATURES = 2, CLASSES = 4 };
static double xd[N * FEATURES];
static int labels[N];
static float x[N * FEATURES], label_f[N], y[N * CLASSES];
static float x_train[N * FEATURES], y_train[N * CLASSES], x_test[N * FEATURES], y_test[N * CLASSES];
static size_t train_idx[N], test_idx[N];

int main(void)
{
    clseq_blobs_options b = clseq_blobs_defaults();
    b.n_samples = N; b.n_features = FEATURES; b.centers = CLASSES; b.cluster_std = 2.0; b.random_state = 101;
    CHECK(clseq_make_blobs(&b, xd, labels));
    for (size_t i = 0; i < N * FEATURES; i++) x[i] = (float)xd[i];
    for (size_t i = 0; i < N; i++) label_f[i] = (float)labels[i];
    CHECK(clseq_one_hot(label_f, N, CLASSES, y));                  /* to_categorical */
    size_t n_train, n_test;
    CHECK(clseq_split_sizes(N, 0.2, &n_train, &n_test));           /* test_size=0.2, random_state=42 */
    CHECK(clseq_train_test_split(N, 0.2, 42, train_idx, test_idx));
    CHECK(clseq_take_rows(x, N, FEATURES, train_idx, n_train, x_train));
    CHECK(clseq_take_rows(y, N, CLASSES, train_idx, n_train, y_train));
    CHECK(clseq_take_rows(x, N, FEATURES, test_idx, n_test, x_test));
    CHECK(clseq_take_rows(y, N, CLASSES, test_idx, n_test, y_test));

    clseq_ctx *ctx; clseq_model *m;
    CHECK(clseq_ctx_create(NULL, &ctx));
    printf("clseq %s (header %d.%d.%d) on %s\n", clseq_version(), CLSEQ_VERSION_MAJOR,
           CLSEQ_VERSION_MINOR, CLSEQ_VERSION_PATCH, clseq_ctx_device_name(ctx));
    CHECK(clseq_model_create(ctx, FEATURES, &m));
    CHECK(clseq_add_dense(m, CLASSES, CLSEQ_SOFTMAX));
    CHECK(clseq_compile(m, clseq_sgd(0.01f, 0, 0), CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY));
    clseq_fit_options opt = clseq_fit_defaults();
    opt.epochs = 10; opt.batch_size = 4; opt.verbose = 2;
    CHECK(clseq_fit(m, x_train, y_train, n_train, &opt, NULL));
    float loss, accuracy;
    CHECK(clseq_evaluate(m, x_test, y_test, n_test, &loss, &accuracy));
    printf("Test loss: %.4f\nTest accuracy: %.4f\n", (double)loss, (double)accuracy);
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    return 0;
}
