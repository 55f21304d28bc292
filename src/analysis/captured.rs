//! Per-PC R² ("variance of each PC of X captured by Y", spec §4) and the score at which a PC
//! counts as captured.
//!
//! For X_c = Σ s_i u_i v_iᵀ and a prediction X̂ of X_c from Y, R²_i = 1 − ‖s_i u_i − X̂ v_i‖²/λ_i.
//! * Linear alignment (regression of X on Y): X̂ = P_Y X_c, so R²_i = ‖Q_yᵀ u_i‖² with Q_y an
//!   orthonormal basis of col(Y_c).
//! * Orthogonal alignment: X̂ = Y_c R with the *correct* Procrustes rotation R = polar(Y_cᵀX_c)
//!   (the authors' code multiplies by V·U instead of V·Uᵀ, spec §10 B2). Since Y_cᵀX_c =
//!   (Y_cᵀX_s)Vᵀ, R v_i is column i of polar(Y_cᵀX_s) and no p × p matrix is formed. A variant
//!   with the optimal isotropic scale β = ‖Y_cᵀX_c‖_*/‖Y_c‖² is offered because every
//!   scale-invariant score leaves ‖Y‖ free.
//!
//! Neither asserts n ≥ p (bug B9): wide data works.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::linalg::center_columns;
use crate::target::Target;

/// How X is predicted from Y before measuring each PC's R².
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alignment {
    /// Least-squares regression of X on Y (the paper's default).
    Linear,
    /// The orthogonal Procrustes rotation Y_c R (spec §4.1, with the transpose fixed).
    Orthogonal,
    /// Orthogonal rotation with the optimal isotropic scale.
    OrthogonalScaled,
}

/// Relative eigenvalue floor for the Gram matrix of Y_c (singular values below ~1e-6·σ_max
/// are treated as zero).
const GRAM_RTOL: f64 = 1e-12;

/// R² of X's first `k` PCs (k ≤ r) predicted from Y (n × q) with the given alignment.
pub fn pc_r2(target: &Target, y: &DMatrix<f64>, k: usize, alignment: Alignment) -> Vec<f64> {
    let k = k.min(target.rank());
    let yc = center_columns(y);
    match alignment {
        Alignment::Linear => linear(target, &yc, k).0,
        Alignment::Orthogonal => orthogonal(target, &yc, k, false),
        Alignment::OrthogonalScaled => orthogonal(target, &yc, k, true),
    }
}

/// The linear R² of X's first `k` PCs and what a random Y of this Y's rank would score (the
/// rank comes with the R² at no extra cost).
pub fn pc_r2_linear(target: &Target, y: &DMatrix<f64>, k: usize) -> (Vec<f64>, LinearChance) {
    let (n, q) = y.shape();
    let (r2, rank) = linear(target, &center_columns(y), k.min(target.rank()));
    (r2, LinearChance::new(n, q, rank))
}

/// R²_i = ‖Q_yᵀu_i‖² through the smaller Gram matrix of Y_c, and rank(Y_c).
fn linear(target: &Target, yc: &DMatrix<f64>, k: usize) -> (Vec<f64>, usize) {
    let (n, q) = yc.shape();
    let uk = target.u.columns(0, k);
    let c = if q <= n {
        // Y_cᵀY_c = W diag(μ) Wᵀ; Q_y = Y_c W μ^{-1/2}; Q_yᵀU = μ^{-1/2} Wᵀ (Y_cᵀU).
        let eig = (yc.transpose() * yc).symmetric_eigen();
        let b = yc.transpose() * uk;
        let keep = kept(&eig.eigenvalues);
        let mut c = DMatrix::zeros(keep.len(), k);
        for (row, &j) in keep.iter().enumerate() {
            let w = eig.eigenvectors.column(j);
            let inv = 1.0 / eig.eigenvalues[j].sqrt();
            for i in 0..k {
                c[(row, i)] = w.dot(&b.column(i)) * inv;
            }
        }
        c
    } else {
        // The eigenvectors of Y_cY_cᵀ with non-zero eigenvalues are an orthonormal Q_y.
        let eig = (yc * yc.transpose()).symmetric_eigen();
        let keep = kept(&eig.eigenvalues);
        let mut c = DMatrix::zeros(keep.len(), k);
        for (row, &j) in keep.iter().enumerate() {
            let w = eig.eigenvectors.column(j);
            for i in 0..k {
                c[(row, i)] = w.dot(&uk.column(i));
            }
        }
        c
    };
    let r2 = (0..k)
        .map(|i| c.column(i).norm_squared().min(1.0))
        .collect();
    (r2, c.nrows())
}

