//! Linear CKA with the biased (Gretton) HSIC (spec §2.2) and ENSD (spec §2.14).
//!
//! CKA(X, Y) = ‖X_cᵀY_c‖² / (‖X_cᵀX_c‖ · ‖Y_cᵀY_c‖). X enters only through the PC scores X_s
//! (X_s X_sᵀ = X_c X_cᵀ) and √S₂ = ‖X_cᵀX_c‖, so a step costs O(nq(r + min(n, q))) and no
//! decomposition at all; the authors' n × n SVDs are unnecessary.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{built, Def, Dims, Group, List::*, PcSums, OIST};
use super::{angular, degenerate, Angular, Direction, Measure, DEGENERATE_NORM2};
use crate::linalg::{center_columns, center_columns_mut, frob2, gemm, gram, gram_norm, mul, Op};
use crate::target::Target;

pub(crate) const KORNBLITH: &str = "Kornblith, Norouzi, Lee, Hinton (2019) Similarity of neural network representations revisited, ICML";

pub const CKA: Def = Def {
    id: "cka",
    aliases: &[
        "rsa-correlation-corr",
        "rsa-euclidean-centered-cosine",
        "cka-kernel=linear-hsic=gretton-score",
        "kernel=linear-similarity=(centered-cosine)-score",
        "linear-cka",
    ],
    alias_warnings: &[("rsa-correlation-corr", "`rsa-correlation-corr` is the authors' id for what is in fact linear CKA (spec §2.13, bug B1); it is computed as `cka` so their numbers reproduce. For real RSA use `rsa-correlation-pearson`")],
    name: "linear CKA",
    group: Group::Cka,
    description: "linear CKA, biased HSIC (Gretton): ‖X_cᵀY_c‖²/(‖X_cᵀX_c‖‖Y_cᵀY_c‖)",
    rewards: "matching X's top principal components: each PC counts by its variance squared, so the first one or two dominate",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: KORNBLITH,
    score_only: None,
    pair: Some(cka_pair),
    build: |c| built(Cka::new(c.target())),
    flops: kernel_flops,
    theory: Some(cka_theory),
    lists: &[
        (Watch, 1),
        (Calibrate, 1),
        (CalibrateTicked, 1),
        (Bench, 1),
        (Perturb, 1),
        (PerturbCli, 1),
        (Compare, 1),
    ],
};

pub const CKA_ANGULAR: Def = Def {
    id: "cka-angular-score",
    aliases: &["cka-angular_score", "cka-kernel=linear-hsic=gretton-angular_score"],
    alias_warnings: &[],
    name: "angular CKA",
    group: Group::Cka,
    description: "angular CKA score 1 − (2/π)·arccos(CKA)",
    rewards: "the same as linear CKA (top PCs by variance squared), on an angular scale that spreads out the values near 1",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: KORNBLITH,
    score_only: None,
    pair: Some(|x, y| angular(cka_pair(x, y))),
    build: |c| built(Angular(Cka::new(c.target()))),
    flops: kernel_flops,
    theory: Some(|t| angular(cka_theory(t))),
    lists: &[(Bench, 2), (Compare, 2)],
};

pub const ENSD: Def = Def {
    id: "ensd",
    aliases: &["effective-number-of-shared-dimensions"],
    alias_warnings: &[],
    name: "ENSD",
    group: Group::Other,
    description: "effective number of shared dimensions CKA·√(PR_x PR_y) (not a [0,1] score)",
    rewards: "sharing many dimensions of comparable variance with X: it counts shared dimensions rather than scoring in [0, 1]",
    range: [Some(0.0), None],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: "Giaffar, Rojas Buján, Rodgers, Sompolinsky, Zylberberg (2023) The effective number of shared dimensions, bioRxiv",
    score_only: None,
    pair: None,
    build: |c| built(Ensd::new(c.target())),
    flops: kernel_flops,
    theory: Some(|t| {
        if t.yy2 > 0.0 {
            cka_theory(t) * ((t.s1 * t.s1 / t.s2) * (t.yy * t.yy / t.yy2)).sqrt()
        } else {
            0.0
        }
    }),
    lists: &[(Bench, 8)],
};

/// One step of CKA or ENSD: X_sᵀY_c and X_s B (4nrq) and the smaller Gram of Y_c with its
/// product (3n·min(n, q)·q).
fn kernel_flops(d: Dims) -> f64 {
    let Dims { n, r, q } = d;
    4.0 * n * r * q + 3.0 * n * q.min(n) * q.max(n).min(q)
}

/// CKA of a PC perturbation: Σa²λ²c² / √(S₂ Σa⁴λ²) (spec §6.1).
pub(crate) fn cka_theory(t: &PcSums) -> f64 {
    if t.yy2 > 0.0 {
        t.cross2 / (t.s2 * t.yy2).sqrt()
    } else {
        0.0
    }
}

/// Linear CKA against a prepared target.
pub struct Cka {
    target: Arc<Target>,
}

/// What CKA and ENSD share: Y_c, B = X_sᵀY_c (r × q), the smaller Gram of Y_c and its norm.
pub(crate) struct KernelParts {
    pub yc: DMatrix<f64>,
    pub b: DMatrix<f64>,
    /// Y_cᵀY_c (q × q) when q ≤ n, else Y_cY_cᵀ (n × n); ‖·‖ is the same.
    pub gram: DMatrix<f64>,
    pub yy: f64,
    pub yc2: f64,
}

