#!/bin/sh
# Runs every libFuzzer harness found in DIR (fuzz_csv, fuzz_model,
# fuzz_layers and, in a CLSEQ_WITH_KERAS build, fuzz_keras_config) for
# SECONDS each, over a scratch copy of its seed corpus
# (corpus/NAME/; so the checked-in corpus never grows), and fails
# if any harness finds a crash, leak, sanitizer error or timeout. Builds
# nothing: see tests/fuzz/CMakeLists.txt for the build.
#
#   tests/fuzz/run.sh build-fuzz/tests/fuzz 60
#
# Prints "NAME: N executions" per harness; crash reproducers are kept in
# the scratch directory, whose path is printed on failure.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 DIR SECONDS" >&2
    exit 2
fi
dir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/clseq-fuzz-XXXXXX") || exit 2
status=0
found=0

for bin in "$dir"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    found=$((found + 1))
    name=$(basename "$bin")
    work="$scratch/$name"
    mkdir -p "$work/corpus" "$work/artifacts"
    if [ -d "$here/corpus/$name" ]; then
        cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null
    fi
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
    if [ "$rc" -ne 0 ]; then
        echo "$name: FAILED (exit $rc) after ${execs:-?} executions; log and reproducers in $work" >&2
        tail -n 40 "$work/log" >&2
        status=1
    else
        echo "$name: ${execs:-?} executions in ${seconds} s, corpus $(ls "$work/corpus" | wc -l) inputs"
    fi
done

if [ "$found" -eq 0 ]; then
    echo "$0: no fuzz_* executables in $dir" >&2
    exit 2
fi
[ "$status" -eq 0 ] && rm -rf "$scratch"
exit "$status"
