#!/bin/sh
# clseq against NumPy and PyTorch on this machine, measured in one go.
#
#   bench/compare.sh [CLSEQ] [-- ARGS for clseq bench]
#
# CLSEQ is the clseq tool (default: $CLSEQ, else build/clseq, else clseq on
# PATH). Runs `clseq bench seed mlp predict gemm` section by section, then
# bench/pytorch_reference.py under the first Python that can import torch
# (else numpy, else none), and prints both sets of lines and the ratios, as
# NAME: VALUE UNIT lines. Neither NumPy nor PyTorch is required: a missing
# one's figures and ratios read n/a. Debian's python3-torch (or pip's torch)
# provides PyTorch; this script installs nothing.
set -eu

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

pick_python() {
    for module in torch numpy; do
        for py in python3 /usr/bin/python3; do
            if command -v "$py" >/dev/null 2>&1 &&
                "$py" -c "import $module" >/dev/null 2>&1; then
                echo "$py"
                return
            fi
        done
    done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for section in seed mlp predict gemm; do
    "$clseq" bench "$section" "$@" >"$tmp/clseq.$section"
done
cat "$tmp"/clseq.seed "$tmp"/clseq.mlp "$tmp"/clseq.predict "$tmp"/clseq.gemm |
    awk '!seen[$1]++' >"$tmp/clseq"
cat "$tmp/clseq"

py=$(pick_python)
if [ -n "$py" ]; then
    "$py" "$here/pytorch_reference.py" all >"$tmp/ref"
else
    echo "python: n/a" >"$tmp/ref"
fi
cat "$tmp/ref"

# ratio NAME A B: A/B; TIMES NAME A B: B/A (how many times faster clseq is).
awk '
    FNR == NR { v[$1] = $2; next }
    { r[$1] = $2 }
    function num(x) { return x != "" && x != "n/a" && x + 0 > 0 }
    function ratio(name, a, b, unit) {
        if (num(a) && num(b)) printf "%s: %.4g %s\n", name, a / b, unit
        else printf "%s: n/a\n", name
    }
    END {
        ratio("ratio_seed_fused_time_to_numpy", v["seed_fit_fused_ms:"], r["numpy_seed_fit_ms:"], "x")
        ratio("ratio_seed_fused_time_to_torch", v["seed_fit_fused_ms:"], r["torch_seed_fit_ms:"], "x")
        ratio("ratio_seed_unfused_time_to_numpy", v["seed_fit_unfused_ms:"], r["numpy_seed_fit_ms:"], "x")
        ratio("ratio_mlp_bs128_clseq_to_torch", v["mlp_train_bs128_samples_per_s:"], r["torch_mlp_train_bs128_samples_per_s:"], "x")
        ratio("ratio_mlp_bs512_clseq_to_torch", v["mlp_train_bs512_samples_per_s:"], r["torch_mlp_train_bs512_samples_per_s:"], "x")
        ratio("ratio_predict_clseq_to_torch", v["predict_1000_samples_per_s:"], r["torch_predict_1000_samples_per_s:"], "x")
        ratio("ratio_gemm_1024_clseq_to_torch", v["gemm_clseq_1024:"], r["torch_gemm_1024:"], "x")
        ratio("ratio_gemm_2048_clseq_to_torch", v["gemm_clseq_2048:"], r["torch_gemm_2048:"], "x")
    }
' "$tmp/clseq" "$tmp/ref"
