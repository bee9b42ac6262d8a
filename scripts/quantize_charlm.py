#!/usr/bin/env python3
"""Quantize the `charlm` model to int8 and measure what that costs, before the compiler
lowers it: the float model of `models/charlm` run with every tensor rounded where the chip
would hold it (docs/transformer.md's numerics), against the float model on the held-out text.

It simulates the plan with floats on integer grids (per-channel int8 weights with the norms'
gains folded in, per-tensor int8 activations calibrated on training text, the residual stream
on a 16-bit grid in int32, softmax probabilities on a 1/128 grid, exp, reciprocal and
reciprocal square root with 8 significant bits); it is not the bit-exact reference, which the
compiler and golden model define. It prints the held-out next-character loss of both, their
ratio and how often their argmax agrees. With `--write`, it also writes the int8 tensors and
`model.toml` (format `metronome-model/2`, docs/transformer.md) into the model's directory.

Rounding is half away from zero (TFLite's), never numpy's half to even.

Usage:
    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/quantize_charlm.py [--model models/charlm] [--write]
"""
import argparse
import json
import math
import pathlib

import numpy as np

import train_charlm as lm

RESIDUAL_BITS = 16


def load(model):
    meta = json.loads((model / "float.json").read_text())
    params = {
        f.name[: -len(".float.npy")]: np.load(f).astype(np.float64)
        for f in model.glob("*.float.npy")
    }
    return meta, params


def mantissa8(x):
    """x with 8 significant bits (what a 256-entry table after a leading-zero count gives)."""
    m, e = np.frexp(x)
    return np.ldexp(np.round(m * 256) / 256, e)


def round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def f32(x):
    """The float32 nearest x, as the model file stores every scale."""
    return float(np.float32(x))


def grid(x, scale, lo=-128, hi=127):
    return np.clip(round_half_away(x / scale), lo, hi) * scale


def per_channel(w):
    """Symmetric int8 per output channel (columns of `x @ w`): the integers and the scales."""
    scale = np.array([f32(s) for s in np.abs(w).max(axis=0) / 127])
    return round_half_away(w / scale).astype(np.int8), scale


def quantized_weights(p, cfg):
    """Every weight matrix as (int8 [inputs, outputs], scales [outputs]), the norms' gains
    folded into the rows of the projections they feed."""
    out = {}
    for b in range(cfg["blocks"]):
        for m in "qkv":
            out[f"b{b}.w{m}"] = per_channel(p[f"b{b}.norm1"][:, None] * p[f"b{b}.w{m}"])
        out[f"b{b}.wo"] = per_channel(p[f"b{b}.wo"])
        out[f"b{b}.w1"] = per_channel(p[f"b{b}.norm2"][:, None] * p[f"b{b}.w1"])
        out[f"b{b}.w2"] = per_channel(p[f"b{b}.w2"])
    out["out"] = per_channel(p["norm"][:, None] * p["out"])
    return out


class Scales:
    """Per-tensor scales: recorded (max |x|) while calibrating, then applied."""

    def __init__(self):
        self.seen, self.calibrating = {}, True

    def scale(self, name, bits=8):
        return f32(self.seen[name] / (2 ** (bits - 1) - 1))

    def __call__(self, name, x, bits=8):
        if self.calibrating:
            self.seen[name] = max(self.seen.get(name, 0.0), float(np.abs(x).max()))
            return x
        top = 2 ** (bits - 1) - 1
        return grid(x, self.scale(name, bits), -top - 1, top)


