#!/bin/sh
# clseq against NumPy, PyTorch, Keras (JAX backend) and onnxruntime on
# this machine, measured in one go.
#
#   bench/compare.sh [CLSEQ] [-- ARGS for clseq bench]
#
# CLSEQ is the clseq tool (default: $CLSEQ, else build/clseq, else clseq on
# PATH). Runs `clseq bench` on seed, mlp, predict, cnn, gemm and startup,
# one process each (so that one that fails leaves the others' figures),
# then the references, and prints every set of lines and the ratios as
# NAME: VALUE UNIT lines:
#
#   bench/pytorch_reference.py  NumPy and PyTorch: seed, mlp, predict, cnn,
#       gemm. Under the first Python that imports torch: the virtual
#       environment's, python3, /usr/bin/python3 (Debian's python3-torch),
#       else the first that imports numpy. PyTorch's mlp, predict and cnn
#       figures are its best over pairs of its intra-op threads and
#       OpenBLAS's threads (1, 2, all cores each; `..._thread_count` and
#       `..._blas_thread_count` say which).
#   bench/keras_reference.py    Keras 3 on JAX (CPU): mlp, predict, cnn.
#   bench/onnx_reference.py     onnxruntime (CPU): predict at its best
#       intra-op thread count, and process start to first prediction.
#       These two in the virtual environment $CLSEQ_BENCH_VENV (default:
#       venv-bench beside the repository), which this script creates or
#       completes from PyPI with the pinned versions below when it lacks
#       one of them, unless CLSEQ_BENCH_INSTALL=0.
#
# A reference that is missing reads n/a, and so do its ratios. The
# references run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which some
# machines set to force OpenBLAS onto an older, slower kernel; clseq's own
# run keeps the environment it was given (`reference_env` says what was
# removed; `clseq bench gemm` does the same for its own OpenBLAS). Ratios
# are clseq / reference of samples/s or GFLOP/s (above 1: clseq is
# faster), or of times for the seed fit and start-up (below 1: clseq is
# faster). `..._best_peer` names the fastest reference and its set-up.
set -eu

# The virtual environment's pinned packages: Keras with JAX's CPU backend,
# and onnx (to build the graph) with onnxruntime.
KERAS_PINS="keras==3.15.1 jax[cpu]==0.10.2 jaxlib==0.10.2 numpy==2.4.6"
ONNX_PINS="onnx==1.23.2 onnxruntime==1.31.1"

here=$(cd "$(dirname "$0")" && pwd)
clseq=${CLSEQ:-}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    clseq=$1
    shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
if [ -z "$clseq" ]; then
    if [ -x "$here/../build/clseq" ]; then clseq=$here/../build/clseq
    else clseq=$(command -v clseq || true); fi
fi
if [ -z "$clseq" ] || [ ! -x "$clseq" ]; then
    echo "compare.sh: no clseq tool found (pass its path or set CLSEQ)" >&2
    exit 2
fi
venv=${CLSEQ_BENCH_VENV:-$(cd "$here/../.." && pwd)/venv-bench}

imports() { # PYTHON MODULE...: whether PYTHON imports every MODULE
    # (sh has no local variables: these names are used nowhere else)
    imports_py=$1
    shift
    command -v "$imports_py" >/dev/null 2>&1 || [ -x "$imports_py" ] || return 1
    for imports_module in "$@"; do
        # Keras imports TensorFlow unless told its backend first
        KERAS_BACKEND=jax "$imports_py" -c "import $imports_module" >/dev/null 2>&1 || return 1
    done
}

pick_python() {
    for module in torch numpy; do
        for py in "$venv/bin/python" python3 /usr/bin/python3; do
            if imports "$py" "$module"; then
                echo "$py"
                return
            fi
        done
    done
}

