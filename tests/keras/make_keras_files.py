#!/usr/bin/env python3
"""Keras model files (.keras and legacy .h5) for tests/test_keras_files.c.

README. This script builds small Sequential models with Keras 3 (JAX
backend, CPU; the versions pinned in tests/keras/requirements.txt), gives
them seeded weights (nonzero biases, BatchNormalization statistics away
from 0 and 1), trains the compiled ones a few steps so their optimizer
state is not the initial one, and saves each one twice under
tests/fixtures/keras_files/: NAME.keras (model.save, Keras 3's zip) and
NAME.h5 (model.save of the legacy HDF5 format). Beside them NAME.txt holds
what the C test compares with (format below). It also writes files clseq
must refuse (refuse_*) and .keras archives with damaged or renamed members
(member_*). The CI never runs this script; it reads the committed files.
To regenerate them:

    python3 -m venv /work/venv-keras
    /work/venv-keras/bin/pip install -r tests/keras/requirements.txt
    KERAS_BACKEND=jax /work/venv-keras/bin/python tests/keras/make_keras_files.py

Every run draws the same weights and data (seeded by the model's name),
but the bytes of the files differ from run to run (metadata.json holds the
date), so regenerate only when something changes.

Tolerances. Each model also runs in float64 on the same float32-exact
weights, data and (for the continuation) optimizer state; for every tensor
T Keras computes, T.err is max |float32 - float64|: the rounding error that
one valid float32 evaluation of this computation made. test_keras_files.c
scales its tolerances from it, as test_keras.c does.

NAME.txt, one record after another (the syntax of tests/fixtures/keras/):
  # ...                   comment
  @NAME TEXT              text record
  NAME COUNT              numeric record: COUNT float32 values (%.9g)
Records:
  @optimizer @loss        Keras's names (compiled models; the optimizer's
                          class name in lower case)
  @metrics                the metrics, comma separated ("" for none)
  opt/lr                  the learning rate
  opt/config              sgd: lr momentum nesterov; adam: lr beta_1
                          beta_2 epsilon; rmsprop: lr rho epsilon
  input_shape layers rows the sample shape, Keras's layer count, rows of x
  x predict               an input batch and model.predict on it
  var/L/I/NAME            layer L's variable I (Keras's order), as saved
  reg/L/VAR               layer L's VAR_regularizer (VAR kernel, bias, gamma
                          or beta): l1 l2 (L1, L2 and L1L2 all as L1L2)
  cont/batch_size cont/epochs cont/rows cont/x cont/y
                          a continuation: model.fit(cont_x, cont_y,
                          batch_size, epochs, shuffle=False) on the model
                          keras.saving.load_model read back from NAME.keras.
                          Keras 3.15's legacy loader drops the optimizer
                          state of an .h5 (its optimizer comes back built
                          for no variables), so the script checks instead
                          that NAME.h5's optimizer_weights hold the same
                          values as the .keras file's: a reader that uses
                          them resumes identically from either file.
  cont/loss               the loss fit reported per epoch
  cont/after/L/I/NAME     every variable after the continuation
  R.err                   for each R Keras computed: max |float32 - float64|
The refuse_*.txt files hold @expect: substrings the error message must
contain, separated by '|'.
"""
import json
import os
import shutil
import zipfile
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from fixture_common import float32_error, write_records  # noqa: E402

L = keras.layers
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "keras_files")


# ---- the models --------------------------------------------------------------
# Each entry: name, input shape, a function making the layers for a dtype,
# rows of x, and for compiled models (optimizer factory, loss, metrics,
# pre-training (rows, batch, epochs), continuation (rows, batch, epochs) or
# None when Dropout's random masks leave nothing to compare).

def acts_dense(dt):
    # nine activations as Dense's activation argument ...
    acts = ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "gelu", "softplus"]
    return [L.Dense(6, activation=a, dtype=dt) for a in acts] + [
        L.Dense(3, activation="softmax", dtype=dt)]


