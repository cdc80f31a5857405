//! Multinomial logistic regression on a dense block plus a sparse block of features, trained by
//! L-BFGS on the mean cross-entropy with an L2 penalty, and temperature scaling of its logits.
//!
//! Plain Rust, single-threaded, deterministic: the same data give the same weights bit for bit.
//! Weights are stored feature-major (`weights[feature * classes + class]`), so one feature's
//! contribution to every class is one contiguous `axpy` over the classes.

use serde::{Deserialize, Serialize};

/// One example's features: `dense` has the model's dense dimension; `sparse` holds
/// `(index, value)` pairs with indices into the sparse block (below its dimension).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub dense: Vec<f32>,
    pub sparse: Vec<(u32, f32)>,
}

/// How [`LinearModel::fit`] trains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FitConfig {
    /// L2 penalty on the weights (not the biases), added to the *mean* cross-entropy as
    /// `l2 / 2 * |W|^2`. scikit-learn's `C` is `1 / (l2 * n)`.
    pub l2: f32,
    /// Most L-BFGS iterations.
    pub max_iter: usize,
    /// Stop when the loss improves by less than this (relative) in one iteration.
    pub tolerance: f64,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            l2: 1e-4,
            max_iter: 300,
            tolerance: 1e-7,
        }
    }
}

/// A trained linear classifier: `logits = W^T x + b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    classes: usize,
    dense_dim: usize,
    sparse_dim: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// The training set as the loss function sees it.
struct Problem<'a> {
    xs: &'a [Features],
    ys: &'a [usize],
    /// Fixed per-example logit offsets (`classes` values each), added before the softmax.
    offsets: Option<&'a [Vec<f32>]>,
    classes: usize,
    dense_dim: usize,
    sparse_dim: usize,
    l2: f32,
}

impl LinearModel {
    /// Trains on `xs` with labels `ys` (each below `classes`). `offsets`, when given, are fixed
    /// logits added to each example's (for a prior the model learns a correction of).
    /// Examples whose features do not fit the dimensions are truncated to them, never a panic.
    pub fn fit(
        xs: &[Features],
        ys: &[usize],
        classes: usize,
        dense_dim: usize,
        sparse_dim: usize,
        offsets: Option<&[Vec<f32>]>,
        config: &FitConfig,
    ) -> LinearModel {
        let classes = classes.max(1);
        let n_params = (dense_dim + sparse_dim) * classes + classes;
        let mut params = vec![0f32; n_params];
        let n = xs.len().min(ys.len());
        if n > 0 {
            let problem = Problem {
                xs: &xs[..n],
                ys: &ys[..n],
                offsets,
                classes,
                dense_dim,
                sparse_dim,
                l2: config.l2.max(0.0),
            };
            minimize(
                |x, g| problem.loss_grad(x, g),
                &mut params,
                config.max_iter,
                config.tolerance,
            );
        }
        let bias = params.split_off((dense_dim + sparse_dim) * classes);
        LinearModel {
            classes,
            dense_dim,
            sparse_dim,
            weights: params,
            bias,
        }
    }

    /// The logits of one example (without any offset).
    pub fn logits(&self, x: &Features) -> Vec<f32> {
        let mut z = self.bias.clone();
        add_logits(
            &self.weights,
            x,
            self.classes,
            self.dense_dim,
            self.sparse_dim,
            &mut z,
        );
        z
    }
}

/// `z += W^T x`, skipping features outside the dimensions.
fn add_logits(
    weights: &[f32],
    x: &Features,
    classes: usize,
    dense_dim: usize,
    sparse_dim: usize,
    z: &mut [f32],
) {
    for (k, &v) in x.dense.iter().take(dense_dim).enumerate() {
        if v != 0.0 {
            axpy(v, &weights[k * classes..(k + 1) * classes], z);
        }
    }
    for &(j, v) in &x.sparse {
        let j = j as usize;
        if j < sparse_dim {
            let row = dense_dim + j;
            axpy(v, &weights[row * classes..(row + 1) * classes], z);
        }
    }
}

