//! Regression scores (spec §2.10, §2.11): R² of X predicted from Y, in-sample (`linreg`,
//! `ridge-lambda{λ}-r2#no_cv`) or with k contiguous folds and training-mean centring
//! (`ridge-lambda{λ}-r2#{k}folds_cv`, `linreg-r2#{k}folds_cv`). X enters through X_s (exact,
//! spec §1.6), so zero-padding either side changes nothing.
//!
//! Per fold (T = training rows, S = test rows, both centred with the training means):
//! B = (Y_TᵀY_T + λI)⁻¹Y_TᵀX_T, E = X_S − Y_S B, R²_f = 1 − ‖E‖²/‖X_S‖², score = mean over folds.
//! Solvers: Cholesky of the q × q Gram (q ≤ |T|), of the |T| × |T| dual Gram (λ > 0, q > |T|),
//! or, for λ = 0 with a singular Gram, the minimum-norm least-squares solution through a thin
//! SVD (as the authors' lstsq), differentiated with the constant-rank pseudo-inverse derivative.

use std::ops::Range;
use std::sync::Arc;

use nalgebra::DMatrix;

use super::Measure;
use crate::linalg::{
    center_columns, center_columns_mut, column_means, frob2, gemm, gram, mul, scale_columns,
    sym_eigen, Llt, Op,
};
use crate::target::Target;

/// A Cholesky pivot below this fraction of the largest diagonal entry means "singular".
const CHOL_RTOL: f64 = 1e-12;
/// Gram eigenvalues below this fraction of the largest are zero in the minimum-norm solve.
const PINV_RTOL: f64 = 1e-12;

/// R² of regressing X on Y, ridge penalty λ (absolute), in-sample or with k contiguous folds.
pub struct Regression {
    target: Arc<Target>,
    lambda: f64,
    folds: Option<usize>,
}

