#!/usr/bin/env python3
"""Reference figures for `clseq bench`, measured with NumPy and PyTorch.

Prints `NAME: VALUE UNIT` lines like `clseq bench` does, with the same
workloads:

  seed     Dense(4, softmax) on 3200 make_blobs rows, batch 4, 10 epochs,
           SGD 0.01: NumPy (a plain minibatch loop) and PyTorch eager
  mlp      784-512-512-10 (relu, relu, softmax), Adam, categorical
           cross-entropy, batch 128 and 512, 4096 random rows: samples/s
  predict  the same MLP on 1000 rows: samples/s
  cnn      Conv2D(32, 3, relu), MaxPooling2D, Conv2D(64, 3, relu),
           MaxPooling2D, Flatten, Dense(128, relu), Dense(10, softmax) on
           28x28x1 random images, Adam, sparse categorical cross-entropy,
           batch 128, 2048 rows per timed epoch; and its predict on 1024
           rows in one batch and in batches of 128: samples/s
  gemm     SGEMM 1024^3 and 2048^3 through torch.mm: GFLOP/s

mlp, predict and cnn run at each pair of thread counts, PyTorch's
intra-op threads and, where PyTorch's products go to OpenBLAS (Debian's
PyTorch 1.13), OpenBLAS's threads, each from 1, 2 and the machine's cores:
the two pools share the cores, and the wrong pair (2 and 2 on 2 cores) is
several times slower than the best (1 and 2). Each pair prints as
`..._threadsN_blasM` (`..._threadsN` without OpenBLAS), the best under the
plain name, with `..._thread_count` and `..._blas_thread_count` saying
which; --threads N and --blas-threads M measure those only.

Neither library is a dependency of clseq: whatever is missing is reported
as `n/a`. Usage:
pytorch_reference.py [seed|mlp|predict|cnn|gemm|all] [--threads N] [--blas-threads M]
                     [--repeat N]
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:  # pragma: no cover - depends on the machine
    np = None
try:
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


def out(name, value, unit):
    if value is None:
        print(f"{name}: n/a", flush=True)
    elif abs(value) >= 1000 or value == int(value):
        print(f"{name}: {value:.0f} {unit}", flush=True)
    else:
        print(f"{name}: {value:.4g} {unit}", flush=True)


def thread_counts(threads):
    """The thread counts to try: the one asked for, else 1, 2 and all the
    cores this process may use (no more than there are)."""
    if threads > 0:
        return [threads]
    cores = len(os.sched_getaffinity(0))
    return sorted({count for count in (1, 2, cores) if count <= cores})


def openblas():
    """The OpenBLAS this process loaded (for PyTorch's products), as a
    ctypes library, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.split()[-1]}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_set_num_threads.argtypes = [ctypes.c_int]
            lib.openblas_get_num_threads.restype = ctypes.c_int
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib
        except (OSError, AttributeError):
            continue
    return None


SETTINGS = {"threads": 0, "blas_threads": 0}  # --threads and --blas-threads


def best_over_threads(measure, names, unit):
    """Runs measure() (a list of figures, higher is better, one per name)
    at each pair of PyTorch and OpenBLAS thread counts; prints each as
    NAME_threadsN_blasM, then the best pair's figures under the plain names
    and NAME_thread_count and NAME_blas_thread_count (names[0]'s NAME)
    saying which pair that was: the one with the best first figure."""
    blas = openblas()
    blas_counts = thread_counts(SETTINGS["blas_threads"]) if blas else [None]
    blas_default = blas.openblas_get_num_threads() if blas else None
    torch_default = torch.get_num_threads()
    results = {}
    for count in thread_counts(SETTINGS["threads"]):
        for blas_count in blas_counts:
            torch.set_num_threads(count)
            suffix = f"_threads{count}"
            if blas_count is not None:
                blas.openblas_set_num_threads(blas_count)
                suffix += f"_blas{blas_count}"
            results[count, blas_count] = measure()
            for name, value in zip(names, results[count, blas_count]):
                out(f"{name}{suffix}", value, unit)
    # back to the start: what follows (gemm) measures PyTorch as it comes
    torch.set_num_threads(torch_default)
    if blas:
        blas.openblas_set_num_threads(blas_default)
    best = max(results, key=lambda pair: results[pair][0])
    for name, value in zip(names, results[best]):
        out(name, value, unit)
    out(f"{names[0]}_thread_count", best[0], "threads")
    if best[1] is not None:
        out(f"{names[0]}_blas_thread_count", best[1], "threads")
    return best


