#!/usr/bin/env python3
"""Reference figures for `clseq bench`, measured with Keras 3 on JAX.

Prints `NAME: VALUE UNIT` lines like `clseq bench` does, with the same
workloads as its mlp, predict and cnn sections:

  mlp  Dense(512, relu), Dense(512, relu), Dense(10, softmax) on 784
       inputs; Adam(0.001, 0.9, 0.999, 1e-7), categorical cross-entropy,
       accuracy; 4096 random rows with one-hot labels. model.fit at batch
       128 and 512: a warm-up epoch (which compiles the train step), then 3
       single-epoch fits (keras_mlp_train_bsN_samples_per_s: the median;
       ..._best_samples_per_s).
  predict  the same model on 1000 rows in one batch, through model.predict
       and model.predict_on_batch, the faster counting
       (keras_predict_1000_samples_per_s, ..._way), median and best of 7
       after a warm-up.
  cnn  Conv2D(32, 3, relu), MaxPooling2D, Conv2D(64, 3, relu), MaxPooling2D,
       Flatten, Dense(128, relu), Dense(10, softmax) on 28x28x1 random
       images; Adam(0.001, 0.9, 0.999, 1e-7), sparse categorical
       cross-entropy, accuracy. Training: model.fit, batch 128, one epoch of
       2048 rows per timed run after a warm-up fit of 256 rows (which
       compiles the train step). Predict: 1024 rows in one batch
       (keras_cnn_predict) and in batches of 128 (keras_cnn_predict_bs128),
       each through model.predict(batch_size=...) and through
       model.predict_on_batch; the faster way counts (..._way says which).

Keras and JAX are not dependencies of clseq: bench/compare.sh runs this in
a virtual environment of its own. Without them every figure reads `n/a`.
JAX runs on its CPU backend with XLA's own thread pool over all cores.
Usage: keras_reference.py [mlp|predict|cnn|all] [--repeat N]
"""
import argparse
import os
import statistics
import sys
import time

# before keras is imported: its backend is fixed then
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

try:
    import numpy as np
    import keras
    import jax
except ImportError:  # pragma: no cover - depends on the machine
    np = keras = jax = None

BATCH, ROWS, WARMUP_ROWS, PREDICT_ROWS = 128, 2048, 256, 1024
MLP_ROWS, MLP_PREDICT_ROWS = 4096, 1000


def out(name, value, unit):
    if value is None:
        print(f"{name}: n/a", flush=True)
    elif abs(value) >= 1000 or value == int(value):
        print(f"{name}: {value:.0f} {unit}", flush=True)
    else:
        print(f"{name}: {value:.4g} {unit}", flush=True)


def cnn_model():
    layers = keras.layers
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.001, 0.9, 0.999, 1e-7),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def mlp_model():
    layers = keras.layers
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.001, 0.9, 0.999, 1e-7),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def samples_per_s(rows, fn, runs):
    """The median and best samples/s of runs timed calls of fn."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return rows / statistics.median(times), rows / min(times)


def fastest_way(name, rows, ways, runs):
    """Times each way (name -> fn) of predicting rows rows after a warm-up
    call (which compiles it); prints each and the fastest under name."""
    figures = {}
    for way, fn in ways.items():
        fn()
        figures[way] = samples_per_s(rows, fn, runs)
        out(f"{name}_via_{way}", figures[way][0], "samples/s")
    way = max(figures, key=lambda w: figures[w][0])
    return way, figures[way]


def bench_mlp(runs, state):
    if keras is None:
        for batch in (128, 512):
            out(f"keras_mlp_train_bs{batch}_samples_per_s", None, "")
        return
    rng = np.random.default_rng(3)
    x = rng.random((MLP_ROWS, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, size=MLP_ROWS)]
    model = mlp_model()
    for batch in (128, 512):
        def fit():
            model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
        fit()  # compiles the train step for this batch size
        median, best = samples_per_s(MLP_ROWS, fit, runs)
        out(f"keras_mlp_train_bs{batch}_samples_per_s", median, "samples/s")
        out(f"keras_mlp_train_bs{batch}_best_samples_per_s", best, "samples/s")
    state["mlp"] = model


def bench_predict(runs, state):
    if keras is None:
        out("keras_predict_1000_samples_per_s", None, "")
        return
    model = state.get("mlp") or mlp_model()
    px = np.random.default_rng(5).random((MLP_PREDICT_ROWS, 784), dtype=np.float32)
    name = "keras_predict_1000"
    way, (median, best) = fastest_way(name, MLP_PREDICT_ROWS, {
        "predict": lambda: model.predict(px, batch_size=MLP_PREDICT_ROWS, verbose=0),
        "predict_on_batch": lambda: np.asarray(model.predict_on_batch(px)),
    }, max(runs, 7))
    out(f"{name}_samples_per_s", median, "samples/s")
    out(f"{name}_best_samples_per_s", best, "samples/s")
    print(f"{name}_way: {way}", flush=True)


def bench_cnn(runs):
    names = ["keras_cnn_train_bs128", "keras_cnn_train_bs128_best", "keras_cnn_predict",
             "keras_cnn_predict_bs128"]
    if keras is None:
        for name in names:
            out(name, None, "")
        return
    rng = np.random.default_rng(11)
    x = rng.random((ROWS, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, size=(ROWS,)).astype(np.float32)
    px = rng.random((PREDICT_ROWS, 28, 28, 1), dtype=np.float32)
    model = cnn_model()

    def fit(rows):
        model.fit(x[:rows], y[:rows], batch_size=BATCH, epochs=1, shuffle=True, verbose=0)

    fit(WARMUP_ROWS)
    median, best = samples_per_s(ROWS, lambda: fit(ROWS), runs)
    out(names[0], median, "samples/s")
    out(names[1], best, "samples/s")

    def predict_ways(batch):
        """Keras's two ways to predict every row in batches of batch."""
        def on_batch():
            for first in range(0, PREDICT_ROWS, batch):
                np.asarray(model.predict_on_batch(px[first:first + batch]))
        return {
            "predict": lambda: model.predict(px, batch_size=batch, verbose=0),
            "predict_on_batch": on_batch,
        }

    for batch, name in ((PREDICT_ROWS, "keras_cnn_predict"), (BATCH, "keras_cnn_predict_bs128")):
        way, (median, best) = fastest_way(name, PREDICT_ROWS, predict_ways(batch), max(runs, 5))
        out(name, median, "samples/s")
        out(f"{name}_best", best, "samples/s")
        print(f"{name}_way: {way}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all",
                        choices=["mlp", "predict", "cnn", "all"])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure")
    args = parser.parse_args()
    print(f"keras_python: {sys.version.split()[0]}", flush=True)
    if keras is not None:
        print(f"keras: {keras.__version__} (backend {keras.backend.backend()})", flush=True)
        print(f"jax: {jax.__version__} on {jax.devices()[0].platform}", flush=True)
        print(f"keras_numpy: {np.__version__}", flush=True)
    else:
        print("keras: n/a", flush=True)
    state = {}
    if args.section in ("mlp", "all"):
        bench_mlp(max(1, args.repeat), state)
    if args.section in ("predict", "all"):
        bench_predict(max(1, args.repeat), state)
    if args.section in ("cnn", "all"):
        bench_cnn(max(1, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
