#!/usr/bin/env python3
"""Reference fixtures from real Keras 3 for tests/test_keras.c.

README. This script builds small Sequential models with Keras 3 (JAX
backend, CPU), gives them deterministic non-trivial weights (seeded NumPy:
nonzero biases, BatchNormalization moving statistics away from their
initial 0 and 1) and writes, per model, one text file under
tests/fixtures/keras/: the clseq layer spec that describes the model, its
input shape, every variable in Keras's order, an input batch and targets,
model.predict, model.evaluate, and for SGD(0.1) and Adam(0.01, epsilon
1e-3) the loss that one model.fit step over the whole batch reports and
every variable after that step (BatchNormalization's moving statistics
included). The CI never
runs this script; it only reads the committed fixtures. To regenerate them:

    python3 -m venv /work/venv-keras
    /work/venv-keras/bin/pip install -r tests/keras/requirements.txt
    KERAS_BACKEND=jax /work/venv-keras/bin/python tests/keras/make_fixtures.py

The Keras model is built FROM the clseq spec string (keras_layers below
translates it), so a fixture's spec and its Keras model cannot drift apart.

Each model also runs again in float64 with the same (float32-exact) weights
and data. For every recorded tensor T the file holds T.err: the largest
difference between Keras's float32 values and the float64 ones, i.e. the
rounding error one valid float32 evaluation order actually makes on this
computation. test_keras.c scales its tolerances from it (see there).

Dropout's masks are random draws clseq cannot repeat, so models with a
Dropout of rate > 0 record predict and evaluate only (@train says why);
the CNNs that train keep a Dropout(0) to cover the layer's plumbing.

File format (one record after another, read by test_keras.c):
  # ...                 a comment line
  @NAME TEXT            a text record: TEXT is the rest of the line
  NAME COUNT            a numeric record: COUNT values follow, whitespace
  v1 v2 ...             separated over one or more lines, each a float32
                        printed with %.9g (exact round trip)
Text records: @spec (clseq_add_layers's spec), @loss (Keras's loss name),
@train ("yes", or why the model has no training records).
The optimizer fixtures (OPTIMIZER_MODELS) train one model from the same
start with each of several optimizers, over a short trajectory of several
model.fit steps instead of one; they add:
  @optimizers KEY:KIND ...  the trajectories' keys (OPT below) and each one's
                        optimizer kind (clseq's name); absent: sgd:sgd adam:adam
  fit                   batch_size epochs (absent: all rows, 1 epoch)
  OPT/options           weight_decay clipnorm clipvalue global_clipnorm,
                        0 for Keras's None (absent: all 0)
and OPT/loss is then the last epoch's loss.
Numeric records:
  input_shape            the per-sample shape (rank values)
  rows, layers           batch rows; Keras layer count (= clseq's)
  x, y                   inputs (rows x input size), targets (rows x output
                         size, or rows class indices for sparse targets)
  predict, evaluate      model.predict(x); model.evaluate(x, y) loss
  shape/L/I/NAME         layer L's variable I (Keras's order) named NAME:
  init/L/I/NAME          its shape, and its values (row-major) before any step
  OPT/config             OPT = sgd: lr momentum nesterov;
                         OPT = adam: lr beta_1 beta_2 epsilon; other kinds:
                         clseq's constructor arguments (KINDS below)
  OPT/loss               the loss model.fit reports for its one step
  OPT/after/L/I/NAME     each variable after that step
  R.err                  for every numeric record R above that Keras
                         computes: max |float32 - float64|
"""
import os
import sys
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

# float64 for the error estimates; float32 models stay float32.
jax.config.update("jax_enable_x64", True)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fixture_common import float32_error, write_records  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "keras")

SGD = ("sgd", [0.1, 0.0, 0.0])
# Adam's first step is lr * m / (sqrt(v) + epsilon) with m and v bias
# corrected: about lr * g / (|g| + epsilon). Its sensitivity to g is
# lr * epsilon / (|g| + epsilon)^2, at most lr / epsilon: 1e5 with Keras's
# default 1e-7, which turns the float32 noise of a gradient that is zero in
# exact arithmetic (a bias right before a BatchNormalization, whose batch
# mean removes it) into a step of +-lr that no two implementations share.
# With epsilon 1e-3 that factor is 10, and epsilon's place in the rule
# (outside the square root, not bias corrected) shows in every step.
ADAM = ("adam", [0.01, 0.9, 0.999, 1e-3])

# Keras's optimizer class for each of clseq's kinds, and the names of the
# config values in the order of clseq's constructor (clseq_adamw(lr,
# weight_decay, beta1, beta2, epsilon), ...).
KINDS = {
    "sgd": ("SGD", ["learning_rate", "momentum", "nesterov"]),
    "adam": ("Adam", ["learning_rate", "beta_1", "beta_2", "epsilon"]),
    "adamw": ("AdamW", ["learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon"]),
    "adagrad": ("Adagrad", ["learning_rate", "initial_accumulator_value", "epsilon"]),
    "adadelta": ("Adadelta", ["learning_rate", "rho", "epsilon"]),
    "adamax": ("Adamax", ["learning_rate", "beta_1", "beta_2", "epsilon"]),
    "nadam": ("Nadam", ["learning_rate", "beta_1", "beta_2", "epsilon"]),
    "lion": ("Lion", ["learning_rate", "beta_1", "beta_2"]),
}
# the base optimizer's arguments recorded in OPT/options, in this order
OPTIONS = ["weight_decay", "clipnorm", "clipvalue", "global_clipnorm"]


def opt_parts(opt):
    """(key, kind, config, options) of SGD, ADAM or an optimizer-fixture
    entry (key, kind, config, options)."""
    return opt if len(opt) == 4 else (opt[0], opt[0], opt[1], {})


