#!/bin/sh
# Runs `clseq bench` several times and prints, per figure, the minimum and
# the median over the runs (n/a figures stay n/a):
#
#   bench/repeat.sh [-n RUNS] [CLSEQ] [-- ARGS for clseq bench, default: all]
#
#   NAME: min MIN median MEDIAN UNIT
#
# Each run's full output is kept in $BENCH_OUT (default: a temporary folder,
# removed at the end) as run1.txt, run2.txt, ...
set -eu

runs=3
if [ $# -gt 1 ] && [ "$1" = "-n" ]; then
    runs=$2
    shift 2
fi
here=$(cd "$(dirname "$0")" && pwd)
clseq=${CLSEQ:-}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    clseq=$1
    shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
[ -n "$clseq" ] || clseq=$here/../build/clseq
[ $# -gt 0 ] || set -- all

if [ -n "${BENCH_OUT:-}" ]; then
    out=$BENCH_OUT
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT INT TERM
fi

i=1
while [ "$i" -le "$runs" ]; do
    "$clseq" bench "$@" >"$out/run$i.txt"
    i=$((i + 1))
done

# Figures keep the order of the first run; values are numeric fields 2.
# Lines whose value is text (device, the ISA of the FMA peak, OpenBLAS's
# kernel) show the first run's.
cat "$out"/run*.txt | awk '
    $2 != "n/a" && $2 !~ /^[-+]?[0-9.]/ {
        if (!($1 in text)) { text[$1] = $0; order[++names] = $1 }
        next
    }
    {
        name = $1
        if (!(name in count)) { order[++names] = name; unit[name] = "" }
        if ($2 == "n/a") { na[name] = 1; count[name] += 0; next }
        vals[name, ++count[name]] = $2 + 0
        u = $0; sub(/^[^ ]+ [^ ]+ ?/, "", u); unit[name] = u
    }
    function fmt(x) { return (x >= 10000 || x <= -10000) ? sprintf("%.0f", x) : sprintf("%.4g", x) }
    END {
        for (k = 1; k <= names; k++) {
            name = order[k]; n = count[name]
            if (name in text) { print text[name]; continue }
            if (n == 0) { printf "%s n/a\n", name; continue }
            for (i = 1; i <= n; i++) a[i] = vals[name, i]
            for (i = 2; i <= n; i++) {           # insertion sort
                x = a[i]; j = i - 1
                while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- }
                a[j + 1] = x
            }
            med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
            printf "%s min %s median %s %s\n", name, fmt(a[1]), fmt(med), unit[name]
        }
    }
'
