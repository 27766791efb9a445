#!/bin/sh
# tests/oclgrind/run.sh BUILD_DIR: clseq's kernels under Oclgrind.
#
# Oclgrind (a simulating OpenCL implementation) checks every kernel
# instruction: out-of-bounds accesses, data races (--data-races),
# uninitialised values (--uninitialized) and API misuse (--check-api). This
# script runs small trainings with the clseq tool in BUILD_DIR under it,
# one per kernel family (the fused trainer, the layered path with the
# local-memory tiled GEMM and with the CPU GEMMs, unpacked and packed, a
# CNN with batch normalisation and dropout, validation data so that later
# epochs run evaluation), then tests/kernels_driver (every kernel of
# host/runtime/sources.c's table at tiny sizes: every layer kind,
# activation, pooling variant and vector width, optimizer and clipping
# option, metric, the fused trainer, streaming; it fails when some kernel
# of the table never ran), then test_gradients. It fails when any run
# fails or Oclgrind reports anything: Oclgrind does not set the exit
# status, so each run's log (BUILD_DIR/oclgrind/NAME.log) must be empty.
#
# How it is run, and why:
# - Not through the `oclgrind` wrapper, which puts its runtime first in
#   LD_PRELOAD: the same OCLGRIND_* variables are set here and the runtime
#   is preloaded after fill_as_write.so. Oclgrind 21.10's --uninitialized
#   does not count clEnqueueFillBuffer as a write, so the buffers
#   clseq_buffer_fill zeroes (Adam's moments, the fit totals) read as
#   uninitialised; the shim turns each fill into a clEnqueueWriteBuffer.
# - CLSEQ_BUILD_OPTIONS=-cl-opt-disable: Oclgrind 21.10's --uninitialized
#   rejects the `freeze` instruction the optimiser emits.
# - CLSEQ_NO_CACHE=1: build from source every time (Oclgrind has no
#   binaries of its own to cache). CLSEQ_DEVICE=Oclgrind: its one device.
#   It reports every device type at once (CL_DEVICE_TYPE 15), so clseq
#   takes the CPU paths (register-blocked GEMM under `auto`, CPU pooling
#   and im2col launches) and the GPU-sized fused trainer; kernels_driver
#   marks each of its contexts one type or the other to run both.
# - Not run: test_kernels (its GEMM shapes, up to 256^3 and 8x1450x1450,
#   take well over 5 minutes simulated, and Check cannot select single
#   loop iterations) and test_layers (same reason); see README below.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rt=""
for f in /usr/lib/oclgrind/liboclgrind-rt.so /usr/lib/*/oclgrind/liboclgrind-rt.so \
         /usr/local/lib/liboclgrind-rt.so; do
    [ -f "$f" ] && { rt=$f; break; }
done
[ -n "$rt" ] || { echo "oclgrind runtime (liboclgrind-rt.so) not found: apt-get install oclgrind" >&2; exit 1; }
out="$build/oclgrind"
rm -rf "$out"
mkdir -p "$out"
cc -O2 -shared -fPIC -o "$out/fill_as_write.so" "$here/fill_as_write.c" -lOpenCL -ldl

export CLSEQ_DEVICE=Oclgrind CLSEQ_NO_CACHE=1 CLSEQ_BUILD_OPTIONS=-cl-opt-disable
export CLSEQ_FIXTURES="$here/../fixtures" CK_FORK=no CK_DEFAULT_TIMEOUT=600
# CLSEQ_GEMM=builtin: clseq's own GEMMs (the point here); CLBlast's kernels are not
# ours, and its program cache, released at exit after Oclgrind's runtime is
# torn down, aborts the process (free() in oclgrind::Program::~Program).
export CLSEQ_GEMM=builtin
unset CLSEQ_GEMM_KERNEL CLSEQ_FUSED CLSEQ_CACHE_ALWAYS
clseq="$build/clseq"
"$clseq" blobs --samples 96 --features 4 --centers 3 --std 1.0 --seed 1 --out "$out/blobs4.csv"
"$clseq" blobs --samples 64 --features 16 --centers 3 --std 1.0 --seed 2 --out "$out/blobs16.csv"

failed=0
# check NAME [VAR=VALUE...] COMMAND...: runs COMMAND under Oclgrind.
check() {
    name=$1; shift
    log="$out/$name.log"
    t0=$(date +%s)
    if env OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1 \
           OCLGRIND_MAX_ERRORS=20 OCLGRIND_LOG="$log" \
           LD_PRELOAD="$out/fill_as_write.so:$rt" "$@" >"$out/$name.out" 2>&1; then
        rc=0
    else
        rc=$?
    fi
    t=$(( $(date +%s) - t0 ))
    if [ "$rc" -ne 0 ] || [ -s "$log" ]; then
        echo "FAIL $name (${t} s, exit $rc): $(grep -c 'Kernel:' "$log" 2>/dev/null || true) Oclgrind reports"
        sed -n 1,60p "$log"
        tail -20 "$out/$name.out"
        failed=1
    else
        echo "ok   $name (${t} s)"
    fi
}

train="train --loss categorical_crossentropy --epochs 2 --batch-size 16 --seed 3 --metrics accuracy"
dense="--data $out/blobs4.csv --layers dense:8:relu,dense:3:softmax --validation-split 0.25"
cnn="--data $out/blobs16.csv --input-shape 4,4,1 --validation-split 0.25 \
--layers conv2d:4:3:relu:same,batchnorm,maxpool2d:2,conv2d:4:2x2:valid,flatten,dropout:0.25,dense:3:softmax"

# The fused trainer, auto and forced (CLSEQ_FUSED=1). Its 2-epoch runs with
# --validation-split once reported "Controlflow depends on uninitialized
# value" at train_fused.cl's forward fma: an Oclgrind 21.10 artefact, not a
# read of unwritten rows. Its --uninitialized checker sizes a buffer's
# shadow by the first host write to it (not by clCreateBuffer) and keeps a
# released buffer's shadow for the next buffer created at the same index;
# epoch 2's fresh scratch inherited the 32-byte shadow of the validation
# pass's accumulators, so stores past byte 32 were dropped and loads read
# back "uninitialised". fill_as_write.so now gives every buffer made
# without host data a full-size zero copy at creation, hence a whole shadow.
check fused         "$clseq" $train $dense --optimizer adam --save "$out/m.clseq"
check fused-sgd     CLSEQ_FUSED=1 "$clseq" $train $dense --optimizer sgd:0.1 --save "$out/m.clseq"
check layered-tiled CLSEQ_FUSED=0 CLSEQ_GEMM_KERNEL=tiled \
    "$clseq" $train $dense --optimizer adam --save "$out/m.clseq"
check layered-cpu   CLSEQ_FUSED=0 CLSEQ_GEMM_KERNEL=cpu \
    "$clseq" $train $dense --optimizer rmsprop --save "$out/m.clseq"
check layered-packed CLSEQ_FUSED=0 CLSEQ_GEMM_KERNEL=packed \
    "$clseq" $train $dense --optimizer adam --save "$out/m.clseq"
check cnn-tiled     CLSEQ_GEMM_KERNEL=tiled "$clseq" $train $cnn --optimizer adam --save "$out/cnn.clseq"
check cnn-cpu       CLSEQ_GEMM_KERNEL=cpu "$clseq" $train $cnn --optimizer adam --save "$out/cnn.clseq"
check evaluate      "$clseq" evaluate --model "$out/cnn.clseq" --data "$out/blobs16.csv"
check predict       "$clseq" predict --model "$out/cnn.clseq" --data "$out/blobs16.csv"
check kernels_driver "$build/tests/kernels_driver"
check test_gradients "$build/tests/test_gradients"

[ "$failed" -eq 0 ] && echo "Oclgrind: no reports" || echo "Oclgrind: reports above (logs in $out)"
exit "$failed"
