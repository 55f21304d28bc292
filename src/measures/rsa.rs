//! Representational similarity analysis (spec §2.13). RDMs over the n flattened rows:
//! * correlation distance R = 1 − ZZᵀ, z_i the row (condition pattern) centred across neurons
//!   and normalised (rsatoolbox "correlation");
//! * squared Euclidean distance D = diag(K)1ᵀ + 1diag(K)ᵀ − 2K, K = YYᵀ.
//!
//! compared by Pearson r of the upper triangles or by the cosine of the full matrices. The X
//! RDM is prepared once; a step costs O(n²q) and n² memory.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::{degenerate, Measure};
use crate::linalg::{center_columns, center_columns_mut, dot, gemm, gram, Op};
use crate::target::Target;

/// How two RDMs are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Pearson r of the upper-triangle vectors (rsatoolbox `compare=corr`).
    Pearson,
    /// Cosine of the full matrices (= of the upper triangles, zero diagonals).
    Cosine,
}

/// Which RDM is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rdm {
    Correlation,
    SquaredEuclidean,
}

/// Row norms ‖ỹ_i‖ at or below this count as constant rows (correlation undefined).
const ROW_ATOL: f64 = 1e-300;

/// An RSA score against a prepared target RDM.
pub struct Rsa {
    rdm: Rdm,
    cmp: Compare,
    /// The target RDM transformed for the comparison and normalised to unit norm.
    a: DMatrix<f64>,
}

/// Row-centred, row-normalised Z and the row norms (0 marks a constant row).
fn corr_rows(y: &DMatrix<f64>) -> (DMatrix<f64>, Vec<f64>) {
    let (n, q) = y.shape();
    let mut z = y.clone();
    let mut norms = vec![0.0; n];
    for i in 0..n {
        let mean = z.row(i).sum() / q as f64;
        for j in 0..q {
            z[(i, j)] -= mean;
        }
        norms[i] = z.row(i).norm();
    }
    for i in 0..n {
        if norms[i] > ROW_ATOL {
            let inv = 1.0 / norms[i];
            for j in 0..q {
                z[(i, j)] *= inv;
            }
        } else {
            norms[i] = 0.0;
            for j in 0..q {
                z[(i, j)] = 0.0;
            }
        }
    }
    (z, norms)
}

fn build_rdm(rdm: Rdm, y: &DMatrix<f64>) -> (DMatrix<f64>, Aux) {
    match rdm {
        Rdm::Correlation => {
            let (z, norms) = corr_rows(y);
            let mut r = gram(&z, Op::N);
            r.iter_mut().for_each(|v| *v = 1.0 - *v);
            // A constant row has no correlation with anything: its RDM row and column are
            // set to 0 (rsatoolbox's NaN, zeroed), as in the fixtures' textbook values.
            for (i, _) in norms.iter().enumerate().filter(|(_, &nr)| nr == 0.0) {
                r.row_mut(i).fill(0.0);
                r.column_mut(i).fill(0.0);
            }
            (r, Aux::Corr { z, norms })
        }
        Rdm::SquaredEuclidean => {
            let yc = center_columns(y);
            let k = gram(&yc, Op::N);
            let n = k.nrows();
            let d = DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    0.0
                } else {
                    (k[(i, i)] + k[(j, j)] - 2.0 * k[(i, j)]).max(0.0)
                }
            });
            (d, Aux::Euclid { yc })
        }
    }
}

enum Aux {
    Corr { z: DMatrix<f64>, norms: Vec<f64> },
    Euclid { yc: DMatrix<f64> },
}

/// Prepare an RDM for the comparison: Pearson → off-diagonal entries minus their mean, diagonal
/// zero; cosine → as is. Returns the norm before normalising.
fn transform(cmp: Compare, m: &mut DMatrix<f64>) -> f64 {
    let n = m.nrows();
    if cmp == Compare::Pearson {
        let cnt = (n * n.saturating_sub(1)) as f64;
        let mean = (m.sum() - m.diagonal().sum()) / cnt.max(1.0);
        for j in 0..n {
            for i in 0..n {
                m[(i, j)] = if i == j { 0.0 } else { m[(i, j)] - mean };
            }
        }
    }
    m.norm()
}

impl Rsa {
    /// Needs n ≥ 3 (Pearson) or n ≥ 2, and p, q ≥ 2 for the correlation RDM (the registry
    /// checks).
    pub fn new(target: Arc<Target>, rdm: Rdm, cmp: Compare) -> Self {
        let x = match rdm {
            Rdm::Correlation => target.raw(),
            Rdm::SquaredEuclidean => target.xs.clone(),
        };
        let (mut a, _) = build_rdm(rdm, &x);
        let na = transform(cmp, &mut a);
        if na > 0.0 {
            a /= na;
        }
        Rsa { rdm, cmp, a }
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let (mut c, aux) = build_rdm(self.rdm, y);
        let nc = transform(self.cmp, &mut c);
        if nc == 0.0 {
            if let Some(g) = grad {
                degenerate(y, g, 0.0);
            }
            return 0.0;
        }
        let s = dot(&self.a, &c) / nc;
        let Some(g) = grad else { return s };
        // Γ = ∂s/∂RDM (symmetric): A/‖C‖ − s·C/‖C‖² (G3; for Pearson on the centred
        // off-diagonal matrices, whose centring projection is self-adjoint).
        c *= -s / (nc * nc);
        c += &self.a * (1.0 / nc);
        let gamma = c;
        let n = y.nrows();
        match aux {
            Aux::Euclid { yc } => {
                // Γ_K = diag(2Γ_D 1) − 2Γ_D; ∂s/∂Y = 2Γ_K Y (Γ_K has zero row sums).
                let mut gk = gamma * -2.0;
                for i in 0..n {
                    let rs: f64 = gk.row(i).sum();
                    gk[(i, i)] -= rs;
                }
                *g = DMatrix::zeros(n, y.ncols());
                gemm(2.0, &gk, Op::N, &yc, Op::N, 0.0, g);
                center_columns_mut(g);
            }
            Aux::Corr { z, norms } => {
                // R = 1 − ZZᵀ: ∂s/∂Z = −2ΓZ; back through normalisation and row centring.
                let q = y.ncols();
                let mut gz = DMatrix::zeros(n, q);
                gemm(-2.0, &gamma, Op::N, &z, Op::N, 0.0, &mut gz);
                for i in 0..n {
                    if norms[i] == 0.0 {
                        gz.row_mut(i).fill(0.0);
                        continue;
                    }
                    let proj: f64 = (0..q).map(|j| z[(i, j)] * gz[(i, j)]).sum();
                    for j in 0..q {
                        gz[(i, j)] = (gz[(i, j)] - proj * z[(i, j)]) / norms[i];
                    }
                    let mean = gz.row(i).sum() / q as f64;
                    for j in 0..q {
                        gz[(i, j)] -= mean;
                    }
                }
                *g = gz;
            }
        }
        s
    }
}

/// The RDM of the rows of `y` exactly as the RSA measures build it (correlation distance:
/// constant rows zeroed), for analyses that resample conditions and compare RDM entries
/// directly (`analysis::compare`'s bootstrap and permutations).
pub fn rdm_matrix(rdm: Rdm, y: &DMatrix<f64>) -> DMatrix<f64> {
    build_rdm(rdm, y).0
}

impl Measure for Rsa {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad))
    }
}