# name, input shape, clseq spec, loss, rows, train: True (a step with each
# of SGD and Adam) or why the model records no step.

# Activation models: each activation inside a Dense (a hidden layer, whose
# backward goes through the activation's derivative) and as an Activation
# layer at the output (where the loss meets it).
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu",
               "gelu", "softplus", "softsign", "silu", "hard_sigmoid", "exponential", "relu6",
               "log_softmax"]


def activation_model(act):
    loss = {"softmax": "categorical_crossentropy", "sigmoid": "binary_crossentropy",
            "tanh": "mean_absolute_error"}.get(act, "mean_squared_error")
    return ("act_" + act, (4,), "dense:6:%s,dense:3,activation:%s" % (act, act), loss, 6, True)


MODELS = [activation_model(a) for a in ACTIVATIONS] + [
    # Dense on a rank-2 sample acts on the last axis: (3, 5) -> (3, 4) -> (3, 2).
    # MSE, like BCE and MAE, is a mean over every output either way; Keras's
    # (sparse) categorical cross-entropy on a rank-2 output averages over the
    # positions too, where clseq's loss sums over a sample's outputs (3x
    # Keras's loss and gradient here), so no such fixture until that agrees.
    ("dense_rank2", (3, 5), "dense:4:tanh,dense:2", "mean_squared_error", 5, True),
    # Reshape with -1 between Dense layers, then a Conv2D on the reshaped
    # sample: (3, 5) -> (3, 4) -> (2, 6) -> (2, 4) -> (2, 2, 2) -> conv -> (1, 1, 2)
    ("reshape", (3, 5),
     "dense:4:tanh,reshape:2x-1,dense:4:softplus,reshape:2x-1x2,conv2d:2:2x2:valid:sigmoid,"
     "flatten,dense:2", "mean_squared_error", 5, True),
    # The CNN: Conv2D(same, relu) -> MaxPooling2D -> Conv2D(valid, strides 2)
    # -> BatchNormalization -> Flatten -> Dropout(0) -> Dense softmax, the
    # Conv2D before the BatchNormalization without a bias as usual (its
    # gradient would be zero).
    ("cnn_strides", (8, 8, 2),
     "conv2d:4:3x3:relu:same,maxpool2d:2x2:s1:valid,conv2d:3:3x3:valid:s2:nobias,batchnorm,flatten,"
     "dropout:0,dense:3:softmax", "categorical_crossentropy", 6, True),
    # ... with dilation 2 instead of strides, sparse targets, a BN of its own
    # momentum and epsilon and a 3x3 'same' pool with strides 2 (padding 0
    # before, 1 after)
    ("cnn_dilation", (8, 8, 1),
     "conv2d:3:3x3:relu:same,maxpool2d:3x3:s2:same,conv2d:4:2x2:valid:d2:nobias,"
     "batchnorm:0.9:0.01,flatten,dropout:0,dense:3:softmax",
     "sparse_categorical_crossentropy", 6, True),
    # AveragePooling2D 'same' on an odd image (edge windows average fewer
    # cells), after a Conv2D with an even kernel and 'same' (padding 0
    # before, 1 after)
    ("avgpool_same", (7, 7, 1),
     "conv2d:2:2x2:same:tanh,avgpool2d:3x3:s2:same,flatten,dense:3",
     "mean_squared_error", 5, True),
    # pools with strides not dividing the image, 'same' max pooling
    ("pool_same_strides", (7, 5, 2),
     "conv2d:3:3x2:same:elu:s2,maxpool2d:2x2:s1:same,avgpool2d:2x3:valid,flatten,"
     "dense:2:sigmoid", "binary_crossentropy", 4, True),
    # Conv2D 'same' with strides 2 on an even image pads 0 before, 1 after
    ("globalavgpool", (8, 8, 2),
     "conv2d:3:3x3:same:s2:selu,globalavgpool2d,dense:2:sigmoid",
     "binary_crossentropy", 5, True),
    ("globalmaxpool_nobias", (6, 6, 3),
     "conv2d:4:3x3:valid:nobias:gelu,globalmaxpool2d,dense:3:softmax",
     "categorical_crossentropy", 5, True),
    # fields left to the defaults: Conv2D 'valid', strides 1; pools 2x2,
    # strides = pool size, 'valid' (clseq's spec documents Keras's defaults)
    ("spec_defaults", (6, 6, 1), "conv2d:2:3x3:relu,maxpool2d,avgpool2d,flatten,dense:2",
     "mean_squared_error", 4, True),
    # BatchNormalization after Dense: training updates the moving statistics,
    # predict and evaluate use them
    ("dense_batchnorm", (5,),
     "dense:6:tanh,batchnorm,dense:4:relu,batchnorm:0.8:0.1,dense:3:softmax",
     "categorical_crossentropy", 8, True),
    # ... and right after a linear Dense, whose bias then has no gradient in
    # exact arithmetic (see ADAM)
    ("dense_linear_batchnorm", (5,),
     "dense:6,batchnorm,activation:relu,dense:3:softmax",
     "categorical_crossentropy", 8, True),
    # Dropout with a real rate: predict and evaluate pass values through
    ("dropout_predict", (5,),
     "dense:8:relu,dropout:0.5,dense:3:softmax", "categorical_crossentropy", 6,
     "no: Dropout(0.5)'s masks are random draws clseq cannot repeat"),
]