impl Problem<'_> {
    /// Mean cross-entropy plus the L2 penalty at `params`; writes the gradient into `grad`.
    fn loss_grad(&self, params: &[f32], grad: &mut [f32]) -> f64 {
        let c = self.classes;
        let rows = self.dense_dim + self.sparse_dim;
        let (w, b) = params.split_at(rows * c);
        grad.fill(0.0);
        let (gw, gb) = grad.split_at_mut(rows * c);
        let n = self.xs.len() as f32;
        let mut loss = 0f64;
        let mut z = vec![0f32; c];
        for (i, (x, &y)) in self.xs.iter().zip(self.ys).enumerate() {
            z.copy_from_slice(b);
            if let Some(offset) = self.offsets.and_then(|o| o.get(i)) {
                z.iter_mut().zip(offset).for_each(|(z, o)| *z += o);
            }
            add_logits(w, x, c, self.dense_dim, self.sparse_dim, &mut z);
            softmax_in_place(&mut z);
            let y = y.min(c - 1);
            loss -= f64::from(z[y].max(f32::MIN_POSITIVE).ln());
            // z now holds p; the gradient of the example's loss on the logits is p - onehot(y)
            z[y] -= 1.0;
            z.iter_mut().for_each(|v| *v /= n);
            for (k, &v) in x.dense.iter().take(self.dense_dim).enumerate() {
                if v != 0.0 {
                    axpy(v, &z, &mut gw[k * c..(k + 1) * c]);
                }
            }
            for &(j, v) in &x.sparse {
                let j = j as usize;
                if j < self.sparse_dim {
                    let row = self.dense_dim + j;
                    axpy(v, &z, &mut gw[row * c..(row + 1) * c]);
                }
            }
            gb.iter_mut().zip(&z).for_each(|(g, v)| *g += v);
        }
        loss /= f64::from(n);
        let mut penalty = 0f64;
        for (g, &wv) in gw.iter_mut().zip(w) {
            penalty += f64::from(wv) * f64::from(wv);
            *g += self.l2 * wv;
        }
        loss + 0.5 * f64::from(self.l2) * penalty
    }
}

/// `y += a * x` over the shorter of the two.
#[inline]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    // f32 partial sums in chunks keep it vectorisable; the total is accumulated in f64.
    let mut total = 0f64;
    for (ca, cb) in a.chunks(1024).zip(b.chunks(1024)) {
        let s: f32 = ca.iter().zip(cb).map(|(x, y)| x * y).sum();
        total += f64::from(s);
    }
    total
}

/// Replaces logits by their softmax probabilities; returns the log of the normaliser
/// (`logsumexp(z)`). Non-finite logits are treated as very negative.
pub fn softmax_in_place(z: &mut [f32]) -> f32 {
    let max = z
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    let max = if max.is_finite() { max } else { 0.0 };
    let mut sum = 0f32;
    for v in z.iter_mut() {
        *v = if v.is_finite() { (*v - max).exp() } else { 0.0 };
        sum += *v;
    }
    if sum <= 0.0 || !sum.is_finite() {
        let uniform = 1.0 / z.len().max(1) as f32;
        z.iter_mut().for_each(|v| *v = uniform);
        return max;
    }
    z.iter_mut().for_each(|v| *v /= sum);
    max + sum.ln()
}

/// The softmax of `logits / temperature`.
pub fn probabilities(logits: &[f32], temperature: f32) -> Vec<f32> {
    let t = if temperature.is_finite() && temperature > 0.0 {
        temperature
    } else {
        1.0
    };
    let mut z: Vec<f32> = logits.iter().map(|v| v / t).collect();
    softmax_in_place(&mut z);
    z
}

/// Mean negative log-likelihood of `labels` under `softmax(logits / t)`.
pub fn nll(logits: &[Vec<f32>], labels: &[usize], t: f32) -> f64 {
    if logits.is_empty() {
        return 0.0;
    }
    let total: f64 = logits
        .iter()
        .zip(labels)
        .map(|(z, &y)| {
            let p = probabilities(z, t);
            -f64::from(p.get(y).copied().unwrap_or(0.0).max(1e-12).ln())
        })
        .sum();
    total / logits.len() as f64
}