# The virtual environment: reused when it imports all of Keras, JAX, onnx
# and onnxruntime, else made or completed (pip leaves the pins it already
# has as they are).
make_venv() {
    if imports "$venv/bin/python" keras jax onnx onnxruntime ||
        [ "${CLSEQ_BENCH_INSTALL:-1}" = 0 ]; then
        return 0
    fi
    echo "compare.sh: installing $KERAS_PINS $ONNX_PINS into $venv" >&2
    # shellcheck disable=SC2086 # the pins are words
    if ! { { [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2; } &&
        "$venv/bin/python" -m pip install -q $KERAS_PINS $ONNX_PINS >&2; }; then
        echo "compare.sh: installing into $venv failed" >&2
    fi
}

venv_python() { # MODULE...: the environment's Python when it imports them
    if imports "$venv/bin/python" "$@"; then
        echo "$venv/bin/python"
    else
        echo "compare.sh: no $* in $venv; those figures read n/a" >&2
    fi
}

load() { # one line of the host's load, for judging the figures after it
    printf '%s_host_load_average_1min: %s runnable\n' "$1" "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo n/a)"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# A section that fails (say, a layer kind not built yet) leaves its
# figures out; the others and the references still run, and the exit
# status says so at the end.
failed=0
sections="seed mlp predict cnn gemm startup"
for section in $sections; do
    if ! "$clseq" bench "$section" "$@" >"$tmp/clseq.$section"; then
        echo "compare.sh: clseq bench $section failed; its figures read n/a" >&2
        failed=1
    fi
done
# the first section's header lines (device, FMA peak) stand for all
for section in $sections; do cat "$tmp/clseq.$section"; done | awk '!seen[$1]++' >"$tmp/clseq"
cat "$tmp/clseq"

removed=""
for var in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
    if eval "[ -n \"\${$var+set}\" ]"; then
        removed="$removed $var=$(eval "printf %s \"\$$var\"")"
    fi
done
if [ -n "$removed" ]; then
    echo "reference_env: removed$removed"
else
    echo "reference_env: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE not set"
fi
ref_env() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }

py=$(pick_python)
make_venv
kpy=$(venv_python keras jax)
opy=$(venv_python onnx onnxruntime)
load torch >"$tmp/ref"
if [ -n "$py" ]; then
    ref_env "$py" "$here/pytorch_reference.py" all >>"$tmp/ref" ||
        echo "compare.sh: pytorch_reference.py failed" >&2
else
    echo "python: n/a" >>"$tmp/ref"
fi
load keras >>"$tmp/ref"
if [ -n "$kpy" ]; then
    ref_env "$kpy" "$here/keras_reference.py" all >>"$tmp/ref" ||
        echo "compare.sh: keras_reference.py failed" >&2
else
    echo "keras: n/a" >>"$tmp/ref"
fi
load onnx >>"$tmp/ref"
if [ -n "$opy" ]; then
    ref_env "$opy" "$here/onnx_reference.py" all >>"$tmp/ref" ||
        echo "compare.sh: onnx_reference.py failed" >&2
else
    echo "onnxruntime: n/a" >>"$tmp/ref"
fi
cat "$tmp/ref"

