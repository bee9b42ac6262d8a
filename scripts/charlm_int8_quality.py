#!/usr/bin/env python3
"""Measure what int8 costs the `charlm` model, before the compiler lowers it: the float model
of `models/charlm` run with every tensor rounded where the chip would hold it as int8
(docs/transformer.md's numerics), against the float model on the held-out text.

It simulates the plan with floats on integer grids (per-channel int8 weights with the norms'
gains folded in, per-tensor int8 activations calibrated on training text, the residual stream
on one int8 grid, softmax probabilities on a 1/128 grid, exp, reciprocal and reciprocal square
root with 8 significant bits); it is not the bit-exact reference, which the compiler and golden
model define. It prints the held-out next-character loss of both, their ratio and how often
their argmax agrees.

Usage:
    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/charlm_int8_quality.py [--model models/charlm]
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


def grid(x, scale, lo=-128, hi=127):
    return np.clip(np.round(x / scale), lo, hi) * scale


def per_channel(w):
    """Symmetric int8 per output channel (columns of `x @ w`)."""
    scale = np.abs(w).max(axis=0, keepdims=True) / 127
    return np.round(w / scale) * scale


class Scales:
    """Per-tensor scales: recorded (max |x|) while calibrating, then applied."""

    def __init__(self):
        self.seen, self.calibrating = {}, True

    def __call__(self, name, x, bits=8):
        if self.calibrating:
            self.seen[name] = max(self.seen.get(name, 0.0), float(np.abs(x).max()))
            return x
        top = 2 ** (bits - 1) - 1
        return grid(x, self.seen[name] / top, -top - 1, top)


def forward(p, tokens, cfg, q):
    """Logits for tokens [batch, time]; `q` None runs the float model."""
    bsz, t = tokens.shape
    d, heads = cfg["d_model"], cfg["heads"]
    hd = d // heads
    act = q if q else (lambda name, x, bits=8: x)
    w = {}
    for k, v in p.items():
        w[k] = v
    if q:
        # Gains fold into the rows of the projections they feed, then weights go to int8.
        for b in range(cfg["blocks"]):
            for m in "qkv":
                w[f"b{b}.w{m}"] = per_channel(p[f"b{b}.norm1"][:, None] * p[f"b{b}.w{m}"])
            w[f"b{b}.wo"] = per_channel(p[f"b{b}.wo"])
            w[f"b{b}.w1"] = per_channel(p[f"b{b}.norm2"][:, None] * p[f"b{b}.w1"])
            w[f"b{b}.w2"] = per_channel(p[f"b{b}.w2"])
        w["out"] = per_channel(p["norm"][:, None] * p["out"])

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
            step = q.seen[f"b{b}.scores"] / 127
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


def windows(data, t, count):
    starts = np.linspace(0, len(data) - t - 1, count).astype(np.int64)
    return (
        np.stack([data[s : s + t] for s in starts]),
        np.stack([data[s + 1 : s + t + 1] for s in starts]),
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
    args = ap.parse_args()

    meta, p = load(args.model)
    cfg = meta["config"]
    text = lm.corpus()
    split = meta["train_chars"]
    assert text[split:] == (args.model / "held_out.txt").read_text(), "held_out.txt is stale"
    train, held = lm.encode(text[:split]), lm.encode(text[split:])

    q = Scales()
    forward(p, windows(train, cfg["context"], 32)[0], cfg, q)
    q.calibrating = False

    x, y = windows(held, cfg["context"], args.windows)
    float_logits = forward(p, x, cfg, None)
    int8_logits = forward(p, x, cfg, q)
    lf, lq = nll(float_logits, y), nll(int8_logits, y)
    agree = float((float_logits.argmax(-1) == int8_logits.argmax(-1)).mean())
    print(
        f"held-out loss: float {lf:.4f}, int8 plan {lq:.4f} nats/char ({100 * (lq / lf - 1):+.2f} %); "
        f"argmax agreement {100 * agree:.2f} % over {y.size} positions"
    )


if __name__ == "__main__":
    main()
