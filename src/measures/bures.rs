//! Normalised Bures similarity, angular Procrustes and the Procrustes (Bures) distance
//! (spec §2.6–2.8), all through the nuclear norm of the small r × q matrix B = X_sᵀY_c and its
//! polar factor (spec G5): no n × n work and no derivative of singular vectors.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{built, Def, Dims, Group, List::*, PcSums, OIST};
use super::{angular, degenerate, Angular, Direction, Measure, DEGENERATE_NORM2};
use crate::linalg::{
    center_columns, center_columns_mut, dot, frob2, gemm, gram, mul, singular_values, sym_eigen,
    thin_svd, Op,
};
use crate::target::Target;

const WILLIAMS: &str = "Williams, Kunz, Kornblith, Linderman (2021) Generalized shape metrics on neural representations, NeurIPS";

pub const NBS: Def = Def {
    id: "nbs",
    aliases: &[
        "kernel=linear-similarity=(centered-bures)-score",
        "nbs-score",
        "procrustes-score",
    ],
    alias_warnings: &[],
    name: "NBS",
    group: Group::Bures,
    description: "normalised Bures similarity ‖X_cᵀY_c‖_*/(‖X_c‖‖Y_c‖)",
    rewards: "matching X's principal components weighted by their standard deviation, so low-variance PCs count far more than in CKA",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: "Tang, Maddox, Dickens, Diethe, Damianou (2020) Similarity of neural networks with gradients, arXiv:2003.11498; Williams et al. (2021)",
    score_only: None,
    pair: Some(nbs_pair),
    build: |c| built(Nbs::new(c.target())),
    flops: bures_flops,
    theory: Some(nbs_theory),
    lists: &[
        (Watch, 2),
        (Calibrate, 2),
        (CalibrateTicked, 2),
        (Bench, 3),
        (Perturb, 2),
        (PerturbCli, 2),
        (Compare, 3),
    ],
};

pub const PROCRUSTES_ANGULAR: Def = Def {
    id: "procrustes-angular-score",
    aliases: &[
        "nbs-angular-score",
        "procrustes-angular_score",
        "nbs-angular_score",
        "kernel=linear-similarity=(centered-bures)-angular_score",
    ],
    alias_warnings: &[],
    name: "angular Procrustes",
    group: Group::Bures,
    description: "angular Procrustes score 1 − (2/π)·arccos(NBS)",
    rewards: "the same as NBS (PCs by standard deviation) on the angle of a metric: close to 1 only once the low-variance PCs are matched too",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: WILLIAMS,
    score_only: None,
    pair: Some(|x, y| angular(nbs_pair(x, y))),
    build: |c| built(Angular(Nbs::new(c.target()))),
    flops: bures_flops,
    theory: Some(|t| angular(nbs_theory(t))),
    lists: &[
        (Watch, 3),
        (Calibrate, 3),
        (CalibrateTicked, 3),
        (Bench, 4),
        (Perturb, 3),
        (PerturbCli, 3),
        (Compare, 4),
    ],
};

pub const PROCRUSTES_EUCLIDEAN: Def = Def {
    id: "procrustes-euclidean",
    aliases: &[
        "bures-distance",
        "procrustes-euclidean-distance",
        "procrustes-distance=euclidean",
        "nbs-distance=euclidean",
    ],
    alias_warnings: &[],
    name: "Procrustes distance",
    group: Group::Bures,
    description: "Procrustes / Bures distance min_Q ‖X_c − Y_cQ‖ (a distance: minimised)",
    rewards: "being X up to a rotation and a translation, in X's own units: scale matters",
    range: [Some(0.0), None],
    direction: Direction::Distance,
    invariances: &["orthogonal", "translation"],
    citation: WILLIAMS,
    score_only: None,
    pair: None,
    build: |c| built(ProcrustesEuclidean::new(c.target())),
    flops: |d| {
        let Dims { n, r, q } = d;
        bures_flops(d) + 4.0 * n * r * q + 2.0 * q * q * r
    },
    theory: Some(|t| (t.s1 + t.yy - 2.0 * t.nuclear).max(0.0).sqrt()),
    lists: &[(Bench, 5)],
};

/// One step of NBS: B = X_sᵀY_c and X_s P (4nrq), the small Gram, its eigen-solve and the
/// polar factor.
fn bures_flops(d: Dims) -> f64 {
    let Dims { n, r, q } = d;
    let eig = |d: f64| 9.0 * d * d * d;
    4.0 * n * r * q + r.min(q).powi(2) * r.max(q) + 4.0 * r.min(q) * r * q + eig(r.min(q))
}

/// NBS of a PC perturbation: Σaλ|c| / √(S₁ Σa²λ) (spec §6.1).
fn nbs_theory(t: &PcSums) -> f64 {
    if t.yy > 0.0 {
        t.nuclear / (t.s1 * t.yy).sqrt()
    } else {
        0.0
    }
}

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

/// NBS of a pair without preparing X, for a one-off score (`pair::score_pair`): the nuclear
/// norm of the p × q matrix X_cᵀY_c (its singular values only) instead of X's thin SVD and a
/// polar factor. The prepared `Nbs::score` to rounding (registry test
/// `pair_formulas_equal_the_prepared_measures`).
fn nbs_pair(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let (xc, yc) = (center_columns(x), center_columns(y));
    let yc2 = frob2(&yc);
    if yc2 < DEGENERATE_NORM2 {
        return 0.0;
    }
    let nuc: f64 = singular_values(&mul(&xc, Op::T, &yc, Op::N)).iter().sum();
    (nuc / (frob2(&xc).sqrt() * yc2.sqrt())).min(1.0)
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
