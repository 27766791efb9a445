#!/usr/bin/env python3
"""Reference figures for `clseq bench predict`, measured with onnxruntime.

Prints `NAME: VALUE UNIT` lines like `clseq bench` does, with the same
workloads:

  predict  the mlp section's 784-512-512-10 network (relu, relu, softmax)
           on 1000 random rows in one session.run: samples/s of the median
           and of the best of 7 calls after a warm-up, at each
           intra_op_num_threads from 1 to the cores (onnx_predict_1000_threadsN);
           the best under the plain name, onnx_predict_1000_thread_count
           saying which.
  startup  process start to first prediction, warm: a child Python that
           imports onnxruntime, opens a saved Dense(4, softmax) on 2
           inputs and predicts one row, exactly what `clseq bench startup`
           times for clseq (median and min of 5 after a warm-up run).

The graphs are built with the onnx package's helper API (no PyTorch), with
Glorot-uniform weights and zero biases from a fixed seed; onnxruntime runs
them on its CPU execution provider with every graph optimisation on.
Neither onnx nor onnxruntime is a dependency of clseq: bench/compare.sh runs
this in its virtual environment, and without them every figure reads n/a.
Usage: onnx_reference.py [predict|startup|all] [--repeat N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import onnxruntime as ort
except ImportError:  # pragma: no cover - depends on the machine
    np = onnx = ort = None

PREDICT_ROWS = 1000
MLP_LAYERS = [(784, 512, "Relu"), (512, 512, "Relu"), (512, 10, "Softmax")]
STARTUP_LAYERS = [(2, 4, "Softmax")]


def out(name, value, unit):
    if value is None:
        print(f"{name}: n/a", flush=True)
    elif abs(value) >= 1000 or value == int(value):
        print(f"{name}: {value:.0f} {unit}", flush=True)
    else:
        print(f"{name}: {value:.4g} {unit}", flush=True)


def dense_graph(layers, seed=1):
    """A Sequential stack of Dense layers as an ONNX model: Gemm (+ bias),
    then Relu or Softmax over the last axis; the batch dimension is free."""
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    x = "x"
    for i, (fan_in, units, activation) in enumerate(layers):
        limit = np.sqrt(6.0 / (fan_in + units))
        w = rng.uniform(-limit, limit, size=(fan_in, units)).astype(np.float32)
        weights += [numpy_helper.from_array(w, f"w{i}"),
                    numpy_helper.from_array(np.zeros(units, np.float32), f"b{i}")]
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [f"z{i}"]))
        y = "y" if i == len(layers) - 1 else f"a{i}"
        attrs = {"axis": -1} if activation == "Softmax" else {}
        nodes.append(helper.make_node(activation, [f"z{i}"], [y], **attrs))
        x = y
    graph = helper.make_graph(
        nodes, "clseq_bench_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", layers[0][0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", layers[-1][1]])],
        weights)
    # opset 17 and IR 8: what onnxruntime releases of the last years all read
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def session(model_bytes, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def thread_counts():
    return list(range(1, len(os.sched_getaffinity(0)) + 1))


def bench_predict(runs):
    if ort is None:
        out("onnx_predict_1000_samples_per_s", None, "")
        return
    model = dense_graph(MLP_LAYERS).SerializeToString()
    x = np.random.default_rng(5).random((PREDICT_ROWS, 784), dtype=np.float32)
    results = {}
    for count in thread_counts():
        sess = session(model, count)
        sess.run(None, {"x": x})  # warm-up: buffers, thread pool
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            sess.run(None, {"x": x})
            times.append(time.perf_counter() - t0)
        results[count] = (PREDICT_ROWS / statistics.median(times), PREDICT_ROWS / min(times))
        out(f"onnx_predict_1000_samples_per_s_threads{count}", results[count][0], "samples/s")
        del sess
    best = max(results, key=lambda c: results[c][0])
    out("onnx_predict_1000_samples_per_s", results[best][0], "samples/s")
    out("onnx_predict_1000_best_samples_per_s", results[best][1], "samples/s")
    out("onnx_predict_1000_thread_count", best, "threads")


def startup_child(path):
    """The child: import, open the model, predict one row, exit."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    sess.run(None, {"x": np.array([[0.5, -1.0]], dtype=np.float32)})
    return 0


def bench_startup(runs):
    if ort is None:
        out("onnx_startup_to_first_prediction_ms", None, "")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dense4.onnx")
        onnx.save(dense_graph(STARTUP_LAYERS), path)
        command = [sys.executable, os.path.abspath(__file__), "startup-child", path]
        times = []
        for i in range(runs + 1):  # the first is a warm-up: page cache
            t0 = time.perf_counter()
            subprocess.run(command, check=True)
            if i:
                times.append((time.perf_counter() - t0) * 1e3)
    out("onnx_startup_to_first_prediction_ms", statistics.median(times), "ms")
    out("onnx_startup_to_first_prediction_min_ms", min(times), "ms")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "startup-child":
        return startup_child(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all",
                        choices=["predict", "startup", "all"])
    parser.add_argument("--repeat", type=int, default=0,
                        help="timed runs per figure (default: 7 predictions, 5 start-ups)")
    args = parser.parse_args()
    print(f"onnx_python: {sys.version.split()[0]}", flush=True)
    if ort is not None:
        print(f"onnx: {onnx.__version__}", flush=True)
        print(f"onnxruntime: {ort.__version__} ({', '.join(ort.get_available_providers())})",
              flush=True)
    else:
        print("onnxruntime: n/a", flush=True)
    if args.section in ("predict", "all"):
        bench_predict(args.repeat or 7)
    if args.section in ("startup", "all"):
        bench_startup(args.repeat or 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