# ratio NAME A B: A/B. best: the fastest peer of one figure.
awk '
    FNR == NR { v[$1] = $2; next }
    { r[$1] = $2 }
    function num(x) { return x != "" && x != "n/a" && x + 0 > 0 }
    function ratio(name, a, b, unit) {
        if (num(a) && num(b)) printf "%s: %.4g %s\n", name, a / b, unit
        else printf "%s: n/a\n", name
    }
    # PyTorch and its set-up: torch (threads T, OpenBLAS threads B)
    function torch(name,   t, b) {
        t = r[name "_thread_count:"]; b = r[name "_blas_thread_count:"]
        return "torch (threads " t (b != "" ? ", OpenBLAS threads " b : "") ")"
    }
    # The fastest of up to three peers for one figure (higher is better):
    # its name and set-up, then clseq / it.
    function best(what, mine, v1, d1, v2, d2, v3, d3,   top, who) {
        if (num(v1)) { top = v1; who = d1 }
        if (num(v2) && (who == "" || v2 + 0 > top + 0)) { top = v2; who = d2 }
        if (num(v3) && (who == "" || v3 + 0 > top + 0)) { top = v3; who = d3 }
        if (who != "") {
            printf "%s_best_peer: %s\n", what, who
            ratio("ratio_" what "_clseq_to_best_peer", mine, top, "x")
        } else {
            printf "%s_best_peer: n/a\nratio_%s_clseq_to_best_peer: n/a\n", what, what
        }
    }
    END {
        ratio("ratio_seed_fused_time_to_numpy", v["seed_fit_fused_ms:"], r["numpy_seed_fit_ms:"], "x")
        ratio("ratio_seed_fused_time_to_torch", v["seed_fit_fused_ms:"], r["torch_seed_fit_ms:"], "x")
        ratio("ratio_seed_unfused_time_to_numpy", v["seed_fit_unfused_ms:"], r["numpy_seed_fit_ms:"], "x")
        for (bs = 128; bs <= 512; bs *= 4) {
            t = "torch_mlp_train_bs" bs "_samples_per_s"; k = "keras_mlp_train_bs" bs "_samples_per_s:"
            mine = v["mlp_train_bs" bs "_samples_per_s:"]
            ratio("ratio_mlp_bs" bs "_clseq_to_torch", mine, r[t ":"], "x")
            ratio("ratio_mlp_bs" bs "_clseq_to_keras", mine, r[k], "x")
            best("mlp_bs" bs, mine, r[t ":"], torch(t), r[k], "keras-jax")
        }
        p = v["predict_1000_samples_per_s:"]; t = "torch_predict_1000_samples_per_s"
        ratio("ratio_predict_clseq_to_torch", p, r[t ":"], "x")
        ratio("ratio_predict_clseq_to_keras", p, r["keras_predict_1000_samples_per_s:"], "x")
        ratio("ratio_predict_clseq_to_onnxruntime", p, r["onnx_predict_1000_samples_per_s:"], "x")
        best("predict", p, r[t ":"], torch(t), r["keras_predict_1000_samples_per_s:"],
             "keras-jax (" r["keras_predict_1000_way:"] ")", r["onnx_predict_1000_samples_per_s:"],
             "onnxruntime (intra-op threads " r["onnx_predict_1000_thread_count:"] ")")
        ratio("ratio_startup_time_clseq_to_onnxruntime", v["startup_to_first_prediction_ms:"],
              r["onnx_startup_to_first_prediction_ms:"], "x")
        ratio("ratio_cnn_train_clseq_to_torch", v["cnn_train_bs128:"], r["torch_cnn_train_bs128:"], "x")
        ratio("ratio_cnn_train_clseq_to_keras", v["cnn_train_bs128:"], r["keras_cnn_train_bs128:"], "x")
        best("cnn_train", v["cnn_train_bs128:"], r["torch_cnn_train_bs128:"], torch("torch_cnn_train_bs128"),
             r["keras_cnn_train_bs128:"], "keras-jax")
        ratio("ratio_cnn_predict_clseq_to_torch", v["cnn_predict:"], r["torch_cnn_predict:"], "x")
        ratio("ratio_cnn_predict_clseq_to_keras", v["cnn_predict:"], r["keras_cnn_predict:"], "x")
        best("cnn_predict", v["cnn_predict:"], r["torch_cnn_predict:"], torch("torch_cnn_predict"),
             r["keras_cnn_predict:"], "keras-jax")
        ratio("ratio_cnn_predict_bs128_clseq_to_torch", v["cnn_predict_bs128:"], r["torch_cnn_predict_bs128:"], "x")
        ratio("ratio_cnn_predict_bs128_clseq_to_keras", v["cnn_predict_bs128:"], r["keras_cnn_predict_bs128:"], "x")
        best("cnn_predict_bs128", v["cnn_predict_bs128:"], r["torch_cnn_predict_bs128:"],
             torch("torch_cnn_predict_bs128"), r["keras_cnn_predict_bs128:"], "keras-jax")
        ratio("ratio_gemm_1024_clseq_to_torch", v["gemm_clseq_1024:"], r["torch_gemm_1024:"], "x")
        ratio("ratio_gemm_2048_clseq_to_torch", v["gemm_clseq_2048:"], r["torch_gemm_2048:"], "x")
        ratio("ratio_gemm_1024_clseq_to_openblas", v["gemm_clseq_1024:"], v["gemm_openblas_1024:"], "x")
        ratio("ratio_gemm_2048_clseq_to_openblas", v["gemm_clseq_2048:"], v["gemm_openblas_2048:"], "x")
    }
' "$tmp/clseq" "$tmp/ref"
exit "$failed"