/// Contiguous folds as sklearn's `KFold(k, shuffle=False)`: the first n mod k folds have
/// ⌈n/k⌉ rows, the others ⌊n/k⌋.
pub fn kfold_ranges(n: usize, k: usize) -> Vec<Range<usize>> {
    let (base, extra) = (n / k, n % k);
    let mut start = 0;
    (0..k)
        .map(|f| {
            let len = base + usize::from(f < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// Gradients of one fold's R² with respect to its (centred) training and test rows.
type FoldGrad = (DMatrix<f64>, DMatrix<f64>);

/// The solved regression of one fold, enough to form the gradient.
enum Solve {
    /// Cholesky of M = Y_TᵀY_T + λI (q × q).
    Primal(Llt),
    /// Cholesky of K = Y_TY_Tᵀ + λI (|T| × |T|), λ > 0: M⁻¹v = (v − Y_Tᵀ K⁻¹ Y_T v)/λ.
    Dual(Llt),
    /// λ = 0, singular Gram: A⁺ = V S⁻¹ Uᵀ of A = Y_T with its range bases.
    Pinv {
        pinv: DMatrix<f64>,
        u: DMatrix<f64>,
        v: DMatrix<f64>,
    },
}

fn try_cholesky(m: DMatrix<f64>) -> Option<Llt> {
    Llt::new(&m, CHOL_RTOL)
}

impl Regression {
    /// `lambda` ≥ 0; `folds` = None for in-sample, Some(k ≥ 2) for k-fold CV (the registry
    /// validates both and that n ≥ k).
    pub fn new(target: Arc<Target>, lambda: f64, folds: Option<usize>) -> Self {
        Regression {
            target,
            lambda,
            folds,
        }
    }

    fn solve(&self, yt: &DMatrix<f64>) -> Solve {
        let (nt, q) = yt.shape();
        let lam = self.lambda;
        if q <= nt {
            let mut m = gram(yt, Op::T);
            for i in 0..q {
                m[(i, i)] += lam;
            }
            if let Some(ch) = try_cholesky(m) {
                return Solve::Primal(ch);
            }
        } else if lam > 0.0 {
            let mut k = gram(yt, Op::N);
            for i in 0..nt {
                k[(i, i)] += lam;
            }
            if let Some(ch) = try_cholesky(k) {
                return Solve::Dual(ch);
            }
        }
        // λ = 0 with a singular Gram (λ > 0 always factorises): minimum-norm solution.
        // Thin SVD A = U S Vᵀ from the eigen-decomposition of the smaller Gram matrix
        // (nalgebra's SVD of a wide matrix is not accurate enough here); singular values
        // below 1e-6·s_max count as zero (their squares are round-off of the Gram).
        let wide = nt <= q;
        let (mu, w) = sym_eigen(if wide {
            gram(yt, Op::N)
        } else {
            gram(yt, Op::T)
        });
        let mu_max = mu.get(0).cloned().unwrap_or(0.0).max(0.0);
        let k = mu
            .iter()
            .take_while(|&&m| m > PINV_RTOL * mu_max && m > 0.0)
            .count();
        let sv: Vec<f64> = mu.iter().take(k).map(|m| m.sqrt()).collect();
        let inv: Vec<f64> = sv.iter().map(|s| 1.0 / s).collect();
        let wk = w.columns(0, k).into_owned();
        // the other side's singular vectors: Aᵀ U / s (wide) or A V / s (tall)
        let other = if wide {
            mul(yt, Op::T, &scale_columns(&wk, &inv), Op::N)
        } else {
            mul(yt, Op::N, &scale_columns(&wk, &inv), Op::N)
        };
        let (uk, vk) = if wide { (wk, other) } else { (other, wk) };
        let pinv = mul(&scale_columns(&vk, &inv), Op::N, &uk, Op::T);
        Solve::Pinv { pinv, u: uk, v: vk }
    }

    /// One fold: returns (R²_f, gradient of R²_f w.r.t. (the centred) Y_T and Y_S rows).
    /// `xt`, `yt`, `xs`, `ys` are already centred with the training means. If `in_sample`,
    /// T and S are the same rows and the two gradients must be added.
    fn fold(
        &self,
        xt: &DMatrix<f64>,
        yt: &DMatrix<f64>,
        xs: &DMatrix<f64>,
        ys: &DMatrix<f64>,
        in_sample: bool,
        want_grad: bool,
    ) -> (f64, Option<FoldGrad>) {
        let sol = self.solve(yt);
        let ytx = mul(yt, Op::T, xt, Op::N); // q × r
        let b = match &sol {
            Solve::Primal(ch) => ch.solve(&ytx),
            Solve::Dual(ch) => {
                // B = Y_Tᵀ K⁻¹ X_T
                let kx = ch.solve(xt);
                mul(yt, Op::T, &kx, Op::N)
            }
            Solve::Pinv { pinv, .. } => mul(pinv, Op::N, xt, Op::N),
        };
        let mut e = xs.clone();
        gemm(-1.0, ys, Op::N, &b, Op::N, 1.0, &mut e);
        let xs2 = frob2(xs);
        let c = if xs2 > 0.0 { 1.0 / xs2 } else { 0.0 };
        let r2 = 1.0 - frob2(&e) * c;
        if !want_grad {
            return (r2, None);
        }
        // Gradients of f = ‖E‖² (multiplied by −c at the end).
        let mut gs = mul(&e, Op::N, &b, Op::T);
        gs *= -2.0;
        let gt = match &sol {
            Solve::Primal(_) | Solve::Dual(_) => {
                // W = M⁻¹ Y_SᵀE; G_T = −2(R_T Wᵀ − Y_T W Bᵀ), R_T = X_T − Y_T B.
                let yse = if in_sample && self.lambda > 0.0 {
                    None // Y_cᵀE = λB in-sample (normal equations), so W = λM⁻¹B
                } else if in_sample {
                    Some(None) // λ = 0 in-sample: Y_cᵀE = 0 exactly, W = 0
                } else {
                    Some(Some(mul(ys, Op::T, &e, Op::N)))
                };
                let rhs = match yse {
                    None => Some(&b * self.lambda),
                    Some(None) => None,
                    Some(Some(v)) => Some(v),
                };
                match rhs {
                    None => DMatrix::zeros(yt.nrows(), yt.ncols()),
                    Some(rhs) => {
                        let w = match &sol {
                            Solve::Primal(ch) => ch.solve(&rhs),
                            Solve::Dual(ch) => {
                                let ytv = mul(yt, Op::N, &rhs, Op::N);
                                let kv = ch.solve(&ytv);
                                let mut w = rhs.clone();
                                gemm(-1.0, yt, Op::T, &kv, Op::N, 1.0, &mut w);
                                w / self.lambda
                            }
                            Solve::Pinv { .. } => unreachable!(),
                        };
                        let mut rt = xt.clone();
                        gemm(-1.0, yt, Op::N, &b, Op::N, 1.0, &mut rt);
                        let mut g = mul(&rt, Op::N, &w, Op::T);
                        let wbt = mul(&w, Op::N, &b, Op::T);
                        gemm(-1.0, yt, Op::N, &wbt, Op::N, 1.0, &mut g);
                        g * -2.0
                    }
                }
            }
            Solve::Pinv { pinv, u, v } => {
                // df = −2⟨Ŵ, dA⁺⟩ with Ŵ = Y_SᵀE X_Tᵀ (q × |T|); constant-rank derivative of
                // A⁺ gives ∂f/∂A = −2[−A⁺ᵀŴA⁺ᵀ + (I−AA⁺)ŴᵀA⁺A⁺ᵀ + A⁺ᵀA⁺Ŵᵀ(I−A⁺A)].
                let yse = mul(ys, Op::T, &e, Op::N);
                let what = mul(&yse, Op::N, xt, Op::T); // q × nt
                let pt_w = mul(pinv, Op::T, &what, Op::N); // nt × nt
                let mut g = mul(&pt_w, Op::N, pinv, Op::T) * -1.0; // −A⁺ᵀŴA⁺ᵀ (nt × q)
                                                                   // (I − UUᵀ) Ŵᵀ A⁺A⁺ᵀ
                let ppt = mul(pinv, Op::N, pinv, Op::T); // q × q
                let mut t1 = mul(&what, Op::T, &ppt, Op::N); // nt × q
                let ut1 = mul(u, Op::T, &t1, Op::N);
                gemm(-1.0, u, Op::N, &ut1, Op::N, 1.0, &mut t1);
                g += t1;
                // A⁺ᵀA⁺ Ŵᵀ (I − VVᵀ)
                let ptp = mul(pinv, Op::T, pinv, Op::N); // nt × nt
                let mut t2 = mul(&ptp, Op::N, &what, Op::T); // nt × q
                let t2v = mul(&t2, Op::N, v, Op::N);
                gemm(-1.0, &t2v, Op::N, v, Op::T, 1.0, &mut t2);
                g += t2;
                g * -2.0
            }
        };
        (r2, Some((gt * -c, gs * -c)))
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let t = &self.target;
        let want = grad.is_some();
        let (n, q) = y.shape();
        match self.folds {
            None => {
                let yc = center_columns(y);
                let (r2, g) = self.fold(&t.xs, &yc, &t.xs, &yc, true, want);
                if let (Some(out), Some((gt, gs))) = (grad, g) {
                    *out = gt + gs;
                    center_columns_mut(out);
                }
                r2
            }
            Some(k) => {
                let ranges = kfold_ranges(n, k);
                let min_train = n - ranges.iter().map(|r| r.len()).max().unwrap_or(0);
                if q <= min_train {
                    let mut g_fast = want.then(|| DMatrix::zeros(n, q));
                    if let Some(v) = self.cv_fast(y, &ranges, g_fast.as_mut()) {
                        if let (Some(out), Some(gf)) = (grad, g_fast) {
                            *out = gf;
                        }
                        return v;
                    }
                }
                let mut total = 0.0;
                let mut acc = want.then(|| DMatrix::zeros(n, q));
                for test in &ranges {
                    let train: Vec<usize> = (0..n).filter(|i| !test.contains(i)).collect();
                    let mut xt = t.xs.select_rows(train.iter());
                    let mut yt = y.select_rows(train.iter());
                    let (mx, my) = (column_means(&xt), column_means(&yt));
                    let sub = |m: &mut DMatrix<f64>, mean: &nalgebra::DVector<f64>| {
                        for (mut col, mu) in m.column_iter_mut().zip(mean.iter()) {
                            col.add_scalar_mut(-mu);
                        }
                    };
                    sub(&mut xt, &mx);
                    sub(&mut yt, &my);
                    let mut xs = t.xs.rows(test.start, test.len()).into_owned();
                    let mut ys = y.rows(test.start, test.len()).into_owned();
                    sub(&mut xs, &mx);
                    sub(&mut ys, &my);
                    let (r2, g) = self.fold(&xt, &yt, &xs, &ys, false, want);
                    total += r2;
                    if let (Some(acc), Some((gt, gs))) = (acc.as_mut(), g) {
                        // Back through the training-mean centring: training rows get
                        // G_T − (1/|T|)·1·(1ᵀG_T + 1ᵀG_S); test rows G_S.
                        let colsum: Vec<f64> = (0..q)
                            .map(|j| (gt.column(j).sum() + gs.column(j).sum()) / train.len() as f64)
                            .collect();
                        for (a, &i) in train.iter().enumerate() {
                            for j in 0..q {
                                acc[(i, j)] += gt[(a, j)] - colsum[j];
                            }
                        }
                        for (a, i) in test.clone().enumerate() {
                            for j in 0..q {
                                acc[(i, j)] += gs[(a, j)];
                            }
                        }
                    }
                }
                if let (Some(out), Some(acc)) = (grad, acc) {
                    *out = acc / k as f64;
                }
                total / k as f64
            }
        }
    }
}

impl Regression {
    /// k-fold CV through global sums (primal solver, q ≤ every training size): the training
    /// Gram and cross-products of each fold are the global ones minus the test block minus the
    /// mean correction, and the training-row gradients of all folds are accumulated into one
    /// pass over the data, so a step costs O(nq² + nqr + k(q³ + q²r)) instead of k full fits.
    /// Returns `None` (caller falls back to the per-fold path) if a fold's Gram is singular.
    fn cv_fast(
        &self,
        y: &DMatrix<f64>,
        ranges: &[Range<usize>],
        grad: Option<&mut DMatrix<f64>>,
    ) -> Option<f64> {
        let (n, q) = y.shape();
        let x = &self.target.xs; // globally centred; training-mean centring removes offsets
        let r = x.ncols();
        let yc = center_columns(y); // likewise exact, and keeps the Gram downdates accurate
        let k = ranges.len();
        let g_all = gram(&yc, Op::T);
        let c_all = mul(&yc, Op::T, x, Op::N);
        let want = grad.is_some();
        let mut total = 0.0;
        // Per fold: α_f = −1/(k‖X̃_S‖²), W_f, S_f = B Wᵀ + W Bᵀ, the constant row v_f, G_S.
        let mut wsum = DMatrix::<f64>::zeros(q, r);
        let mut ssum = DMatrix::<f64>::zeros(q, q);
        let mut vsum = nalgebra::RowDVector::<f64>::zeros(q);
        let mut per_fold = Vec::with_capacity(k);
        for test in ranges {
            let ns = test.len();
            let nt = n - ns;
            let ys = yc.rows(test.start, ns).into_owned();
            let xs = x.rows(test.start, ns).into_owned();
            // Training means from the global sums (global sums of centred data are 0).
            let my: Vec<f64> = (0..q).map(|j| -ys.column(j).sum() / nt as f64).collect();
            let mx: Vec<f64> = (0..r).map(|j| -xs.column(j).sum() / nt as f64).collect();
            let mut m = &g_all - gram(&ys, Op::T);
            let mut cxy = &c_all - mul(&ys, Op::T, &xs, Op::N);
            for j in 0..q {
                for i in 0..q {
                    m[(i, j)] -= nt as f64 * my[i] * my[j];
                }
                m[(j, j)] += self.lambda;
                for l in 0..r {
                    cxy[(j, l)] -= nt as f64 * my[j] * mx[l];
                }
            }
            let chol = Llt::new(&m, CHOL_RTOL)?;
            let b = chol.solve(&cxy);
            let ys_t = DMatrix::from_fn(ns, q, |i, j| ys[(i, j)] - my[j]);
            let xs_t = DMatrix::from_fn(ns, r, |i, j| xs[(i, j)] - mx[j]);
            let mut e = xs_t.clone();
            gemm(-1.0, &ys_t, Op::N, &b, Op::N, 1.0, &mut e);
            let xs2 = frob2(&xs_t);
            let c = if xs2 > 0.0 { 1.0 / xs2 } else { 0.0 };
            total += 1.0 - frob2(&e) * c;
            if !want {
                continue;
            }
            let alpha = -c / k as f64;
            let yse = mul(&ys_t, Op::T, &e, Op::N);
            let w = chol.solve(&yse);
            let bwt = mul(&b, Op::N, &w, Op::T);
            let sf = &bwt + bwt.transpose();
            let gs = mul(&e, Op::N, &b, Op::T) * (-2.0 * alpha); // test rows, scaled
                                                                 // Training-row constant: 2α(m_x Wᵀ − m_y S_f) − colsum(G_S)/|T| (scaled G_S).
            let mut v = nalgebra::RowDVector::<f64>::zeros(q);
            for j in 0..q {
                let mw: f64 = (0..r).map(|l| mx[l] * w[(j, l)]).sum();
                let ms: f64 = (0..q).map(|i| my[i] * sf[(i, j)]).sum();
                v[j] = 2.0 * alpha * (mw - ms) - gs.column(j).sum() / nt as f64;
            }
            wsum += &w * alpha;
            ssum += &sf * alpha;
            vsum += &v;
            per_fold.push((alpha, w, sf, v, gs));
        }
        if let Some(out) = grad {
            // Row i in fold g: −2(x_i (Wsum − α_g W_g)ᵀ − y_i (Ssum − α_g S_g)) + (vsum − v_g) + G_S(g)_i.
            *out = DMatrix::zeros(n, q);
            for (test, (alpha, w, sf, v, gs)) in ranges.iter().zip(per_fold) {
                let ns = test.len();
                let wg = &wsum - w * alpha;
                let sg = &ssum - sf * alpha;
                let xs = x.rows(test.start, ns).into_owned();
                let ys = yc.rows(test.start, ns).into_owned();
                let mut block = gs;
                gemm(-2.0, &xs, Op::N, &wg, Op::T, 1.0, &mut block);
                gemm(2.0, &ys, Op::N, &sg, Op::N, 1.0, &mut block);
                let row = &vsum - v;
                for (j, mut col) in block.column_iter_mut().enumerate() {
                    col.add_scalar_mut(row[j]);
                }
                out.rows_mut(test.start, ns).copy_from(&block);
            }
        }
        Some(total / k as f64)
    }
}

impl Measure for Regression {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_contiguous_like_sklearn() {
        let f = kfold_ranges(13, 5);
        assert_eq!(f, vec![0..3, 3..6, 6..9, 9..11, 11..13]);
        assert_eq!(
            kfold_ranges(10, 5).iter().map(|r| r.len()).sum::<usize>(),
            10
        );
    }
}
