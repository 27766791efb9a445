#!/bin/sh
# Streaming figures: a fit on more data than the device holds, and
# `clseq train --stream` on CSV files of 1e6, 1e7 and 1e8 rows, each with its
# peak resident memory. Not a test: it writes several GB under $TMPDIR and
# takes minutes.
#
#   bench/stream.sh BUILD_DIR [FIT_ROWS] [CSV_ROWS...]
#
# The fit runs under POCL_MEMORY_LIMIT=2 (PoCL's device: 2 GiB, 512 MiB
# allocations), so FIT_ROWS (default 3e7) x 20 floats (2.4 GB) must be
# streamed; its peak RSS is that of the data the program made plus what the
# fit adds. The CSV runs stream 4 features + a label per row.
set -eu
build=${1:?usage: bench/stream.sh BUILD_DIR [FIT_ROWS] [CSV_ROWS...]}
shift
fit_rows=${1:-30000000}
[ $# -gt 0 ] && shift
csv_rows=${*:-1000000 10000000 100000000}
tool=$build/clseq
bench=$build/bench/bench_stream
dir=$(mktemp -d "${TMPDIR:-/tmp}/clseq-stream.XXXXXX")
trap 'rm -rf "$dir"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
POCL_MEMORY_LIMIT=2 "$bench" rss stream_fit_process -- "$bench" fit "$fit_rows" 20

for rows in $csv_rows; do
    "$bench" csv "$dir/data.csv" "$rows" 4
    echo "csv_${rows}_bytes: $(stat -c %s "$dir/data.csv") B"
    "$bench" rss "csv_${rows}_train" -- "$tool" train --data "$dir/data.csv" --stream \
        --layers dense:16:relu,dense:2:softmax --loss sparse_categorical_crossentropy \
        --optimizer adam --epochs 1 --batch-size 1024 --verbose 0 --save "$dir/model.clseq"
    rm -f "$dir/data.csv"
done
