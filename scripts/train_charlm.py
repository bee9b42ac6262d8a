#!/usr/bin/env python3
"""Train the float `charlm` reference model for Metronome: a character-level decoder-only
transformer on CPython's `pydoc_data/topics.py` (on every machine with Python; no download).

The architecture is chosen for the chip (see docs/transformer.md): pre-norm blocks with
RMSNorm, causal multi-head self-attention and a GELU MLP, learned token and position
embeddings, no biases, untied output logits, a vocabulary of 96 characters (printable ASCII and
newline; others are folded onto those) so every width is a multiple of 8.

The text is split by position: the last `--held-out` fraction is the held-out split, kept apart
from training and written as `held_out.txt` beside the weights, with the float model's loss on
it.

Usage:
    python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-train.txt
    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/train_charlm.py --out models/charlm
"""
import argparse
import json
import math
import pathlib
import time

import autograd.numpy as anp
import numpy as np
from autograd import grad

VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
FOLD = {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2014": "-",
        "\u2013": "-", "\u2026": "...", "\u00df": "ss", "\u00b0": " degrees"}


def corpus():
    """topics.py's entries in a fixed order, as one string over VOCAB."""
    from pydoc_data import topics

    text = "\n".join(topics.topics[k] for k in sorted(topics.topics))
    text = "".join(FOLD.get(c, c) for c in text)
    return "".join(c if c in VOCAB else "?" for c in text)


def encode(text):
    index = {c: i for i, c in enumerate(VOCAB)}
    return np.array([index[c] for c in text], dtype=np.int64)


def init(rng, cfg):
    d, h, v, t = cfg["d_model"], cfg["mlp_hidden"], len(VOCAB), cfg["context"]

    def normal(*shape, fan_in):
        return (rng.standard_normal(shape) / math.sqrt(fan_in)).astype(np.float32)

    p = {"tok": normal(v, d, fan_in=d) * 0.5, "pos": normal(t, d, fan_in=d) * 0.1}
    for b in range(cfg["blocks"]):
        p[f"b{b}.norm1"] = np.ones(d, np.float32)
        p[f"b{b}.wq"] = normal(d, d, fan_in=d)
        p[f"b{b}.wk"] = normal(d, d, fan_in=d)
        p[f"b{b}.wv"] = normal(d, d, fan_in=d)
        p[f"b{b}.wo"] = normal(d, d, fan_in=d) / math.sqrt(2 * cfg["blocks"])
        p[f"b{b}.norm2"] = np.ones(d, np.float32)
        p[f"b{b}.w1"] = normal(d, h, fan_in=d)
        p[f"b{b}.w2"] = normal(h, d, fan_in=h) / math.sqrt(2 * cfg["blocks"])
    p["norm"] = np.ones(d, np.float32)
    p["out"] = normal(d, v, fan_in=d)
    return p


def rmsnorm(x, g, eps):
    return x / anp.sqrt(anp.mean(x * x, axis=-1, keepdims=True) + eps) * g