/// What the linear per-PC R² means for one Y: in-sample least squares on n samples lets a Y
/// of rank k (of its centred columns) explain k of the n − 1 centred directions, so a random
/// Y already scores k/(n − 1) on every PC on average (its column space is a uniformly random
/// k-subspace), and at k = n − 1 every R² is exactly 1 whatever Y is (spec §2.16 item 3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearChance {
    pub n: usize,
    /// Columns of Y.
    pub q: usize,
    /// rank(Y_c) (for a measured Y, at the relative tolerance of [`pc_r2`]).
    pub rank: usize,
    /// The mean R² of a random Y of this rank on any PC: rank/(n − 1).
    pub level: f64,
}

/// A random Y's R² from this share of level on: worth a warning beside the plot.
const INFLATED: f64 = 0.5;

impl LinearChance {
    /// For a Y of `q` columns on `n` samples whose centred columns have rank `rank`.
    pub fn new(n: usize, q: usize, rank: usize) -> Self {
        let rank = rank.min(n.saturating_sub(1));
        let level = if n > 1 {
            rank as f64 / (n - 1) as f64
        } else {
            1.0
        };
        LinearChance { n, q, rank, level }
    }

    /// For a Gaussian random Y (n × q), whose centred columns have rank min(q, n − 1) with
    /// probability 1: what a synthetic Y₀ means, without a decomposition.
    pub fn random(n: usize, q: usize) -> Self {
        Self::new(n, q, q)
    }

    /// Every PC's R² is 1 for any Y of this rank: the plot carries no information.
    pub fn saturated(&self) -> bool {
        self.n < 2 || self.rank + 1 >= self.n
    }

    /// What to tell the user beside the R² plot, if anything.
    pub fn warning(&self) -> Option<String> {
        let LinearChance { n, q, rank, level } = *self;
        if self.saturated() {
            Some(format!(
                "every PC's R² is trivially 1: Y's {q} columns span all n − 1 = {} directions of the recording's {n} centred samples, so in-sample regression fits any PC exactly, even from a random Y (read the scores instead, or use a Y narrower than n − 1 columns or more samples)",
                n.saturating_sub(1)
            ))
        } else if level >= INFLATED {
            Some(format!(
                "R² is inflated: with rank(Y) = {rank} of n − 1 = {} centred directions, a random Y already explains {level:.2} of every PC on average (dashed line); only the rise above it is captured structure",
                n - 1
            ))
        } else {
            None
        }
    }
}

fn kept(mu: &DVector<f64>) -> Vec<usize> {
    let max = mu.iter().cloned().fold(0.0, f64::max);
    (0..mu.len())
        .filter(|&j| max > 0.0 && mu[j] > GRAM_RTOL * max)
        .collect()
}

/// The polar factor U Vᵀ of `b` (thin SVD, singular values above a relative tolerance) and
/// its nuclear norm.
pub fn polar(b: &DMatrix<f64>) -> (DMatrix<f64>, f64) {
    let svd = b.clone().svd(true, true);
    let (u, vt) = (svd.u.expect("U"), svd.v_t.expect("Vᵀ"));
    let smax = svd.singular_values.iter().cloned().fold(0.0, f64::max);
    let tol = 1e-12 * smax * b.nrows().max(b.ncols()) as f64;
    let mut p = DMatrix::zeros(b.nrows(), b.ncols());
    let mut nuc = 0.0;
    for (j, &s) in svd.singular_values.iter().enumerate() {
        if s > tol {
            p += u.column(j) * vt.row(j);
            nuc += s;
        }
    }
    (p, nuc)
}

fn orthogonal(target: &Target, yc: &DMatrix<f64>, k: usize, scaled: bool) -> Vec<f64> {
    let b = yc.transpose() * &target.xs; // q × r
    let (p, nuc) = polar(&b);
    let beta = if scaled {
        let yy = yc.norm_squared();
        if yy > 0.0 {
            nuc / yy
        } else {
            0.0
        }
    } else {
        1.0
    };
    let pred = yc * p.columns(0, k) * beta; // column i = X̂ v_i
    (0..k)
        .map(|i| {
            let lam = target.s[i] * target.s[i];
            let resid = (target.xs.column(i) - pred.column(i)).norm_squared();
            1.0 - resid / lam
        })
        .collect()
}

/// When a PC counts as captured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// Halfway between the initial value and 1 (the authors' "half", spec §4.2).
    Half,
    /// A fixed value.
    Value(f64),
}

impl Threshold {
    /// The threshold for a trajectory starting at `initial`.
    pub fn resolve(&self, initial: f64) -> f64 {
        match self {
            Threshold::Half => (initial + 1.0) / 2.0,
            Threshold::Value(v) => *v,
        }
    }
}