# Optimizer fixtures: a two-layer Dense model (four variables, so clipnorm's
# per-variable norms differ from global_clipnorm's) trained for 3 epochs of
# 2 batches (6 steps, shuffle off) with each optimizer from the same start:
# every kind at Keras's defaults, and again with settings that make each
# term show within 6 steps (Keras's default learning rate 0.001 moves the
# weights by ~1e-3 in 6 steps; Adadelta's steps at lr 0.001 are ~1e-6).
# Epsilon 1e-3 where the rule divides by sqrt(v) + epsilon: see ADAM.
# The gradients are O(0.1), so the clips below clip.
# entry: (name, shape, spec, loss, rows, True, fit, optimizers), optimizers
# (key, kind, config, options).
OPT_FIT = {"batch": 4, "epochs": 3}
OPTIMIZER_MODELS = [
    ("optimizers", (4,), "dense:6:tanh,dense:3", "mean_squared_error", 8, True, OPT_FIT, [
        ("adamw_defaults", "adamw", [0.001, 0.004, 0.9, 0.999, 1e-7], {}),
        ("adamw", "adamw", [0.02, 0.5, 0.8, 0.99, 1e-3], {}),
        ("adagrad_defaults", "adagrad", [0.001, 0.1, 1e-7], {}),
        ("adagrad", "adagrad", [0.05, 0.5, 1e-3], {}),
        ("adadelta_defaults", "adadelta", [0.001, 0.95, 1e-7], {}),
        ("adadelta", "adadelta", [1.0, 0.8, 1e-3], {}),
        ("adamax_defaults", "adamax", [0.001, 0.9, 0.999, 1e-7], {}),
        ("adamax", "adamax", [0.02, 0.8, 0.99, 1e-3], {}),
        ("nadam_defaults", "nadam", [0.001, 0.9, 0.999, 1e-7], {}),
        ("nadam", "nadam", [0.02, 0.8, 0.99, 1e-3], {}),
        ("lion_defaults", "lion", [0.001, 0.9, 0.99], {}),
        ("lion", "lion", [0.02, 0.8, 0.95], {}),
    ]),
    ("clipping", (5,), "dense:4:sigmoid,dense:2", "mean_squared_error", 8, True, OPT_FIT, [
        ("sgd_clipnorm", "sgd", [0.5, 0.9, 0], {"clipnorm": 0.05}),
        ("sgd_clipvalue", "sgd", [0.5, 0.0, 0], {"clipvalue": 0.02}),
        ("sgd_global_clipnorm", "sgd", [0.5, 0.0, 0], {"global_clipnorm": 0.05}),
        ("adam_weight_decay_clipnorm", "adam", [0.02, 0.9, 0.999, 1e-3],
         {"weight_decay": 0.2, "clipnorm": 0.05}),
        ("nadam_clipvalue", "nadam", [0.02, 0.9, 0.999, 1e-3], {"clipvalue": 0.02}),
        ("adagrad_global_clipnorm", "adagrad", [0.05, 0.1, 1e-3], {"global_clipnorm": 0.05}),
    ]),
]


def dims(text):
    """'3x2' -> (3, 2); '3' -> (3, 3) (Keras's int for both axes)."""
    parts = [int(p) for p in text.split("x")]
    return tuple(parts) if len(parts) == 2 else (parts[0], parts[0])


def keras_layers(spec, dtype):
    """The Keras layers a clseq spec describes (the subset this script
    uses). Fields a token leaves out take Keras's defaults, which clseq's
    spec documents as its own."""
    layers = []
    for token in spec.split(","):
        kind, *f = token.split(":")
        kw = {"dtype": dtype}
        if kind == "dense":
            layers.append(keras.layers.Dense(int(f[0]), activation=f[1] if len(f) > 1 else None,
                                             **kw))
        elif kind == "activation":
            layers.append(keras.layers.Activation(f[0], **kw))
        elif kind == "conv2d":
            args = dict(filters=int(f[0]), kernel_size=dims(f[1]), padding="valid",
                        strides=(1, 1), dilation_rate=(1, 1), use_bias=True, activation=None)
            for o in f[2:]:
                if o in ("same", "valid"):
                    args["padding"] = o
                elif o == "nobias":
                    args["use_bias"] = False
                elif o[0] == "s" and o[1:2].isdigit():
                    args["strides"] = dims(o[1:])
                elif o[0] == "d" and o[1:2].isdigit():
                    args["dilation_rate"] = dims(o[1:])
                else:
                    args["activation"] = o
            layers.append(keras.layers.Conv2D(**args, **kw))
        elif kind in ("maxpool2d", "avgpool2d"):
            args = dict(pool_size=(2, 2), strides=None, padding="valid")  # Keras's defaults
            if f and f[0][:1].isdigit():
                args["pool_size"] = dims(f.pop(0))
            for o in f:
                if o in ("same", "valid"):
                    args["padding"] = o
                else:
                    assert o[0] == "s", token
                    args["strides"] = dims(o[1:])
            pool = {"maxpool2d": keras.layers.MaxPooling2D,
                    "avgpool2d": keras.layers.AveragePooling2D}[kind]
            layers.append(pool(**args, **kw))
        elif kind == "globalavgpool2d":
            layers.append(keras.layers.GlobalAveragePooling2D(**kw))
        elif kind == "globalmaxpool2d":
            layers.append(keras.layers.GlobalMaxPooling2D(**kw))
        elif kind == "flatten":
            layers.append(keras.layers.Flatten(**kw))
        elif kind == "reshape":
            layers.append(keras.layers.Reshape(tuple(int(d) for d in f[0].split("x")), **kw))
        elif kind == "dropout":
            layers.append(keras.layers.Dropout(float(f[0]), **kw))
        elif kind == "batchnorm":
            momentum = float(f[0]) if f else 0.99
            epsilon = float(f[1]) if len(f) > 1 else 1e-3
            layers.append(keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, **kw))
        else:
            raise ValueError("unknown spec token " + token)
    return layers


def build(shape, spec, dtype):
    return keras.Sequential([keras.Input(shape, dtype=dtype)] + keras_layers(spec, dtype))