def acts_layers(dt):
    # ... the other seven as Activation layers (linear before relu6, so
    # that a linear that was not the identity would show)
    return [L.Dense(6, dtype=dt), L.Activation("softsign", dtype=dt),
            L.Activation("silu", dtype=dt),
            L.Dense(6, dtype=dt), L.Activation("hard_sigmoid", dtype=dt),
            L.Activation("exponential", dtype=dt),
            L.Dense(6, dtype=dt), L.Activation("linear", dtype=dt),
            L.Activation("relu6", dtype=dt),
            L.Dense(4, dtype=dt), L.Activation("log_softmax", dtype=dt)]


def cnn(dt):
    # Conv2D same + strides, Conv2D valid, BatchNormalization, both pools,
    # Dropout, Flatten, Dense softmax: (10,10,2) -> (5,5,3) -> (4,4,4) ->
    # (2,2,4) -> (2,2,4) -> 16 -> 3
    return [L.Conv2D(3, 3, strides=2, padding="same", activation="relu", dtype=dt),
            L.Conv2D(4, 2, padding="valid", dtype=dt),
            L.BatchNormalization(momentum=0.5, dtype=dt),
            L.MaxPooling2D(2, dtype=dt),
            L.AveragePooling2D(2, strides=1, padding="same", dtype=dt),
            L.Dropout(0.25, dtype=dt),
            L.Flatten(dtype=dt),
            L.Dense(3, activation="softmax", dtype=dt)]


def pools_reshape(dt):
    # (6,6,2) -> (4,4,4) -> GAP 4 -> 12 -> Reshape (2,2,3) with -1 -> GMP 3
    # -> 8 -> Reshape (4,2) -> Dense on the last axis (4,3) -> 12 -> 2
    return [L.Conv2D(4, 3, activation="tanh", dtype=dt),
            L.GlobalAveragePooling2D(dtype=dt),
            L.Dense(12, activation="softplus", dtype=dt),
            L.Reshape((2, -1, 3), dtype=dt),
            L.GlobalMaxPooling2D(dtype=dt),
            L.Dense(8, activation="selu", dtype=dt),
            L.Reshape((4, 2), dtype=dt),
            L.Dense(3, dtype=dt),
            L.Flatten(dtype=dt),
            L.Dense(2, dtype=dt)]


def adam_dense_bn(dt):
    return [L.Dense(8, activation="tanh", dtype=dt),
            L.BatchNormalization(momentum=0.8, dtype=dt),
            L.Dense(3, activation="softmax", dtype=dt)]


def sgd_cnn(dt):
    # (5,5,1) -> (5,5,2) -> (2,2,2) -> 8 -> 3
    return [L.Conv2D(2, 3, padding="same", activation="relu", dtype=dt),
            L.MaxPooling2D(2, dtype=dt),
            L.Flatten(dtype=dt),
            L.Dense(3, activation="softmax", dtype=dt)]


def rmsprop_dense(dt):
    return [L.Dense(6, activation="elu", dtype=dt), L.Dense(2, dtype=dt)]


def dense_nobias(dt):
    return [L.Dense(4, activation="relu", use_bias=False, dtype=dt), L.Dense(2, dtype=dt)]


def uncompiled_ftrl(dt):
    return [L.Dense(4, activation="tanh", dtype=dt), L.Dense(2, dtype=dt)]


def sgd_regularized(dt):
    R = keras.regularizers
    return [L.Dense(6, activation="tanh", kernel_regularizer=R.L2(0.01),
                    bias_regularizer=R.L1(0.02), dtype=dt),
            L.Dense(3, activation="softmax", kernel_regularizer=R.L1L2(l1=0.01, l2=0.005),
                    dtype=dt)]


