#!/bin/sh
# clseq against NumPy, PyTorch and Keras (JAX backend) on this machine,
# measured in one go.
#
#   bench/compare.sh [CLSEQ] [-- ARGS for clseq bench]
#
# CLSEQ is the clseq tool (default: $CLSEQ, else build/clseq, else clseq on
# PATH). Runs `clseq bench seed mlp predict cnn gemm` section by section,
# then the references, and prints every set of lines and the ratios as
# NAME: VALUE UNIT lines:
#
#   bench/pytorch_reference.py  NumPy and PyTorch: seed, mlp, predict, cnn,
#       gemm. Under the first Python that imports torch: the virtual
#       environment's, python3, /usr/bin/python3 (Debian's python3-torch),
#       else the first that imports numpy. PyTorch's mlp, predict and cnn
#       figures are its best over 1 to all cores' intra-op threads
#       (`..._thread_count` says which).
#   bench/keras_reference.py    Keras 3 on JAX (CPU): cnn. In the virtual
#       environment $CLSEQ_BENCH_VENV (default: venv-bench beside the
#       repository), which this script creates with the pinned versions
#       below when it lacks Keras, unless CLSEQ_BENCH_INSTALL=0.
#
# A reference that is missing reads n/a, and so do its ratios. The
# references run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which some
# machines set to force OpenBLAS onto an older, slower kernel; clseq's own
# run keeps the environment it was given (`reference_env` says what was
# removed). Ratios are clseq / reference of samples/s or GFLOP/s (above 1:
# clseq is faster), or of times for the seed fit (below 1: clseq is faster).
set -eu

# The virtual environment's pinned packages (Keras with JAX's CPU backend).
KERAS_PINS="keras==3.15.1 jax[cpu]==0.10.2 jaxlib==0.10.2 numpy==2.4.6"

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
    py=$1
    shift
    command -v "$py" >/dev/null 2>&1 || [ -x "$py" ] || return 1
    for module in "$@"; do
        # Keras imports TensorFlow unless told its backend first
        KERAS_BACKEND=jax "$py" -c "import $module" >/dev/null 2>&1 || return 1
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

