#!/usr/bin/env python3
"""Writes the fuzz_model seed corpus with an encoder independent of clseq's
(Python's struct and zlib.crc32), following docs/model-format.md. The test
suite loads one of these files, so the C decoder is checked against this
second implementation of the format, not only against its own encoder.

Weights are (i + 1) / 8 - 2 for parameter i: exact in binary32.
Run from anywhere: python3 tests/fuzz/make_model_seeds.py"""
import os
import struct
import zlib

ACT = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3, "softmax": 4}
LOSS = {"cce": 0, "scce": 1, "bce": 2, "mse": 3, "mae": 4}


def encode(input_dim, layers, compiled=None):
    """layers: (kind, units, activation) with kind 'dense' or 'act'."""
    body = struct.pack("<II", input_dim, len(layers))
    width, params = input_dim, 0
    for kind, units, act in layers:
        body += struct.pack("<III", 1 if kind == "dense" else 0, units, ACT[act])
        if kind == "dense":
            params += width * units + units
            width = units
    if compiled:
        opt, lr, mom, nest, b1, b2, rho, eps, loss, metrics = compiled
        body += struct.pack("<IIffIffffII", 1, opt, lr, mom, nest, b1, b2, rho, eps,
                            LOSS[loss], metrics)
    else:
        body += bytes(44)
    body += struct.pack("<Q", params)
    body += b"".join(struct.pack("<f", (i + 1) / 8 - 2) for i in range(params))
    length = 8 + 4 + 8 + len(body) + 4
    head = b"CLSEQMDL" + struct.pack("<IQ", 1, length)
    data = head + body
    return data + struct.pack("<I", zlib.crc32(data))


SEEDS = {
    "in2_dense3_relu_dense2_softmax_sgd.clseq": encode(
        2, [("dense", 3, "relu"), ("dense", 2, "softmax")],
        (0, 0.01, 0.0, 0, 0.0, 0.0, 0.0, 0.0, "cce", 1)),
    "in3_dense4_act_softmax_adam.clseq": encode(
        3, [("dense", 4, "linear"), ("act", 4, "softmax")],
        (1, 0.001, 0.0, 0, 0.9, 0.999, 0.0, 1e-7, "cce", 3)),
    "in1_dense1_uncompiled.clseq": encode(1, [("dense", 1, "linear")]),
    "in2_dense4_tanh_dense1_sigmoid_rmsprop.clseq": encode(
        2, [("dense", 4, "tanh"), ("dense", 1, "sigmoid")],
        (2, 0.001, 0.0, 0, 0.0, 0.0, 0.9, 1e-7, "bce", 1)),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_model")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