def forward(p, tokens, cfg, q):
    """Logits for tokens [batch, time]; `q` None runs the float model."""
    bsz, t = tokens.shape
    d, heads = cfg["d_model"], cfg["heads"]
    hd = d // heads
    act = q if q else (lambda name, x, bits=8: x)
    w = dict(p)
    if q:
        w.update({k: i * scale for k, (i, scale) in quantized_weights(p, cfg).items()})

    def norm(name, x, gain):
        if q:
            # The int32 stream requantized to int8 on the norm's own grid, then x / rms(x).
            x = act(f"{name}.input", x)
        r = 1 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + cfg["eps"])
        return x * mantissa8(r) if q else x * r * gain

    # The embeddings are int8 tables; the residual stream is int32 in accumulator memory, on
    # a grid of RESIDUAL_BITS over its calibrated range.
    x = act("residual", act("tok", p["tok"][tokens]) + act("pos", p["pos"][:t]), RESIDUAL_BITS)
    causal = np.triu(np.ones((t, t), bool), 1)
    for b in range(cfg["blocks"]):
        a = act(f"b{b}.norm1", norm(f"b{b}.norm1", x, p[f"b{b}.norm1"]))

        def split(m):
            y = act(f"b{b}.{m}", a @ w[f"b{b}.w{m}"])
            return y.reshape(bsz, t, heads, hd).transpose(0, 2, 1, 3)

        qh, kh, vh = split("q"), split("k"), split("v")
        s = act(f"b{b}.scores", qh @ kh.transpose(0, 1, 3, 2) / math.sqrt(hd))
        s = s - s.max(axis=-1, keepdims=True)
        if q:
            # The difference to the row's max, on the scores' grid, clamped into the table.
            step = q.scale(f"b{b}.scores")
            s = np.maximum(s, -128 * step)
            e = mantissa8(np.exp(s))
        else:
            e = np.exp(s)
        e = np.where(causal, 0.0, e)
        probs = e * (mantissa8(1 / e.sum(-1, keepdims=True)) if q else 1 / e.sum(-1, keepdims=True))
        if q:
            probs = grid(probs, 1 / 128, 0, 127)
        y = (probs @ vh).transpose(0, 2, 1, 3).reshape(bsz, t, d)
        y = act(f"b{b}.attn", y)
        x = act("residual", x + act("residual", y @ w[f"b{b}.wo"], RESIDUAL_BITS), RESIDUAL_BITS)
        m = act(f"b{b}.norm2", norm(f"b{b}.norm2", x, p[f"b{b}.norm2"]))
        h = act(f"b{b}.hidden", m @ w[f"b{b}.w1"])
        g = act(f"b{b}.gelu", lm.gelu(h))
        x = act("residual", x + act("residual", g @ w[f"b{b}.w2"], RESIDUAL_BITS), RESIDUAL_BITS)
    f = act("norm", norm("norm", x, p["norm"]))
    return act("logits", f @ w["out"])


