//! Linear CKA with the biased (Gretton) HSIC (spec §2.2) and ENSD (spec §2.14).
//!
//! CKA(X, Y) = ‖X_cᵀY_c‖² / (‖X_cᵀX_c‖ · ‖Y_cᵀY_c‖). X enters only through the PC scores X_s
//! (X_s X_sᵀ = X_c X_cᵀ) and √S₂ = ‖X_cᵀX_c‖, so a step costs O(nq(r + min(n, q))) and no
//! decomposition at all; the authors' n × n SVDs are unnecessary.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::{degenerate, Measure, DEGENERATE_NORM2};
use crate::linalg::{center_columns, center_columns_mut, frob2, gemm, gram, mul, Op};
use crate::target::Target;

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