/// The score at which `tracked` first reaches `threshold` (≥), interpolating the score
/// linearly between the two iterations around the first crossing. `None` if it never does
/// ("not reached"). This is the first-crossing rule recommended in spec §4.2, not the
/// authors' `interp1d` over sorted values (bug B13).
pub fn first_crossing(tracked: &[f64], scores: &[f64], threshold: f64) -> Option<f64> {
    let k = tracked.iter().position(|&v| v >= threshold)?;
    if k == 0 {
        return Some(scores[0]);
    }
    let (a, b) = (tracked[k - 1], tracked[k]);
    let frac = if b > a {
        (threshold - a) / (b - a)
    } else {
        1.0
    };
    Some(scores[k - 1] + frac * (scores[k] - scores[k - 1]))
}

/// Score at threshold for every PC: `r2[t][i]` is PC i's R² at trajectory point t.
pub fn scores_at_threshold(
    r2: &[Vec<f64>],
    scores: &[f64],
    threshold: Threshold,
) -> Vec<Option<f64>> {
    let k = r2.first().map_or(0, |r| r.len());
    (0..k)
        .map(|i| {
            let tr: Vec<f64> = r2.iter().map(|r| r[i]).collect();
            first_crossing(&tr, scores, threshold.resolve(tr[0]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::session::initial_y;

    #[test]
    fn first_crossing_interpolates_and_reports_not_reached() {
        let tracked = [0.1, 0.3, 0.7, 0.5, 0.9];
        let scores = [0.0, 0.2, 0.4, 0.6, 0.8];
        assert!((first_crossing(&tracked, &scores, 0.5).unwrap() - 0.3).abs() < 1e-15);
        assert_eq!(first_crossing(&tracked, &scores, 0.95), None);
        assert_eq!(first_crossing(&tracked, &scores, 0.05), Some(0.0));
    }

    #[test]
    fn r2_is_one_for_x_itself_and_for_rotations() {
        let x = initial_y(30, 5, 1)
            * DMatrix::from_diagonal(&DVector::from_vec(vec![3.0, 2.0, 1.0, 0.5, 0.1]));
        let t = Target::new(&x).unwrap();
        let q = initial_y(5, 5, 2).qr().q();
        let y = &x * &q * 2.0;
        for al in [Alignment::Linear, Alignment::OrthogonalScaled] {
            for v in pc_r2(&t, &y, 5, al) {
                assert!((v - 1.0).abs() < 1e-9, "{al:?} {v}");
            }
        }
        for v in pc_r2(&t, &(&x * q), 5, Alignment::Orthogonal) {
            assert!((v - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn a_random_y_scores_its_chance_level_and_saturates_at_n_minus_one() {
        let x = initial_y(41, 6, 3)
            * DMatrix::from_diagonal(&DVector::from_vec(vec![3.0, 2.0, 1.5, 1.0, 0.5, 0.2]));
        let t = Target::new(&x).unwrap();
        // Narrow Y: the mean R² over PCs and seeds is near rank/(n − 1) = 10/40, no warning.
        let mut mean = 0.0;
        for seed in 0..200 {
            let y = initial_y(41, 10, 100 + seed);
            let (r2, c) = pc_r2_linear(&t, &y, 6);
            assert_eq!((c.rank, c.level), (10, 0.25));
            assert_eq!(r2, pc_r2(&t, &y, 6, Alignment::Linear));
            mean += r2.iter().sum::<f64>() / 6.0 / 200.0;
        }
        assert!((mean - 0.25).abs() < 0.02, "mean R² of a random Y {mean}");
        assert_eq!(LinearChance::random(41, 10).warning(), None);
        // Half of the directions: inflated, said with its level.
        let c = pc_r2_linear(&t, &initial_y(41, 20, 1), 6).1;
        assert_eq!(c, LinearChance::random(41, 20));
        assert!(
            !c.saturated() && c.warning().unwrap().contains("0.50"),
            "{c:?}"
        );
        // q = n − 1 (rank n − 1 after centring) and wider: every R² is 1, and it is said.
        for q in [40, 41, 90] {
            let y = initial_y(41, q, 7);
            let c = pc_r2_linear(&t, &y, 6).1;
            assert!(c.saturated() && c.level == 1.0, "{c:?}");
            assert!(c.warning().unwrap().contains("trivially 1"));
            for v in pc_r2(&t, &y, 6, Alignment::Linear) {
                assert!((v - 1.0).abs() < 1e-9, "q = {q}: {v}");
            }
        }
        // The rank, not the width: 60 columns of rank 5 are no more than 5 columns.
        let thin = initial_y(41, 5, 9) * initial_y(5, 60, 10);
        let c = pc_r2_linear(&t, &thin, 6).1;
        assert_eq!((c.q, c.rank, c.warning()), (60, 5, None));
    }
}