def median_ms(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


# ---- seed ------------------------------------------------------------------

def make_blobs(n=4000, features=2, centres=4, std=2.0, seed=101):
    """scikit-learn's make_blobs when it is installed, else the same recipe."""
    try:
        from sklearn.datasets import make_blobs as sk_blobs
        return sk_blobs(n_samples=n, n_features=features, centers=centres,
                        cluster_std=std, random_state=seed)
    except ImportError:
        rng = np.random.RandomState(seed)
        centers = rng.uniform(-10.0, 10.0, size=(centres, features))
        counts = [n // centres + (1 if i < n % centres else 0) for i in range(centres)]
        xs, ys = [], []
        for i, count in enumerate(counts):
            xs.append(rng.normal(loc=centers[i], scale=std, size=(count, features)))
            ys += [i] * count
        x, y = np.concatenate(xs), np.array(ys)
        order = np.arange(n)
        rng.shuffle(order)
        return x[order], y[order]


def seed_data():
    x, y = make_blobs()
    rng = np.random.RandomState(42)
    order = rng.permutation(len(x))
    n_test = 800
    test, train = order[:n_test], order[n_test:]
    onehot = np.eye(4, dtype=np.float32)[y]
    x = x.astype(np.float32)
    return x[train], onehot[train], x[test], y[test]


def numpy_seed_fit(x, y, epochs=10, batch=4, lr=0.01):
    rng = np.random.RandomState(0)
    limit = np.sqrt(6.0 / (2 + 4))
    w = rng.uniform(-limit, limit, size=(2, 4)).astype(np.float32)
    b = np.zeros(4, dtype=np.float32)
    n = len(x)
    for _ in range(epochs):
        order = rng.permutation(n)
        loss_sum, hits = 0.0, 0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb, yb = x[idx], y[idx]
            z = xb @ w + b
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            loss_sum += float(-(yb * np.log(np.maximum(p, 1e-7))).sum(axis=1).mean())
            hits += int((p.argmax(axis=1) == yb.argmax(axis=1)).sum())
            g = (p - yb) / len(idx)
            w -= lr * (xb.T @ g)
            b -= lr * g.sum(axis=0)
    return w, b


def torch_seed_fit(x, y, epochs=10, batch=4, lr=0.01):
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 4)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + categorical cross-entropy
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.argmax(axis=1))
    n = len(xt)
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            opt.zero_grad()
            logits = model(xt[idx])
            loss = loss_fn(logits, yt[idx])
            loss.backward()
            opt.step()
            loss.item()  # Keras reads the loss back every step for its running mean
    return model