# Adam's epsilon 1e-3 (not Keras's 1e-7) keeps float32 noise in a near-zero
# gradient from turning into steps of +-lr (tests/keras/make_fixtures.py,
# ADAM); the CNN keeps Keras's defaults to cover them.
MODELS = [
    ("acts_dense", (4,), acts_dense, 5, None),
    ("acts_layers", (4,), acts_layers, 5, None),
    ("pools_reshape", (6, 6, 2), pools_reshape, 4, None),
    ("cnn", (10, 10, 2), cnn, 4,
     (lambda: keras.optimizers.Adam(), "categorical_crossentropy", ["accuracy"],
      (16, 4, 2), None)),
    ("adam_dense_bn", (5,), adam_dense_bn, 5,
     (lambda: keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-3),
      "categorical_crossentropy", ["accuracy"], (12, 4, 1), (12, 4, 2))),
    ("sgd_cnn", (5, 5, 1), sgd_cnn, 4,
     (lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
      "sparse_categorical_crossentropy", ["accuracy"], (12, 4, 1), (12, 4, 2))),
    ("rmsprop_dense", (4,), rmsprop_dense, 5,
     (lambda: keras.optimizers.RMSprop(learning_rate=0.01, rho=0.8),
      "mean_squared_error", ["mae"], (12, 3, 1), (12, 3, 2))),
    # Dense without a bias: clseq either runs it or refuses naming use_bias
    ("dense_nobias", (4,), dense_nobias, 4, None),
    # L1, L2 and L1L2 regularizers: in the loss fit reports and in the steps
    ("sgd_regularized", (4,), sgd_regularized, 4,
     (lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.5),
      "categorical_crossentropy", [], (12, 4, 1), (12, 4, 2))),
    # an optimizer clseq lacks (test_keras_files.c asks clseq_optimizer_from_name):
    # the model loads, not compiled
    ("uncompiled_ftrl", (4,), uncompiled_ftrl, 4,
     (lambda: keras.optimizers.Ftrl(learning_rate=0.01), "mean_squared_error", [], (8, 4, 1),
      None)),
]


def build(shape, layers, dt):
    keras.backend.clear_session()  # the same default layer names each time
    return keras.Sequential([keras.Input(shape, dtype=dt)] + layers(dt))


# Kernels drawn from GAIN times Glorot's range: a deep stack of saturating
# activations at gain 1 squeezes every input to almost the same output,
# which would let a wrong activation early in the stack pass unnoticed.
GAIN = {"acts_dense": 2.5, "acts_layers": 3.0}


def set_seeded_weights(model, rng, gain=1.0):
    for layer in model.layers:
        values = []
        for w in layer.weights:
            name, shape = w.path.split("/")[-1], tuple(w.shape)
            if name == "kernel":
                fan_in = int(np.prod(shape[:-1]))
                limit = gain * np.sqrt(6.0 / (fan_in + shape[-1]))
                v = rng.uniform(-limit, limit, shape)
            elif name in ("bias", "beta", "moving_mean"):
                v = rng.uniform(-0.3, 0.3, shape)
            elif name == "gamma":
                v = rng.uniform(0.6, 1.4, shape)
            elif name == "moving_variance":
                v = rng.uniform(0.6, 1.6, shape)
            else:
                raise ValueError("unexpected variable " + w.path)
            values.append(v.astype(np.float32))
        layer.set_weights(values)


def targets(loss, out_dim, rows, rng):
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, out_dim, rows).astype(np.float32)
    if loss == "categorical_crossentropy":
        return np.eye(out_dim, dtype=np.float32)[rng.integers(0, out_dim, rows)]
    return rng.normal(0.0, 1.0, (rows, out_dim)).astype(np.float32)


def keras_y(loss, y):
    return y.astype(np.int32) if loss == "sparse_categorical_crossentropy" else y


def variables(model):
    """(key 'L/I/NAME', value) for every variable, Keras's order."""
    out = []
    for li, layer in enumerate(model.layers):
        for vi, w in enumerate(layer.weights):
            out.append(("%d/%d/%s" % (li, vi, w.path.split("/")[-1]), np.asarray(w.numpy())))
    return out


