//! Linear CKA with the biased (Gretton) HSIC (spec §2.2).
//!
//! CKA(X, Y) = ‖X_cᵀY_c‖² / (‖X_cᵀX_c‖ · ‖Y_cᵀY_c‖). X enters only through the PC scores X_s
//! (X_s X_sᵀ = X_c X_cᵀ) and √S₂ = ‖X_cᵀX_c‖, so a step costs O(nq(r + min(n, q))) and no
//! decomposition at all; the authors' n × n SVDs are unnecessary.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::Measure;
use crate::linalg::{center_columns, center_columns_mut};
use crate::target::Target;

/// Linear CKA against a prepared target.
pub struct Cka {
    target: Arc<Target>,
}

impl Cka {
    pub fn new(target: Arc<Target>) -> Self {
        Cka { target }
    }

    /// Shared work of `score` and `score_and_grad`: (CKA, Y_c, X_sᵀY_c, ‖Y_cᵀY_c‖, Gram).
    fn parts(&self, y: &DMatrix<f64>) -> Parts {
        let yc = center_columns(y);
        let b = self.target.xs.transpose() * &yc; // r × q
                                                  // ‖Y_cᵀY_c‖ = ‖Y_cY_cᵀ‖: use the smaller Gram matrix.
        let gram = if yc.ncols() <= yc.nrows() {
            yc.transpose() * &yc
        } else {
            &yc * yc.transpose()
        };
        let yy = gram.norm();
        let cka = if yy > 0.0 {
            b.norm_squared() / (self.target.s2.sqrt() * yy)
        } else {
            0.0
        };
        Parts {
            cka,
            yc,
            b,
            yy,
            gram,
        }
    }
}

struct Parts {
    cka: f64,
    yc: DMatrix<f64>,
    b: DMatrix<f64>,
    yy: f64,
    gram: DMatrix<f64>,
}

impl Measure for Cka {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.parts(y).cka
    }

    /// ∂CKA/∂Y = 2/(√S₂‖Y_cᵀY_c‖) · X_s(X_sᵀY_c) − 2·CKA/‖Y_cᵀY_c‖² · Y_c(Y_cᵀY_c).
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let Parts {
            cka,
            yc,
            b,
            yy,
            gram,
        } = self.parts(y);
        if yy == 0.0 {
            *grad = DMatrix::zeros(y.nrows(), y.ncols());
            return cka;
        }
        let yyy = if yc.ncols() <= yc.nrows() {
            &yc * &gram
        } else {
            &gram * &yc
        };
        *grad = &self.target.xs * b * (2.0 / (self.target.s2.sqrt() * yy));
        *grad -= yyy * (2.0 * cka / (yy * yy));
        center_columns_mut(grad);
        cka
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
    fn gradient_matches_central_differences() {
        for (n, p, q) in [(13, 4, 4), (9, 3, 5), (5, 3, 8)] {
            let x = random(n, p, 3)
                * DMatrix::from_diagonal(&nalgebra::DVector::from_fn(p, |i, _| {
                    3.0 / (i + 1) as f64
                }));
            let y = random(n, q, 4);
            let m = Cka::new(Arc::new(Target::new(&x).unwrap()));
            let mut g = DMatrix::zeros(0, 0);
            m.score_and_grad(&y, &mut g);
            let h = 1e-6;
            let fd = DMatrix::from_fn(n, q, |i, j| {
                let (mut yp, mut ym) = (y.clone(), y.clone());
                yp[(i, j)] += h;
                ym[(i, j)] -= h;
                (m.score(&yp) - m.score(&ym)) / (2.0 * h)
            });
            let rel = (&g - &fd).norm() / fd.norm();
            assert!(rel < 1e-6, "n={n} p={p} q={q}: relative error {rel}");
        }
    }

    #[test]
    fn invariant_to_rotation_scaling_and_translation_of_y() {
        let x = random(15, 4, 5);
        let y = random(15, 4, 6);
        let m = Cka::new(Arc::new(Target::new(&x).unwrap()));
        let q = random(4, 4, 7).qr().q();
        let y2 = (&y * q) * 3.7 + DMatrix::from_element(15, 4, 2.5);
        assert!((m.score(&y) - m.score(&y2)).abs() < 1e-12);
    }
}