impl KernelParts {
    pub fn new(t: &Target, y: &DMatrix<f64>) -> Self {
        let yc = center_columns(y);
        let b = mul(&t.xs, Op::T, &yc, Op::N);
        let gram = if yc.ncols() <= yc.nrows() {
            gram(&yc, Op::T)
        } else {
            gram(&yc, Op::N)
        };
        // ‖Y_cᵀY_c‖, as `linalg::gram_norm` computes it (the pair formula's denominator).
        let yy = gram.norm();
        let yc2 = frob2(&yc);
        KernelParts {
            yc,
            b,
            gram,
            yy,
            yc2,
        }
    }

    /// grad ← α·X_s B + β·Y_c(Y_cᵀY_c) (the two directions every kernel gradient mixes).
    pub fn combine(&self, t: &Target, alpha: f64, beta: f64, grad: &mut DMatrix<f64>) {
        *grad = DMatrix::zeros(self.yc.nrows(), self.yc.ncols());
        gemm(alpha, &t.xs, Op::N, &self.b, Op::N, 0.0, grad);
        if self.yc.ncols() <= self.yc.nrows() {
            gemm(beta, &self.yc, Op::N, &self.gram, Op::N, 1.0, grad);
        } else {
            gemm(beta, &self.gram, Op::N, &self.yc, Op::N, 1.0, grad);
        }
    }
}

impl Cka {
    pub fn new(target: Arc<Target>) -> Self {
        Cka { target }
    }
}

/// Linear CKA of a pair without preparing X, for a one-off score (`pair::score_pair`): one
/// p × q product and two small Grams instead of X's thin SVD. The prepared `Cka::score` to
/// rounding (registry test `pair_formulas_equal_the_prepared_measures`).
fn cka_pair(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let (xc, yc) = (center_columns(x), center_columns(y));
    if frob2(&yc) < DEGENERATE_NORM2 {
        return 0.0;
    }
    frob2(&mul(&xc, Op::T, &yc, Op::N)) / (gram_norm(&xc) * gram_norm(&yc))
}

impl Measure for Cka {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        let k = KernelParts::new(&self.target, y);
        if k.yc2 < DEGENERATE_NORM2 {
            return 0.0;
        }
        frob2(&k.b) / (self.target.s2.sqrt() * k.yy)
    }

    /// ∂CKA/∂Y = 2/(√S₂‖Y_cᵀY_c‖) · X_s(X_sᵀY_c) − 2·CKA/‖Y_cᵀY_c‖² · Y_c(Y_cᵀY_c).
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let k = KernelParts::new(&self.target, y);
        if k.yc2 < DEGENERATE_NORM2 {
            return degenerate(y, grad, 0.0);
        }
        let sx = self.target.s2.sqrt();
        let cka = frob2(&k.b) / (sx * k.yy);
        k.combine(
            &self.target,
            2.0 / (sx * k.yy),
            -2.0 * cka / (k.yy * k.yy),
            grad,
        );
        center_columns_mut(grad);
        cka
    }
}

/// Effective number of shared dimensions (Giaffar et al.): CKA·√(PR_x·PR_y).
pub struct Ensd {
    target: Arc<Target>,
}

impl Ensd {
    pub fn new(target: Arc<Target>) -> Self {
        Ensd { target }
    }

    fn value(&self, k: &KernelParts) -> f64 {
        frob2(&k.b) * self.target.s1 * k.yc2 / (self.target.s2 * k.yy * k.yy)
    }
}

impl Measure for Ensd {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        let k = KernelParts::new(&self.target, y);
        if k.yc2 < DEGENERATE_NORM2 {
            return 0.0;
        }
        self.value(&k)
    }

    /// ∂ENSD/∂Y = ENSD·[2X_s B/‖B‖² + 2Y_c/‖Y_c‖² − 4Y_c(Y_cᵀY_c)/‖Y_cᵀY_c‖²].
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let k = KernelParts::new(&self.target, y);
        if k.yc2 < DEGENERATE_NORM2 {
            return degenerate(y, grad, 0.0);
        }
        let e = self.value(&k);
        let b2 = frob2(&k.b);
        if b2 == 0.0 {
            return degenerate(y, grad, 0.0);
        }
        k.combine(&self.target, 2.0 * e / b2, -4.0 * e / (k.yy * k.yy), grad);
        *grad += &k.yc * (2.0 * e / k.yc2);
        center_columns_mut(grad);
        e
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

    /// The textbook definition on the full centred matrices.
    fn cka_direct(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        let (xc, yc) = (center_columns(x), center_columns(y));
        (xc.transpose() * &yc).norm_squared()
            / ((xc.transpose() * &xc).norm() * (yc.transpose() * &yc).norm())
    }

    #[test]
    fn matches_the_definition_and_is_one_on_itself() {
        for (n, p, q) in [(20, 5, 5), (12, 4, 7), (6, 3, 10)] {
            let x = random(n, p, 1);
            let y = random(n, q, 2);
            let m = Cka::new(Arc::new(Target::new(&x).unwrap()));
            assert!((m.score(&y) - cka_direct(&x, &y)).abs() < 1e-12);
            assert!((m.score(&x) - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn ensd_of_x_with_itself_is_its_participation_ratio() {
        let x = random(30, 6, 3);
        let t = Arc::new(Target::new(&x).unwrap());
        let pr = t.s1 * t.s1 / t.s2;
        assert!((Ensd::new(t).score(&x) - pr).abs() < 1e-10 * pr);
    }
}