def initial_weights(model, rng):
    """Per layer, its variables' values in Keras's order, as float32."""
    out = []
    for layer in model.layers:
        values = []
        for w in layer.weights:
            name, shape = w.path.split("/")[-1], tuple(w.shape)
            if name == "kernel":
                fan_in = int(np.prod(shape[:-1]))
                limit = np.sqrt(6.0 / (fan_in + shape[-1]))  # Glorot's range
                v = rng.uniform(-limit, limit, shape)
            elif name == "bias":
                v = rng.uniform(-0.3, 0.3, shape)
            elif name == "gamma":
                v = rng.uniform(0.6, 1.4, shape)
            elif name == "beta":
                v = rng.uniform(-0.3, 0.3, shape)
            elif name == "moving_mean":
                v = rng.uniform(-0.3, 0.3, shape)
            elif name == "moving_variance":
                v = rng.uniform(0.6, 1.6, shape)
            else:
                raise ValueError("unexpected variable " + w.path)
            values.append(v.astype(np.float32))
        out.append(values)
    return out


def targets(loss, out_shape, rows, rng):
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, out_shape[-1], rows).astype(np.float32)
    if loss == "categorical_crossentropy":
        labels = rng.integers(0, out_shape[-1], (rows,) + tuple(out_shape[:-1]))
        return np.eye(out_shape[-1], dtype=np.float32)[labels]
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (rows,) + tuple(out_shape)).astype(np.float32)
    return rng.normal(0.0, 1.0, (rows,) + tuple(out_shape)).astype(np.float32)


def keras_y(loss, y, dtype):
    return y.astype(np.int32) if loss == "sparse_categorical_crossentropy" else y.astype(dtype)


def make_optimizer(opt):
    _, kind, c, options = opt_parts(opt)
    cls, names = KINDS[kind]
    args = dict(zip(names, c))
    if kind == "sgd":
        args["nesterov"] = bool(args["nesterov"])
    args.update(options)
    return getattr(keras.optimizers, cls)(**args)


def run(shape, spec, loss, weights, x, y, dtype, opts=(SGD, ADAM), fit=None):
    """Keras's numbers for one precision: predict, evaluate, and per
    optimizer the loss of the fit's last epoch and the variables after it
    (by default one step over all rows)."""
    res = {}
    model = build(shape, spec, dtype)
    for layer, values in zip(model.layers, weights):
        layer.set_weights([v.astype(dtype) for v in values])
    xs, ys = x.astype(dtype), keras_y(loss, y, dtype)
    n = len(x)
    res["predict"] = np.asarray(model.predict(xs, batch_size=n, verbose=0))
    model.compile(optimizer=make_optimizer(SGD), loss=loss)
    res["evaluate"] = np.asarray([model.evaluate(xs, ys, batch_size=n, verbose=0)])
    fit = fit or {"batch": n, "epochs": 1}
    for opt in opts:
        model = build(shape, spec, dtype)
        for layer, values in zip(model.layers, weights):
            layer.set_weights([v.astype(dtype) for v in values])
        model.compile(optimizer=make_optimizer(opt), loss=loss)
        hist = model.fit(xs, ys, batch_size=fit["batch"], epochs=fit["epochs"], shuffle=False,
                         verbose=0)
        res[opt[0] + "/loss"] = np.asarray([hist.history["loss"][-1]])
        for li, layer in enumerate(model.layers):
            for vi, w in enumerate(layer.weights):
                res["%s/after/%d/%d/%s" % (opt[0], li, vi, w.path.split("/")[-1])] = \
                    np.asarray(w.numpy())
    return res, model


def make(entry):
    name, shape, spec, loss, rows, train = entry[:6]
    fit, opts = (entry[6], entry[7]) if len(entry) > 6 else (None, (SGD, ADAM))
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    probe = build(shape, spec, "float32")
    weights = initial_weights(probe, rng)
    x = rng.uniform(-1.0, 1.0, (rows,) + shape).astype(np.float32)
    y = targets(loss, probe.output_shape[1:], rows, rng)
    r32, model = run(shape, spec, loss, weights, x, y, "float32", opts, fit)
    r64, _ = run(shape, spec, loss, weights, x, y, "float64", opts, fit)

    records = []  # (name, values) or ("@name", text)
    records.append(("@spec", spec))
    records.append(("@loss", loss))
    records.append(("@train", "yes" if train is True else train))
    if fit:
        records.append(("@optimizers", " ".join("%s:%s" % opt_parts(o)[:2] for o in opts)))
        records.append(("fit", [fit["batch"], fit["epochs"]]))
    records.append(("input_shape", shape))
    records.append(("rows", [rows]))
    records.append(("layers", [len(model.layers)]))
    records.append(("x", x))
    records.append(("y", y))
    for li, layer in enumerate(model.layers):
        for vi, w in enumerate(layer.weights):
            key = "%d/%d/%s" % (li, vi, w.path.split("/")[-1])
            records.append(("shape/" + key, w.shape))
            records.append(("init/" + key, weights[li][vi]))
    computed = ["predict", "evaluate"]
    for opt in opts if train is True else ():
        key, _, config, options = opt_parts(opt)
        records.append((key + "/config", config))
        if options:
            records.append((key + "/options", [options.get(o, 0) for o in OPTIONS]))
        computed += [k for k in r32 if k.startswith(key + "/")]
    worst = 0.0
    for key in computed:
        err, scale = float32_error(name, key, r32[key], r64[key])
        err = float(np.max(err))
        worst = max(worst, err / max(scale, 1e-30))
        records.append((key, r32[key]))
        records.append((key + ".err", [err]))
    write_fixture(name, records)
    print("%-22s %-28s worst float32 error / scale %.2e" % (name, loss, worst))


