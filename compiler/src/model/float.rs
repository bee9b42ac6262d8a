//! The float transformer a token model was quantized from, when the model directory ships it
//! (`float.json` and `*.float.npy`, as `scripts/train_charlm.py` writes them; all `x @ w`):
//! what the int8 model's quality is measured against.

use serde::Deserialize;

use super::{Activation, ModelError, ModelSource};
use crate::npy::{self, Data};

/// `float.json`'s architecture.
#[derive(Deserialize)]
struct FloatFile {
    config: FloatConfig,
    /// The training script's held-out loss, nats per token.
    held_out_loss: Option<f64>,
}

#[derive(Deserialize)]
struct FloatConfig {
    d_model: usize,
    heads: usize,
    blocks: usize,
    mlp_hidden: usize,
    context: usize,
    eps: f32,
}

/// A decoder-only transformer in float32: pre-norm RMSNorm blocks of causal attention and a
/// GELU MLP, learned token and position embeddings.
pub struct FloatTransformer {
    width: usize,
    heads: usize,
    eps: f32,
    tok: Vec<f32>,
    pos: Vec<f32>,
    blocks: Vec<FloatBlock>,
    norm: Vec<f32>,
    out: Vec<f32>,
    /// The loss the training script measured on the held-out split, if it wrote it.
    pub held_out_loss: Option<f64>,
}

struct FloatBlock {
    norm1: Vec<f32>,
    wq: Vec<f32>,
    wk: Vec<f32>,
    wv: Vec<f32>,
    wo: Vec<f32>,
    norm2: Vec<f32>,
    w1: Vec<f32>,
    w2: Vec<f32>,
}

impl FloatTransformer {
    /// Reads `float.json` and the float tensors it implies, for an int8 model of `vocab`
    /// symbols and `context` positions.
    pub fn load(
        src: &(impl ModelSource + ?Sized),
        vocab: usize,
        context: usize,
    ) -> Result<Self, ModelError> {
        let text = src.read("float.json")?;
        let file: FloatFile = serde_json::from_slice(&text).map_err(|e| ModelError::File {
            path: src.path("float.json"),
            message: e.to_string(),
        })?;
        let c = &file.config;
        let (d, h) = (c.d_model, c.mlp_hidden);
        let refuse = |message: String| {
            Err(ModelError::File {
                path: src.path("float.json"),
                message,
            })
        };
        if d == 0 || h == 0 || c.heads == 0 || d % c.heads != 0 {
            return refuse(format!(
                "d_model {d}, mlp_hidden {h} and heads {}: widths must be positive and the heads \
                 must divide d_model",
                c.heads
            ));
        }
        if c.context < context {
            return refuse(format!(
                "the float model's context is {}, shorter than the int8 model's {context}",
                c.context
            ));
        }
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, ModelError> {
            let file = format!("{name}.float.npy");
            let bad = |message: String| ModelError::File {
                path: src.path(&file),
                message,
            };
            let a = npy::read(&src.read(&file)?).map_err(|e| bad(e.to_string()))?;
            if a.shape != shape {
                return Err(bad(format!("has shape {:?}, expected {shape:?}", a.shape)));
            }
            match a.data {
                Data::F32(v) if v.iter().all(|x| x.is_finite()) => Ok(v),
                Data::F32(_) => Err(bad("holds a value that is not finite".into())),
                other => Err(bad(format!("holds {}, expected float32", other.dtype()))),
            }
        };
        let blocks = (0..c.blocks)
            .map(|b| {
                let w = |n: &str, shape: &[usize]| read(&format!("b{b}.{n}"), shape);
                Ok(FloatBlock {
                    norm1: w("norm1", &[d])?,
                    wq: w("wq", &[d, d])?,
                    wk: w("wk", &[d, d])?,
                    wv: w("wv", &[d, d])?,
                    wo: w("wo", &[d, d])?,
                    norm2: w("norm2", &[d])?,
                    w1: w("w1", &[d, h])?,
                    w2: w("w2", &[h, d])?,
                })
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(FloatTransformer {
            width: d,
            heads: c.heads,
            eps: c.eps,
            tok: read("tok", &[vocab, d])?,
            pos: read("pos", &[c.context, d])?,
            blocks,
            norm: read("norm", &[d])?,
            out: read("out", &[d, vocab])?,
            held_out_loss: file.held_out_loss,
        })
    }

    /// The float logits at every position of `tokens` (at most the context).
    pub fn logits(&self, tokens: &[usize]) -> Vec<Vec<f32>> {
        let d = self.width;
        let hd = d / self.heads;
        // `x @ w` for w of `x.len()` rows.
        let matmul = |x: &[f32], w: &[f32]| -> Vec<f32> {
            let cols = w.len() / x.len();
            (0..cols)
                .map(|j| x.iter().enumerate().map(|(k, v)| v * w[k * cols + j]).sum())
                .collect()
        };
        let norm = |x: &[f32], g: &[f32]| -> Vec<f32> {
            let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
            let r = 1.0 / (ms + self.eps).sqrt();
            x.iter().zip(g).map(|(v, g)| v * r * g).collect()
        };
        let mut x: Vec<Vec<f32>> = tokens
            .iter()
            .enumerate()
            .map(|(p, t)| {
                (0..d)
                    .map(|j| self.tok[t * d + j] + self.pos[p * d + j])
                    .collect()
            })
            .collect();
        for b in &self.blocks {
            let a: Vec<Vec<f32>> = x.iter().map(|r| norm(r, &b.norm1)).collect();
            let q: Vec<Vec<f32>> = a.iter().map(|r| matmul(r, &b.wq)).collect();
            let k: Vec<Vec<f32>> = a.iter().map(|r| matmul(r, &b.wk)).collect();
            let v: Vec<Vec<f32>> = a.iter().map(|r| matmul(r, &b.wv)).collect();
            for (p, qp) in q.iter().enumerate() {
                let mut y = vec![0f32; d];
                for h in 0..self.heads {
                    let dims = h * hd..(h + 1) * hd;
                    let s: Vec<f32> = (0..=p)
                        .map(|t| {
                            dims.clone().map(|j| qp[j] * k[t][j]).sum::<f32>() / (hd as f32).sqrt()
                        })
                        .collect();
                    let m = s.iter().cloned().fold(f32::MIN, f32::max);
                    let e: Vec<f32> = s.iter().map(|s| (s - m).exp()).collect();
                    let sum: f32 = e.iter().sum();
                    for j in dims {
                        y[j] = (0..=p).map(|t| e[t] / sum * v[t][j]).sum();
                    }
                }
                let o = matmul(&y, &b.wo);
                x[p].iter_mut().zip(o).for_each(|(x, o)| *x += o);
            }
            for row in x.iter_mut() {
                let m = norm(row, &b.norm2);
                let h: Vec<f32> = matmul(&m, &b.w1)
                    .into_iter()
                    .map(|v| Activation::Gelu.apply(v as f64) as f32)
                    .collect();
                let o = matmul(&h, &b.w2);
                row.iter_mut().zip(o).for_each(|(x, o)| *x += o);
            }
        }
        x.iter()
            .map(|r| matmul(&norm(r, &self.norm), &self.out))
            .collect()
    }
}

/// Next-token loss in nats of `logits` (any scale) for `target`.
pub fn nll(logits: &[f64], target: usize) -> f64 {
    let m = logits.iter().cloned().fold(f64::MIN, f64::max);
    let sum: f64 = logits.iter().map(|z| (z - m).exp()).sum();
    -(logits[target] - m - sum.ln())
}
