//! Matching: the permutation (hard matching) shape metric of Williams et al. 2021 (netrep's
//! `PermutationMetric`): with both sides centred and zero-padded to the same width, the best
//! one-to-one matching of Y's neurons to X's,
//!   s = max_π Σ_j ⟨x_c,π(j), y_c,j⟩ / (‖X_c‖‖Y_c‖),
//! the cosine of netrep's angular permutation distance. The matching is an assignment problem
//! on the p × q cross-covariance C = X_cᵀY_c ([`assign_max`]); the score is differentiable
//! wherever the best matching is unique, with the matching held fixed.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{built, Def, Dims, Group};
use super::{degenerate, Angular, Direction, Measure, DEGENERATE_NORM2};
use crate::linalg::{center_columns, center_columns_mut, frob2, mul, Op};
use crate::target::Target;

const WILLIAMS: &str = "Williams, Kunz, Kornblith, Linderman (2021) Generalized shape metrics on neural representations, NeurIPS; Khosla & Williams (2024) Soft matching distance, UniReps";
/// Relabelling Y's neurons, or scaling or shifting Y, leaves the matching score unchanged.
const INVARIANT: &[&str] = &["permutation", "isotropic-scaling", "translation"];

pub const PERMUTATION_SCORE: Def = Def {
    id: "permutation-score",
    aliases: &["permutation_metric-score"],
    alias_warnings: &[],
    name: "permutation matching",
    group: Group::Bures,
    description: "max over one-to-one matchings π of Y's neurons to X's of Σ⟨x_π(j), y_j⟩/(‖X_c‖‖Y_c‖), both centred (netrep's permutation metric, as a cosine)",
    rewards: "each model unit matching one recorded neuron: a rotation of Y that mixes its units is not forgiven, as it is by Procrustes",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: INVARIANT,
    citation: WILLIAMS,
    score_only: None,
    pair: None,
    build: |c| built(Permutation::new(c.target())),
    flops: permutation_flops,
    theory: None,
    lists: &[],
};

pub const PERMUTATION_ANGULAR: Def = Def {
    id: "permutation-angular-score",
    aliases: &["permutation_metric-angular_score"],
    alias_warnings: &[],
    name: "angular permutation matching",
    group: Group::Bures,
    description: "1 − (2/π)·arccos of the permutation matching score (netrep's angular permutation distance, as a score)",
    rewards: "the same as permutation matching, on the angle of a metric",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: INVARIANT,
    citation: WILLIAMS,
    score_only: None,
    pair: None,
    build: |c| built(Angular(Permutation::new(c.target()))),
    flops: permutation_flops,
    theory: None,
    lists: &[],
};

fn permutation_flops(d: Dims) -> f64 {
    // C = X_cᵀY_c (with p ≈ r) and the assignment, O(max(p, q)²·min(p, q)).
    let Dims { n, r, q } = d;
    2.0 * n * r * q + 4.0 * r.max(q) * r.max(q) * r.min(q) + 4.0 * n * q
}

/// Permutation matching against a prepared target.
pub struct Permutation {
    target: Arc<Target>,
}

impl Permutation {
    pub fn new(target: Arc<Target>) -> Self {
        Permutation { target }
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let yc = center_columns(y);
        let (x2, y2) = (self.target.s1, frob2(&yc));
        if y2 < DEGENERATE_NORM2 || x2 <= 0.0 {
            if let Some(g) = grad {
                degenerate(y, g, 0.0);
            }
            return 0.0;
        }
        let c = mul(&self.target.xc, Op::T, &yc, Op::N); // p × q
        if !c.iter().all(|v| v.is_finite()) {
            // No matching is defined on non-finite entries.
            if let Some(g) = grad {
                degenerate(y, g, f64::NAN);
            }
            return f64::NAN;
        }
        let pairs = assign_max(&c);
        let denom = (x2 * y2).sqrt();
        let total: f64 = pairs.iter().map(|&(i, j)| c[(i, j)]).sum();
        let s = (total / denom).clamp(-1.0, 1.0);
        if let Some(g) = grad {
            // ∂s/∂y_j = x_c,π(j)/(‖X_c‖‖Y_c‖) − s·y_c,j/‖Y_c‖², the matching fixed.
            *g = &yc * (-s / y2);
            for &(i, j) in &pairs {
                let xi = self.target.xc.column(i);
                let mut gj = g.column_mut(j);
                gj.axpy(1.0 / denom, &xi, 1.0);
            }
            center_columns_mut(g);
        }
        s
    }
}