def main():
    keras.utils.set_random_seed(0)
    os.makedirs(OUT, exist_ok=True)
    only = sys.argv[1:]
    for entry in MODELS + OPTIMIZER_MODELS:
        if not only or entry[0] in only:
            make(entry)


# ---- training features: schedules, sample and class weights, metrics, ----
# ---- callbacks (tests/test_keras_training.c) ------------------------------
#
# Four more fixtures, tests/fixtures/keras/train_*.txt, in the same record
# format, written by main_training(). Each trains or evaluates small Dense
# models from the seeded weights above (shuffle off), once in float32 and
# once in float64 from the same float32-exact values; every computed record
# R has R.err as above, except that the schedules' values carry one err per
# value (their count equals the values'), as those are compared one by one.
# Their records (beside input_shape, x, y, shape/, init/ as above):
#   train_schedules   @schedules KEY:KIND ..., KEY/config (clseq's
#                     constructor arguments: exponential initial
#                     decay_steps rate staircase; piecewise count
#                     boundaries... values...; cosine initial decay_steps
#                     alpha warmup_target warmup_steps, warmup_steps 0 for
#                     none), KEY/values (the schedule at steps 0..60),
#                     fit (batch epochs), sgd/config (lr momentum nesterov;
#                     lr is the schedule's), and per schedule KEY/loss (the
#                     history, one value per epoch) and KEY/after/L/I/VAR
#   train_weights     sample_weight (one per row), class_weight (per class;
#                     the classes past its count weigh 1), fit, sgd/config,
#                     evaluate_weighted (loss mse mae of model.evaluate with
#                     sample_weight from the initial weights, the metrics
#                     passed as metrics=, which Keras 3 does not weight),
#                     and for KEY sw (sample_weight) and cw (class_weight):
#                     KEY/loss, KEY/mse, KEY/mae (the history; metrics=,
#                     unweighted), KEY/after/L/I/VAR
#   train_metrics     three models of the same two-layer shape: binary (3
#                     sigmoid outputs, binary cross-entropy), categorical
#                     (4-way softmax) and sparse (its sparse targets); their
#                     MODEL/x, MODEL/y, MODEL/init/L/I/VAR and MODEL/evaluate:
#                     loss then the metrics in clseq's bit order
#                     (binary/t0.7: binary_accuracy precision recall auc at
#                     threshold 0.7, binary/t0.5 the same at 0.5, then
#                     .../weighted with binary/sample_weight;
#                     categorical/k2: top_k_categorical_accuracy k=2,
#                     .../k1 at k=1; sparse/k2: sparse_top_k at k=2)
#   train_callbacks   x_val, y_val (validation data), fit (epochs 0: each
#                     callback's config has its own), sgd/config,
#                     es/config (patience min_delta restore_best_weights
#                     epochs), @es/monitor, es/epochs_run,
#                     es/loss and es/val_loss (the history), es/after/...
#                     (the restored weights); rop/config (factor patience
#                     min_delta cooldown min_lr epochs), @rop/monitor,
#                     rop/learning_rate (per epoch, the rate that epoch
#                     trained with, as Keras's history logs it), rop/loss,
#                     rop/after/...


def write_fixture(name, records):
    header = ("# clseq Keras fixture '%s': tests/keras/make_fixtures.py, keras %s, jax %s, "
              "numpy %s (format: see the script)" % (name, keras.__version__, jax.__version__,
                                                    np.__version__))
    write_records(os.path.join(OUT, name + ".txt"), header, records)


def add_computed(records, name, key, v32, v64, per_value=False):
    """key and key.err (see make: the float32 run against the float64 one)."""
    assert np.size(v32) == np.size(v64), key
    err, _ = float32_error(name, key, v32, v64)
    records.append((key, np.asarray(v32, np.float64).ravel()))
    records.append((key + ".err", err if per_value else [float(np.max(err, initial=0.0))]))


def variable_records(model, weights, prefix=""):
    out = []
    for li, layer in enumerate(model.layers):
        for vi, w in enumerate(layer.weights):
            key = "%d/%d/%s" % (li, vi, w.path.split("/")[-1])
            out.append((prefix + "shape/" + key, w.shape))
            out.append((prefix + "init/" + key, weights[li][vi]))
    return out


def model_variables(model):
    return {"%d/%d/%s" % (li, vi, w.path.split("/")[-1]): np.asarray(w.numpy())
            for li, layer in enumerate(model.layers) for vi, w in enumerate(layer.weights)}


def fresh(shape, spec, weights, dtype):
    model = build(shape, spec, dtype)
    for layer, values in zip(model.layers, weights):
        layer.set_weights([v.astype(dtype) for v in values])
    return model


def decision_margin(series, min_delta):
    """The smallest |best - (current + min_delta)| over the epochs after the
    first, replaying Keras's improvement test (mode min) on a history: how
    far each EarlyStopping or ReduceLROnPlateau decision is from flipping."""
    best, margin = None, np.inf
    for v in series:
        if best is not None:
            d = best - (v + min_delta)
            margin = min(margin, abs(d))
            if d > 0:
                best = v
        else:
            best = v
    return margin


# key, Keras class, Keras's arguments. Steps 0..60 pass every boundary and
# both cosine decays' ends (40 steps), so alpha's floor shows.
SCHEDULES = [
    ("exponential", "ExponentialDecay",
     dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.8, staircase=False)),
    ("exponential_staircase", "ExponentialDecay",
     dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.8, staircase=True)),
    ("piecewise", "PiecewiseConstantDecay",
     dict(boundaries=[5, 12, 30], values=[0.3, 0.1, 0.05, 0.01])),
    ("cosine", "CosineDecay", dict(initial_learning_rate=0.2, decay_steps=40, alpha=0.1)),
    ("cosine_warmup", "CosineDecay",
     dict(initial_learning_rate=0.02, decay_steps=30, alpha=0.05, warmup_target=0.3,
          warmup_steps=10)),
]
SCHEDULE_STEPS = 61


