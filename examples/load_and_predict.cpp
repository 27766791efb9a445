// Load a saved model and predict, from C++.
//
//   load_and_predict                  train a tiny classifier, save it as
//                                     tiny_model.clseq (and its test rows as
//                                     tiny_test.csv), load it back and predict
//   load_and_predict MODEL [DATA.csv] load MODEL and predict DATA's rows
//                                     (features first, the target last), or a
//                                     few generated rows if no DATA is given
#include <clseq.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Turns a failed clseq call into an exception carrying clseq_last_error().
void check(clseq_status s, const char *what)
{
    if (s != CLSEQ_OK)
        throw std::runtime_error(std::string(what) + ": " + clseq_status_name(s) + ": " +
                                 clseq_last_error());
}

struct CtxDeleter {
    void operator()(clseq_ctx *c) const { clseq_ctx_free(c); }
};
struct ModelDeleter {
    void operator()(clseq_model *m) const { clseq_model_free(m); }
};
using Context = std::unique_ptr<clseq_ctx, CtxDeleter>;
using Model = std::unique_ptr<clseq_model, ModelDeleter>;

Context open_context()
{
    clseq_ctx *c = nullptr;
    check(clseq_ctx_create(nullptr, &c), "clseq_ctx_create");
    return Context(c);
}

// make_blobs rows as floats, labels as float class indices.
void blobs(size_t n, int features, int centres, std::vector<float> &x, std::vector<float> &labels)
{
    clseq_blobs_options b = clseq_blobs_defaults();
    b.n_samples = n;
    b.n_features = features;
    b.centers = centres;
    b.random_state = 7;
    std::vector<double> xd(n * static_cast<size_t>(features));
    std::vector<int> li(n);
    check(clseq_make_blobs(&b, xd.data(), li.data()), "clseq_make_blobs");
    x.assign(xd.begin(), xd.end());
    labels.assign(li.begin(), li.end());
}

// Trains Dense(3, softmax) on three blobs, saves the model and the test rows;
// returns the trained model's predictions for those rows.
std::vector<float> train_and_save(const char *model_path, const char *data_path)
{
    const size_t n = 600, n_train = 480, n_test = n - n_train;
    std::vector<float> x, labels, y(n * 3);
    blobs(n, 2, 3, x, labels);
    check(clseq_one_hot(labels.data(), n, 3, y.data()), "clseq_one_hot");
    Context ctx = open_context();
    clseq_model *raw = nullptr;
    check(clseq_model_create(ctx.get(), 2, &raw), "clseq_model_create");
    Model m(raw);
    check(clseq_add_dense(m.get(), 3, CLSEQ_SOFTMAX), "clseq_add_dense");
    check(clseq_compile(m.get(), clseq_adam(0.05f, 0.9f, 0.999f, 1e-7f),
                        CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY),
          "clseq_compile");
    clseq_fit_options opt = clseq_fit_defaults();
    opt.epochs = 20;
    opt.verbose = 0;
    check(clseq_fit(m.get(), x.data(), y.data(), n_train, &opt, nullptr), "clseq_fit");
    check(clseq_save(m.get(), model_path), "clseq_save");
    const char *header[] = {"x0", "x1", "class"};
    check(clseq_csv_write(data_path, x.data() + n_train * 2, n_test, 2, labels.data() + n_train, header),
          "clseq_csv_write");
    std::printf("trained Dense(3, softmax) on %zu rows; saved %s and %s\n", n_train, model_path,
                data_path);
    std::vector<float> p(n_test * 3);
    check(clseq_predict(m.get(), x.data() + n_train * 2, n_test, p.data()), "clseq_predict");
    return p;
}

// Loads the model, predicts and prints; returns the predictions.
std::vector<float> load_and_predict(const char *model_path, const char *data_path)
{
    Context ctx = open_context();
    clseq_model *raw = nullptr;
    check(clseq_load(ctx.get(), model_path, &raw), "clseq_load");
    Model m(raw);
    const int in = clseq_model_input_dim(m.get()), out = clseq_model_output_dim(m.get());
    std::vector<char> summary(4096);
    check(clseq_model_summary(m.get(), summary.data(), summary.size()), "clseq_model_summary");
    std::printf("loaded %s on %s\n%s", model_path, clseq_ctx_device_name(ctx.get()), summary.data());

    std::vector<float> x, target;
    size_t rows = 5;
    if (data_path) {
        clseq_dataset d = {};
        check(clseq_csv_read(data_path, &d), "clseq_csv_read");
        if (d.features != in) {
            clseq_dataset_free(&d);
            throw std::runtime_error(std::string(data_path) + " has " + std::to_string(d.features) +
                                     " features; the model takes " + std::to_string(in));
        }
        rows = d.rows;
        x.assign(d.x, d.x + rows * static_cast<size_t>(in));
        target.assign(d.y, d.y + rows);
        clseq_dataset_free(&d);
    } else {
        blobs(rows, in, out > 1 ? out : 2, x, target);
    }
    std::vector<float> p(rows * static_cast<size_t>(out));
    check(clseq_predict(m.get(), x.data(), rows, p.data()), "clseq_predict");
    std::vector<int> cls(rows);
    check(clseq_argmax_rows(p.data(), rows, static_cast<size_t>(out), cls.data()), "clseq_argmax_rows");
    for (size_t i = 0; i < rows && i < 5; i++) {
        std::printf("row %zu: [", i);
        for (int j = 0; j < out; j++)
            std::printf("%s%.4f", j ? " " : "", static_cast<double>(p[i * out + j]));
        std::printf("]%s", out > 1 ? " -> class " : "\n");
        if (out > 1)
            std::printf("%d\n", cls[i]);
    }
    if (data_path && out > 1) {
        size_t right = 0;
        for (size_t i = 0; i < rows; i++)
            right += cls[i] == static_cast<int>(target[i]);
        std::printf("Accuracy on %s: %.4f (%zu of %zu rows)\n", data_path,
                    static_cast<double>(right) / static_cast<double>(rows), right, rows);
    }
    return p;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        if (argc > 3) {
            std::fprintf(stderr, "usage: %s [MODEL [DATA.csv]]\n", argv[0]);
            return 2;
        }
        if (argc == 1) {
            std::vector<float> before = train_and_save("tiny_model.clseq", "tiny_test.csv");
            std::vector<float> after = load_and_predict("tiny_model.clseq", "tiny_test.csv");
            float worst = 0;
            for (size_t i = 0; i < before.size() && i < after.size(); i++)
                worst = std::max(worst, std::fabs(before[i] - after[i]));
            std::printf("reloaded model matches the trained one: %s (largest difference %g)\n",
                        before.size() == after.size() && worst <= 1e-6f ? "yes" : "NO",
                        static_cast<double>(worst));
            if (before.size() != after.size() || worst > 1e-6f)
                return 1;
        } else {
            load_and_predict(argv[1], argc == 3 ? argv[2] : nullptr);
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "load_and_predict: %s\n", e.what());
        return 1;
    }
    return 0;
}
