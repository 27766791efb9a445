#!/bin/sh
# Install test: tests/install/run.sh BUILD_DIR
#
# Installs the (already built) BUILD_DIR into a temporary prefix, then checks
# what a program embedding clseq sees:
#   - the installed files, the shared library's SONAME (libclseq.so.MAJOR)
#     and that it exports exactly the clseq_* functions clseq.h declares;
#   - clseq.h compiles as C11 and C++11 with -Wall -Wextra -pedantic -Werror;
#   - examples/ built out of tree with find_package(clseq) (shared and
#     static) and with `pkg-config --cflags --libs clseq`, run, and their
#     output checked (accuracy >= 0.9, regression MSE, save/load round trip).
# Needs cmake, pkg-config, a C and a C++ compiler, nm, readelf and an OpenCL
# device (PoCL will do). CLSEQ_KEEP_TMP=1 keeps the temporary directory.
set -eu

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
    echo "usage: $0 BUILD_DIR (a configured and built clseq build directory)" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-cc}
CXX=${CXX:-c++}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clseq-install.XXXXXX")
cleanup() { if [ "${CLSEQ_KEEP_TMP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
prefix=$tmp/prefix
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

echo "== cmake --install $build --prefix $prefix =="
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }

# The library directory is lib, lib64 or lib/<multiarch>, whatever
# GNUInstallDirs chose: find it from clseq.pc.
pc=$(find "$prefix" -path '*/pkgconfig/clseq.pc' | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no clseq.pc installed" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
echo "library directory: ${libdir#"$prefix"/}"

header=$prefix/include/clseq.h
major=$(sed -n 's/^#define CLSEQ_VERSION_MAJOR \([0-9][0-9]*\).*/\1/p' "$header")
minor=$(sed -n 's/^#define CLSEQ_VERSION_MINOR \([0-9][0-9]*\).*/\1/p' "$header")
patch=$(sed -n 's/^#define CLSEQ_VERSION_PATCH \([0-9][0-9]*\).*/\1/p' "$header")
version=$major.$minor.$patch
echo "header version: $version"

echo "== installed files =="
for f in "$header" "$prefix/bin/clseq" "$libdir/libclseq.a" "$libdir/libclseq.so" \
         "$libdir/libclseq.so.$major" "$libdir/libclseq.so.$version" \
         "$libdir/cmake/clseq/clseqConfig.cmake" "$libdir/cmake/clseq/clseqConfigVersion.cmake" \
         "$libdir/cmake/clseq/clseqTargets.cmake" "$pc" "$prefix/share/man/man1/clseq.1"; do
    if [ -e "$f" ]; then ok "${f#"$prefix"/}"; else fail "missing ${f#"$prefix"/}"; fi
done
so=$libdir/libclseq.so.$version
[ -f "$so" ] || { echo "FAIL: no $so; cannot go on" >&2; exit 1; }

echo "== SONAME =="
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" = "libclseq.so.$major" ]; then ok "SONAME $soname"; else fail "SONAME '$soname', want libclseq.so.$major"; fi

echo "== exported symbols =="
nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u >"$tmp/exported"
count=$(wc -l <"$tmp/exported")
outside=$(grep -v '^clseq_' "$tmp/exported" || true)
if [ -z "$outside" ]; then
    ok "nm -D: $count symbols defined, all clseq_*"
else
    fail "nm -D: symbols outside clseq_: $(echo "$outside" | tr '\n' ' ')"
fi
# Exactly the functions the headers declare (CLSEQ_API lines; clseq_mpi.h's
# too in a build with MPI), nothing internal.
headers=$header
[ -e "$prefix/include/clseq_mpi.h" ] && headers="$headers $prefix/include/clseq_mpi.h"
# shellcheck disable=SC2086 # the one or two header paths, split on purpose
sed -n 's/^CLSEQ_API[^(]*[ *]\(clseq_[A-Za-z0-9_]*\)(.*/\1/p' $headers | sort -u >"$tmp/declared"
extra=$(comm -23 "$tmp/exported" "$tmp/declared" | tr '\n' ' ')
missing=$(comm -13 "$tmp/exported" "$tmp/declared" | tr '\n' ' ')
if [ -z "$extra" ]; then ok "no internal symbol exported"; else fail "exported but not in clseq.h: $extra"; fi
if [ -z "$missing" ]; then ok "all $(wc -l <"$tmp/declared") functions of clseq.h exported"; else fail "declared in clseq.h but not exported: $missing"; fi
# The static library cannot hide its internals, but they must stay in clseq's namespace.
static_outside=$(nm --defined-only "$libdir/libclseq.a" 2>/dev/null |
    awk 'NF >= 3 && $2 ~ /^[A-TV-Z]$/ && $2 != "N" { print $3 }' | grep -v '^clseq_' | sort -u | tr '\n' ' ' || true)
if [ -z "$static_outside" ]; then ok "libclseq.a: every global symbol is clseq_*"; else fail "libclseq.a globals outside clseq_: $static_outside"; fi

echo "== clseq.h as C and as C++ =="
cat >"$tmp/header_c.c" <<'C'
#include <clseq.h>
int main(void) { return CLSEQ_VERSION_MAJOR + (clseq_version() == 0); }
C
cp "$tmp/header_c.c" "$tmp/header_cxx.cpp"
check_header() { # compiler std source
    if "$1" "-std=$2" -Wall -Wextra -pedantic -Werror -I"$prefix/include" -c "$3" -o "$tmp/h.o"; then
        ok "clseq.h: $1 -std=$2 -Wall -Wextra -pedantic -Werror"
    else
        fail "clseq.h does not compile cleanly with $1 -std=$2"
    fi
}
check_header "$CC" c11 "$tmp/header_c.c"
check_header "$CXX" c++11 "$tmp/header_cxx.cpp"
if [ "$CC" != clang ] && command -v clang >/dev/null && command -v clang++ >/dev/null; then
    check_header clang c11 "$tmp/header_c.c"
    check_header clang++ c++11 "$tmp/header_cxx.cpp"
fi

# A fresh copy of the examples: nothing else of the source tree is visible.
mkdir "$tmp/examples"
cp "$src"/examples/*.c "$src"/examples/*.cpp "$src"/examples/CMakeLists.txt "$tmp/examples/"
warn="-Wall -Wextra -pedantic -Werror"

# value LABEL FILE: the number after "LABEL" on its first line in FILE.
value() { sed -n "s/.*$1 *\\([0-9.eE+-]*\\).*/\\1/p" "$2" | head -n 1; }
# at_least / at_most X LIMIT (floats)
at_least() { [ -n "$1" ] && awk -v x="$1" -v l="$2" 'BEGIN { exit !(x + 0 >= l + 0) }'; }
at_most() { [ -n "$1" ] && awk -v x="$1" -v l="$2" 'BEGIN { exit !(x + 0 <= l + 0) }'; }

# run_examples LABEL DIR [ENV...]: runs the three examples from DIR, checks their output.
run_examples() {
    label=$1; bin=$2; shift 2
    work=$tmp/run-$label
    mkdir -p "$work"
    echo "-- $label: seed_classifier"
    if (cd "$work" && env "$@" "$bin/seed_classifier") >"$work/seed.out" 2>&1; then
        grep -E '^clseq |^Test ' "$work/seed.out"
        acc=$(value 'Test accuracy:' "$work/seed.out")
        if at_least "$acc" 0.9; then ok "$label seed_classifier: test accuracy $acc >= 0.9"; else fail "$label seed_classifier: test accuracy '$acc' < 0.9"; fi
        if grep -q "^clseq $version (header $version) on " "$work/seed.out"; then ok "$label: library and header both $version"; else fail "$label: library and header versions differ"; fi
    else
        cat "$work/seed.out" >&2; fail "$label seed_classifier exited with an error"
    fi
    echo "-- $label: regression"
    if (cd "$work" && env "$@" "$bin/regression") >"$work/regression.out" 2>&1; then
        grep -E '^(epoch 100|Test|f\()' "$work/regression.out"
        mse=$(value 'Test MSE:' "$work/regression.out")
        if at_most "$mse" 0.005; then ok "$label regression: test MSE $mse <= 0.005"; else fail "$label regression: test MSE '$mse' > 0.005"; fi
    else
        cat "$work/regression.out" >&2; fail "$label regression exited with an error"
    fi
    echo "-- $label: load_and_predict (train, save, load)"
    if (cd "$work" && env "$@" "$bin/load_and_predict") >"$work/lp1.out" 2>&1; then
        grep -E '^(trained|Accuracy|reloaded)' "$work/lp1.out"
        acc=$(value 'Accuracy on tiny_test.csv:' "$work/lp1.out")
        if at_least "$acc" 0.9; then ok "$label load_and_predict: accuracy $acc >= 0.9"; else fail "$label load_and_predict: accuracy '$acc' < 0.9"; fi
        if grep -q '^reloaded model matches the trained one: yes' "$work/lp1.out"; then ok "$label: reloaded model predicts as the trained one"; else fail "$label: reloaded model differs"; fi
    else
        cat "$work/lp1.out" >&2; fail "$label load_and_predict exited with an error"
    fi
    echo "-- $label: load_and_predict tiny_model.clseq tiny_test.csv"
    if (cd "$work" && env "$@" "$bin/load_and_predict" tiny_model.clseq tiny_test.csv) >"$work/lp2.out" 2>&1; then
        acc=$(value 'Accuracy on tiny_test.csv:' "$work/lp2.out")
        if at_least "$acc" 0.9; then ok "$label load_and_predict MODEL DATA: accuracy $acc"; else fail "$label load_and_predict MODEL DATA: accuracy '$acc' < 0.9"; fi
    else
        cat "$work/lp2.out" >&2; fail "$label load_and_predict MODEL DATA exited with an error"
    fi
    if (cd "$work" && env "$@" "$bin/load_and_predict" tiny_model.clseq) >"$work/lp3.out" 2>&1 &&
       [ "$(grep -c '^row [0-9]*: \[.*\] -> class [0-2]$' "$work/lp3.out")" -eq 5 ]; then
        ok "$label load_and_predict MODEL: 5 predictions"
    else
        cat "$work/lp3.out" >&2; fail "$label load_and_predict MODEL"
    fi
    if (cd "$work" && env "$@" "$bin/load_and_predict" no-such-model.clseq) >"$work/lp4.out" 2>&1; then
        fail "$label load_and_predict accepted a missing model file"
    elif grep -q 'CLSEQ_E_IO' "$work/lp4.out"; then
        ok "$label load_and_predict on a missing file: $(cat "$work/lp4.out")"
    else
        cat "$work/lp4.out" >&2; fail "$label load_and_predict on a missing file: unexpected message"
    fi
}

echo "== examples with find_package(clseq), shared library =="
if ! cmake -S "$tmp/examples" -B "$tmp/cmake-shared" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$warn" -DCMAKE_CXX_FLAGS="$warn" >"$tmp/cmake-shared.log" 2>&1 ||
   ! cmake --build "$tmp/cmake-shared" >>"$tmp/cmake-shared.log" 2>&1; then
    cat "$tmp/cmake-shared.log" >&2
    echo "FAIL: CMake build of the examples" >&2
    exit 1
fi
if ldd "$tmp/cmake-shared/seed_classifier" | grep -q "libclseq.so.$major => $libdir/"; then
    ok "seed_classifier loads $libdir/libclseq.so.$major"
else
    fail "seed_classifier does not load the installed libclseq.so.$major"
fi
run_examples cmake-shared "$tmp/cmake-shared"

echo "== examples with find_package(clseq), static library =="
if ! cmake -S "$tmp/examples" -B "$tmp/cmake-static" -DCMAKE_PREFIX_PATH="$prefix" -DCLSEQ_EXAMPLES_STATIC=ON \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$warn" -DCMAKE_CXX_FLAGS="$warn" >"$tmp/cmake-static.log" 2>&1 ||
   ! cmake --build "$tmp/cmake-static" >>"$tmp/cmake-static.log" 2>&1; then
    cat "$tmp/cmake-static.log" >&2
    echo "FAIL: CMake build of the examples (static)" >&2
    exit 1
fi
if ldd "$tmp/cmake-static/seed_classifier" | grep -q libclseq; then fail "static build still needs libclseq.so"; else ok "static build does not need libclseq.so"; fi
run_examples cmake-static "$tmp/cmake-static"

echo "== examples with pkg-config --cflags --libs clseq =="
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pcver=$(pkg-config --modversion clseq)
if [ "$pcver" = "$version" ]; then ok "pkg-config --modversion clseq: $pcver"; else fail "pkg-config says $pcver, header $version"; fi
flags=$(pkg-config --cflags --libs clseq)
echo "pkg-config --cflags --libs clseq: $flags"
mkdir "$tmp/pc"
# shellcheck disable=SC2086  # $flags and $warn are word lists
if ! "$CC" -std=c11 $warn -O2 "$tmp/examples/seed_classifier.c" -o "$tmp/pc/seed_classifier" $flags ||
   ! "$CC" -std=c11 $warn -O2 "$tmp/examples/regression.c" -o "$tmp/pc/regression" $flags -lm ||
   ! "$CXX" -std=c++11 $warn -O2 "$tmp/examples/load_and_predict.cpp" -o "$tmp/pc/load_and_predict" $flags; then
    echo "FAIL: pkg-config build of the examples" >&2
    exit 1
fi
ok "built with pkg-config"
run_examples pkg-config "$tmp/pc" LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

if [ "$failures" -ne 0 ]; then
    echo "install test: $failures failure(s)" >&2
    exit 1
fi
echo "install test passed: $count exported symbols, all clseq_*; SONAME $soname"