def schedule_config(kind, a):
    if kind == "ExponentialDecay":
        return "exponential", [a["initial_learning_rate"], a["decay_steps"], a["decay_rate"],
                               int(a["staircase"])]
    if kind == "PiecewiseConstantDecay":
        return "piecewise", [len(a["boundaries"])] + a["boundaries"] + a["values"]
    return "cosine", [a["initial_learning_rate"], a["decay_steps"], a.get("alpha", 0.0),
                      a.get("warmup_target") or 0.0, a.get("warmup_steps", 0)]


def x64(dtype):
    """A context for a run in dtype: the schedules compute in the dtype of
    their Python-float arguments, which is float64 while jax_enable_x64 is
    on, so the float32 runs of a schedule turn it off (as a float32 Keras
    user's JAX has it)."""
    return jax.enable_x64(dtype == "float64")


def schedule_values(kind, args, dtype):
    with x64(dtype):
        s = getattr(keras.optimizers.schedules, kind)(**args)
        return np.array([float(np.asarray(s(np.int64(t)))) for t in range(SCHEDULE_STEPS)])


# The model the schedules train: 12 rows in batches of 3, 6 epochs, 24 SGD
# steps (the schedule's steps 0..23: past the staircase's step 7, the
# boundaries 5 and 12, the warm-up's 10 steps).
SCHED_MODEL = ((4,), "dense:5:tanh,dense:2", "mean_squared_error", 12, {"batch": 3, "epochs": 6})


def make_schedules():
    name = "train_schedules"
    shape, spec, loss, rows, fit = SCHED_MODEL
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    weights = initial_weights(build(shape, spec, "float32"), rng)
    x = rng.uniform(-1.0, 1.0, (rows,) + shape).astype(np.float32)
    y = targets(loss, (2,), rows, rng)
    records = [("@spec", spec), ("@loss", loss),
               ("@schedules", " ".join("%s:%s" % (k, schedule_config(c, a)[0])
                                       for k, c, a in SCHEDULES)),
               ("input_shape", shape), ("rows", [rows]), ("x", x), ("y", y),
               ("fit", [fit["batch"], fit["epochs"]]), ("sgd/config", [0.0, 0.0, 0.0])]
    records += variable_records(build(shape, spec, "float32"), weights)
    for key, kind, args in SCHEDULES:
        records.append((key + "/config", schedule_config(kind, args)[1]))
        add_computed(records, name, key + "/values", schedule_values(kind, args, "float32"),
                     schedule_values(kind, args, "float64"), per_value=True)
        res = {}
        for dtype in ("float32", "float64"):
            with x64(dtype):
                model = fresh(shape, spec, weights, dtype)
                sched = getattr(keras.optimizers.schedules, kind)(**args)
                model.compile(optimizer=keras.optimizers.SGD(learning_rate=sched), loss=loss)
                h = model.fit(x.astype(dtype), y.astype(dtype), batch_size=fit["batch"],
                              epochs=fit["epochs"], shuffle=False, verbose=0)
            res[dtype] = dict(model_variables(model), loss=np.asarray(h.history["loss"]))
        add_computed(records, name, key + "/loss", res["float32"]["loss"], res["float64"]["loss"])
        for var in model_variables(fresh(shape, spec, weights, "float32")):
            add_computed(records, name, "%s/after/%s" % (key, var), res["float32"][var],
                         res["float64"][var])
    write_fixture(name, records)
    print("%-22s %d schedules" % (name, len(SCHEDULES)))


# sample_weight and class_weight: a softmax classifier, 12 rows in batches
# of 4 for 3 epochs with SGD(0.3); one weight 0 (a row that must not count)
# and a class_weight of 2 entries for 3 classes (class 2 weighs 1).
WEIGHTS_MODEL = ((5,), "dense:6:tanh,dense:3:softmax", "categorical_crossentropy", 12,
                 {"batch": 4, "epochs": 3})
WEIGHTS_LR = 0.3
CLASS_WEIGHT = [0.4, 2.5]


def make_weights():
    name = "train_weights"
    shape, spec, loss, rows, fit = WEIGHTS_MODEL
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    weights = initial_weights(build(shape, spec, "float32"), rng)
    x = rng.uniform(-1.0, 1.0, (rows,) + shape).astype(np.float32)
    y = targets(loss, (3,), rows, rng)
    sw = rng.uniform(0.0, 2.0, rows).astype(np.float32)
    sw[3] = 0.0
    records = [("@spec", spec), ("@loss", loss), ("input_shape", shape), ("rows", [rows]),
               ("x", x), ("y", y), ("sample_weight", sw), ("class_weight", CLASS_WEIGHT),
               ("fit", [fit["batch"], fit["epochs"]]), ("sgd/config", [WEIGHTS_LR, 0.0, 0.0])]
    records += variable_records(build(shape, spec, "float32"), weights)
    ev = {}
    for dtype in ("float32", "float64"):
        model = fresh(shape, spec, weights, dtype)
        model.compile(optimizer=keras.optimizers.SGD(WEIGHTS_LR), loss=loss,
                      metrics=["mse", "mae"])
        ev[dtype] = np.asarray(model.evaluate(x.astype(dtype), y.astype(dtype),
                                              sample_weight=sw.astype(dtype), batch_size=rows,
                                              verbose=0))
    add_computed(records, name, "evaluate_weighted", ev["float32"], ev["float64"])
    for key in ("sw", "cw"):
        res = {}
        for dtype in ("float32", "float64"):
            kw = ({"sample_weight": sw.astype(dtype)} if key == "sw" else
                  {"class_weight": dict(enumerate(CLASS_WEIGHT))})
            model = fresh(shape, spec, weights, dtype)
            model.compile(optimizer=keras.optimizers.SGD(WEIGHTS_LR), loss=loss,
                          metrics=["mse", "mae"])
            h = model.fit(x.astype(dtype), y.astype(dtype), batch_size=fit["batch"],
                          epochs=fit["epochs"], shuffle=False, verbose=0, **kw).history
            res[dtype] = dict(model_variables(model), loss=h["loss"], mse=h["mse"],
                              mae=h["mae"])
        for k in ("loss", "mse", "mae"):
            add_computed(records, name, "%s/%s" % (key, k), res["float32"][k], res["float64"][k])
        for var in model_variables(fresh(shape, spec, weights, "float32")):
            add_computed(records, name, "%s/after/%s" % (key, var), res["float32"][var],
                         res["float64"][var])
    write_fixture(name, records)
    print("%-22s sample_weight and class_weight" % name)