/// The temperature in [0.05, 50] that minimises the NLL of held-out `logits` (temperature
/// scaling, Guo et al. 2017): golden-section search on log t (the NLL is unimodal in it).
/// Without data the temperature is 1.
pub fn fit_temperature(logits: &[Vec<f32>], labels: &[usize]) -> f32 {
    if logits.is_empty() {
        return 1.0;
    }
    let f = |log_t: f64| nll(logits, labels, log_t.exp() as f32);
    let (mut lo, mut hi) = ((0.05f64).ln(), (50f64).ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = hi - ratio * (hi - lo);
    let mut b = lo + ratio * (hi - lo);
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..60 {
        if fa <= fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - ratio * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + ratio * (hi - lo);
            fb = f(b);
        }
    }
    (((lo + hi) / 2.0).exp()) as f32
}

/// L-BFGS (history 6) with a backtracking Armijo line search. `f(x, grad)` returns the loss at
/// `x` and writes its gradient. Stops after `max_iter` iterations, when the loss stops improving
/// by `tolerance` (relative), or when no step decreases it.
pub fn minimize(
    mut f: impl FnMut(&[f32], &mut [f32]) -> f64,
    x: &mut [f32],
    max_iter: usize,
    tolerance: f64,
) {
    const HISTORY: usize = 6;
    let n = x.len();
    if n == 0 {
        return;
    }
    let mut g = vec![0f32; n];
    let mut fx = f(x, &mut g);
    let mut s_hist: Vec<Vec<f32>> = Vec::new();
    let mut y_hist: Vec<Vec<f32>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut d = vec![0f32; n];
    let mut x_new = vec![0f32; n];
    let mut g_new = vec![0f32; n];
    let mut alpha = [0f64; HISTORY];
    for _ in 0..max_iter {
        // two-loop recursion: d = -H g
        d.copy_from_slice(&g);
        let k = s_hist.len();
        for i in (0..k).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &d);
            axpy(-(alpha[i] as f32), &y_hist[i], &mut d);
        }
        let gamma = if k > 0 {
            let yy = dot(&y_hist[k - 1], &y_hist[k - 1]);
            if yy > 0.0 {
                dot(&s_hist[k - 1], &y_hist[k - 1]) / yy
            } else {
                1.0
            }
        } else {
            let gg = dot(&g, &g).sqrt();
            if gg > 0.0 { 1.0 / gg } else { 1.0 }
        };
        d.iter_mut().for_each(|v| *v *= gamma as f32);
        for i in 0..k {
            let beta = rho[i] * dot(&y_hist[i], &d);
            axpy((alpha[i] - beta) as f32, &s_hist[i], &mut d);
        }
        d.iter_mut().for_each(|v| *v = -*v);
        let mut dg = dot(&d, &g);
        if dg >= 0.0 || !dg.is_finite() {
            // not a descent direction: restart from steepest descent
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            let gg = dot(&g, &g);
            let scale = if gg > 0.0 { 1.0 / gg.sqrt() } else { 1.0 };
            d.iter_mut()
                .zip(&g)
                .for_each(|(d, g)| *d = -g * scale as f32);
            dg = dot(&d, &g);
            if dg >= 0.0 {
                return; // zero gradient: a minimum
            }
        }
        let mut step = 1f32;
        let mut f_new;
        loop {
            x_new
                .iter_mut()
                .zip(x.iter().zip(&d))
                .for_each(|(xn, (x, d))| *xn = x + step * d);
            f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * f64::from(step) * dg {
                break;
            }
            step *= 0.5;
            if step < 1e-10 {
                return;
            }
        }
        // history update: s = x_new - x, y = g_new - g
        let (mut s, mut y) = if s_hist.len() == HISTORY {
            rho.remove(0);
            (s_hist.remove(0), y_hist.remove(0))
        } else {
            (vec![0f32; n], vec![0f32; n])
        };
        s.iter_mut()
            .zip(x_new.iter().zip(x.iter()))
            .for_each(|(s, (a, b))| *s = a - b);
        y.iter_mut()
            .zip(g_new.iter().zip(&g))
            .for_each(|(y, (a, b))| *y = a - b);
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            rho.push(1.0 / sy);
            s_hist.push(s);
            y_hist.push(y);
        }
        let improvement = fx - f_new;
        x.copy_from_slice(&x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if improvement <= tolerance * fx.abs().max(1.0) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimize_finds_the_minimum_of_a_quadratic() {
        // f(x) = sum (i+1) * (x_i - i)^2
        let mut x = vec![0f32; 5];
        minimize(
            |x, g| {
                let mut f = 0f64;
                for (i, (&xi, gi)) in x.iter().zip(g.iter_mut()).enumerate() {
                    let w = (i + 1) as f32;
                    let d = xi - i as f32;
                    f += f64::from(w * d * d);
                    *gi = 2.0 * w * d;
                }
                f
            },
            &mut x,
            100,
            1e-12,
        );
        for (i, xi) in x.iter().enumerate() {
            assert!((xi - i as f32).abs() < 1e-3, "{x:?}");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_survives_extremes() {
        let mut z = vec![1000.0, 0.0, -1000.0];
        softmax_in_place(&mut z);
        assert!((z.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(z[0] > 0.999);
        let mut bad = vec![f32::NAN, f32::INFINITY];
        softmax_in_place(&mut bad);
        assert!(bad.iter().all(|v| v.is_finite()));
        assert!((bad.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let xs = vec![
            Features {
                dense: vec![1.0, -0.5],
                sparse: vec![(0, 1.0)],
            },
            Features {
                dense: vec![0.2, 0.8],
                sparse: vec![(1, 0.5)],
            },
            Features {
                dense: vec![-0.3, 0.1],
                sparse: vec![],
            },
        ];
        let ys = vec![0, 1, 2];
        let problem = Problem {
            xs: &xs,
            ys: &ys,
            offsets: None,
            classes: 3,
            dense_dim: 2,
            sparse_dim: 2,
            l2: 0.1,
        };
        let params: Vec<f32> = (0..15).map(|i| (i as f32 * 0.37).sin() * 0.5).collect();
        let mut grad = vec![0f32; 15];
        problem.loss_grad(&params, &mut grad);
        let mut scratch = vec![0f32; 15];
        for i in 0..15 {
            let h = 1e-3f32;
            let mut plus = params.clone();
            plus[i] += h;
            let mut minus = params.clone();
            minus[i] -= h;
            let numeric = (problem.loss_grad(&plus, &mut scratch)
                - problem.loss_grad(&minus, &mut scratch))
                / (2.0 * f64::from(h));
            assert!(
                (numeric - f64::from(grad[i])).abs() < 2e-3,
                "param {i}: numeric {numeric} analytic {}",
                grad[i]
            );
        }
    }

    #[test]
    fn fit_separates_separable_classes() {
        let xs: Vec<Features> = (0..30)
            .map(|i| {
                let class = i % 3;
                let mut dense = vec![0.1f32; 3];
                dense[class] = 1.0;
                Features {
                    dense,
                    sparse: vec![],
                }
            })
            .collect();
        let ys: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let model = LinearModel::fit(&xs, &ys, 3, 3, 0, None, &FitConfig::default());
        for (x, &y) in xs.iter().zip(&ys) {
            let z = model.logits(x);
            let best = (0..3).max_by(|&a, &b| z[a].total_cmp(&z[b])).unwrap();
            assert_eq!(best, y);
        }
    }

    #[test]
    fn temperature_undoes_overconfidence() {
        // logits scaled by 4 from ones that are calibrated at t = 1 (two classes, p = 0.73)
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for i in 0..1000 {
            logits.push(vec![4.0, 0.0]);
            // label 0 with probability sigmoid(1) = 0.731
            labels.push(usize::from(i % 1000 >= 731));
        }
        let t = fit_temperature(&logits, &labels);
        assert!((t - 4.0).abs() < 0.1, "{t}");
        assert_eq!(fit_temperature(&[], &[]), 1.0);
    }
}
