//! An independent reference for token models (format 2): the integer recipes of
//! `docs/transformer.md`, as plain loops over the model file's integers, over a whole
//! sequence at once (no KV cache), written from that page and sharing no code with the
//! compiler or the golden model. And the float model the int8 one came from, for quality.

use compiler::model::{Attention, Clamp, Input, Layer, Mlp, Model, Projection, RmsNorm, Source};

use super::requantize;

/// The rounding of every table: half away from zero.
fn round(x: f64) -> i64 {
    x.round() as i64
}

/// `RQ` to int8: requantize, no zero point, saturate.
fn to_int8(acc: i64, real: f64) -> i32 {
    requantize(acc as i32, real).clamp(-128, 127) as i32
}

/// `RQ` to int32.
fn to_int32(acc: i64, real: f64) -> i32 {
    requantize(acc as i32, real).clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// A norm's factor and shift for one row, folded into the projection that reads it.
type Fold = (i64, i64);

/// `y = W x` for every output channel, int32 sums; for a norm's row `x`, each sum times the
/// norm's factor, shifted down.
fn matvec(w: &Projection, x: &[i32], fold: Option<Fold>) -> Vec<i64> {
    (0..w.outputs)
        .map(|c| {
            let sum: i64 = (0..w.inputs)
                .map(|k| w.weights[c * w.inputs + k] as i64 * x[k] as i64)
                .sum();
            scale_by(sum, fold)
        })
        .collect()
}

fn scale_by(sum: i64, fold: Option<Fold>) -> i64 {
    match fold {
        Some((factor, down)) => {
            let product = sum * factor;
            assert!(i32::try_from(product).is_ok(), "the fold stays in int32");
            product >> down
        }
        None => sum,
    }
}

/// The bits `K` of the norm's factor table for a model `d` wide: the most with `d * 128 *
/// 127` times the largest entry, `round(2^K / sqrt(64.5))`, at most 2^31 - 1.
fn factor_bits(d: usize) -> i32 {
    let mut k = 30;
    while (d * 128 * 127) as i64 * round(2f64.powi(k) / 64.5f64.sqrt()) > i32::MAX as i64 {
        k -= 1;
    }
    k
}

/// The grid a norm's folded sums are on per unit of weight scale: `sqrt(d) 2^(4 - K)`.
fn fold_unit(d: usize) -> f32 {
    ((d as f64).sqrt() * 2f64.powi(4 - factor_bits(d))) as f32
}

/// The table softmax reads: `2^15 / m` for the mantissa `m = (i + 384.5) / 512`.
fn recip_entry(i: i64) -> i64 {
    round(2f64.powi(24) / (i as f64 + 384.5))
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + (0.7978845608028654 * (x + 0.044715 * x * x * x)).tanh())
}

fn leading_zeros(x: i64) -> i64 {
    (x as i32 as u32).leading_zeros() as i64
}

/// One row of `rms_norm`: the residual row `r` (on grid `stream_scale`) to int8, and the
/// factor and shift a projection reading it folds in.
fn rms_norm(n: &RmsNorm, stream_scale: f32, r: &[i32]) -> (Vec<i32>, Fold) {
    let x: Vec<i32> = r
        .iter()
        .map(|v| to_int8(*v as i64, stream_scale as f64 / n.input_scale as f64))
        .collect();
    let ss: i64 = x.iter().map(|v| (*v as i64) * (*v as i64)).sum();
    // Normalise the sum to [2^28, 2^30) by an even shift, look its mantissa up.
    let half = (leading_zeros(ss) - 2) >> 1;
    let normalised = ss << (2 * half);
    let index = ((normalised >> 22) - 192).clamp(-128, 127);
    let factor = round(2f64.powi(factor_bits(x.len())) / (index as f64 + 192.5).sqrt());
    (x, (factor, 15 - half))
}

/// Each position's K and V rows of one attention, int8.
pub type KeysValues = (Vec<Vec<i32>>, Vec<Vec<i32>>);

