#!/bin/sh
# clseq train --mpi and --device with two devices against one process on
# one device: with --no-shuffle all three must predict the same outputs
# (the same weights up to the order of float sums: outputs within 1e-5,
# a few hundred times the 6e-8 the weights differ by in tests/test_mpi.c,
# and far below the 1e-2 a wrong split would give).
# Usage: train.sh CLSEQ MPIRUN [MPIRUN ARGS...]
set -eu
tool=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk 'BEGIN { srand(3); for (i = 0; i < 100; i++) { a = rand() * 2 - 1; b = rand() * 2 - 1;
     printf "%.4f,%.4f,%d\n", a, b, (a + b > 0) } }' > "$dir/data.csv"
args="--data $dir/data.csv --layers dense:8:relu,dense:2:softmax --loss categorical_crossentropy
      --optimizer adam:0.01 --epochs 3 --batch-size 16 --no-shuffle --verbose 0"
"$tool" train $args --save "$dir/one.clseq" >/dev/null
"$@" "$tool" train --mpi $args --save "$dir/mpi.clseq" >/dev/null
POCL_DEVICES="pthread pthread" "$tool" train --device all $args --save "$dir/two.clseq" >/dev/null
for m in one mpi two; do
    "$tool" predict --model "$dir/$m.clseq" --data "$dir/data.csv" --out "$dir/$m.out" >/dev/null
done
for m in mpi two; do
    paste -d, "$dir/one.out" "$dir/$m.out" | awk -F, -v what="$m" '
        NR > 1 { half = NF / 2; for (i = 1; i <= half; i++) { d = $i - $(i + half);
                 if (d < 0) d = -d; if (d > worst) worst = d } }
        END { printf "%s: largest output difference %g\n", what, worst; exit !(worst <= 1e-5) }'
done
