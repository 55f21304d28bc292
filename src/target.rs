//! The prepared target: X is fixed during a run, so everything the measures need from it is
//! computed once here (spec §1.6) and a step only costs products with Y.

use nalgebra::{DMatrix, DVector};

use crate::linalg::{center_columns, column_means, frob2};

/// Singular values below `RANK_RTOL · s₁ · max(n, p)` count as zero (spec §1.6).
pub const RANK_RTOL: f64 = 1e-12;

/// X after centring and a thin SVD: X_c = U diag(s) Vᵀ with rank r.
#[derive(Clone, Debug)]
pub struct Target {
    /// Number of samples n = T·C (rows of the flattened recording).
    pub n: usize,
    /// Number of neurons p (columns).
    pub p: usize,
    /// Centred recording X_c (n × p).
    pub xc: DMatrix<f64>,
    /// Column means of X (X = X_c + 1·meanᵀ); the row-centred RSA needs the raw rows.
    pub mean: DVector<f64>,
    /// Left singular vectors U (n × r), centred and orthonormal.
    pub u: DMatrix<f64>,
    /// Singular values s₁ ≥ … ≥ s_r > 0.
    pub s: DVector<f64>,
    /// Right singular vectors V (p × r): the PC loadings.
    pub v: DMatrix<f64>,
    /// PC scores X_s = U diag(s) = X_c V (n × r). X_s X_sᵀ = X_c X_cᵀ.
    pub xs: DMatrix<f64>,
    /// S₁ = Σ λ_k = ‖X_c‖² with λ_k = s_k².
    pub s1: f64,
    /// S₂ = Σ λ_k² = ‖X_cᵀ X_c‖².
    pub s2: f64,
}

/// Why a recording cannot be used as a target.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TargetError {
    #[error("the recording needs at least 2 samples and 1 neuron, got {n}×{p}")]
    TooSmall { n: usize, p: usize },
    #[error("the recording contains a non-finite value at flattened row {row}, column {col}")]
    NonFinite { row: usize, col: usize },
    #[error("the recording is constant (every neuron has zero variance), so no score is defined")]
    Constant,
}

impl Target {
    /// Centre X (n × p), take its thin SVD and keep the numerically non-zero part.
    pub fn new(x: &DMatrix<f64>) -> Result<Self, TargetError> {
        let (n, p) = x.shape();
        if n < 2 || p < 1 {
            return Err(TargetError::TooSmall { n, p });
        }
        if let Some(k) = x.iter().position(|v| !v.is_finite()) {
            return Err(TargetError::NonFinite {
                row: k % n,
                col: k / n,
            });
        }
        let mean = column_means(x);
        let xc = center_columns(x);
        let svd = xc.clone().svd(true, true);
        let (u_full, vt_full) = (svd.u.expect("requested U"), svd.v_t.expect("requested Vᵀ"));
        let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
        order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
        let s_max = svd.singular_values.iter().cloned().fold(0.0, f64::max);
        if s_max == 0.0 {
            return Err(TargetError::Constant);
        }
        let tol = RANK_RTOL * s_max * n.max(p) as f64;
        let keep: Vec<usize> = order
            .into_iter()
            .filter(|&k| svd.singular_values[k] > tol)
            .collect();
        let r = keep.len();
        let s = DVector::from_iterator(r, keep.iter().map(|&k| svd.singular_values[k]));
        let u = DMatrix::from_fn(n, r, |i, j| u_full[(i, keep[j])]);
        let v = DMatrix::from_fn(p, r, |i, j| vt_full[(keep[j], i)]);
        let xs = DMatrix::from_fn(n, r, |i, j| u[(i, j)] * s[j]);
        let s1 = frob2(&xc);
        let s2 = s.iter().map(|sk| sk.powi(4)).sum();
        Ok(Target {
            n,
            p,
            xc,
            mean,
            u,
            s,
            v,
            xs,
            s1,
            s2,
        })
    }

    /// The recording as given (X_c + 1·meanᵀ), n × p.
    pub fn raw(&self) -> DMatrix<f64> {
        let mut x = self.xc.clone();
        for (mut col, m) in x.column_iter_mut().zip(self.mean.iter()) {
            col.add_scalar_mut(*m);
        }
        x
    }

    /// Numerical rank r of X_c.
    pub fn rank(&self) -> usize {
        self.s.len()
    }

    /// PC variances λ_k = s_k² (unnormalised: divide by n−1 for the sample variance).
    pub fn lambdas(&self) -> DVector<f64> {
        self.s.map(|sk| sk * sk)
    }

    /// Explained-variance ratios λ_k / S₁.
    pub fn explained_variance_ratio(&self) -> DVector<f64> {
        self.lambdas() / self.s1
    }

    /// Coordinates of a (centred internally) n × p matrix in X's first `k` PCs: Y_c V[:, :k].
    pub fn project(&self, y: &DMatrix<f64>, k: usize) -> DMatrix<f64> {
        let k = k.min(self.rank());
        center_columns(y) * self.v.columns(0, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
        let mut r = Rng::new(seed);
        DMatrix::from_fn(n, p, |_, _| r.normal())
    }

    #[test]
    fn svd_reconstructs_the_centred_recording() {
        let x = random(20, 6, 1);
        let t = Target::new(&x).unwrap();
        assert_eq!(t.rank(), 6);
        let rec = &t.u * DMatrix::from_diagonal(&t.s) * t.v.transpose();
        assert!((rec - &t.xc).norm() < 1e-10 * t.xc.norm());
        assert!((t.s1 - t.lambdas().sum()).abs() < 1e-10 * t.s1);
        let s2_direct = (t.xc.transpose() * &t.xc).norm_squared();
        assert!((t.s2 - s2_direct).abs() < 1e-10 * t.s2);
        assert!(t.s.as_slice().windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn rank_deficiency_is_detected() {
        let x = random(30, 3, 2) * random(3, 8, 3);
        assert_eq!(Target::new(&x).unwrap().rank(), 3);
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert_eq!(
            Target::new(&DMatrix::zeros(1, 3)).unwrap_err(),
            TargetError::TooSmall { n: 1, p: 3 }
        );
        assert_eq!(
            Target::new(&DMatrix::from_element(4, 2, 3.0)).unwrap_err(),
            TargetError::Constant
        );
        let mut x = random(5, 2, 4);
        x[(3, 1)] = f64::NAN;
        assert_eq!(
            Target::new(&x).unwrap_err(),
            TargetError::NonFinite { row: 3, col: 1 }
        );
    }
}