/// Causal attention over every position of `y` (int8 rows on grid `input_scale`), onto
/// the residual grid; and its K and V rows.
fn attention(
    a: &Attention,
    input_scale: f32,
    y: &[Vec<i32>],
    folds: &[Option<Fold>],
) -> (Vec<Vec<i32>>, KeysValues) {
    let per_channel = |w: &Projection, out: f32| -> Vec<Vec<i32>> {
        y.iter()
            .zip(folds)
            .map(|(row, fold)| {
                matvec(w, row, *fold)
                    .iter()
                    .enumerate()
                    .map(|(c, acc)| {
                        to_int8(*acc, input_scale as f64 * w.scales[c] as f64 / out as f64)
                    })
                    .collect()
            })
            .collect()
    };
    let (q, k, v) = (
        per_channel(&a.wq, a.q_scale),
        per_channel(&a.wk, a.k_scale),
        per_channel(&a.wv, a.v_scale),
    );
    let width = a.wq.outputs;
    let hd = width / a.heads;
    let exp: Vec<i64> = (-128..=127)
        .map(|i| {
            if i > 0 {
                0
            } else {
                round(16384.0 * (a.scores_scale as f64 * i as f64).exp())
            }
        })
        .collect();
    let scores_real =
        a.q_scale as f64 * a.k_scale as f64 / (hd as f64).sqrt() / a.scores_scale as f64;
    let mut out = Vec::with_capacity(y.len());
    for (p, qp) in q.iter().enumerate() {
        let mut context = vec![0i32; width];
        for h in 0..a.heads {
            let dims = h * hd..(h + 1) * hd;
            let scores: Vec<i64> = (0..=p)
                .map(|t| {
                    let dot: i64 = dims.clone().map(|j| qp[j] as i64 * k[t][j] as i64).sum();
                    to_int8(dot, scores_real) as i64
                })
                .collect();
            let max = *scores.iter().max().unwrap();
            // Saturated onto the table's inputs, [-128, 0].
            let e: Vec<i64> = scores
                .iter()
                .map(|s| exp[((s - max).clamp(-128, 127) + 128) as usize])
                .collect();
            let sum: i64 = e.iter().sum();
            let c = leading_zeros(sum);
            let normalised = sum << (c - 1);
            let index = ((normalised >> 22) - 384).clamp(-128, 127);
            let r = recip_entry(index);
            let probs: Vec<i64> = e
                .iter()
                .map(|e| ((e * r) >> (40 - c)).clamp(-128, 127))
                .collect();
            for j in dims {
                let acc: i64 = (0..=p).map(|t| probs[t] * v[t][j] as i64).sum();
                context[j] = to_int8(acc, a.v_scale as f64 / 128.0 / a.context_scale as f64);
            }
        }
        let o = matvec(&a.wo, &context, None);
        out.push(
            o.iter()
                .enumerate()
                .map(|(c, acc)| {
                    to_int32(
                        *acc,
                        a.context_scale as f64 * a.wo.scales[c] as f64 / a.output_scale as f64,
                    )
                })
                .collect(),
        );
    }
    (out, (k, v))
}

/// The MLP of one row `y` (int8 on grid `input_scale`), onto the residual grid.
fn mlp(m: &Mlp, input_scale: f32, y: &[i32], fold: Option<Fold>) -> Vec<i32> {
    let table: Vec<i32> = (-128..=127)
        .map(|i| {
            let x = i as f64 * m.hidden_scale as f64;
            round(gelu(x) / m.activation_scale as f64).clamp(-128, 127) as i32
        })
        .collect();
    let hidden: Vec<i32> = matvec(&m.w1, y, fold)
        .iter()
        .enumerate()
        .map(|(c, acc)| {
            let h = to_int8(
                *acc,
                input_scale as f64 * m.w1.scales[c] as f64 / m.hidden_scale as f64,
            );
            table[(h + 128) as usize]
        })
        .collect();
    matvec(&m.w2, &hidden, None)
        .iter()
        .enumerate()
        .map(|(c, acc)| {
            to_int32(
                *acc,
                m.activation_scale as f64 * m.w2.scales[c] as f64 / m.output_scale as f64,
            )
        })
        .collect()
}

/// A layer's rows (one a position), their grid, and for a norm each row's fold.
type Tensor = (Vec<Vec<i32>>, f32, Vec<Option<Fold>>);

/// The int8 logits of `model` at every position of `tokens` (at most its context).
pub fn logits(model: &Model, tokens: &[usize]) -> Vec<Vec<i8>> {
    run(model, tokens).0
}