# Metrics from model.evaluate over all rows at once. Their values are
# ratios of counts, so a prediction within float32 noise of a threshold
# (0.5, 0.7, AUC's 200 thresholds) or a near tie between the 2nd and 3rd
# class could count differently in clseq: the data is checked to keep every
# such margin above METRIC_MARGIN (float32 noise here is ~1e-7).
METRIC_MARGIN = 1e-4
METRIC_SPEC = "dense:5:tanh,dense:%d:%s"
METRIC_ROWS = 24


def metric_model(rng, units, act, scale):
    spec = METRIC_SPEC % (units, act)
    weights = initial_weights(build((5,), spec, "float32"), rng)
    weights[1][0] = (weights[1][0] * scale).astype(np.float32)  # spread the outputs
    x = rng.uniform(-1.0, 1.0, (METRIC_ROWS, 5)).astype(np.float32)
    return spec, weights, x


def keras_evaluate(spec, weights, x, y, loss, metrics, sample_weight=None):
    out = {}
    for dtype in ("float32", "float64"):
        model = fresh((5,), spec, weights, dtype)
        # metrics=: Keras 3 does not weight them by sample_weight (only
        # weighted_metrics), and neither does clseq
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=metrics())
        yy = y.astype(np.int32) if loss.startswith("sparse") else y.astype(dtype)
        sw = None if sample_weight is None else sample_weight.astype(dtype)
        out[dtype] = np.asarray(model.evaluate(x.astype(dtype), yy, sample_weight=sw,
                                               batch_size=len(x), verbose=0))
        out[dtype + "/predict"] = np.asarray(model.predict(x.astype(dtype), verbose=0))
    return out


def make_metrics():
    name = "train_metrics"
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    records = [("input_shape", (5,)), ("rows", [METRIC_ROWS])]
    m = keras.metrics
    # binary: 3 sigmoid outputs, multi-label targets
    spec, weights, x = metric_model(rng, 3, "sigmoid", 4.0)
    y = rng.integers(0, 2, (METRIC_ROWS, 3)).astype(np.float32)
    sw = rng.uniform(0.0, 2.0, METRIC_ROWS).astype(np.float32)
    records += [("@binary/spec", spec), ("@binary/loss", "binary_crossentropy"), ("binary/x", x),
                ("binary/y", y), ("binary/sample_weight", sw)]
    records += variable_records(build((5,), spec, "float32"), weights, "binary/")
    thresholds = np.array([0.5, 0.7] + [i / 199 for i in range(1, 199)])
    seen = {}
    for t in (0.7, 0.5):
        def metrics(t=t):
            return [m.BinaryAccuracy(threshold=t), m.Precision(thresholds=t),
                    m.Recall(thresholds=t), m.AUC()]
        for weighted in (False, True):
            key = "binary/t%g%s/evaluate" % (t, "/weighted" if weighted else "")
            r = keras_evaluate(spec, weights, x, y, "binary_crossentropy", metrics,
                               sw if weighted else None)
            p = r["float32/predict"]
            margin = float(np.min(np.abs(p.ravel()[:, None] - thresholds[None, :])))
            assert margin > METRIC_MARGIN, (key, margin)
            add_computed(records, name, key, r["float32"], r["float64"])
            seen[key] = r["float32"]
    above = np.mean(r["float32/predict"] > 0.7)
    assert 0.1 < above < 0.9, above
    # the threshold must matter: 0.5 and 0.7 give other values
    assert np.all(np.abs(seen["binary/t0.5/evaluate"][1:4] - seen["binary/t0.7/evaluate"][1:4])
                  > 0.01), seen
    # categorical and sparse: a 4-way softmax, top-2
    spec, weights, x = metric_model(rng, 4, "softmax", 3.0)
    labels = rng.integers(0, 4, METRIC_ROWS)
    onehot = np.eye(4, dtype=np.float32)[labels]
    for model_key, loss, y, cls in (
            ("categorical", "categorical_crossentropy", onehot, m.TopKCategoricalAccuracy),
            ("sparse", "sparse_categorical_crossentropy", labels.astype(np.float32),
             m.SparseTopKCategoricalAccuracy)):
        records += [("@%s/spec" % model_key, spec), ("@%s/loss" % model_key, loss),
                    ("%s/x" % model_key, x), ("%s/y" % model_key, y)]
        records += variable_records(build((5,), spec, "float32"), weights, model_key + "/")
        vals = {}
        for k in (2, 1):
            r = keras_evaluate(spec, weights, x, y, loss, lambda k=k: [cls(k=k)])
            p = np.sort(r["float32/predict"], axis=1)[:, ::-1]
            assert np.min(p[:, k - 1] - p[:, k]) > METRIC_MARGIN
            if model_key == "categorical" or k == 2:
                add_computed(records, name, "%s/k%d/evaluate" % (model_key, k), r["float32"],
                             r["float64"])
            vals[k] = r["float32"][1]
        assert vals[2] - vals[1] > 0.04, vals  # k matters (one row in 24 is 0.042)
    write_fixture(name, records)
    print("%-22s precision recall auc top-k binary_accuracy" % name)


