#!/usr/bin/env python3
"""Writes the fuzz_model seed corpus with an encoder independent of clseq's
(Python's struct and zlib.crc32, nothing outside the standard library),
following docs/model-format.md: version 1 files as clseq 0.1 saved them and
version 2 files as clseq saves them now. The test suite loads these files
and checks that re-encoding a loaded version 2 file gives its bytes back,
so the C reader and writer are checked against this second implementation
of the format, not only against each other.

Variable values are (i + 1) / 8 - 2 for the i-th value of the file, and
optimizer slot values (j + 1) / 16 - 1 ("v": (j + 1) / 64): all exact in
binary32. Run from anywhere: python3 tests/fuzz/make_model_seeds.py"""
import os
import struct
import zlib

ACT = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3, "softmax": 4}
LOSS = {"cce": 0, "scce": 1, "bce": 2, "mse": 3, "mae": 4}
LOSS_NAME = {"cce": "categorical_crossentropy", "bce": "binary_crossentropy",
             "scce": "sparse_categorical_crossentropy",
             "mse": "mean_squared_error"}
OPT = {"sgd": 0, "adam": 1, "rmsprop": 2}


def envelope(version, body):
    """Magic, version, length, body, CRC-32 of everything before it."""
    length = 8 + 4 + 8 + len(body) + 4
    data = b"CLSEQMDL" + struct.pack("<IQ", version, length) + body
    return data + struct.pack("<I", zlib.crc32(data))


def weights(start, count):
    return b"".join(struct.pack("<f", (i + 1) / 8 - 2) for i in range(start, start + count))


# ---- version 1 -------------------------------------------------------------

def encode_v1(input_dim, layers, compiled=None):
    """layers: (kind, units, activation) with kind 'dense' or 'act';
    compiled: (optimizer, lr, momentum, nesterov, beta1, beta2, rho,
    epsilon, loss, metric bits)."""
    body = struct.pack("<II", input_dim, len(layers))
    width, params = input_dim, 0
    for kind, units, act in layers:
        body += struct.pack("<III", 1 if kind == "dense" else 0, units, ACT[act])
        if kind == "dense":
            params += width * units + units
            width = units
    if compiled:
        opt, lr, mom, nest, b1, b2, rho, eps, loss, metrics = compiled
        body += struct.pack("<IIffIffffII", 1, OPT[opt], lr, mom, nest, b1, b2, rho, eps,
                            LOSS[loss], metrics)
    else:
        body += bytes(44)
    body += struct.pack("<Q", params) + weights(0, params)
    return envelope(1, body)


# ---- version 2 -------------------------------------------------------------

def string(s):
    b = s.encode("ascii")
    assert len(b) <= 64
    return struct.pack("<I", len(b)) + b


def values(pairs):
    """Named values: int -> type 1 (i32), float -> type 2 (f32), str -> 3,
    tuple of ints -> 4 (u8 count, then i32s)."""
    out = struct.pack("<I", len(pairs))
    for name, v in pairs:
        out += string(name)
        if isinstance(v, tuple):
            out += struct.pack("<BB", 4, len(v)) + b"".join(struct.pack("<i", x) for x in v)
        elif isinstance(v, int):
            out += struct.pack("<Bi", 1, v)
        elif isinstance(v, float):
            out += struct.pack("<Bf", 2, v)
        else:
            out += struct.pack("<B", 3) + string(v)
    return out


def variable(name, shape, first):
    count = 1
    for d in shape:
        count *= d
    out = string(name) + struct.pack("<I", len(shape))
    out += b"".join(struct.pack("<I", d) for d in shape)
    return out + struct.pack("<B", 1) + weights(first, count), count


def state_variable(name, count, value):
    """A non-trainable variable (rank 1) holding value everywhere."""
    out = string(name) + struct.pack("<II", 1, count) + struct.pack("<B", 0)
    return out + struct.pack("<f", value) * count


def layers_v2(shape, layers):
    """layers: ('Dense', units, activation), ('Activation', activation), or
    (class, config pairs, [(variable, shape)], channels after) for the image
    layers (their trainable variables in order; BatchNormalization adds its
    two moving statistics). Returns the bytes and the number of trainable
    values."""
    out = struct.pack("<I", len(layers))
    last, done = shape[-1], 0
    for layer in layers:
        if layer[0] not in ("Dense", "Activation"):
            cls, config, trainable, channels = layer
            state = [("moving_mean", 0.25), ("moving_variance", 1.5)] \
                if cls == "BatchNormalization" else []
            out += string(cls) + values(config)
            out += struct.pack("<I", len(trainable) + len(state))
            for name, var_shape in trainable:
                v, n = variable(name, var_shape, done)
                out += v
                done += n
            for name, value in state:
                out += state_variable(name, channels, value)
            last = channels
        elif layer[0] == "Dense":
            _, units, act = layer
            out += string("Dense") + values([("units", units), ("activation", act)])
            kernel, n = variable("kernel", (last, units), done)
            bias, m = variable("bias", (units,), done + n)
            out += struct.pack("<I", 2) + kernel + bias
            done += n + m
            last = units
        else:
            out += string("Activation") + values([("activation", layer[1])])
            out += struct.pack("<I", 0)
    return out, done


