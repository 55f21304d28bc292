//! The model's own profile: how much of each of X's PCs the model explains, out of sample.
//!
//! For PC i (scores x_i = s_i u_i), predict x_i from the model's Y by ridge regression and
//! report the cross-validated R²_i = 1 − Σ (x_i − x̂_i)² / Σ (x_i − x̄_i)² over the pooled
//! out-of-fold predictions. Choices, and why:
//! * **folds over conditions** (default 5, assigned by a seeded shuffle of the conditions;
//!   every time step of a condition stays in its condition's fold), so no condition is ever
//!   predicted from its own time points;
//! * **ridge, not OLS**: a model often has as many units as X has conditions (q ≥ the
//!   training rows), where least squares interpolates and predicts nothing;
//! * **λ chosen per PC and per fold by generalised cross-validation on the training rows
//!   only** (Golub, Heath & Wahba 1979), from λ = 10^k · mean eigenvalue of the training Gram,
//!   k = −6 … 3: a fixed λ would depend on the units of Y. GCV is closed-form given one SVD of
//!   the training Y, so a fold costs one thin SVD.
//!
//! One fold is one unit of work ([`PcProfile::advance`]).

use nalgebra::{DMatrix, DVector};

use crate::linalg::{column_means, mul, thin_svd, Op};
use crate::rng::Rng;

/// Cross-validated R² of X's first `k` PCs from a model, one fold per [`PcProfile::advance`].
pub struct PcProfile {
    /// X's PC scores (n × k) and the model (n × q).
    xs: DMatrix<f64>,
    y: DMatrix<f64>,
    fold_of_row: Vec<usize>,
    folds: usize,
    next: usize,
    /// Out-of-fold predictions, filled fold by fold.
    pred: DMatrix<f64>,
}

impl PcProfile {
    /// `xs` holds X's PC scores (columns = PCs), `y` the model; `time_steps` rows per
    /// condition block (row = t·C + c). Folds are capped at the number of conditions.
    pub fn new(
        xs: DMatrix<f64>,
        y: &DMatrix<f64>,
        time_steps: usize,
        folds: usize,
        seed: u64,
    ) -> Self {
        let n = xs.nrows();
        let t = time_steps.max(1);
        let c = n / t;
        let folds = folds.clamp(2, c.max(2));
        let mut order: Vec<usize> = (0..c).collect();
        Rng::new(seed).shuffle(&mut order);
        let mut fold_of_cond = vec![0; c];
        for (k, &cond) in order.iter().enumerate() {
            fold_of_cond[cond] = k % folds;
        }
        let fold_of_row = (0..n).map(|r| fold_of_cond[r % c.max(1)]).collect();
        let pred = DMatrix::zeros(n, xs.ncols());
        PcProfile {
            xs,
            y: y.clone(),
            fold_of_row,
            folds,
            next: 0,
            pred,
        }
    }

    pub fn units(&self) -> usize {
        self.folds
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.folds
    }

    /// Fit on every fold but the next one and predict it.
    pub fn advance(&mut self) {
        if self.is_done() {
            return;
        }
        let f = self.next;
        self.next += 1;
        let train: Vec<usize> = (0..self.xs.nrows())
            .filter(|&r| self.fold_of_row[r] != f)
            .collect();
        let test: Vec<usize> = (0..self.xs.nrows())
            .filter(|&r| self.fold_of_row[r] == f)
            .collect();
        if test.is_empty() || train.len() < 2 {
            return;
        }
        let ytr = self.y.select_rows(&train);
        let xtr = self.xs.select_rows(&train);
        let (my, mx) = (column_means(&ytr), column_means(&xtr));
        let yc = DMatrix::from_fn(ytr.nrows(), ytr.ncols(), |i, j| ytr[(i, j)] - my[j]);
        let xc = DMatrix::from_fn(xtr.nrows(), xtr.ncols(), |i, j| xtr[(i, j)] - mx[j]);
        let (u, d, w) = thin_svd(&yc);
        let d2: Vec<f64> = d.iter().map(|s| s * s).collect();
        let mean_eig = d2.iter().sum::<f64>() / ytr.ncols().max(1) as f64;
        let nt = train.len() as f64;
        let coef = mul(&u, Op::T, &xc, Op::N); // c = Uᵀx per PC (columns)
        let yte = self.y.select_rows(&test);
        let yte_c = DMatrix::from_fn(yte.nrows(), yte.ncols(), |i, j| yte[(i, j)] - my[j]);
        let proj = mul(&yte_c, Op::N, &w, Op::N); // test rows in Y's singular basis
        for pc in 0..self.xs.ncols() {
            let x = xc.column(pc);
            let c = coef.column(pc);
            let xx = x.norm_squared();
            let cc = c.norm_squared();
            let mut best = (f64::INFINITY, mean_eig);
            if mean_eig > 0.0 {
                for k in -6..=3 {
                    let lam = mean_eig * 10f64.powi(k);
                    let mut rss = xx - cc;
                    let mut df = 0.0;
                    for j in 0..d2.len() {
                        let shrink = lam / (d2[j] + lam);
                        rss += shrink * shrink * c[j] * c[j];
                        df += d2[j] / (d2[j] + lam);
                    }
                    let resid_df = nt - df;
                    if resid_df <= 0.5 {
                        continue;
                    }
                    let gcv = rss.max(0.0) / (resid_df * resid_df);
                    if gcv < best.0 {
                        best = (gcv, lam);
                    }
                }
            }
            let lam = best.1;
            // x̂ = (Y_test − mean) W diag(d/(d² + λ)) c + mean_x.
            let gain = DVector::from_fn(d2.len(), |j, _| {
                if d2[j] + lam > 0.0 {
                    d[j] / (d2[j] + lam) * c[j]
                } else {
                    0.0
                }
            });
            let xhat = &proj * gain;
            for (k, &r) in test.iter().enumerate() {
                self.pred[(r, pc)] = xhat[k] + mx[pc];
            }
        }
    }

    /// R² per PC once every fold is done (`None` before).
    pub fn finish(&self) -> Option<Vec<f64>> {
        if !self.is_done() {
            return None;
        }
        Some(
            (0..self.xs.ncols())
                .map(|pc| {
                    let x = self.xs.column(pc);
                    let mean = x.mean();
                    let sst: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
                    let sse: f64 = x
                        .iter()
                        .zip(self.pred.column(pc).iter())
                        .map(|(a, b)| (a - b).powi(2))
                        .sum();
                    if sst > 0.0 {
                        1.0 - sse / sst
                    } else {
                        f64::NAN
                    }
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(xs: DMatrix<f64>, y: &DMatrix<f64>) -> Vec<f64> {
        let mut p = PcProfile::new(xs, y, 1, 5, 3);
        while !p.is_done() {
            p.advance();
        }
        p.finish().unwrap()
    }

    #[test]
    fn a_model_that_holds_a_pc_explains_it_and_noise_does_not() {
        let mut r = Rng::new(1);
        let n = 200;
        let xs = DMatrix::from_fn(n, 2, |_, _| r.normal());
        // Y holds PC 1 (rotated and mixed with noise units), nothing of PC 2.
        let y = DMatrix::from_fn(n, 6, |i, j| {
            if j == 0 {
                2.0 * xs[(i, 0)] + 0.01 * r.normal()
            } else {
                r.normal()
            }
        });
        let r2 = run(xs, &y);
        assert!(r2[0] > 0.99, "{r2:?}");
        assert!(r2[1] < 0.1, "{r2:?}");
    }
}
