#!/usr/bin/env python3
"""Build the int8 `.tflite` test models of `metronome import` and record TFLite's outputs.

Each model is a small Keras model converted by TensorFlow's TFLite converter (full int8
quantization from a representative data set); some are then rewritten with TensorFlow's own
flatbuffer tools (per-channel weights, power-of-two scales, which make rounding ties common).
The oracle is the `tflite-runtime` 2.14 interpreter with the reference kernels
(`BUILTIN_REF`): each model's outputs on fixed inputs are written beside it. The Rust tests read
only the files this script writes; they never need Python.

Writes, for each model NAME, into --out (default tflite/tests/data):
    NAME.tflite          the model
    NAME.inputs.npy      the inputs (int8, or float32 for a model with float input)
    NAME.outputs.npy     the interpreter's outputs for them, sample by sample
and `unsupported_*.tflite` / `float_model.tflite`, which the importer must refuse.

Usage (numpy < 2 is required by tflite-runtime 2.14):
    python3 -m venv /tmp/tflite-venv
    /tmp/tflite-venv/bin/pip install -r scripts/requirements-tflite.txt
    /tmp/tflite-venv/bin/python scripts/make_tflite_models.py [--out tflite/tests/data]
"""
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from tensorflow.lite.tools import flatbuffer_utils  # noqa: E402
from tflite_runtime.interpreter import Interpreter, OpResolverType  # noqa: E402

SAMPLES = 64
FULLY_CONNECTED = 9  # BuiltinOperator
INT8, INT32 = 9, 2  # TensorType


def round_half_away(v):
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def convert(model, calibration, float_io=False):
    """Full int8 conversion; int8 input and output unless `float_io`."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[None].astype(np.float32)] for x in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def dense_weights(model):
    """Each Dense layer's float (W [out, in], b [out]) in the order the model runs them."""
    return [(layer.kernel.numpy().T.astype(np.float32), layer.bias.numpy().astype(np.float32))
            for layer in model.layers if isinstance(layer, tf.keras.layers.Dense)]


def pow2_at_least(s):
    return np.float32(2.0 ** np.ceil(np.log2(np.float64(s))))


def rewrite(tflite, floats, per_channel, pow2):
    """Requantizes every FULLY_CONNECTED layer's weights (per channel or per tensor) and bias
    from the float layers `floats`, after (if `pow2`) moving every int8 activation scale up to a
    power of two; weight scales are then powers of two too."""
    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    g = m.subgraphs[0]
    fcs = [op for op in g.operators
           if max(m.operatorCodes[op.opcodeIndex].builtinCode,
                  m.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode) == FULLY_CONNECTED]
    assert len(fcs) == len(floats), "one float layer a FULLY_CONNECTED"
    weights = {op.inputs[1] for op in fcs}
    if pow2:
        for i, t in enumerate(g.tensors):
            if t.type == INT8 and i not in weights and t.quantization is not None:
                t.quantization.scale = np.array([pow2_at_least(t.quantization.scale[0])],
                                                dtype=np.float32)
    for op, (w, b) in zip(fcs, floats):
        s_in = np.float32(g.tensors[op.inputs[0]].quantization.scale[0])
        top = np.abs(w).max(axis=1) if per_channel else np.array([np.abs(w).max()])
        scales = (top / np.float32(127)).astype(np.float32)
        scales = np.maximum(scales, np.float32(1e-6))
        if pow2:
            scales = np.array([pow2_at_least(s) for s in scales], dtype=np.float32)
        per_row = scales if per_channel else np.repeat(scales, w.shape[0])
        q = np.clip(round_half_away(w / per_row[:, None].astype(np.float64)), -127, 127)
        wt = g.tensors[op.inputs[1]]
        m.buffers[wt.buffer].data = q.astype(np.int8).view(np.uint8).ravel()
        wt.quantization.scale = scales
        wt.quantization.zeroPoint = np.zeros(len(scales), dtype=np.int64)
        wt.quantization.quantizedDimension = 0
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            bt = g.tensors[op.inputs[2]]
            bias_scales = (s_in * scales).astype(np.float32)
            per_out = bias_scales if per_channel else np.repeat(bias_scales, w.shape[0])
            qb = round_half_away(b / per_out.astype(np.float64))
            m.buffers[bt.buffer].data = qb.astype(np.int32).view(np.uint8).ravel()
            bt.quantization.scale = bias_scales
            bt.quantization.zeroPoint = np.zeros(len(bias_scales), dtype=np.int64)
            bt.quantization.quantizedDimension = 0
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def reference_outputs(tflite, inputs):
    """The reference kernels' outputs, one sample at a time (the model's batch is 1)."""
    it = Interpreter(model_content=tflite,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    (inp,), (out,) = it.get_input_details(), it.get_output_details()
    outputs = []
    for x in inputs:
        it.set_tensor(inp["index"], x.reshape(inp["shape"]).astype(inp["dtype"]))
        it.invoke()
        outputs.append(it.get_tensor(out["index"]).reshape(-1).copy())
    return np.stack(outputs)


def input_scale(tflite):
    """The scale of the int8 tensor the model's float input is quantized to."""
    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    g = m.subgraphs[0]
    quantize = next(op for op in g.operators if op.inputs[0] == g.inputs[0])
    return g.tensors[quantize.outputs[0]].quantization.scale[0]


def mlp(features, layers, rng, input_shape=None):
    """A Dense stack with random weights and nonzero biases; `layers` is [(width, activation)]."""
    x = inp = tf.keras.Input(input_shape or (features,))
    if input_shape:
        x = tf.keras.layers.Flatten()(x)
    width = features
    for out, act in layers:
        layer = tf.keras.layers.Dense(out, activation=act)
        x = layer(x)
        layer.set_weights([rng.normal(0, 1 / np.sqrt(width), (width, out)),
                                  rng.normal(0, 0.3, out)])
        width = out
    return tf.keras.Model(inp, x)


def branches(features, rng, combine):
    """x -> two Dense branches -> combine -> Dense: an elementwise op of two computed tensors."""
    inp = tf.keras.Input((features,))
    a = tf.keras.layers.Dense(24, activation="tanh")(inp)
    b = tf.keras.layers.Dense(24)(inp)
    y = tf.keras.layers.Dense(8)(combine([a, b]))
    model = tf.keras.Model(inp, y)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            layer.set_weights([rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)),
                               rng.normal(0, 0.3, n_out)])
    return model