SETTINGS = {
    "sgd": ("learning_rate", "momentum", "nesterov"),
    "adam": ("learning_rate", "beta1", "beta2", "epsilon"),
    "rmsprop": ("learning_rate", "rho", "epsilon"),
}
SLOTS = {"sgd": ("momentum",), "adam": ("m", "v"), "rmsprop": ("v",)}


def compile_v2(trainable, opt, settings, loss, metrics, iterations):
    """settings: the optimizer's values in SETTINGS order."""
    names = SETTINGS[opt]
    out = struct.pack("<I", 1) + string(opt) + values(list(zip(names, settings)))
    out += string(LOSS_NAME[loss]) + struct.pack("<IQ", metrics, iterations)
    slots = SLOTS[opt] if opt != "sgd" or settings[1] != 0.0 else ()
    out += struct.pack("<I", len(slots))
    for name in slots:
        scale = 64 if name == "v" else 16
        out += string(name) + struct.pack("<Q", trainable)
        out += b"".join(struct.pack("<f", (j + 1) / scale - (0 if name == "v" else 1))
                        for j in range(trainable))
    return out


def encode_v2(seed, shape, layers, compiled=None):
    """compiled: (optimizer, settings, loss, metric bits, iterations)."""
    body = struct.pack("<QI", seed, len(shape)) + b"".join(struct.pack("<I", d) for d in shape)
    layer_bytes, trainable = layers_v2(shape, layers)
    body += layer_bytes
    body += compile_v2(trainable, *compiled) if compiled else struct.pack("<I", 0)
    return envelope(2, body)


SEEDS = {
    "v1_in2_dense3_relu_dense2_softmax_sgd.clseq": encode_v1(
        2, [("dense", 3, "relu"), ("dense", 2, "softmax")],
        ("sgd", 0.01, 0.0, 0, 0.0, 0.0, 0.0, 0.0, "cce", 1)),
    "v1_in3_dense4_act_softmax_adam.clseq": encode_v1(
        3, [("dense", 4, "linear"), ("act", 4, "softmax")],
        ("adam", 0.001, 0.0, 0, 0.9, 0.999, 0.0, 1e-7, "cce", 3)),
    "v1_in1_dense1_uncompiled.clseq": encode_v1(1, [("dense", 1, "linear")]),
    "v1_in2_dense4_tanh_dense1_sigmoid_rmsprop.clseq": encode_v1(
        2, [("dense", 4, "tanh"), ("dense", 1, "sigmoid")],
        ("rmsprop", 0.001, 0.0, 0, 0.0, 0.0, 0.9, 1e-7, "bce", 1)),
    "v2_in2_dense3_relu_dense2_softmax_sgd.clseq": encode_v2(
        42, (2,), [("Dense", 3, "relu"), ("Dense", 2, "softmax")],
        ("sgd", (0.01, 0.9, 1), "cce", 1, 7)),
    "v2_in3_dense4_act_softmax_adam.clseq": encode_v2(
        7, (3,), [("Dense", 4, "linear"), ("Activation", "softmax")],
        ("adam", (0.001, 0.9, 0.999, 1e-7), "cce", 3, 3)),
    "v2_in4x2_dense3_uncompiled.clseq": encode_v2(0, (4, 2), [("Dense", 3, "linear")]),
    "v2_in2_dense4_tanh_dense1_sigmoid_rmsprop.clseq": encode_v2(
        123456789012, (2,), [("Dense", 4, "tanh"), ("Dense", 1, "sigmoid")],
        ("rmsprop", (0.001, 0.9, 1e-7), "bce", 1, 12)),
    "v2_in2_dense2_sgd_plain.clseq": encode_v2(
        1, (2,), [("Dense", 2, "softmax")], ("sgd", (0.1, 0.0, 0), "mse", 6, 0)),
    # (6, 6, 2) -> Conv2D 'same' (6, 6, 3) -> MaxPooling2D (3, 3, 3) ->
    # BatchNormalization -> Reshape (9, 3) -> Flatten (27) -> Dropout ->
    # Dense(2, softmax), Adam: every value type, trainable and state variables
    "v2_in6x6x2_cnn_adam.clseq": encode_v2(
        5, (6, 6, 2), [
            ("Conv2D", [("filters", 3), ("kernel_size", (3, 3)), ("strides", (1, 1)),
                        ("padding", "same"), ("dilation_rate", (1, 1)), ("activation", "relu"),
                        ("use_bias", 1)], [("kernel", (3, 3, 2, 3)), ("bias", (3,))], 3),
            ("MaxPooling2D", [("pool_size", (2, 2)), ("strides", (2, 2)), ("padding", "valid")],
             [], 3),
            ("BatchNormalization", [("momentum", 0.99), ("epsilon", 0.001), ("center", 1),
                                    ("scale", 1)], [("gamma", (3,)), ("beta", (3,))], 3),
            ("Reshape", [("target_shape", (-1, 3))], [], 3),
            ("Flatten", [], [], 27),
            ("Dropout", [("rate", 0.25)], [], 27),
            ("Dense", 2, "softmax")],
        ("adam", (0.001, 0.9, 0.999, 1e-7), "scce", 1, 4)),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_model")
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if old.endswith(".clseq") and old not in SEEDS:
            os.remove(os.path.join(out, old))
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