def export(model, meta, p, q):
    """Writes the int8 tensors and model.toml (metronome-model/2) into `model`."""
    cfg = meta["config"]
    d, hidden, vocab, context = cfg["d_model"], cfg["mlp_hidden"], len(lm.VOCAB), cfg["context"]
    residual = q.scale("residual", RESIDUAL_BITS)
    weights = quantized_weights(p, cfg)
    files = {}

    def tensor(name, array):
        files[name] = array
        return f'"{name}"'

    def matrix(layer, field, key):
        """A weight matrix as the file holds it, [outputs, inputs], and its scales."""
        ints, scales = weights[key]
        return [
            f'{field} = {tensor(f"{layer}.{field}.npy", np.ascontiguousarray(ints.T))}',
            f'{field}_scales = '
            f'{tensor(f"{layer}.{field}_scales.npy", scales.astype(np.float32))}',
        ]

    def table(key):
        ints = round_half_away(p[key] / q.scale(key))
        return np.clip(ints, -127, 127).astype(np.int8)

    layers = [
        [
            'name = "embed"',
            'kind = "embedding"',
            f'tokens = {tensor("embed.tokens.npy", table("tok"))}',
            f"token_scale = {q.scale('tok')!r}",
            f'positions = {tensor("embed.positions.npy", table("pos"))}',
            f"position_scale = {q.scale('pos')!r}",
            f"output_scale = {residual!r}",
        ]
    ]
    stream = "embed"

    def norm(name, source):
        layers.append(
            [
                f'name = "{name}"',
                'kind = "rms_norm"',
                f'input = "{source}"',
                f"input_scale = {q.scale(name + '.input')!r}",
                f"output_scale = {q.scale(name)!r}",
            ]
        )

    def add(name, a, b):
        layers.append(
            [
                f'name = "{name}"',
                'kind = "add"',
                f'inputs = ["{a}", "{b}"]',
                f"output_scale = {residual!r}",
            ]
        )

    for b in range(cfg["blocks"]):
        norm(f"b{b}.norm1", stream)
        layers.append(
            [f'name = "b{b}.attn"', 'kind = "attention"', f'input = "b{b}.norm1"']
            + [f"heads = {cfg['heads']}"]
            + [line for m in "qkvo" for line in matrix(f"b{b}.attn", f"w{m}", f"b{b}.w{m}")]
            + [f"{m}_scale = {q.scale(f'b{b}.{m}')!r}" for m in "qkv"]
            + [
                f"scores_scale = {q.scale(f'b{b}.scores')!r}",
                f"context_scale = {q.scale(f'b{b}.attn')!r}",
                f"output_scale = {residual!r}",
            ]
        )
        add(f"b{b}.add1", stream, f"b{b}.attn")
        norm(f"b{b}.norm2", f"b{b}.add1")
        layers.append(
            [f'name = "b{b}.mlp"', 'kind = "mlp"', f'input = "b{b}.norm2"']
            + matrix(f"b{b}.mlp", "w1", f"b{b}.w1")
            + [
                f"hidden_scale = {q.scale(f'b{b}.hidden')!r}",
                'activation = "gelu"',
                f"activation_scale = {q.scale(f'b{b}.gelu')!r}",
            ]
            + matrix(f"b{b}.mlp", "w2", f"b{b}.w2")
            + [f"output_scale = {residual!r}"]
        )
        add(f"b{b}.add2", f"b{b}.add1", f"b{b}.mlp")
        stream = f"b{b}.add2"
    norm("norm", stream)
    ints, scales = weights["out"]
    layers.append(
        [
            'name = "logits"',
            'kind = "fully_connected"',
            'input = "norm"',
            f"inputs = {d}",
            f"outputs = {vocab}",
            'activation = "none"',
            f'weights = {tensor("logits.weights.npy", np.ascontiguousarray(ints.T))}',
            'weight_scales = '
            f'{tensor("logits.weight_scales.npy", scales.astype(np.float32))}',
            f'bias = {tensor("logits.bias.npy", np.zeros(vocab, np.int32))}',
            f"output_scale = {q.scale('logits')!r}",
            "output_zero_point = 0",
        ]
    )

    head = [
        '# Written by scripts/quantize_charlm.py from the float weights beside it; see',
        "# docs/transformer.md. Weights are int8 [outputs, inputs] with float32 scales per",
        "# output channel; every scale is float32, real = q * scale (zero points are 0).",
        'format = "metronome-model/2"',
        'name = "charlm"',
        f"description = {json.dumps(DESCRIPTION.format(**cfg))}",
        "",
        "[input]",
        f"vocab = {vocab}",
        f"context = {context}",
        f"symbols = {json.dumps(lm.VOCAB)}  # token k is symbols[k]",
        "",
        "[test]",
        'text = "held_out.txt"',
    ]
    body = ["\n[[layers]]\n" + "\n".join(layer) for layer in layers]
    for name, array in files.items():
        np.save(model / name, array)
    (model / "model.toml").write_text("\n".join(head) + "\n" + "\n".join(body) + "\n")
    assert hidden == weights["b0.w1"][0].shape[1]


DESCRIPTION = (
    "character-level transformer on CPython's pydoc topics, int8: {blocks} blocks, d={d_model}, "
    "{heads} heads, MLP {mlp_hidden} (GELU), context {context}"
)


def nll(logits, targets):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], -1).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    ap.add_argument("--model", type=pathlib.Path, default=root / "models" / "charlm")
    ap.add_argument("--windows", type=int, default=64)
    ap.add_argument("--write", action="store_true", help="write the int8 model into --model")
    args = ap.parse_args()

    meta, p = load(args.model)
    cfg = meta["config"]
    text = lm.corpus()
    split = meta["train_chars"]
    assert text[split:] == (args.model / "held_out.txt").read_text(), "held_out.txt is stale"
    train, held = lm.encode(text[:split]), lm.encode(text[split:])

    q = Scales()
    # The tables' grids cover every row, not only those the calibration text reaches.
    q.seen["tok"], q.seen["pos"] = float(np.abs(p["tok"]).max()), float(np.abs(p["pos"]).max())
    forward(p, lm.windows(train, cfg["context"], 32)[0], cfg, q)
    q.calibrating = False

    x, y = lm.windows(held, cfg["context"], args.windows)
    float_logits = forward(p, x, cfg, None)
    int8_logits = forward(p, x, cfg, q)
    lf, lq = nll(float_logits, y), nll(int8_logits, y)
    agree = float((float_logits.argmax(-1) == int8_logits.argmax(-1)).mean())
    print(
        f"held-out loss: float {lf:.4f}, int8 plan {lq:.4f} nats/char ({100 * (lq / lf - 1):+.2f} %); "
        f"argmax agreement {100 * agree:.2f} % over {y.size} positions"
    )
    if args.write:
        export(args.model, meta, p, q)
        print(f"wrote {args.model / 'model.toml'}")


if __name__ == "__main__":
    main()