def optimizer_record(opt):
    c = opt.get_config()
    name = type(opt).__name__.lower()
    if name == "sgd":
        return name, [c["learning_rate"], c["momentum"], 1.0 if c["nesterov"] else 0.0]
    if name == "adam":
        return name, [c["learning_rate"], c["beta_1"], c["beta_2"], c["epsilon"]]
    if name == "rmsprop":
        return name, [c["learning_rate"], c["rho"], c["epsilon"]]
    return name, None


def err_of(name, key, v32, v64):
    return float(np.max(float32_error(name, key, v32, v64)[0], initial=0.0))


def write_file_records(name, records):
    header = ("# clseq Keras file fixture '%s': tests/keras/make_keras_files.py, keras %s, "
              "jax %s, numpy %s (format: see the script)"
              % (name, keras.__version__, jax.__version__, np.__version__))
    write_records(os.path.join(OUT, name + ".txt"), header, records)


def float64_twin(shape, layers, model32, compile_args):
    """The same model in float64 with model32's weights and, when compiled,
    its optimizer's state."""
    m64 = build(shape, layers, "float64")
    for l64, l32 in zip(m64.layers, model32.layers):
        l64.set_weights([np.asarray(w, np.float64) for w in l32.get_weights()])
    if compile_args:
        opt = type(model32.optimizer).from_config(model32.optimizer.get_config())
        m64.compile(optimizer=opt, loss=compile_args[1], metrics=compile_args[2])
        opt.build(m64.trainable_variables)
        assert len(opt.variables) == len(model32.optimizer.variables)
        for v64, v32 in zip(opt.variables, model32.optimizer.variables):
            v64.assign(np.asarray(v32.numpy()).astype(v64.dtype))
    return m64


def same_optimizer_state_in_h5(name, model):
    """NAME.h5's optimizer_weights, in their weight_names order, are
    model.optimizer.variables to the bit."""
    with h5py.File(os.path.join(OUT, name + ".h5"), "r") as f:
        g = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
        saved = [np.asarray(g[n]) for n in names]
    state = [np.asarray(v.numpy()) for v in model.optimizer.variables]
    assert len(saved) == len(state), name + ".h5: optimizer_weights has %d, not %d" % (
        len(saved), len(state))
    for n, a, b in zip(names, saved, state):
        assert a.shape == b.shape and np.array_equal(a.astype(np.float64), b.astype(np.float64)), \
            name + ".h5: optimizer weight " + n + " differs"


