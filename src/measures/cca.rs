//! CCA angular score (spec §2.9): ang(Σρ_k / √(r_x·r_y)), the ρ_k the canonical correlations,
//! r_x, r_y the numerical ranks (whitening by a pseudo-inverse square root with a *relative*
//! eigenvalue floor, unlike the authors' absolute 1e-7, spec B15).
//!
//! Whitened X is just U_x (orthonormal, from the prepared SVD); whitened Y is
//! U_y = Y_c Z μ^(−1/2) from the eigen-decomposition of Y_cᵀY_c. ρ = σ(U_xᵀU_y).

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{Def, Dims, Group, List::*};
use super::{angular, degenerate, Angular, Direction, Measure, DEGENERATE_NORM2};
use crate::linalg::{
    center_columns, center_columns_mut, frob2, gemm, gram, mul, scale_columns, sym_eigen, thin_svd,
    Op,
};
use crate::target::Target;

pub const CCA_ANGULAR: Def = Def {
    id: "cca-angular-score",
    aliases: &["cca-angular_score"],
    alias_warnings: &[],
    name: "angular CCA",
    group: Group::Cca,
    description: "1 − (2/π)·arccos(Σρ/√(r_x r_y)), ρ the canonical correlations (trivially 1 when n − 1 < r_x + q)",
    rewards: "correlating with every direction of X equally, whatever its variance: any invertible linear map of Y scores the same",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: &["invertible-linear", "orthogonal", "isotropic-scaling", "translation"],
    citation: "Hotelling (1936) Biometrika; Raghu et al. (2017) SVCCA, NeurIPS; Williams et al. (2021)",
    score_only: None,
    pair: None,
    build: |c| {
        let cca = CcaMean::new(c.target());
        let (n, p, q, rx) = (c.n(), c.p(), c.q, cca.rank_x());
        let mut warnings = Vec::new();
        if n < rx + q + 1 {
            warnings.push(format!(
                "cca-angular-score: n − 1 = {} < rank(X) + q = {} (p = {p}), so at least {} canonical correlations are trivially 1 and the score is not informative (spec §2.9)",
                n - 1,
                rx + q,
                (rx + q + 1 - n).min(rx.min(q))
            ));
        }
        Ok((Box::new(Angular(cca)), warnings))
    },
    flops: |d| {
        let Dims { n, r, q } = d;
        let eig = |d: f64| 9.0 * d * d * d;
        n * q * q + eig(q) + 2.0 * n * q * r + 2.0 * n * r * q + 20.0 * r.min(q).powi(3) + 4.0 * n * r * q
    },
    theory: Some(|t| {
        let cca = if t.rank_y > 0 {
            t.rho / ((t.rank_x * t.rank_y) as f64).sqrt()
        } else {
            0.0
        };
        angular(cca)
    }),
    lists: &[(PerturbCli, 5), (Compare, 9)],
};

/// Relative eigenvalue floor of the whitening (spec §2.9: 1e-10·λ_max).
pub const WHITEN_RTOL: f64 = 1e-10;

/// Mean canonical correlation Σρ/√(r_x r_y) (a similarity in [0, 1]; wrap in `Angular`).
pub struct CcaMean {
    /// Orthonormal basis of col(X_c) (n × r_x).
    ux: DMatrix<f64>,
}

impl CcaMean {
    pub fn new(target: Arc<Target>) -> Self {
        let lmax = target.s.get(0).map(|s| s * s).unwrap_or(0.0);
        let rx = target
            .s
            .iter()
            .take_while(|s| *s * *s > WHITEN_RTOL * lmax)
            .count();
        CcaMean {
            ux: target.u.columns(0, rx).into_owned(),
        }
    }

    /// Numerical rank of X used in the normaliser.
    pub fn rank_x(&self) -> usize {
        self.ux.ncols()
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let yc = center_columns(y);
        let fallback = |g: Option<&mut DMatrix<f64>>| {
            if let Some(g) = g {
                degenerate(y, g, 0.0);
            }
            0.0
        };
        if frob2(&yc) < DEGENERATE_NORM2 || self.ux.ncols() == 0 {
            return fallback(grad);
        }
        let (mu, z) = sym_eigen(gram(&yc, Op::T));
        let ry = mu.iter().take_while(|&&m| m > WHITEN_RTOL * mu[0]).count();
        if ry == 0 {
            return fallback(grad);
        }
        // W_y restricted to the non-null space: Z_k μ_k^(−1/2) (q × r_y).
        let inv_sqrt: Vec<f64> = mu.iter().take(ry).map(|m| 1.0 / m.sqrt()).collect();
        let wy = scale_columns(&z, &inv_sqrt);
        let uy = mul(&yc, Op::N, &wy, Op::N); // n × r_y
        let m = mul(&self.ux, Op::T, &uy, Op::N); // r_x × r_y
        let (p, rho, v) = thin_svd(&m);
        let norm = ((self.ux.ncols() * ry) as f64).sqrt();
        let total: f64 = rho.iter().sum();
        let value = total / norm;
        if let Some(g) = grad {
            // ∂Σρ/∂Y = U_x P Bᵀ − Y_c B diag(ρ) Bᵀ, B = W_y Q.
            let b = mul(&wy, Op::N, &v, Op::N); // q × k
            let uxp = mul(&self.ux, Op::N, &p, Op::N); // n × k
            let b_rho = scale_columns(&b, rho.as_slice());
            let mut inner = uxp; // n × k: U_x P − Y_c B diag(ρ)
            gemm(-1.0, &yc, Op::N, &b_rho, Op::N, 1.0, &mut inner);
            *g = DMatrix::zeros(y.nrows(), y.ncols());
            gemm(1.0 / norm, &inner, Op::N, &b, Op::T, 0.0, g);
            center_columns_mut(g);
        }
        value
    }
}

impl Measure for CcaMean {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None).min(1.0)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad)).min(1.0)
    }
}
