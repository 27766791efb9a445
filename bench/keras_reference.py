#!/usr/bin/env python3
"""Reference figures for `clseq bench cnn`, measured with Keras 3 on JAX.

Prints `NAME: VALUE UNIT` lines like `clseq bench` does, with the same
workload as its cnn section:

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
Usage: keras_reference.py [cnn|all] [--repeat N]
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


def samples_per_s(rows, fn, runs):
    """The median and best samples/s of runs timed calls of fn."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return rows / statistics.median(times), rows / min(times)


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
        figures = {}
        for way, fn in predict_ways(batch).items():
            fn()  # compiles the predict step for this batch shape
            figures[way] = samples_per_s(PREDICT_ROWS, fn, max(runs, 5))
            out(f"{name}_via_{way}", figures[way][0], "samples/s")
        way = max(figures, key=lambda w: figures[w][0])
        out(name, figures[way][0], "samples/s")
        out(f"{name}_best", figures[way][1], "samples/s")
        print(f"{name}_way: {way}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all", choices=["cnn", "all"])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure")
    args = parser.parse_args()
    print(f"keras_python: {sys.version.split()[0]}", flush=True)
    if keras is not None:
        print(f"keras: {keras.__version__} (backend {keras.backend.backend()})", flush=True)
        print(f"jax: {jax.__version__} on {jax.devices()[0].platform}", flush=True)
        print(f"keras_numpy: {np.__version__}", flush=True)
    else:
        print("keras: n/a", flush=True)
    bench_cnn(max(1, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