# The Keras environment: reused when it imports keras and jax, else made.
keras_python() {
    if imports "$venv/bin/python" keras jax; then
        echo "$venv/bin/python"
        return
    fi
    [ "${CLSEQ_BENCH_INSTALL:-1}" = 0 ] && return
    echo "compare.sh: installing $KERAS_PINS into $venv" >&2
    # shellcheck disable=SC2086 # the pins are words
    if { [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2; } &&
        "$venv/bin/python" -m pip install -q $KERAS_PINS >&2 &&
        imports "$venv/bin/python" keras jax; then
        echo "$venv/bin/python"
    else
        echo "compare.sh: no Keras environment; its figures read n/a" >&2
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
for section in seed mlp predict cnn gemm; do
    if ! "$clseq" bench "$section" "$@" >"$tmp/clseq.$section"; then
        echo "compare.sh: clseq bench $section failed; its figures read n/a" >&2
        failed=1
    fi
done
cat "$tmp"/clseq.seed "$tmp"/clseq.mlp "$tmp"/clseq.predict "$tmp"/clseq.cnn \
    "$tmp"/clseq.gemm | awk '!seen[$1]++' >"$tmp/clseq"
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
kpy=$(keras_python)
load torch >"$tmp/ref"
if [ -n "$py" ]; then
    ref_env "$py" "$here/pytorch_reference.py" all >>"$tmp/ref" ||
        echo "compare.sh: pytorch_reference.py failed" >&2
else
    echo "python: n/a" >>"$tmp/ref"
fi
load keras >>"$tmp/ref"
if [ -n "$kpy" ]; then
    ref_env "$kpy" "$here/keras_reference.py" cnn >>"$tmp/ref" ||
        echo "compare.sh: keras_reference.py failed" >&2
else
    echo "keras: n/a" >>"$tmp/ref"
fi
cat "$tmp/ref"

# ratio NAME A B: A/B. best: which peer of torch and keras was faster.
awk '
    FNR == NR { v[$1] = $2; next }
    { r[$1] = $2 }
    function num(x) { return x != "" && x != "n/a" && x + 0 > 0 }
    function ratio(name, a, b, unit) {
        if (num(a) && num(b)) printf "%s: %.4g %s\n", name, a / b, unit
        else printf "%s: n/a\n", name
    }
    # The faster of PyTorch (at its best thread count) and Keras for one
    # figure: its name, then clseq / it.
    function best(what, mine, torch, keras, threads) {
        if (num(torch) && (!num(keras) || torch + 0 >= keras + 0)) {
            printf "cnn_%s_best_peer: torch (%s threads)\n", what, threads
            ratio("ratio_cnn_" what "_clseq_to_best_peer", mine, torch, "x")
        } else if (num(keras)) {
            printf "cnn_%s_best_peer: keras\n", what
            ratio("ratio_cnn_" what "_clseq_to_best_peer", mine, keras, "x")
        } else {
            printf "cnn_%s_best_peer: n/a\nratio_cnn_%s_clseq_to_best_peer: n/a\n", what, what
        }
    }
    END {
        ratio("ratio_seed_fused_time_to_numpy", v["seed_fit_fused_ms:"], r["numpy_seed_fit_ms:"], "x")
        ratio("ratio_seed_fused_time_to_torch", v["seed_fit_fused_ms:"], r["torch_seed_fit_ms:"], "x")
        ratio("ratio_seed_unfused_time_to_numpy", v["seed_fit_unfused_ms:"], r["numpy_seed_fit_ms:"], "x")
        ratio("ratio_mlp_bs128_clseq_to_torch", v["mlp_train_bs128_samples_per_s:"], r["torch_mlp_train_bs128_samples_per_s:"], "x")
        ratio("ratio_mlp_bs512_clseq_to_torch", v["mlp_train_bs512_samples_per_s:"], r["torch_mlp_train_bs512_samples_per_s:"], "x")
        ratio("ratio_predict_clseq_to_torch", v["predict_1000_samples_per_s:"], r["torch_predict_1000_samples_per_s:"], "x")
        ratio("ratio_cnn_train_clseq_to_torch", v["cnn_train_bs128:"], r["torch_cnn_train_bs128:"], "x")
        ratio("ratio_cnn_train_clseq_to_keras", v["cnn_train_bs128:"], r["keras_cnn_train_bs128:"], "x")
        best("train", v["cnn_train_bs128:"], r["torch_cnn_train_bs128:"], r["keras_cnn_train_bs128:"], r["torch_cnn_train_bs128_thread_count:"])
        ratio("ratio_cnn_predict_clseq_to_torch", v["cnn_predict:"], r["torch_cnn_predict:"], "x")
        ratio("ratio_cnn_predict_clseq_to_keras", v["cnn_predict:"], r["keras_cnn_predict:"], "x")
        best("predict", v["cnn_predict:"], r["torch_cnn_predict:"], r["keras_cnn_predict:"], r["torch_cnn_predict_thread_count:"])
        ratio("ratio_cnn_predict_bs128_clseq_to_torch", v["cnn_predict_bs128:"], r["torch_cnn_predict_bs128:"], "x")
        ratio("ratio_cnn_predict_bs128_clseq_to_keras", v["cnn_predict_bs128:"], r["keras_cnn_predict_bs128:"], "x")
        best("predict_bs128", v["cnn_predict_bs128:"], r["torch_cnn_predict_bs128:"], r["keras_cnn_predict_bs128:"], r["torch_cnn_predict_bs128_thread_count:"])
        ratio("ratio_gemm_1024_clseq_to_torch", v["gemm_clseq_1024:"], r["torch_gemm_1024:"], "x")
        ratio("ratio_gemm_2048_clseq_to_torch", v["gemm_clseq_2048:"], r["torch_gemm_2048:"], "x")
    }
' "$tmp/clseq" "$tmp/ref"
exit "$failed"