/// The logits at every position, and each attention's K and V rows.
pub fn run(model: &Model, tokens: &[usize]) -> (Vec<Vec<i8>>, Vec<KeysValues>) {
    let Input::Tokens(vocab) = &model.input else {
        panic!("a token model")
    };
    assert!(tokens.len() <= vocab.context);
    // Per layer: its rows, one per position, the grid they are on, and for a norm each row's
    // fold (a projection reading a norm sees the fold's grid).
    let mut values: Vec<Tensor> = Vec::new();
    let none = vec![None; tokens.len()];
    let mut caches = Vec::new();
    for layer in &model.layers {
        let read = |s: &Source| match s {
            Source::Layer(j) => &values[*j],
            Source::Input => panic!("only an embedding reads the tokens"),
        };
        let made = match layer {
            Layer::Table(_) | Layer::Elementwise(_) => unreachable!("not in token models"),
            Layer::Embedding(e) => {
                let w = e.width;
                let rows = tokens
                    .iter()
                    .enumerate()
                    .map(|(p, t)| {
                        (0..w)
                            .map(|j| {
                                let tok = e.tokens[t * w + j] as i64;
                                let pos = e.positions[p * w + j] as i64;
                                let ts = e.token_scale as f64 / e.output_scale as f64;
                                let ps = e.position_scale as f64 / e.output_scale as f64;
                                to_int32(tok, ts).wrapping_add(to_int32(pos, ps))
                            })
                            .collect()
                    })
                    .collect();
                (rows, e.output_scale, none.clone())
            }
            Layer::RmsNorm(n) => {
                let (rows, scale, _) = read(&n.input);
                let (out, folds): (Vec<_>, Vec<_>) =
                    rows.iter().map(|r| rms_norm(n, *scale, r)).unzip();
                let d = rows[0].len();
                (out, fold_unit(d), folds.into_iter().map(Some).collect())
            }
            Layer::Attention(a) => {
                let (rows, scale, folds) = read(&a.input);
                let (out, kv) = attention(a, *scale, rows, folds);
                caches.push(kv);
                (out, a.output_scale, none.clone())
            }
            Layer::Mlp(m) => {
                let (rows, scale, folds) = read(&m.input);
                let out = rows
                    .iter()
                    .zip(folds)
                    .map(|(r, f)| mlp(m, *scale, r, *f))
                    .collect();
                (out, m.output_scale, none.clone())
            }
            Layer::Add(a) => {
                let parts: Vec<&Vec<Vec<i32>>> = a.inputs.iter().map(|s| &read(s).0).collect();
                let out = (0..tokens.len())
                    .map(|p| {
                        (0..parts[0][p].len())
                            .map(|j| parts.iter().fold(0i32, |s, x| s.wrapping_add(x[p][j])))
                            .collect()
                    })
                    .collect();
                (out, a.output_scale, none.clone())
            }
            Layer::Dense(d) => {
                let (rows, scale, folds) = read(&d.input);
                // After a norm, the bias moves from the norm's output grid to the fold's.
                let bias = |c: usize| -> i64 {
                    match &d.input {
                        Source::Layer(j) => match &model.layers[*j] {
                            Layer::RmsNorm(n) => {
                                round(d.bias[c] as f64 * n.output_scale as f64 / *scale as f64)
                            }
                            _ => d.bias[c] as i64,
                        },
                        Source::Input => d.bias[c] as i64,
                    }
                };
                let out = rows
                    .iter()
                    .zip(folds)
                    .map(|(x, fold)| {
                        (0..d.outputs)
                            .map(|c| {
                                let sum: i64 = (0..d.inputs)
                                    .map(|k| d.weight(c, k) as i64 * x[k] as i64)
                                    .sum();
                                let acc = bias(c) + scale_by(sum, *fold);
                                let real = *scale as f64 * d.weight_scales[c] as f64
                                    / d.output.scale as f64;
                                let v = requantize(acc as i32, real) + d.output.zero_point as i64;
                                let lo = match d.activation {
                                    Clamp::Relu => d.output.zero_point as i64,
                                    Clamp::None => -128,
                                    Clamp::Relu6 => unreachable!("the reference has no ReLU6"),
                                };
                                v.clamp(lo, 127) as i32
                            })
                            .collect()
                    })
                    .collect();
                (out, d.output.scale, none.clone())
            }
        };
        values.push(made);
    }
    let (last, _, _) = values.pop().expect("a model has layers");
    let logits = last
        .into_iter()
        .map(|row| row.into_iter().map(|v| v as i8).collect())
        .collect();
    (logits, caches)
}
