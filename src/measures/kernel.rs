//! CKA variants that need the n × n Gram matrices (spec §2.4, §2.5): the unbiased HSIC of
//! Song et al. 2012 (`cka-hsic_song`) and the zero-diagonal "Lange" CKA (`cka-lange`).
//! The X side (its transformed Gram matrix and norm) is prepared once.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::{degenerate, Measure, DEGENERATE_NORM2};
use crate::linalg::{center_columns, center_columns_mut, dot, frob2, gemm, gram, Op};
use crate::target::Target;

/// U-centring 𝒰(K) in place (spec §2.4): zero the diagonal, then subtract row and column
/// means scaled by 1/(n−2) and add the grand sum over (n−1)(n−2); the diagonal stays 0.
fn u_centre(k: &mut DMatrix<f64>) {
    let n = k.nrows();
    for i in 0..n {
        k[(i, i)] = 0.0;
    }
    let r: Vec<f64> = k.column_iter().map(|c| c.sum()).collect(); // symmetric: col sums = row sums
    let s: f64 = r.iter().sum();
    let (a, c) = (
        1.0 / (n as f64 - 2.0),
        s / ((n as f64 - 1.0) * (n as f64 - 2.0)),
    );
    for j in 0..n {
        for i in 0..n {
            if i != j {
                k[(i, j)] += c - (r[i] + r[j]) * a;
            }
        }
    }
}

/// Linear CKA with the unbiased HSIC estimator of Song et al. 2012 (needs n ≥ 4).
pub struct CkaSong {
    /// 𝒰(K_x) / ‖𝒰(K_x)‖.
    kx: DMatrix<f64>,
}

impl CkaSong {
    /// Needs n ≥ 4 (the registry checks it).
    pub fn new(target: Arc<Target>) -> Self {
        let mut kx = gram(&target.xs, Op::N);
        u_centre(&mut kx);
        let nk = kx.norm();
        if nk > 0.0 {
            kx /= nk;
        }
        CkaSong { kx }
    }

    fn parts(&self, y: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>, f64, f64) {
        let yc = center_columns(y);
        let mut l = gram(&yc, Op::N);
        u_centre(&mut l);
        let nl = l.norm();
        let s = if nl > 0.0 {
            dot(&self.kx, &l) / nl
        } else {
            0.0
        };
        (yc, l, nl, s)
    }
}

impl Measure for CkaSong {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.parts(y).3
    }

    /// Γ = 𝒰(K)/(‖𝒰(K)‖‖𝒰(L)‖) − CKA_u·𝒰(L)/‖𝒰(L)‖², ∂/∂Y = 2ΓY.
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let (yc, mut l, nl, s) = self.parts(y);
        if nl == 0.0 || frob2(&yc) < DEGENERATE_NORM2 {
            return degenerate(y, grad, s);
        }
        l *= -s / (nl * nl);
        l += &self.kx * (1.0 / nl);
        *grad = DMatrix::zeros(y.nrows(), y.ncols());
        gemm(2.0, &l, Op::N, &yc, Op::N, 0.0, grad);
        center_columns_mut(grad);
        s
    }
}

/// CKA of double-centred Gram matrices with zeroed diagonals ("Lange" CKA).
pub struct CkaLange {
    /// offdiag(X_sX_sᵀ) / ‖·‖.
    kx: DMatrix<f64>,
}

fn zero_diag(k: &mut DMatrix<f64>) {
    for i in 0..k.nrows() {
        k[(i, i)] = 0.0;
    }
}

impl CkaLange {
    pub fn new(target: Arc<Target>) -> Self {
        let mut kx = gram(&target.xs, Op::N);
        zero_diag(&mut kx);
        let nk = kx.norm();
        if nk > 0.0 {
            kx /= nk;
        }
        CkaLange { kx }
    }

    fn parts(&self, y: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>, f64, f64) {
        let yc = center_columns(y);
        let mut k = gram(&yc, Op::N);
        zero_diag(&mut k);
        let nk = k.norm();
        let s = if nk > 0.0 {
            dot(&self.kx, &k) / nk
        } else {
            0.0
        };
        (yc, k, nk, s)
    }
}

impl Measure for CkaLange {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.parts(y).3
    }

    /// Γ = H(K̂_x/(‖K̂_x‖‖K̂_y‖) − f·K̂_y/‖K̂_y‖²)H, ∂f/∂Y = 2ΓY = 2H Γ' Y_c.
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let (yc, mut k, nk, s) = self.parts(y);
        if nk == 0.0 || frob2(&yc) < DEGENERATE_NORM2 {
            return degenerate(y, grad, s);
        }
        k *= -s / (nk * nk);
        k += &self.kx * (1.0 / nk);
        *grad = DMatrix::zeros(y.nrows(), y.ncols());
        gemm(2.0, &k, Op::N, &yc, Op::N, 0.0, grad);
        center_columns_mut(grad);
        s
    }
}
