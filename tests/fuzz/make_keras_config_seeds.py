#!/usr/bin/env python3
"""Writes the fuzz_keras_config seed corpus, which test_keras_config also
reads as its fixtures: model configs and compile settings exactly as Keras
writes them (Keras 3 on JAX, tests/keras/requirements.txt), plus two
files in tf.keras 2.x's legacy layout, written by hand here because Keras 3
cannot produce them (Keras 2's model.to_json / .h5 model_config: no
"module" keys, a "Policy"-free float32 dtype string, the input shape as
the first layer's batch_input_shape, BatchNormalization's axis as a list
counted from the batch axis, Adam's config with Keras 2's "decay").

Names: k3_* are a .keras file's config.json, h5_* an .h5 file's
model_config attribute, h5train_* its training_config attribute, k2_* the
hand-written Keras 2 layout, refuse_* models clseq must refuse, and
pair_* a model config and a training_config separated by a NUL byte (how
fuzz_keras_config splits its input).
Run with Keras 3's Python:
  KERAS_BACKEND=jax python tests/fuzz/make_keras_config_seeds.py"""
import json
import os
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")
import h5py  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_keras_config")


def write(name, text):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(text)


def fresh():
    """Layer names start again (dense, dense_1, ...) for the next model."""
    keras.backend.clear_session()


