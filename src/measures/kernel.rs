//! CKA variants that need the n × n Gram matrices (spec §2.4, §2.5): the unbiased HSIC of
//! Song et al. 2012 (`cka-hsic_song`) and the zero-diagonal "Lange" CKA (`cka-lange`).
//! The X side (its transformed Gram matrix and norm) is prepared once.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{built, Def, Dims, Group, List::*, OIST};
use super::{degenerate, Direction, Measure, DEGENERATE_NORM2};
use crate::linalg::{center_columns, center_columns_mut, dot, frob2, gemm, gram, Op};
use crate::target::Target;

pub const CKA_SONG: Def = Def {
    id: "cka-hsic_song",
    aliases: &["cka-kernel=linear-hsic=song-score", "cka-unbiased"],
    alias_warnings: &[],
    name: "CKA, unbiased HSIC",
    group: Group::Cka,
    description: "linear CKA with the unbiased HSIC estimator of Song et al. (needs n ≥ 4)",
    rewards: "the same as linear CKA (top PCs by variance squared), without the biased estimator's pull towards 1 for few samples",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: "Song, Smola, Gretton, Bedo, Borgwardt (2012) Feature selection via dependence maximization, JMLR; Kornblith et al. (2019)",
    score_only: None,
    pair: None,
    build: |c| {
        if c.n() < 4 {
            return Err(c.unsupported(format!(
                "the unbiased HSIC needs n ≥ 4 samples, got {}",
                c.n()
            )));
        }
        built(CkaSong::new(c.target()))
    },
    flops: gram_flops,
    theory: None,
    lists: &[(Compare, 8)],
};

pub const CKA_LANGE: Def = Def {
    id: "cka-lange",
    aliases: &[
        "cka-kernel=linear-hsic=lange-score",
        "kernel=linear-similarity=(centered-zero_diagonal-cosine)-score",
    ],
    alias_warnings: &[],
    name: "CKA, zero-diagonal Grams (Lange)",
    group: Group::Cka,
    description: "CKA of double-centred linear Grams with zeroed diagonals (Lange)",
    rewards: "the same as linear CKA, with each sample's similarity to itself (the Gram diagonal) left out",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: "Lange, Kwok, Matelsky, Wang, Rolnick, Kording (2022) Neural networks as paths through the space of representations, arXiv:2206.10999; similarity-repository",
    score_only: None,
    pair: None,
    build: |c| built(CkaLange::new(c.target())),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

/// One step of a measure on n × n Grams or RDMs of Y: the Gram (n²q) and Γ·Y_c (2n²q).
pub(crate) fn gram_flops(d: Dims) -> f64 {
    let Dims { n, q, .. } = d;
    n * n * q + 2.0 * n * n * q
}

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
