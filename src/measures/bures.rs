//! Normalised Bures similarity, angular Procrustes and the Procrustes (Bures) distance
//! (spec §2.6–2.8), all through the nuclear norm of the small r × q matrix B = X_sᵀY_c and its
//! polar factor (spec G5): no n × n work and no derivative of singular vectors.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::{degenerate, Direction, Measure, DEGENERATE_NORM2};
use crate::linalg::{
    center_columns, center_columns_mut, dot, frob2, gemm, gram, mul, sym_eigen, thin_svd, Op,
};
use crate::target::Target;

/// Eigenvalues of the small Gram below this fraction of the largest are dropped; if any
/// kept one is below [`GRAM_COND`] the polar factor is taken from a true SVD instead.
const GRAM_RTOL: f64 = 1e-12;
const GRAM_COND: f64 = 1e-8;

/// The nuclear norm ‖B‖_* and the polar factor P = U_B V_Bᵀ (B's shape) of a small matrix.
///
/// Well-conditioned B (the common case): eigen-decompose the smaller Gram BBᵀ or BᵀB,
/// P = W μ^(−1/2) Wᵀ B or B Z μ^(−1/2) Zᵀ (spec §2.6 "reduced, cheap form"). Otherwise a
/// direct SVD (pitfall (i): √ of tiny Gram eigenvalues is round-off). The nuclear norm is
/// returned as ⟨P, B⟩, which is second-order accurate in any error of P.
pub fn polar(b: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let (r, q) = b.shape();
    if r == 0 || q == 0 {
        return (0.0, DMatrix::zeros(r, q));
    }
    let wide = r <= q;
    let g = if wide { gram(b, Op::N) } else { gram(b, Op::T) };
    let (mu, w) = sym_eigen(g);
    let mu_max = mu[0].max(0.0);
    if mu_max == 0.0 {
        return (0.0, DMatrix::zeros(r, q));
    }
    let k = mu.iter().take_while(|&&m| m > GRAM_RTOL * mu_max).count();
    if k < mu.len() || mu[k - 1] < GRAM_COND * mu_max {
        return polar_svd(b);
    }
    // W μ^(−1/2) Wᵀ B  (r ≤ q)   or   B Z μ^(−1/2) Zᵀ  (r > q)
    let scale: Vec<f64> = mu.iter().take(k).map(|m| 1.0 / m.sqrt()).collect();
    let ws = crate::linalg::scale_columns(&w, &scale);
    let p = if wide {
        let wtb = mul(&w.columns(0, k).into_owned(), Op::T, b, Op::N);
        mul(&ws, Op::N, &wtb, Op::N)
    } else {
        let bz = mul(b, Op::N, &ws, Op::N);
        mul(&bz, Op::N, &w.columns(0, k).into_owned(), Op::T)
    };
    (dot(&p, b), p)
}

fn polar_svd(b: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let (u, s, v) = thin_svd(b);
    let smax = s.iter().cloned().fold(0.0, f64::max);
    let nuc: f64 = s.iter().sum();
    let k = s.iter().take_while(|&&x| x > 1e-14 * smax).count();
    let p = mul(
        &u.columns(0, k).into_owned(),
        Op::N,
        &v.columns(0, k).into_owned(),
        Op::T,
    );
    (nuc, p)
}

/// What NBS and the Procrustes distance share.
struct BuresParts {
    yc: DMatrix<f64>,
    yc2: f64,
    nuc: f64,
    /// Polar factor of B = X_sᵀY_c (r × q).
    p: DMatrix<f64>,
}

fn bures_parts(t: &Target, y: &DMatrix<f64>) -> BuresParts {
    let yc = center_columns(y);
    let yc2 = frob2(&yc);
    let b = mul(&t.xs, Op::T, &yc, Op::N);
    let (nuc, p) = polar(&b);
    BuresParts { yc, yc2, nuc, p }
}

/// Normalised Bures similarity NBS = ‖X_cᵀY_c‖_* / (‖X_c‖‖Y_c‖).
pub struct Nbs {
    target: Arc<Target>,
}

impl Nbs {
    pub fn new(target: Arc<Target>) -> Self {
        Nbs { target }
    }
}

impl Measure for Nbs {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        let bp = bures_parts(&self.target, y);
        if bp.yc2 < DEGENERATE_NORM2 {
            return 0.0;
        }
        (bp.nuc / (self.target.s1.sqrt() * bp.yc2.sqrt())).min(1.0)
    }

    /// ∂NBS/∂Y = X_s P_B/(‖X_c‖‖Y_c‖) − NBS·Y_c/‖Y_c‖².
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let bp = bures_parts(&self.target, y);
        if bp.yc2 < DEGENERATE_NORM2 {
            return degenerate(y, grad, 0.0);
        }
        let denom = self.target.s1.sqrt() * bp.yc2.sqrt();
        let nbs = bp.nuc / denom;
        *grad = bp.yc * (-nbs / bp.yc2);
        gemm(1.0 / denom, &self.target.xs, Op::N, &bp.p, Op::N, 1.0, grad);
        center_columns_mut(grad);
        nbs.min(1.0)
    }
}

/// Procrustes / Bures distance d = min_Q ‖X_c − Y_cQ‖ (a distance: minimise).
pub struct ProcrustesEuclidean {
    target: Arc<Target>,
}

impl ProcrustesEuclidean {
    pub fn new(target: Arc<Target>) -> Self {
        ProcrustesEuclidean { target }
    }

    /// d in the stable form (spec §2.8): ‖X_s − Y_cP_Bᵀ‖² + ‖Y_c(I − P_BᵀP_B)‖², both sums of
    /// squares, instead of S₁ + ‖Y_c‖² − 2‖B‖_*, which cancels near d = 0. Also returns
    /// Y_c − X_s P_B, the numerator of the gradient.
    fn distance(&self, bp: &BuresParts) -> (f64, DMatrix<f64>) {
        let t = &self.target;
        // E = X_s − Y_c P_Bᵀ (n × r)
        let mut e = t.xs.clone();
        gemm(-1.0, &bp.yc, Op::N, &bp.p, Op::T, 1.0, &mut e);
        let mut d2 = frob2(&e);
        // Directions of Y not matched by P (rank(B) < q): Y_c (I − P_BᵀP_B).
        let ptp = mul(&bp.p, Op::T, &bp.p, Op::N);
        let id_gap = (DMatrix::identity(ptp.nrows(), ptp.ncols()) - &ptp).norm();
        if id_gap > 1e-10 {
            let mut rest = bp.yc.clone();
            let ypt = mul(&bp.yc, Op::N, &bp.p, Op::T);
            gemm(-1.0, &ypt, Op::N, &bp.p, Op::N, 1.0, &mut rest);
            d2 += frob2(&rest);
        }
        let mut g = bp.yc.clone();
        gemm(-1.0, &t.xs, Op::N, &bp.p, Op::N, 1.0, &mut g);
        (d2.sqrt(), g)
    }
}

impl Measure for ProcrustesEuclidean {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.distance(&bures_parts(&self.target, y)).0
    }

    /// ∂d/∂Y = (Y_c − X_s P_B)/d.
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let bp = bures_parts(&self.target, y);
        let (d, g) = self.distance(&bp);
        if d < 1e-150 {
            return degenerate(y, grad, d);
        }
        *grad = g / d;
        center_columns_mut(grad);
        d
    }

    fn direction(&self) -> Direction {
        Direction::Distance
    }
}
