#!/bin/sh
# Keras files between fresh Keras models and the clseq tool, both ways
# (tests/keras/roundtrip.py says what is checked). Usage:
#
#   tests/keras/roundtrip.sh BUILD_DIR [PYTHON] [-- roundtrip.py options]
#
# BUILD_DIR holds the clseq tool of a build with CLSEQ_WITH_KERAS; PYTHON
# (default $PYTHON, else python3) has the pinned Keras and JAX:
#
#   python3 -m venv venv && venv/bin/pip install -r tests/keras/requirements.txt
#   tests/keras/roundtrip.sh build venv/bin/python
#
# Each run draws new models (the seed is printed; `-- --seed N` repeats a
# run, `-- --keep DIR` keeps the files). Exit status 0 when every file
# agrees, 1 on a mismatch (the message names the file and the values), 2
# on bad usage. It takes well under two minutes on two CPU cores.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
build=$1
shift
python=${PYTHON:-python3}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    python=$1
    shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
if [ ! -x "$build/clseq" ]; then
    echo "roundtrip.sh: no clseq tool at $build/clseq" >&2
    exit 2
fi
if ! KERAS_BACKEND=jax JAX_PLATFORMS=cpu "$python" -c 'import keras, jax' 2>/dev/null; then
    echo "roundtrip.sh: $python cannot import keras and jax (pip install -r $here/requirements.txt)" >&2
    exit 2
fi
# the tool's OpenCL device: the CPU unless the caller chose one
CLSEQ_DEVICE=${CLSEQ_DEVICE:-cpu} KERAS_BACKEND=jax JAX_PLATFORMS=cpu \
    exec "$python" "$here/roundtrip.py" "$build" "$@"