# Callbacks: a regression model, with validation data (the history's
# val_loss; the callbacks do not watch it), SGD, shuffle off.
# Both watch the training loss, which falls by less each epoch, so
# min_delta decides: EarlyStopping (patience 2, restore_best_weights) stops
# after 13 epochs and puts back the weights of its 11th (0-based 10);
# ReduceLROnPlateau (patience 1, cooldown 1) halves the rate four times,
# the last time to min_lr. Every decision's margin (decision_margin: 6e-4 and 2.7e-3 here)
# is checked to be above CALLBACK_MARGIN, 2e-4: the losses are ~0.2, their
# float32 noise ~1e-7 and the tolerance the test allows them ~1e-6, so no
# rounding can flip a decision.
CALLBACK_MODEL = ((3,), "dense:8:tanh,dense:1", "mean_squared_error", 16, {"batch": 4})
CALLBACK_LR = 0.2
CALLBACK_MARGIN = 2e-4
ES = dict(monitor="loss", patience=2, min_delta=0.0065, restore_best_weights=True, epochs=60)
ROP = dict(monitor="loss", factor=0.5, patience=1, min_delta=0.005, cooldown=1, min_lr=0.02,
           epochs=14)


def make_callbacks():
    name = "train_callbacks"
    shape, spec, loss, rows, fit = CALLBACK_MODEL
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    weights = initial_weights(build(shape, spec, "float32"), rng)
    x = rng.uniform(-1.0, 1.0, (rows,) + shape).astype(np.float32)
    x_val = rng.uniform(-1.0, 1.0, (8,) + shape).astype(np.float32)
    # y: a smooth function plus noise the model overfits
    def f(v):
        return (np.sin(2 * v[:, :1]) + v[:, 1:2] * v[:, 2:3]).astype(np.float32)
    y = (f(x) + rng.normal(0, 0.3, (rows, 1))).astype(np.float32)
    y_val = (f(x_val) + rng.normal(0, 0.3, (8, 1))).astype(np.float32)
    records = [("@spec", spec), ("@loss", loss), ("input_shape", shape), ("rows", [rows]),
               ("x", x), ("y", y), ("x_val", x_val), ("y_val", y_val),
               ("fit", [fit["batch"], 0]), ("sgd/config", [CALLBACK_LR, 0.0, 0.0]),
               ("es/config", [ES["patience"], ES["min_delta"], int(ES["restore_best_weights"]),
                              ES["epochs"]]), ("@es/monitor", ES["monitor"]),
               ("rop/config", [ROP["factor"], ROP["patience"], ROP["min_delta"], ROP["cooldown"],
                               ROP["min_lr"], ROP["epochs"]]), ("@rop/monitor", ROP["monitor"])]
    records += variable_records(build(shape, spec, "float32"), weights)
    for key, cfg in (("es", ES), ("rop", ROP)):
        res = {}
        for dtype in ("float32", "float64"):
            model = fresh(shape, spec, weights, dtype)
            model.compile(optimizer=keras.optimizers.SGD(CALLBACK_LR), loss=loss)
            args = {k: v for k, v in cfg.items() if k != "epochs"}
            cb = (keras.callbacks.EarlyStopping(**args) if key == "es" else
                  keras.callbacks.ReduceLROnPlateau(**args))
            h = model.fit(x.astype(dtype), y.astype(dtype), batch_size=fit["batch"],
                          epochs=cfg["epochs"], shuffle=False, verbose=0, callbacks=[cb],
                          validation_data=(x_val.astype(dtype), y_val.astype(dtype))).history
            res[dtype] = dict(model_variables(model), **{k: np.asarray(v) for k, v in h.items()})
        r32, r64 = res["float32"], res["float64"]
        assert len(r32["loss"]) == len(r64["loss"]), key
        margin = decision_margin(r32[cfg["monitor"]], cfg["min_delta"])
        assert margin > CALLBACK_MARGIN, (key, margin)
        if key == "es":
            assert len(r32["loss"]) < cfg["epochs"] - 3, "EarlyStopping did not stop"
            records.append(("es/epochs_run", [len(r32["loss"])]))
            series = ("loss", "val_loss")
        else:
            assert np.array_equal(r32["learning_rate"], r64["learning_rate"])
            assert len(set(r32["learning_rate"])) >= 3, r32["learning_rate"]
            series = ("learning_rate", "loss")
        records.append(("# %s: decision margin %.3g" % (key, margin), None))
        for s in series:
            add_computed(records, name, "%s/%s" % (key, s), r32[s], r64[s])
        for var in model_variables(fresh(shape, spec, weights, "float32")):
            add_computed(records, name, "%s/after/%s" % (key, var), r32[var], r64[var])
        print("%-22s %s: %d epochs, decision margin %.3g" % (name, key, len(r32["loss"]), margin))
    write_fixture(name, records)


TRAINING = {"train_schedules": make_schedules, "train_weights": make_weights,
            "train_metrics": make_metrics, "train_callbacks": make_callbacks}


def main_training():
    """The training-feature fixtures; like main, only those named on the
    command line if any are."""
    keras.utils.set_random_seed(0)
    only = sys.argv[1:]
    for key, make_one in TRAINING.items():
        if not only or key in only:
            make_one()


if __name__ == "__main__":
    main()
    main_training()