def gelu(x):
    """GELU, tanh form (the chip's table is built from the same function)."""
    return 0.5 * x * (1.0 + anp.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


def softmax(x):
    e = anp.exp(x - anp.max(x, axis=-1, keepdims=True))
    return e / anp.sum(e, axis=-1, keepdims=True)


def logits(p, tokens, cfg):
    """Logits [batch, time, vocab] for int tokens [batch, time]."""
    bsz, t = tokens.shape
    d, heads = cfg["d_model"], cfg["heads"]
    hd = d // heads
    mask = np.triu(np.full((t, t), -1e9, np.float32), 1)
    x = p["tok"][tokens] + p["pos"][:t]
    for b in range(cfg["blocks"]):
        a = rmsnorm(x, p[f"b{b}.norm1"], cfg["eps"])

        def split(w):
            return anp.transpose(anp.reshape(a @ w, (bsz, t, heads, hd)), (0, 2, 1, 3))

        q, k, v = split(p[f"b{b}.wq"]), split(p[f"b{b}.wk"]), split(p[f"b{b}.wv"])
        att = softmax(q @ anp.transpose(k, (0, 1, 3, 2)) / math.sqrt(hd) + mask)
        y = anp.reshape(anp.transpose(att @ v, (0, 2, 1, 3)), (bsz, t, d))
        x = x + y @ p[f"b{b}.wo"]
        m = rmsnorm(x, p[f"b{b}.norm2"], cfg["eps"])
        x = x + gelu(m @ p[f"b{b}.w1"]) @ p[f"b{b}.w2"]
    return rmsnorm(x, p["norm"], cfg["eps"]) @ p["out"]


def loss(p, tokens, targets, cfg):
    z = logits(p, tokens, cfg)
    z = z - anp.max(z, axis=-1, keepdims=True)
    logp = z - anp.log(anp.sum(anp.exp(z), axis=-1, keepdims=True))
    picked = anp.sum(logp * np.eye(len(VOCAB), dtype=np.float32)[targets], axis=-1)
    return -anp.mean(picked)


def batches(data, rng, batch, t):
    starts = rng.integers(0, len(data) - t - 1, batch)
    x = np.stack([data[s : s + t] for s in starts])
    y = np.stack([data[s + 1 : s + t + 1] for s in starts])
    return x, y


def windows(data, t, count):
    """`count` evenly spaced windows of `t` characters of `data`, and the characters after."""
    starts = np.linspace(0, len(data) - t - 1, count).astype(np.int64)
    x = np.stack([data[s : s + t] for s in starts])
    y = np.stack([data[s + 1 : s + t + 1] for s in starts])
    return x, y


def evaluate(p, data, cfg, count=64):
    """Mean next-character loss over evenly spaced full-context windows of `data`."""
    return float(loss(p, *windows(data, cfg["context"], count), cfg))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--held-out", type=float, default=0.1)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--context", type=int, default=128)
    args = ap.parse_args()

    cfg = {
        "d_model": args.d_model,
        "heads": args.heads,
        "blocks": args.blocks,
        "mlp_hidden": 4 * args.d_model,
        "context": args.context,
        "eps": 1e-5,
    }
    text = corpus()
    split = int(len(text) * (1 - args.held_out))
    train, held = encode(text[:split]), encode(text[split:])
    rng = np.random.default_rng(args.seed)
    p = init(rng, cfg)
    g = grad(loss)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    s = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2 = 0.9, 0.99
    started = time.time()
    for step in range(1, args.steps + 1):
        lr = args.lr * min(1.0, step / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        x, y = batches(train, rng, args.batch, cfg["context"])
        grads = g(p, x, y, cfg)
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * grads[k]
            s[k] = b2 * s[k] + (1 - b2) * grads[k] ** 2
            update = m[k] / (1 - b1**step) / (np.sqrt(s[k] / (1 - b2**step)) + 1e-8)
            p[k] = (p[k] - lr * update).astype(np.float32)
        if step % 250 == 0 or step == args.steps:
            print(
                f"step {step}: held-out loss {evaluate(p, held, cfg):.3f} "
                f"({time.time() - started:.0f} s)",
                flush=True,
            )

    held_loss = evaluate(p, held, cfg)
    args.out.mkdir(parents=True, exist_ok=True)
    for k, v in p.items():
        np.save(args.out / f"{k}.float.npy", v.astype(np.float32))
    (args.out / "held_out.txt").write_text(text[split:])
    (args.out / "float.json").write_text(
        json.dumps(
            {
                "config": cfg,
                "vocab": VOCAB,
                "seed": args.seed,
                "steps": args.steps,
                "train_chars": split,
                "held_out_chars": len(text) - split,
                "held_out_loss": held_loss,
                "parameters": int(sum(v.size for v in p.values())),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"held-out loss {held_loss:.3f} nats/char; wrote {args.out}")


if __name__ == "__main__":
    main()