def bench_seed(runs):
    if np is None:
        for name in ("numpy_seed_fit_ms", "numpy_seed_fit_test_accuracy",
                     "torch_seed_fit_ms", "torch_seed_fit_test_accuracy"):
            out(name, None, "")
        return
    x, y, xt, yt = seed_data()
    numpy_seed_fit(x, y, epochs=1)
    out("numpy_seed_fit_ms", median_ms(lambda: numpy_seed_fit(x, y), runs), "ms")
    w, b = numpy_seed_fit(x, y)
    out("numpy_seed_fit_test_accuracy", float(((xt @ w + b).argmax(axis=1) == yt).mean()),
        "fraction")
    if torch is None:
        out("torch_seed_fit_ms", None, "")
        out("torch_seed_fit_test_accuracy", None, "")
        return
    torch_seed_fit(x, y, epochs=1)
    out("torch_seed_fit_ms", median_ms(lambda: torch_seed_fit(x, y), max(1, runs // 2)), "ms")
    model = torch_seed_fit(x, y)
    with torch.no_grad():
        pred = model(torch.from_numpy(xt)).argmax(dim=1).numpy()
    out("torch_seed_fit_test_accuracy", float((pred == yt).mean()), "fraction")


# ---- mlp, predict, gemm (PyTorch only) ----------------------------------------

ROWS, PREDICT_ROWS = 4096, 1000


def mlp_model():
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10))  # softmax folded into the loss


def train_epochs(model, opt, x, y, batch, epochs):
    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(x)
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            loss.item()


def bench_mlp(epochs, state):
    if torch is None:
        for batch in (128, 512):
            out(f"torch_mlp_train_bs{batch}_samples_per_s", None, "")
        return
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(ROWS, 784, generator=gen)
    y = torch.randint(0, 10, (ROWS,), generator=gen)
    model = mlp_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    for batch in (128, 512):
        def measure():
            train_epochs(model, opt, x, y, batch, 1)  # warm-up
            t0 = time.perf_counter()
            train_epochs(model, opt, x, y, batch, epochs)
            return [ROWS * epochs / (time.perf_counter() - t0)]

        best_over_threads(measure, [f"torch_mlp_train_bs{batch}_samples_per_s"],
                          "samples/s")
    state["model"] = model


def bench_predict(runs, state):
    if torch is None:
        out("torch_predict_1000_samples_per_s", None, "")
        return
    model = state.get("model") or mlp_model()
    x = torch.rand(PREDICT_ROWS, 784, generator=torch.Generator().manual_seed(5))

    def predict():
        with torch.no_grad():
            torch.softmax(model(x), dim=1).numpy()

    def measure():
        predict()
        return [PREDICT_ROWS / (median_ms(predict, runs) / 1e3)]

    best_over_threads(measure, ["torch_predict_1000_samples_per_s"], "samples/s")


# ---- cnn -------------------------------------------------------------------------

CNN_BATCH, CNN_ROWS, CNN_WARMUP_ROWS, CNN_PREDICT_ROWS = 128, 2048, 256, 1024


def cnn_model():
    nn = torch.nn
    torch.manual_seed(1)
    return nn.Sequential(  # NCHW, PyTorch's own layout
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
        nn.Linear(128, 10))  # softmax folded into the loss


def bench_cnn(runs):
    names = ["torch_cnn_train_bs128", "torch_cnn_train_bs128_best"]
    if torch is None:
        for name in names + ["torch_cnn_predict", "torch_cnn_predict_bs128"]:
            out(name, None, "")
        return
    out("torch_mkldnn", int(torch.backends.mkldnn.is_available()), "bool")
    gen = torch.Generator().manual_seed(11)
    x = torch.rand(CNN_ROWS, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (CNN_ROWS,), generator=gen)
    px = torch.rand(CNN_PREDICT_ROWS, 1, 28, 28, generator=gen)
    model = cnn_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

    def train():
        times = []
        train_epochs(model, opt, x[:CNN_WARMUP_ROWS], y[:CNN_WARMUP_ROWS], CNN_BATCH, 1)
        for _ in range(max(1, runs)):
            t0 = time.perf_counter()
            train_epochs(model, opt, x, y, CNN_BATCH, 1)
            times.append(time.perf_counter() - t0)
        return [CNN_ROWS / statistics.median(times), CNN_ROWS / min(times)]

    def infer(batch):
        def predict():
            with torch.no_grad():
                for first in range(0, CNN_PREDICT_ROWS, batch):
                    torch.softmax(model(px[first:first + batch]), dim=1).numpy()

        def measure():
            predict()
            times = []
            for _ in range(max(1, runs)):
                t0 = time.perf_counter()
                predict()
                times.append(time.perf_counter() - t0)
            return [CNN_PREDICT_ROWS / statistics.median(times), CNN_PREDICT_ROWS / min(times)]
        return measure

    best_over_threads(train, names, "samples/s")
    best_over_threads(infer(CNN_PREDICT_ROWS),
                      ["torch_cnn_predict", "torch_cnn_predict_best"], "samples/s")
    best_over_threads(infer(CNN_BATCH),
                      ["torch_cnn_predict_bs128", "torch_cnn_predict_bs128_best"], "samples/s")


def bench_gemm(runs):
    if torch is None:
        for n in (256, 1024, 2048):
            out(f"torch_gemm_{n}", None, "")
        return
    gen = torch.Generator().manual_seed(1)
    for n in (256, 1024, 2048):
        a = torch.rand(n, n, generator=gen) * 2 - 1
        b = torch.rand(n, n, generator=gen) * 2 - 1
        torch.mm(a, b)
        reps = max(2, runs if n < 2048 else runs // 2)
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        seconds = time.perf_counter() - t0
        out(f"torch_gemm_{n}", 2.0 * n ** 3 * reps / seconds / 1e9, "GFLOP/s")


def blas_library():
    """The BLAS library this process loaded (PyTorch's Linear and mm) and,
    for OpenBLAS, the kernel it chose (OPENBLAS_CORETYPE can force a slower
    one) and its threads at start."""
    lib = openblas()
    if lib is not None:
        return (f"OpenBLAS, core {lib.openblas_get_corename().decode()}, "
                f"{lib.openblas_get_num_threads()} threads")
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.split()[-1]}
    except OSError:
        return "n/a"
    return ", ".join(sorted(paths)) or "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all",
                        choices=["seed", "mlp", "predict", "cnn", "gemm", "all"])
    parser.add_argument("--threads", type=int, default=0,
                        help="PyTorch intra-op threads for mlp, predict and cnn (default: 1, 2 "
                             "and the cores, reporting the best)")
    parser.add_argument("--blas-threads", type=int, default=0,
                        help="OpenBLAS threads, likewise (default: 1, 2 and the cores)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure")
    parser.add_argument("--epochs", type=int, default=2, help="timed MLP epochs")
    args = parser.parse_args()
    SETTINGS.update(threads=args.threads, blas_threads=args.blas_threads)
    print(f"python: {sys.version.split()[0]}", flush=True)
    print(f"numpy: {np.__version__ if np is not None else 'n/a'}", flush=True)
    print(f"torch: {torch.__version__ if torch is not None else 'n/a'}", flush=True)
    if torch is not None:
        out("torch_threads", torch.get_num_threads(), "threads")
        print(f"torch_blas: {blas_library()}", flush=True)
    state = {}
    if args.section in ("seed", "all"):
        bench_seed(args.repeat)
    if args.section in ("mlp", "all"):
        bench_mlp(args.epochs, state)
    if args.section in ("predict", "all"):
        bench_predict(args.repeat, state)
    if args.section in ("cnn", "all"):
        bench_cnn(min(args.repeat, 3))
    if args.section in ("gemm", "all"):
        bench_gemm(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
