#!/usr/bin/env python3
"""Train and int8-quantize the `digits-mlp` reference model for Metronome (or a wider one).

Trains a 64-H-10 ReLU MLP (or 64-H1-H2-...-10) on scikit-learn's bundled 8x8 digits data set (no
download), quantizes it following TFLite int8 conventions (asymmetric
per-tensor activations, symmetric per-output-channel int8 weights, int32
biases), and writes a `metronome-model/1` directory: `model.toml`, `.npy`
tensors, the held-out test set and a README.

All quantization parameters are derived from the float32 parameters that are
written to `*.float_*.npy`, with float64 arithmetic on float32 scale values,
so a consumer can recompute them bit-exactly. Rounding is always
round-half-away-from-zero (never numpy's half-to-even `np.round`).

Usage:
    python scripts/train_digits.py --out models/digits-mlp [--hidden 24] [--seed 0]
    python scripts/train_digits.py --out models/digits-wide --name digits-wide --hidden 256,128
"""
import argparse
import pathlib

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

INPUT_MAX = 16.0  # raw pixel values are 0..16
INPUT_ZERO_POINT = -128
DEFAULT_HIDDEN = "24"  # digits-mlp: a bigger layer does not fit the smallest chip
DEFAULT_SEED = 0
DEFAULT_ALPHA = 3.0  # L2 penalty; >= 97.2 % float test accuracy for seeds 0..7
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def round_half_away(v):
    """Round half away from zero (TFLite convention), element-wise."""
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def f32(x):
    """The float32 value of x, as a float64 (for float64 arithmetic)."""
    return np.float64(np.float32(x))


def load_split():
    """Digits data as raw float pixels (0..16), stratified 80/20 split."""
    digits = load_digits()
    X, y = digits.data.astype(np.float64), digits.target.astype(np.int64)
    return train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)


def train(X_train, y_train, hidden, seed, alpha):
    """Fit the float MLP; returns [(W [out,in] float32, b [out] float32), ...]."""
    mlp = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", solver="adam",
                        alpha=alpha, max_iter=2000, random_state=seed)
    mlp.fit(X_train, y_train)
    return [(np.ascontiguousarray(W.T, dtype=np.float32), b.astype(np.float32))
            for W, b in zip(mlp.coefs_, mlp.intercepts_)]


def float_forward(params, X):
    """Float network (float64 arithmetic); returns the output of every layer."""
    outs, a = [], X
    for i, (W, b) in enumerate(params):
        a = a @ W.astype(np.float64).T + b.astype(np.float64)
        if i < len(params) - 1:
            a = np.maximum(a, 0.0)
        outs.append(a)
    return outs


def calibrate(params, X_train):
    """Per-layer (scale, zero_point) of the activations, from the training set."""
    outs = float_forward(params, X_train)
    qparams = []
    for h in outs[:-1]:  # ReLU outputs: range [0, max]
        qparams.append((f32(max(h.max(), 1e-6) / 255.0), -128))
    lo, hi = min(0.0, outs[-1].min()), max(0.0, outs[-1].max())  # logits
    scale = f32((hi - lo) / 255.0)
    zp = int(np.clip(round_half_away(-128.0 - lo / scale), -128, 127))
    qparams.append((scale, zp))
    return qparams


def quantize_input(X, scale):
    """TFLite's Quantize: the division in float32, as `Quant::quantize` does."""
    q = np.float32(X) / np.float32(scale)
    return np.clip(round_half_away(q) + INPUT_ZERO_POINT, -128, 127).astype(np.int8)


def quantize_layer(W, b, in_scale):
    """Per-channel symmetric int8 weights, float32 scales and int32 bias."""
    W64 = W.astype(np.float64)
    max_abs = np.abs(W64).max(axis=1)
    w_scale = np.where(max_abs > 0, max_abs / 127.0, 1.0 / 127.0)
    # A unit that training left all but dead (weights near zero, a bias that is not) would
    # need a bias past int32 on its weights' scale: widen the scale until the bias fits in
    # about 2^30 (float32 rounding may leave it a little over), leaving room for the input
    # zero point the compiler folds into it.
    w_scale = np.maximum(w_scale, np.abs(b.astype(np.float64)) / (in_scale * 2.0**30))
    w_scale = w_scale.astype(np.float32)
    s_w = w_scale.astype(np.float64)
    q_w = np.clip(round_half_away(W64 / s_w[:, None]), -127, 127)
    q_w = np.ascontiguousarray(q_w, dtype=np.int8)
    q_b = round_half_away(b.astype(np.float64) / (in_scale * s_w))
    q_b = np.clip(q_b, INT32_MIN, INT32_MAX).astype(np.int32)
    return q_w, w_scale, q_b


def quantize(params, act_qparams):
    """Quantize every layer; each layer's input scale is the previous output scale."""
    in_scale, layers = f32(INPUT_MAX / 255.0), []
    for (W, b), (out_scale, out_zp) in zip(params, act_qparams):
        q_w, w_scale, q_b = quantize_layer(W, b, in_scale)
        layers.append(dict(q_w=q_w, w_scale=w_scale, q_b=q_b, out_scale=out_scale, out_zp=out_zp))
        in_scale = out_scale
    return layers


def simulate_int8(layers, X):
    """A sanity check of the quantized model: integer matmuls, but requantization by a float
    multiply with one rounding, not the chip's fixed-point formula (the Rust side computes that
    bit-exactly). Returns int8 logits [n, classes]."""
    in_scale, in_zp = f32(INPUT_MAX / 255.0), INPUT_ZERO_POINT
    q = quantize_input(X, in_scale).astype(np.int64)
    for i, L in enumerate(layers):
        q_w = L["q_w"].astype(np.int64)
        acc = q @ q_w.T - in_zp * q_w.sum(axis=1) + L["q_b"].astype(np.int64)
        mult = in_scale * L["w_scale"].astype(np.float64) / L["out_scale"]
        out = round_half_away(acc * mult) + L["out_zp"]
        lo = L["out_zp"] if i < len(layers) - 1 else -128  # ReLU clamps at zero_point
        q = np.clip(out, lo, 127).astype(np.int64)
        in_scale, in_zp = L["out_scale"], L["out_zp"]
    return q.astype(np.int8)


