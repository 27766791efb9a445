#!/usr/bin/env python3
"""Keras files between fresh Keras models and the clseq tool, both ways.

Run by tests/keras/roundtrip.sh (see there); usage:

    roundtrip.py BUILD_DIR [--seed N] [--keep DIR]

With a new random seed each run (printed, and --seed repeats a run), it
builds small Keras models (a Dense stack and a CNN, architecture and
weights drawn from the seed), trains them one epoch so they are compiled
with optimizer state, and saves each as .keras and .h5. Then:

  1. `clseq predict --model M` on both files must give Keras's predictions;
  2. `clseq train --model M.keras --epochs 2 --no-shuffle --save T.keras`
     continues training; Keras must load T.keras (keras.saving.load_model),
     compiled with the same optimizer and a larger step count, with weights
     near those Keras reaches continuing from M.keras the same way (see
     compare_weights), and predict what `clseq predict --model T.keras` does;
  3. the same with each further optimizer (AdamW, Adagrad, Adadelta,
     Adamax, Nadam, Lion), a clipping option and a learning-rate schedule;
  4. models clseq builds itself (`clseq train --layers ... --save C.keras`)
     must load in Keras and predict what `clseq predict` does.

Any mismatch ends the run with a message saying which file and how far
apart, and exit status 1.

Tolerance. The tool writes %.9g (exact float32); the models here have
at most a few hundred terms in a sum, each output of softmax or small
magnitude, so float32 rounding in two summation orders differs by a few
1e-7 relative to the sum of |terms|; ATOL + RTOL |Keras| with ATOL 2e-5
and RTOL 1e-4 is a hundred times that, and far below the change one
wrong weight makes (tests/test_keras_files.c has the tight, error-scaled
comparisons on committed fixtures).
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ATOL, RTOL = 2e-5, 1e-4
L = keras.layers


class Mismatch(Exception):
    pass


def run_tool(build, args):
    cmd = [os.path.join(build, "clseq")] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Mismatch("`%s` failed with exit status %d:\n%s%s"
                       % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def write_csv(path, x, y=None):
    flat = x.reshape(len(x), -1)
    with open(path, "w") as f:
        for i, row in enumerate(flat):
            cells = ["%.9g" % v for v in row]
            if y is not None:
                cells.append("%.9g" % y[i])
            f.write(",".join(cells) + "\n")


def tool_predict(build, model, data, out):
    run_tool(build, ["predict", "--model", model, "--data", data, "--out", out])
    with open(out) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    cols = [i for i, h in enumerate(header) if h.startswith("p") and h[1:].isdigit()]
    if not cols:
        raise Mismatch("%s: no p0, p1, ... columns in the header %s" % (out, header))
    return np.array([[float(r[i]) for i in cols] for r in body], dtype=np.float64)


def compare(what, got, want):
    want = np.asarray(want, np.float64).reshape(len(want), -1)
    if got.shape != want.shape:
        raise Mismatch("%s: clseq gives shape %s, Keras %s" % (what, got.shape, want.shape))
    diff = np.abs(got - want)
    bound = ATOL + RTOL * np.abs(want)
    worst = np.unravel_index(np.argmax(diff / bound), diff.shape)
    if np.any(diff > bound) or not np.all(np.isfinite(got)):
        raise Mismatch("%s: row %d output %d: clseq %.9g, Keras %.9g (|difference| %.3g, "
                       "tolerance %.3g)" % (what, worst[0], worst[1], got[worst], want[worst],
                                            diff[worst], bound[worst]))
    print("  %-48s largest |clseq - Keras| %.3g" % (what, float(np.max(diff))))


def compare_weights(what, got, want, before):
    """got's and want's weights after the same training from before: equal
    within 2% of the largest change training made to each variable, plus
    1e-5. Rounding in two summation orders moves a few float32 ulps per
    step; a resumed run that lost the optimizer state (Adam's moments and
    step count, SGD's momentum) misses by 0.4 to 1.3 times the change in
    Keras's own runs of these models (compiled again before continuing)."""
    worst = 0.0
    for w_got, w_want, w0 in zip(got.weights, want.weights, before):
        a, b = np.asarray(w_got), np.asarray(w_want)
        change = float(np.max(np.abs(b - w0))) if b.size else 0.0
        bound = 0.02 * change + 1e-5
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        if not np.isfinite(diff) or diff > bound:
            raise Mismatch("%s: variable %s differs by %.3g (training changed it by up to "
                           "%.3g; tolerance %.3g)" % (what, w_want.path, diff, change, bound))
        worst = max(worst, diff / bound)
    print("  %-48s weights within %.2g of the tolerance" % (what, worst))


def dense_model(rng, n_in, classes):
    acts = ["relu", "tanh", "sigmoid", "elu", "gelu", "softplus", "silu", "selu"]
    hidden = [L.Dense(int(rng.integers(3, 9)), activation=str(rng.choice(acts)))
              for _ in range(int(rng.integers(1, 3)))]
    return keras.Sequential([keras.Input((n_in,))] + hidden +
                            [L.Dense(classes, activation="softmax")])


def cnn_model(rng, shape, classes):
    return keras.Sequential([
        keras.Input(shape),
        L.Conv2D(int(rng.integers(2, 5)), 3, padding=str(rng.choice(["same", "valid"])),
                 activation="relu"),
        L.MaxPooling2D(2),
        L.BatchNormalization(),
        L.Conv2D(int(rng.integers(2, 4)), 2, activation="tanh"),
        L.Flatten(),
        L.Dense(classes, activation="softmax")])


def keras_load(path):
    try:
        return keras.saving.load_model(path)
    except Exception as e:  # noqa: BLE001 (any failure is the finding)
        raise Mismatch("Keras cannot load %s: %s: %s" % (path, type(e).__name__, e)) from e


def optimizer_name(model):
    return type(model.optimizer).__name__ if getattr(model, "optimizer", None) else None


def fresh_keras_models(build, work, rng):
    n, classes = 40, 3
    specs = [("dense", lambda: dense_model(rng, 5, classes), (5,),
              lambda: keras.optimizers.Adam(learning_rate=float(rng.uniform(1e-3, 1e-2)))),
             ("cnn", lambda: cnn_model(rng, (8, 8, 1), classes), (8, 8, 1),
              lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))]
    for name, make, shape, make_opt in specs:
        print("%s (Keras-made):" % name)
        model = make()
        model.compile(optimizer=make_opt(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x = rng.uniform(-1, 1, (n,) + shape).astype(np.float32)
        y = rng.integers(0, classes, n)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        data = os.path.join(work, name + "_x.csv")
        train = os.path.join(work, name + "_train.csv")
        write_csv(data, x[:7])
        write_csv(train, x, y)
        want = model.predict(x[:7], verbose=0)
        for ext in (".keras", ".h5"):
            path = os.path.join(work, name + ext)
            model.save(path)
            got = tool_predict(build, path, data, os.path.join(work, name + ext + ".csv"))
            compare("clseq predict %s%s vs Keras" % (name, ext), got, want)

        continue_in_clseq(build, work, name, model, x, y, data, epochs=2)


def continue_in_clseq(build, work, name, model, x, y, data, epochs):
    """clseq goes on training name.keras (saved from model); Keras must load
    the result with its optimizer and a larger step count, near where Keras
    goes continuing from the same file, and predict as clseq does."""
    steps_before = int(model.optimizer.iterations.numpy())
    before = [np.asarray(w) for w in model.get_weights()]
    train = os.path.join(work, name + "_train.csv")
    write_csv(train, x, y)
    trained = os.path.join(work, name + "_trained.keras")
    run_tool(build, ["train", "--model", os.path.join(work, name + ".keras"), "--data",
                     train, "--epochs", str(epochs), "--batch-size", "8", "--no-shuffle",
                     "--verbose", "0", "--save", trained])
    back = keras_load(trained)
    # Keras continuing the same way from the same file
    ref = keras_load(os.path.join(work, name + ".keras"))
    ref.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    compare_weights("%s.keras trained %d epochs: clseq vs Keras" % (name, epochs), back, ref,
                    before)
    if optimizer_name(back) != optimizer_name(model):
        raise Mismatch("%s: Keras loads it with optimizer %s, not %s"
                       % (trained, optimizer_name(back), optimizer_name(model)))
    steps = int(back.optimizer.iterations.numpy())
    if steps <= steps_before:
        raise Mismatch("%s: the optimizer's step count is %d, not more than the %d it had "
                       "before clseq trained it" % (trained, steps, steps_before))
    got = tool_predict(build, trained, data, os.path.join(work, name + "_trained.csv"))
    compare("clseq-trained %s.keras: Keras vs clseq predict" % name, got,
            back.predict(x[:7], verbose=0))
    # and Keras can train it further
    back.fit(x, y, batch_size=8, epochs=1, verbose=0)


def optimizers_resume(build, work, rng):
    """Every optimizer clseq has beyond Adam and SGD, with a clipping
    option and a learning-rate schedule: state saved by Keras goes on in
    clseq and comes back to Keras."""
    O, S = keras.optimizers, keras.optimizers.schedules
    cases = [("adamw", lambda: O.AdamW(0.01)), ("adagrad", lambda: O.Adagrad(0.05)),
             ("adadelta", lambda: O.Adadelta(1.0)), ("adamax", lambda: O.Adamax(0.01)),
             ("nadam", lambda: O.Nadam(0.01)), ("lion", lambda: O.Lion(0.001)),
             ("rmsprop_clip", lambda: O.RMSprop(0.01, clipnorm=0.5)),
             ("sgd_schedule", lambda: O.SGD(S.ExponentialDecay(0.1, 4, 0.5), momentum=0.5))]
    n, classes = 32, 3
    for name, make_opt in cases:
        print("%s (Keras-made):" % name)
        model = dense_model(rng, 4, classes)
        model.compile(optimizer=make_opt(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
        y = rng.integers(0, classes, n)
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        model.save(os.path.join(work, name + ".keras"))
        data = os.path.join(work, name + "_x.csv")
        write_csv(data, x[:7])
        continue_in_clseq(build, work, name, model, x, y, data, epochs=1)


def clseq_models(build, work, rng):
    n = 40
    cases = [("clseq_dense", (6,), "dense:%d:relu,dense:4:tanh,dense:3:softmax"
              % int(rng.integers(4, 9)), "categorical_crossentropy", "adam", None),
             ("clseq_cnn", (6, 6, 2), "conv2d:3:3x3:relu:same,maxpool2d:2,batchnorm,flatten,"
              "dropout:0.25,dense:3:softmax", "categorical_crossentropy", "rmsprop", "6,6,2"),
             ("clseq_mse", (4,), "dense:5:selu,dense:1", "mean_squared_error", "sgd", None)]
    for name, shape, spec, loss, opt, input_shape in cases:
        print("%s (clseq-made):" % name)
        x = rng.uniform(-1, 1, (n,) + shape).astype(np.float32)
        train = os.path.join(work, name + "_train.csv")
        # a class index per row, or for the MSE model its one output's target
        y = rng.normal(size=n) if loss == "mean_squared_error" else rng.integers(0, 3, n)
        write_csv(train, x, y)
        data = os.path.join(work, name + "_x.csv")
        write_csv(data, x[:6])
        path = os.path.join(work, name + ".keras")
        args = ["train", "--data", train, "--layers", spec, "--loss", loss, "--optimizer", opt,
                "--epochs", "1", "--verbose", "0", "--seed", str(int(rng.integers(1 << 30))),
                "--save", path]
        if input_shape:
            args += ["--input-shape", input_shape]
        run_tool(build, args)
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                raise Mismatch("%s: not a zip file (a .keras file is one)" % path)
        model = keras_load(path)
        if optimizer_name(model) is None or optimizer_name(model).lower() != opt:
            raise Mismatch("%s: Keras loads it with optimizer %s, not %s"
                           % (path, optimizer_name(model), opt))
        got = tool_predict(build, path, data, os.path.join(work, name + ".csv"))
        compare("clseq-made %s.keras: Keras vs clseq predict" % name, got,
                model.predict(x[:6], verbose=0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", default=None, help="work in this folder and keep it")
    a = ap.parse_args()
    if not os.access(os.path.join(a.build, "clseq"), os.X_OK):
        sys.exit("roundtrip: no clseq tool in %s (build with CLSEQ_BUILD_TOOL=ON)" % a.build)
    seed = a.seed if a.seed is not None else int(time.time() * 1000) % (1 << 31)
    print("roundtrip: seed %d (repeat with --seed %d); keras %s, backend %s"
          % (seed, seed, keras.__version__, keras.backend.backend()))
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    work = a.keep or tempfile.mkdtemp(prefix="clseq-roundtrip-")
    os.makedirs(work, exist_ok=True)
    try:
        fresh_keras_models(a.build, work, rng)
        optimizers_resume(a.build, work, rng)
        clseq_models(a.build, work, rng)
    except Mismatch as e:
        print("roundtrip: MISMATCH (seed %d, files in %s): %s" % (seed, work, e),
              file=sys.stderr)
        return 1
    if not a.keep:
        shutil.rmtree(work)
    print("roundtrip: all files agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