def digits_model():
    """A 8x8 -> 32 -> 10 MLP trained on scikit-learn's digits (float input, int8 inside)."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    y = digits.target
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((8, 8)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(32, activation="relu"),
                                 tf.keras.layers.Dense(10)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x[:1400], y[:1400], epochs=40, batch_size=32, verbose=0)
    accuracy = model.evaluate(x[1400:], y[1400:], verbose=0)[1]
    return model, x[:200], x[1400:1400 + SAMPLES], accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="tflite/tests/data", type=pathlib.Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    tf.keras.utils.set_random_seed(2026)
    calibration = rng.normal(0, 1, (200, 16)).astype(np.float32)
    int8_inputs = rng.integers(-128, 128, (SAMPLES, 16)).astype(np.int8)

    def write(name, tflite, inputs):
        outputs = reference_outputs(tflite, inputs)
        (args.out / f"{name}.tflite").write_bytes(tflite)
        np.save(args.out / f"{name}.inputs.npy", inputs)
        np.save(args.out / f"{name}.outputs.npy", outputs)
        print(f"{name}: {len(tflite)} bytes, outputs {outputs.dtype} {outputs.shape}")

    # Fully connected: per tensor (the converter's default) and per channel, each activation.
    for name, layers, per_channel, pow2 in [
        ("fc_relu_per_tensor", [(32, "relu"), (10, None)], False, False),
        ("fc_relu6_per_channel", [(32, "relu6"), (24, "relu"), (10, None)], True, False),
        ("ties_per_tensor", [(32, "relu"), (24, None), (10, "relu6")], False, True),
        ("ties_per_channel", [(32, "relu"), (24, None), (10, "relu6")], True, True),
    ]:
        model = mlp(16, layers, rng)
        tflite = convert(model, calibration)
        if per_channel or pow2:
            tflite = rewrite(tflite, dense_weights(model), per_channel, pow2)
        write(name, tflite, int8_inputs)
    # A layer without bias (a zero bias is dropped by the converter).
    model = mlp(16, [(20, "relu"), (10, None)], rng)
    model.layers[1].set_weights([model.layers[1].kernel.numpy(), np.zeros(20)])
    write("fc_no_bias", convert(model, calibration), int8_inputs)
    # Table activations.
    write("logistic", convert(mlp(16, [(32, "sigmoid"), (10, None)], rng), calibration),
          int8_inputs)
    write("tanh", convert(mlp(16, [(32, "tanh"), (10, "tanh")], rng), calibration), int8_inputs)
    # Elementwise ops of two computed tensors.
    write("add", convert(branches(16, rng, tf.keras.layers.Add()), calibration), int8_inputs)
    write("mul", convert(branches(16, rng, tf.keras.layers.Multiply()), calibration),
          int8_inputs)
    # A trained model with float input and output: QUANTIZE, RESHAPE, ..., DEQUANTIZE.
    model, digits_calibration, digits_inputs, accuracy = digits_model()
    print(f"digits: float test accuracy {accuracy:.4f}")
    tflite = convert(model, digits_calibration, float_io=True)
    # Half the inputs halfway between two quantization steps: Quantize's rounding of ties.
    scale = np.float32(input_scale(tflite))
    ties = ((rng.integers(-100, 100, (SAMPLES // 2, 8, 8)) + 0.5) * scale).astype(np.float32)
    write("digits_float_io", tflite, np.concatenate([digits_inputs[:SAMPLES // 2], ties]))

    # What the importer refuses: an unsupported op, and a float model.
    inp = tf.keras.Input((16,))
    softmax = tf.keras.Model(inp, tf.keras.layers.Dense(10, activation="softmax")(inp))
    (args.out / "unsupported_softmax.tflite").write_bytes(convert(softmax, calibration))
    inp = tf.keras.Input((8, 8, 1))
    conv = tf.keras.Model(inp, tf.keras.layers.Conv2D(4, 3)(inp))
    (args.out / "unsupported_conv.tflite").write_bytes(
        convert(conv, rng.normal(0, 1, (50, 8, 8, 1)).astype(np.float32)))
    converter = tf.lite.TFLiteConverter.from_keras_model(mlp(16, [(10, None)], rng))
    (args.out / "float_model.tflite").write_bytes(bytes(converter.convert()))


if __name__ == "__main__":
    main()