def accuracy(scores, y):
    return float(np.mean(np.argmax(scores, axis=1) == y))  # argmax: ties -> lowest index


def write_model(out, name, params, layers, X_test, y_test, hidden, seed, alpha, acc_f, acc_q):
    out.mkdir(parents=True, exist_ok=True)
    sizes = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
    toml = ['format = "metronome-model/1"', f'name = "{name}"',
            f'description = "{"-".join(map(str, sizes))} ReLU MLP for scikit-learn\'s 8x8 digits, '
            'int8 (per-channel weights)"', "", "[input]", f"features = {sizes[0]}",
            f"scale = {float(np.float32(INPUT_MAX / 255.0))!r}  # float32; real = (q - zp) * scale",
            f"zero_point = {INPUT_ZERO_POINT}"]
    for i, ((W, b), L) in enumerate(zip(params, layers)):
        layer = f"fc{i + 1}"
        relu = i < len(params) - 1
        np.save(out / f"{layer}.weights.npy", L["q_w"].astype(np.int8))
        np.save(out / f"{layer}.weight_scales.npy", L["w_scale"].astype(np.float32))
        np.save(out / f"{layer}.bias.npy", L["q_b"].astype(np.int32))
        np.save(out / f"{layer}.float_weights.npy", W.astype(np.float32))
        np.save(out / f"{layer}.float_bias.npy", b.astype(np.float32))
        toml += ["", "[[layers]]", f'name = "{layer}"', 'kind = "fully_connected"',
                 f"inputs = {W.shape[1]}", f"outputs = {W.shape[0]}",
                 f'activation = "{"relu" if relu else "none"}"',
                 f'weights = "{layer}.weights.npy"              # int8 [outputs, inputs]',
                 f'weight_scales = "{layer}.weight_scales.npy"  # float32 [outputs]',
                 f'bias = "{layer}.bias.npy"                    # int32 [outputs], s_in * s_w',
                 f"output_scale = {float(np.float32(L['out_scale']))!r}  # float32",
                 f"output_zero_point = {L['out_zp']}",
                 f'float_weights = "{layer}.float_weights.npy"  # float32 [outputs, inputs]',
                 f'float_bias = "{layer}.float_bias.npy"        # float32 [outputs]']
    toml += ["", "[test]", 'inputs = "test_inputs.npy"  # int8 [n, 64], raw pixel values 0..16 (exact integers)',
             'labels = "test_labels.npy"  # int8 [n]']
    (out / "model.toml").write_text("\n".join(toml) + "\n")
    # Pixel values are small integers: int8 stores them exactly in a quarter of the space.
    assert np.array_equal(X_test, np.round(X_test)) and X_test.min() >= 0 and X_test.max() <= 16
    np.save(out / "test_inputs.npy", X_test.astype(np.int8))
    np.save(out / "test_labels.npy", y_test.astype(np.int8))
    hidden_text = ", ".join(map(str, hidden)) + ("," if len(hidden) == 1 else "")
    hidden_flag = ",".join(map(str, hidden))
    (out / "README.md").write_text(f"""# {name}

A {"-".join(map(str, sizes))} ReLU multilayer perceptron for scikit-learn's bundled 8x8
handwritten digits (`sklearn.datasets.load_digits`), quantized to int8 with TFLite
conventions: asymmetric per-tensor activations, symmetric per-output-channel int8
weights, int32 biases. Inputs are raw pixel values 0..16 (scale 16/255, zero point -128).

| | test accuracy ({len(y_test)} samples) |
| --- | --- |
| float | {acc_f * 100:.2f} % |
| int8 (numpy simulation) | {acc_q * 100:.2f} % |

Training: `MLPClassifier(hidden_layer_sizes=({hidden_text}), activation="relu", solver="adam",
alpha={alpha}, max_iter=2000, random_state={seed})` on a stratified 80/20 split
(`random_state=0`). Activation ranges are calibrated on the training set.
See `model.toml` for the layout and `scripts/train_digits.py` for the exact recipe.

Retrain (deterministic for a given seed):

```sh
python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-train.txt && .venv/bin/python scripts/train_digits.py --out {out} --name {name} --hidden {hidden_flag} --seed {seed} --alpha {alpha}
```
""")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=pathlib.Path, required=True, help="output model directory")
    ap.add_argument("--name", default="digits-mlp", help="the model's name")
    ap.add_argument("--hidden", default=DEFAULT_HIDDEN,
                    help="hidden layer widths, comma-separated (default %(default)s)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="MLP initialization seed")
    ap.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="L2 penalty")
    args = ap.parse_args()

    X_train, X_test, y_train, y_test = load_split()
    hidden = tuple(int(w) for w in args.hidden.split(","))
    params = train(X_train, y_train, hidden, args.seed, args.alpha)
    acc_f = accuracy(float_forward(params, X_test)[-1], y_test)
    print(f"float test accuracy: {acc_f * 100:.2f} %")
    layers = quantize(params, calibrate(params, X_train))
    acc_q = accuracy(simulate_int8(layers, X_test), y_test)
    print(f"int8  test accuracy: {acc_q * 100:.2f} % (numpy simulation)")
    write_model(args.out, args.name, params, layers, X_test, y_test, hidden, args.seed,
                args.alpha, acc_f, acc_q)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