def make(entry):
    name, shape, layers, rows, comp = entry
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    model = build(shape, layers, "float32")
    set_seeded_weights(model, rng, GAIN.get(name, 1.0))
    out_dim = int(np.prod(model.output_shape[1:]))
    x = rng.uniform(-1.0, 1.0, (rows,) + shape).astype(np.float32)
    records = []
    if comp:
        make_opt, loss, metrics, pre, cont = comp
        model.compile(optimizer=make_opt(), loss=loss, metrics=metrics)
        n, batch, epochs = pre
        px = rng.uniform(-1.0, 1.0, (n,) + shape).astype(np.float32)
        py = targets(loss, out_dim, n, rng)
        model.fit(px, keras_y(loss, py), batch_size=batch, epochs=epochs, shuffle=False,
                  verbose=0)
        opt_name, opt_config = optimizer_record(model.optimizer)
        records += [("@optimizer", opt_name), ("@loss", loss), ("@metrics", ",".join(metrics)),
                    ("opt/lr", [model.optimizer.get_config()["learning_rate"]])]
        if opt_config:
            records.append(("opt/config", opt_config))
    model.save(os.path.join(OUT, name + ".keras"))
    model.save(os.path.join(OUT, name + ".h5"))

    records += [("input_shape", shape), ("layers", [len(model.layers)]), ("rows", [rows]),
                ("x", x)]
    p32 = np.asarray(model.predict(x, batch_size=rows, verbose=0))
    m64 = float64_twin(shape, layers, model, None)
    p64 = np.asarray(m64.predict(x.astype(np.float64), batch_size=rows, verbose=0))
    records += [("predict", p32), ("predict.err", [err_of(name, "predict", p32, p64)])]
    for key, value in variables(model):
        records.append(("var/" + key, value))
    for li, layer in enumerate(model.layers):
        for var in ("kernel", "bias", "gamma", "beta"):
            reg = getattr(layer, var + "_regularizer", None)
            if reg is not None:
                c = reg.get_config()
                records.append(("reg/%d/%s" % (li, var), [c.get("l1", 0.0), c.get("l2", 0.0)]))

    # Keras reads back what it wrote: the same predictions from both files
    for ext in (".keras", ".h5"):
        back = keras.saving.load_model(os.path.join(OUT, name + ext))
        again = np.asarray(back.predict(x, batch_size=rows, verbose=0))
        assert np.array_equal(again, p32), name + ext + ": Keras's own round trip differs"

    if comp and comp[4]:
        make_opt, loss, metrics, pre, cont = comp
        n, batch, epochs = cont
        cx = rng.uniform(-1.0, 1.0, (n,) + shape).astype(np.float32)
        cy = targets(loss, out_dim, n, rng)
        records += [("cont/batch_size", [batch]), ("cont/epochs", [epochs]), ("cont/rows", [n]),
                    ("cont/x", cx), ("cont/y", cy)]
        back = keras.saving.load_model(os.path.join(OUT, name + ".keras"))
        hist = back.fit(cx, keras_y(loss, cy), batch_size=batch, epochs=epochs, shuffle=False,
                        verbose=0)
        loss32, vars32 = np.asarray(hist.history["loss"]), variables(back)
        same_optimizer_state_in_h5(name, model)
        start = keras.saving.load_model(os.path.join(OUT, name + ".keras"))
        m64 = float64_twin(shape, layers, start, comp)
        hist64 = m64.fit(cx.astype(np.float64), keras_y(loss, cy.astype(np.float64)),
                         batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
        loss64 = np.asarray(hist64.history["loss"])
        records += [("cont/loss", loss32),
                    ("cont/loss.err", [err_of(name, "cont/loss", loss32, loss64)])]
        for (key, v32), (_, v64) in zip(vars32, variables(m64)):
            records += [("cont/after/" + key, v32),
                        ("cont/after/%s.err" % key, [err_of(name, key, v32, v64)])]
    write_file_records(name, records)
    print("%-20s %6d + %6d bytes" % (name, os.path.getsize(os.path.join(OUT, name + ".keras")),
                                     os.path.getsize(os.path.join(OUT, name + ".h5"))))


# ---- files clseq refuses -------------------------------------------------------
# (their .keras deflated, which Keras reads as well as its own stored zips)
# name, model maker, file types, substrings the error message must hold

def functional():
    keras.backend.clear_session()
    i = keras.Input((4,))
    return keras.Model(i, L.Dense(2, name="out")(L.Dense(3, name="hidden")(i)))


def sequential(shape, *layers):
    keras.backend.clear_session()
    return keras.Sequential([keras.Input(shape)] + list(layers))


REFUSALS = [
    ("refuse_functional", functional, (".keras", ".h5"), ["Functional"]),
    ("refuse_activity_regularizer",
     lambda: sequential((4,), L.Dense(3, name="act_reg_dense",
                                      activity_regularizer=keras.regularizers.L2(0.01))),
     (".keras",), ["act_reg_dense", "activity_regularizer"]),
    ("refuse_constraint",
     lambda: sequential((4,), L.Dense(3, name="maxnorm_dense",
                                      kernel_constraint=keras.constraints.MaxNorm(2.0))),
     (".keras",), ["maxnorm_dense", "kernel_constraint"]),
    ("refuse_channels_first",
     lambda: sequential((2, 6, 6), L.Conv2D(3, 3, data_format="channels_first", name="cf_conv"),
                        L.Flatten(), L.Dense(2)),
     (".keras", ".h5"), ["cf_conv", "channels_first"]),
    ("refuse_float64",
     lambda: sequential((4,), L.Dense(3, dtype="float64", name="d64")),
     (".keras", ".h5"), ["d64", "float64"]),
    ("refuse_mish",
     lambda: sequential((4,), L.Dense(3, activation="mish", name="mish_dense")),
     (".keras",), ["mish_dense", "mish"]),
    ("refuse_layernorm",
     lambda: sequential((4,), L.Dense(3), L.LayerNormalization(name="ln")),
     (".keras",), ["ln", "LayerNormalization"]),
    ("refuse_groups",
     lambda: sequential((6, 6, 4), L.Conv2D(4, 3, groups=2, name="grouped_conv")),
     (".keras",), ["grouped_conv", "groups"]),
]


def make_refusal(entry):
    name, maker, exts, expect = entry
    model = maker()
    for ext in exts:
        model.save(os.path.join(OUT, name + ext))
    # the .keras deflated, to keep it small (the config is what matters)
    with zipfile.ZipFile(os.path.join(OUT, name + ".keras")) as z:
        members = [(n, z.read(n)) for n in z.namelist()]
    rezip(name, members, quiet=True)
    write_file_records(name, [("@expect", "|".join(expect))])
    print("%-20s %s" % (name, " + ".join(
        str(os.path.getsize(os.path.join(OUT, name + e))) for e in exts)))


# ---- archives with damaged or renamed members -----------------------------------
# Made from adam_dense_bn.keras; deflated (Keras writes its members stored)
# to keep them small, which also checks that clseq reads deflated members.

def rezip(name, members, quiet=False):
    path = os.path.join(OUT, name + ".keras")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for member, data in members:
            z.writestr(member, data)
    if not quiet:
        print("%-20s %d" % (name, os.path.getsize(path)))


def make_members():
    src = zipfile.ZipFile(os.path.join(OUT, "adam_dense_bn.keras"))
    other = zipfile.ZipFile(os.path.join(OUT, "rmsprop_dense.keras"))
    m = {n: src.read(n) for n in src.namelist()}
    meta, config, weights = m["metadata.json"], m["config.json"], m["model.weights.h5"]
    # loadable: deflated, members in another order, an extra member
    rezip("member_deflated", [("metadata.json", meta), ("config.json", config),
                              ("model.weights.h5", weights)])
    rezip("member_reordered", [("model.weights.h5", weights), ("assets/notes.txt", b"extra\n"),
                               ("config.json", config), ("metadata.json", meta)])
    x = np.zeros((2, 5), np.float32) + 0.5
    want = keras.saving.load_model(os.path.join(OUT, "adam_dense_bn.keras")).predict(x, verbose=0)
    for name in ("member_deflated", "member_reordered"):
        got = keras.saving.load_model(os.path.join(OUT, name + ".keras")).predict(x, verbose=0)
        assert np.array_equal(got, want), name + ": Keras does not read it as adam_dense_bn"
    # refused (test_keras_files.c lists the message each must hold)
    rezip("member_no_config", [("metadata.json", meta), ("config.json.bak", config),
                               ("model.weights.h5", weights)])
    rezip("member_no_weights", [("metadata.json", meta), ("config.json", config),
                                ("model.weights.h5.old", weights)])
    rezip("member_in_folder", [("model/metadata.json", meta), ("model/config.json", config),
                               ("model/model.weights.h5", weights)])
    rezip("member_bad_json", [("metadata.json", meta), ("config.json", config[:len(config) // 2]),
                              ("model.weights.h5", weights)])
    # another model's weights under this model's config
    rezip("member_other_weights", [("metadata.json", meta), ("config.json", config),
                                   ("model.weights.h5", other.read("model.weights.h5"))])
    # config.json that is JSON but no model
    rezip("member_not_a_model", [("metadata.json", meta),
                                 ("config.json", json.dumps({"hello": [1, 2]}).encode()),
                                 ("model.weights.h5", weights)])


def main():
    keras.utils.set_random_seed(0)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for entry in MODELS:
        make(entry)
    for entry in REFUSALS:
        make_refusal(entry)
    make_members()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("total %d bytes in %s" % (total, OUT))


if __name__ == "__main__":
    main()
