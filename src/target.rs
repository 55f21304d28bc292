//! The prepared target: X is fixed during a run, so everything the measures need from it is
//! computed once here (spec §1.6) and a step only costs products with Y.

use nalgebra::{DMatrix, DVector};

use crate::linalg::{center_columns, column_means, frob2, thin_svd};

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
    /// Whether X can be a target, without preparing it (what a one-off pair score checks):
    /// at least 2 samples and a neuron, finite, not constant. `new` refuses exactly these.
    pub fn check(x: &DMatrix<f64>) -> Result<(), TargetError> {
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
        // X_c = 0 exactly iff every singular value is 0 (`new`'s test after its SVD).
        if frob2(&center_columns(x)) == 0.0 {
            return Err(TargetError::Constant);
        }
        Ok(())
    }

    /// Centre X (n × p), take its thin SVD and keep the numerically non-zero part.
    pub fn new(x: &DMatrix<f64>) -> Result<Self, TargetError> {
        Self::check(x)?;
        let (n, p) = x.shape();
        let mean = column_means(x);
        let xc = center_columns(x);
        // The thin SVD (faer's): 14× faster than nalgebra's full one at 2000×500, and only the
        // min(n, p) factors any measure reads.
        let (u_thin, sv, v_thin) = thin_svd(&xc);
        let s_max = sv.iter().cloned().fold(0.0, f64::max);
        if s_max == 0.0 {
            return Err(TargetError::Constant);
        }
        let tol = RANK_RTOL * s_max * n.max(p) as f64;
        let r = sv.iter().take_while(|&&sk| sk > tol).count();
        let s = sv.rows(0, r).into_owned();
        let mut u = u_thin.columns(0, r).into_owned();
        let mut v = v_thin.columns(0, r).into_owned();
        // A PC's sign is arbitrary; fix it (the loading of largest magnitude is positive, first
        // of equals) so that plots and exported projections do not depend on the SVD routine.
        for k in 0..r {
            let mut best = 0;
            for i in 1..p {
                if v[(i, k)].abs() > v[(best, k)].abs() {
                    best = i;
                }
            }
            if v[(best, k)] < 0.0 {
                v.column_mut(k).neg_mut();
                u.column_mut(k).neg_mut();
            }
        }
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
    fn pcs_equal_nalgebra_svd_up_to_the_fixed_sign() {
        // Tall, wide and rank-deficient recordings: the thin SVD gives the same singular values
        // as nalgebra's full SVD, and the same PCs once each is given the documented sign.
        for x in [
            random(40, 7, 5),
            random(6, 15, 6),
            random(25, 2, 7) * random(2, 9, 8),
        ] {
            let t = Target::new(&x).unwrap();
            let full = center_columns(&x).svd(true, true);
            let vt = full.v_t.unwrap();
            for k in 0..t.rank() {
                assert!((t.s[k] - full.singular_values[k]).abs() < 1e-10 * t.s[0]);
                let col = t.v.column(k);
                let top = col.iamax();
                assert!(col[top] > 0.0, "PC{} has a negative largest loading", k + 1);
                let reference = vt.row(k).transpose();
                let sign = reference[top].signum();
                assert!((col - reference * sign).norm() < 1e-8);
            }
            let utu = t.u.transpose() * &t.u;
            assert!((utu - DMatrix::identity(t.rank(), t.rank())).norm() < 1e-10);
        }
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