def keras_config(model):
    """config.json of model saved as .keras."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.keras")
        model.save(path)
        return zipfile.ZipFile(path).read("config.json").decode()


def h5_attrs(model):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.h5")
        model.save(path)
        with h5py.File(path) as f:
            return f.attrs["model_config"], f.attrs.get("training_config")


# Every layer kind clseq has, Conv2D 'same' with relu, then the rest, ending
# in a softmax Activation; Adam(0.01), categorical cross-entropy, accuracy
# and mae.
fresh()
every = keras.Sequential([
    keras.Input(shape=(8, 8, 3)),
    layers.Conv2D(4, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(2),
    layers.AveragePooling2D(2, strides=1, padding="same"),
    layers.BatchNormalization(),
    layers.GlobalAveragePooling2D(),
    layers.Reshape((2, 2)),
    layers.Flatten(),
    layers.Dense(5, activation="tanh"),
    layers.Dropout(0.5),
    layers.Activation("softmax"),
])
every.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy",
              metrics=["accuracy", "mae"])
write("k3_in8x8x3_every_kind_adam.json", keras_config(every))

# GlobalMaxPooling2D, a loss given as an object, SGD by name, "acc".
fresh()
gmp = keras.Sequential([keras.Input(shape=(6, 6, 2)), layers.GlobalMaxPooling2D(),
                        layers.Dense(2, activation="softmax")])
gmp.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(), metrics=["acc"])
write("k3_in6x6x2_gmp_dense2_sgd_loss_object.json", keras_config(gmp))

# A learning-rate schedule and metric objects: clseq leaves it uncompiled.
fresh()
sched = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
sched.compile(optimizer=keras.optimizers.RMSprop(
                  keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)),
              loss=keras.losses.MeanSquaredError(),
              metrics=[keras.metrics.MeanAbsoluteError(), "mse"])
write("k3_in4_dense3_dense1_rmsprop_schedule.json", keras_config(sched))

# Uncompiled, Conv2D with strides, no bias, valid padding and a dilation-free
# kernel; every clseq activation on Activation layers.
acts = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu", "gelu",
        "softplus", "softsign", "silu", "hard_sigmoid", "exponential", "relu6", "log_softmax"]
fresh()
conv = keras.Sequential([keras.Input(shape=(9, 7, 2)),
                         layers.Conv2D(3, (3, 2), strides=(2, 1), use_bias=False),
                         layers.Flatten()] + [layers.Activation(a) for a in acts])
write("k3_in9x7x2_conv_nobias_activations_uncompiled.json", keras_config(conv))

# The legacy .h5 writer of Keras 3: SGD(0.1, momentum 0.9, nesterov), binary
# cross-entropy, accuracy.
fresh()
legacy = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="relu"),
                           layers.Dense(1, activation="sigmoid")])
legacy.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
               loss="binary_crossentropy", metrics=["accuracy"])
model_config, training_config = h5_attrs(legacy)
write("h5_in4_dense3_dense1.json", model_config)
write("h5train_in4_dense3_dense1_sgd_nesterov_bce.json", training_config)

# A functional model: refused.
fresh()
inp = keras.Input(shape=(4,))
functional = keras.Model(inp, layers.Dense(2)(inp))
write("refuse_functional.json", keras_config(functional))

# tf.keras 2.x's layout (see the docstring), written by hand.
fresh()
k2_model = {
    "class_name": "Sequential",
    "config": {"name": "sequential", "layers": [
        {"class_name": "Conv2D", "config": {
            "name": "conv2d", "trainable": True, "batch_input_shape": [None, 5, 5, 1],
            "dtype": "float32", "filters": 2, "kernel_size": [3, 3], "strides": [1, 1],
            "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
            "groups": 1, "activation": "relu", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}},
        {"class_name": "BatchNormalization", "config": {
            "name": "batch_normalization", "trainable": True, "dtype": "float32",
            "axis": [3], "momentum": 0.9, "epsilon": 0.001, "center": True, "scale": False,
            "beta_initializer": {"class_name": "Zeros", "config": {}},
            "gamma_initializer": {"class_name": "Ones", "config": {}},
            "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
            "moving_variance_initializer": {"class_name": "Ones", "config": {}},
            "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
            "gamma_constraint": None}},
        {"class_name": "MaxPooling2D", "config": {
            "name": "max_pooling2d", "trainable": True, "dtype": "float32",
            "pool_size": [2, 2], "padding": "valid", "strides": [1, 1],
            "data_format": "channels_last"}},
        {"class_name": "Flatten", "config": {
            "name": "flatten", "trainable": True, "dtype": "float32",
            "data_format": "channels_last"}},
        {"class_name": "Dense", "config": {
            "name": "dense", "trainable": True, "dtype": "float32", "units": 3,
            "activation": "softmax", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}}]},
    "keras_version": "2.4.0", "backend": "tensorflow"}
k2_training = {
    "loss": "sparse_categorical_crossentropy", "metrics": [["accuracy"]],
    "weighted_metrics": None, "loss_weights": None, "sample_weight_mode": None,
    "optimizer_config": {"class_name": "Adam", "config": {
        "name": "Adam", "learning_rate": 0.0005, "decay": 0.0, "beta_1": 0.9,
        "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}
write("k2_in5x5x1_conv_bn_pool_dense.json", json.dumps(k2_model))
write("k2train_in5x5x1_adam_sparse.json", json.dumps(k2_training))
# The harness's pair: model config, a NUL, training_config.
write("pair_k2_model_nul_training.bin", json.dumps(k2_model) + "\0" + json.dumps(k2_training))

# Each optimizer with settings other than its defaults and a base setting
# (weight decay, a clipping option): clseq restores all of them.
O = keras.optimizers
optimizers = {
    "sgd": O.SGD(0.05, momentum=0.5, weight_decay=0.01, clipvalue=0.5),
    "adam": O.Adam(0.002, beta_1=0.8, beta_2=0.99, epsilon=1e-6, clipnorm=1.0),
    "rmsprop": O.RMSprop(0.003, rho=0.8, epsilon=1e-6, global_clipnorm=2.0),
    "adamw": O.AdamW(0.004, weight_decay=0.01, beta_1=0.85, beta_2=0.995, epsilon=1e-6),
    "adagrad": O.Adagrad(0.01, initial_accumulator_value=0.2, epsilon=1e-6, clipnorm=1.5),
    "adadelta": O.Adadelta(0.5, rho=0.9, epsilon=1e-6, weight_decay=0.002),
    "adamax": O.Adamax(0.002, beta_1=0.85, beta_2=0.995, epsilon=1e-6, weight_decay=0.001),
    "nadam": O.Nadam(0.002, beta_1=0.85, beta_2=0.995, epsilon=1e-6, global_clipnorm=1.0),
    "lion": O.Lion(0.0003, beta_1=0.95, beta_2=0.98, clipvalue=0.1),
}
for kind, optimizer in optimizers.items():
    fresh()
    m = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2, activation="softmax")])
    m.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    write(f"k3_in4_dense2_opt_{kind}.json", keras_config(m))

# Learning-rate schedules clseq has (ExponentialDecay with staircase,
# PiecewiseConstantDecay, CosineDecay with a warm-up) and one it lacks.
S = O.schedules
schedules = {
    "exponential_staircase": O.Adam(S.ExponentialDecay(0.01, 50, 0.5, staircase=True)),
    "piecewise": O.SGD(S.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]), momentum=0.9),
    "cosine_warmup": O.AdamW(S.CosineDecay(0.001, 100, alpha=0.1, warmup_target=0.01,
                                           warmup_steps=10)),
    "polynomial": O.Adam(S.PolynomialDecay(0.01, 100, end_learning_rate=0.001)),
}
for name, optimizer in schedules.items():
    fresh()
    m = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2, activation="softmax")])
    m.compile(optimizer=optimizer, loss="categorical_crossentropy")
    write(f"k3_in4_dense2_schedule_{name}.json", keras_config(m))

# The .h5 writer's training_config with a schedule (the model config is
# h5_in4_dense3_dense1.json's).
fresh()
legacy = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="relu"),
                           layers.Dense(1, activation="sigmoid")])
legacy.compile(optimizer=O.Nadam(S.CosineDecay(0.01, 1000)), loss="binary_crossentropy",
               metrics=["accuracy", "auc"])
write("h5train_in4_dense3_dense1_nadam_cosine_auc.json", h5_attrs(legacy)[1])

# Metrics: by name with Keras's defaults; as objects with threshold 0.7
# and k 3 or 2; three sigmoid outputs or five softmax ones.
M = keras.metrics
metric_models = {
    "dense3_sigmoid_bce_metric_names": (
        3, "sigmoid", "binary_crossentropy",
        ["accuracy", "binary_accuracy", "precision", "recall", "auc"]),
    "dense3_sigmoid_bce_metric_threshold0.7": (
        3, "sigmoid", "binary_crossentropy",
        [M.BinaryAccuracy(threshold=0.7), M.Precision(thresholds=0.7),
         M.Recall(thresholds=0.7), M.AUC()]),
    "dense5_softmax_cce_metric_top3": (
        5, "softmax", "categorical_crossentropy",
        [M.TopKCategoricalAccuracy(k=3), "mae", "precision"]),
    "dense5_softmax_sparse_metric_top2": (
        5, "softmax", "sparse_categorical_crossentropy",
        [M.SparseTopKCategoricalAccuracy(k=2), "accuracy"]),
}
for name, (units, activation, loss, metrics) in metric_models.items():
    fresh()
    m = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(units, activation=activation)])
    m.compile(optimizer="adam", loss=loss, metrics=metrics)
    write(f"k3_in4_{name}.json", keras_config(m))