impl Measure for Permutation {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad))
    }
}

/// The one-to-one matching of rows to columns of `c` (min(p, q) pairs) with the largest sum:
/// the Hungarian method with potentials (Kuhn 1955, Munkres 1957), O(k²·m) for k = min(p, q)
/// rows and m = max(p, q) columns. Returns (row, column) pairs, sorted by row. The entries
/// must be finite (a NaN would leave no column to choose).
pub fn assign_max(c: &DMatrix<f64>) -> Vec<(usize, usize)> {
    assert!(
        c.iter().all(|v| v.is_finite()),
        "assign_max needs finite entries"
    );
    let (p, q) = c.shape();
    let transposed = p > q;
    let (k, m) = if transposed { (q, p) } else { (p, q) };
    // Minimise −c over k rows, each assigned a distinct column of m.
    let cost = |i: usize, j: usize| if transposed { -c[(j, i)] } else { -c[(i, j)] };
    // 1-based arrays, index 0 a virtual column (the classical formulation).
    let (mut u, mut v) = (vec![0.0; k + 1], vec![0.0; m + 1]);
    let mut owner = vec![0usize; m + 1]; // owner[j]: the row assigned to column j (0: none)
    let mut way = vec![0usize; m + 1];
    for i in 1..=k {
        owner[0] = i;
        let mut j0 = 0;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=m {
                if !used[j] {
                    let cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        // Augment along the alternating path.
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = (1..=m)
        .filter(|&j| owner[j] != 0)
        .map(|j| {
            let (row, col) = (owner[j] - 1, j - 1);
            if transposed {
                (col, row)
            } else {
                (row, col)
            }
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The best matching by trying every injective map (small sizes only).
    fn brute(c: &DMatrix<f64>) -> f64 {
        fn go(c: &DMatrix<f64>, i: usize, used: &mut Vec<bool>) -> f64 {
            if i == c.nrows() {
                return 0.0;
            }
            let mut best = f64::NEG_INFINITY;
            for j in 0..c.ncols() {
                if !used[j] {
                    used[j] = true;
                    best = best.max(c[(i, j)] + go(c, i + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        let ct = if c.nrows() > c.ncols() {
            c.transpose()
        } else {
            c.clone()
        };
        go(&ct, 0, &mut vec![false; ct.ncols()])
    }

    #[test]
    fn the_hungarian_method_finds_the_best_matching() {
        let mut r = Rng::new(3);
        for (p, q) in [(1, 1), (3, 3), (4, 6), (6, 4), (5, 5), (2, 7), (7, 3)] {
            for _ in 0..20 {
                let c = DMatrix::from_fn(p, q, |_, _| r.normal());
                let pairs = assign_max(&c);
                assert_eq!(pairs.len(), p.min(q));
                let mut rows: Vec<usize> = pairs.iter().map(|x| x.0).collect();
                let mut cols: Vec<usize> = pairs.iter().map(|x| x.1).collect();
                rows.dedup();
                cols.sort_unstable();
                cols.dedup();
                assert_eq!((rows.len(), cols.len()), (p.min(q), p.min(q)));
                let got: f64 = pairs.iter().map(|&(i, j)| c[(i, j)]).sum();
                assert!(
                    (got - brute(&c)).abs() < 1e-12,
                    "{p}x{q}: {got} vs {}",
                    brute(&c)
                );
            }
        }
    }
}
