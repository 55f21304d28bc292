//! The reweighting baseline: non-negative weights of per-feature squared-difference RDMs
//! fitted to the target by Lawson–Hanson non-negative least squares.

use nalgebra::{DMatrix, DVector};

use super::rdm::{pairs, upper};
use super::{compare, Compare};

/// Lawson–Hanson non-negative least squares on the normal equations: minimise ‖Ax − b‖² over
/// x ≥ 0 given G = AᵀA and h = Aᵀb.
pub fn nnls_gram(g: &DMatrix<f64>, h: &DVector<f64>) -> DVector<f64> {
    let p = h.len();
    let mut x = DVector::zeros(p);
    let mut passive = vec![false; p];
    let scale = (0..p).map(|i| g[(i, i)]).fold(0.0f64, f64::max).max(1e-300);
    let tol = 1e-12 * scale * (1.0 + h.amax());
    let solve = |set: &[usize]| -> DVector<f64> {
        let k = set.len();
        let mut a = DMatrix::from_fn(k, k, |i, j| g[(set[i], set[j])]);
        let rhs = DVector::from_fn(k, |i, _| h[set[i]]);
        if let Some(ch) = a.clone().cholesky() {
            return ch.solve(&rhs);
        }
        for i in 0..k {
            a[(i, i)] += 1e-10 * scale;
        }
        match a.clone().cholesky() {
            Some(ch) => ch.solve(&rhs),
            None => a.lu().solve(&rhs).unwrap_or_else(|| DVector::zeros(k)),
        }
    };
    for _ in 0..3 * p + 10 {
        let w = h - g * &x;
        let mut j = None;
        let mut wmax = tol;
        for i in 0..p {
            if !passive[i] && w[i] > wmax {
                wmax = w[i];
                j = Some(i);
            }
        }
        let Some(j) = j else { break };
        passive[j] = true;
        loop {
            let set: Vec<usize> = (0..p).filter(|&i| passive[i]).collect();
            let s = solve(&set);
            if s.iter().all(|&v| v > 0.0) {
                for (k, &i) in set.iter().enumerate() {
                    x[i] = s[k];
                }
                break;
            }
            let mut alpha = f64::INFINITY;
            for (k, &i) in set.iter().enumerate() {
                if s[k] <= 0.0 {
                    let d = x[i] - s[k];
                    if d > 0.0 {
                        alpha = alpha.min(x[i] / d);
                    }
                }
            }
            if !alpha.is_finite() {
                alpha = 0.0;
            }
            for (k, &i) in set.iter().enumerate() {
                x[i] += alpha * (s[k] - x[i]);
                if x[i] <= 1e-15 * (1.0 + x.amax()) || (s[k] <= 0.0 && alpha == 0.0) {
                    x[i] = 0.0;
                    passive[i] = false;
                }
            }
            if !passive.iter().any(|&b| b) {
                break;
            }
        }
    }
    x
}

/// Non-negative least squares: minimise ‖Ax − b‖ over x ≥ 0 (Lawson–Hanson).
pub fn nnls(a: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
    let g = crate::linalg::gram(a, crate::linalg::Op::T);
    let h = a.transpose() * b;
    nnls_gram(&g, &h)
}

/// Per-feature squared-difference RDM columns over pairs among `stims` (pairs × features).
fn per_feature(f: &DMatrix<f64>, stims: &[usize]) -> DMatrix<f64> {
    let (pi, pj) = pairs(stims.len());
    DMatrix::from_fn(pi.len(), f.ncols(), |k, c| {
        let d = f[(stims[pi[k] as usize], c)] - f[(stims[pj[k] as usize], c)];
        d * d
    })
}

/// The reweighting baseline: weights w ≥ 0 of the per-feature squared-difference RDMs fitting
/// the target on pairs among `train` (with a free intercept: columns and target centred).
pub fn reweight(f: &DMatrix<f64>, target: &DMatrix<f64>, train: &[usize]) -> DVector<f64> {
    let mut a = per_feature(f, train);
    let mut b = DVector::from_vec(upper(target, train));
    let nb = b.len() as f64;
    let mb = b.sum() / nb;
    b.iter_mut().for_each(|v| *v -= mb);
    for mut col in a.column_iter_mut() {
        let m = col.sum() / nb;
        col.iter_mut().for_each(|v| *v -= m);
    }
    nnls(&a, &b)
}

/// Fit of the reweighted model RDM Σ w_f (x_if − x_jf)² on pairs among `stims`.
pub fn reweighted_fit(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    w: &DVector<f64>,
    cmp: Compare,
) -> f64 {
    let a = per_feature(f, stims);
    let v = a * w;
    compare(v.as_slice(), &upper(target, stims), cmp)
}
