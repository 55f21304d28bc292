//! Mutual k-nearest-neighbour alignment (Huh, Cheung, Wang, Isola 2024, "The Platonic
//! Representation Hypothesis"; their `metrics.py`): each condition's k nearest neighbours by
//! the cosine of the rows (platonic-rep normalises every row first), in X and in Y; the score is
//! the mean over conditions of the share of the k that X and Y have in common. A random Y
//! scores k/(n − 1) on average. `mutual_knn-topk={k}`, and `mutual_knn` for their default
//! k = 10. Score-only: a neighbour set is piecewise constant in Y.

use nalgebra::DMatrix;

use super::def::{Built, Ctx, Dims, Entry, Family, Group, List, PcSums, Spec};
use super::rsa::{undefined_rows_warning, Dist};
use super::{degenerate, Direction, Measure, MeasureError};
use crate::linalg::{gram, Op};

pub const MUTUAL_KNN: Family = Family {
    pattern: "mutual_knn-topk={k} for any k ≥ 1 (mutual_knn: k = 10)",
    parse: |id| {
        if id == "mutual_knn" {
            return Some(Ok(Box::new(MutualKnn { k: DEFAULT_K })));
        }
        let k = id.strip_prefix("mutual_knn-topk=")?;
        Some(match k.parse::<usize>() {
            Ok(k) if k >= 1 => Ok(Box::new(MutualKnn { k }) as Box<dyn Spec>),
            _ => Err(MeasureError::BadId {
                id: id.to_string(),
                why: format!("the number of neighbours `{k}` must be a whole number ≥ 1"),
            }),
        })
    },
    listed: || vec![Box::new(MutualKnn { k: DEFAULT_K })],
};

/// platonic-rep's default `topk`.
const DEFAULT_K: usize = 10;

const SCORE_ONLY: &str = "neighbour sets are piecewise constant in Y (the gradient is zero almost everywhere), so it can be watched, compared and reported but not optimised";

struct MutualKnn {
    k: usize,
}

impl Spec for MutualKnn {
    fn entry(&self) -> Entry {
        let k = self.k;
        Entry {
            id: format!("mutual_knn-topk={k}"),
            aliases: if k == DEFAULT_K {
                vec!["mutual_knn".into()]
            } else {
                Vec::new()
            },
            description: format!("mutual k-NN alignment: the mean share of each condition's {k} nearest neighbours (cosine of the rows) that X and Y have in common; a random Y scores k/(n − 1) on average"),
            range: [Some(0.0), Some(1.0)],
            direction: Direction::Similarity,
            invariances: ["orthogonal", "permutation", "isotropic-scaling", "row-positive-scaling"]
                .map(String::from)
                .to_vec(),
            differentiable: false,
            citation: "Huh, Cheung, Wang, Isola (2024) The Platonic Representation Hypothesis, ICML".into(),
            name: format!("mutual k-NN (k={k})"),
            group: Group::Other,
            rewards: "the same local neighbourhoods: which conditions are each condition's closest, whatever the global geometry".into(),
            score_only: Some(SCORE_ONLY.into()),
            closed_form: false,
            lists: Vec::new(),
        }
    }

    fn build(&self, c: &Ctx) -> Built {
        let (n, k) = (c.n(), self.k);
        if k > n.saturating_sub(1) {
            return Err(c.unsupported(format!(
                "k = {k} nearest neighbours need at least k + 1 = {} conditions, got n = {n}",
                k + 1
            )));
        }
        let x = c.target.raw();
        let (x_sets, x_ties) = neighbours(&x, k);
        let mut warnings = Vec::new();
        if k == n - 1 {
            warnings.push(format!("{}: k = n − 1 = {k}: every other condition is a neighbour, so the score is 1 whatever Y is", c.id));
        } else if 2 * k > n - 1 {
            warnings.push(format!(
                "{}: k = {k} of n − 1 = {} other conditions: a random Y already scores {:.2} on average",
                c.id,
                n - 1,
                k as f64 / (n - 1) as f64
            ));
        }
        if x_ties > 0 {
            warnings.push(format!("{}: {x_ties} of X's {n} conditions have tied neighbours at the cut (k = {k}): the tie is broken by the lower row index", c.id));
        }
        warnings.extend(undefined_rows_warning(Dist::Cosine, "X", &x));
        Ok((Box::new(KnnMeasure { k, x_sets }), warnings))
    }

    fn flops(&self, d: Dims) -> f64 {
        d.n * d.n * d.q
    }

    fn theory(&self, _: &PcSums) -> Option<f64> {
        None
    }

    fn position(&self, _: List) -> Option<u8> {
        None
    }
}

/// Each row's k nearest other rows by cosine similarity, as a membership mask (n × n, row i
/// marks i's neighbours), and how many rows have a tie at the k-th place. The order is
/// descending similarity, ties broken by the lower index; an all-zero row is at similarity 0
/// to every row.
fn neighbours(y: &DMatrix<f64>, k: usize) -> (Vec<Vec<bool>>, usize) {
    let n = y.nrows();
    let mut z = y.clone();
    for i in 0..n {
        let nrm = z.row(i).norm();
        if nrm > 0.0 {
            z.row_mut(i).scale_mut(1.0 / nrm);
        }
    }
    let s = gram(&z, Op::N);
    let mut ties = 0;
    let sets = (0..n)
        .map(|i| {
            let mut order: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            order.sort_by(|&a, &b| s[(i, b)].total_cmp(&s[(i, a)]).then(a.cmp(&b)));
            if k < order.len() && (s[(i, order[k - 1])] - s[(i, order[k])]).abs() <= 1e-12 {
                ties += 1;
            }
            let mut mask = vec![false; n];
            for &j in &order[..k] {
                mask[j] = true;
            }
            mask
        })
        .collect();
    (sets, ties)
}

/// The share of shared neighbours, averaged over conditions.
fn overlap(a: &[Vec<bool>], b: &[Vec<bool>], k: usize) -> f64 {
    let shared: usize = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).filter(|(p, q)| **p && **q).count())
        .sum();
    shared as f64 / (k * a.len()) as f64
}

struct KnnMeasure {
    k: usize,
    x_sets: Vec<Vec<bool>>,
}

impl Measure for KnnMeasure {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        if y.iter().any(|v| !v.is_finite()) {
            return f64::NAN;
        }
        let (y_sets, _) = neighbours(y, self.k);
        overlap(&self.x_sets, &y_sets, self.k)
    }

    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let s = self.score(y);
        degenerate(y, grad, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The definition with sets: platonic-rep's masks, by sorting every row in full.
    fn slow(x: &DMatrix<f64>, y: &DMatrix<f64>, k: usize) -> f64 {
        let top = |m: &DMatrix<f64>, i: usize| -> Vec<usize> {
            let cos = |a: usize, b: usize| {
                let (ra, rb) = (m.row(a), m.row(b));
                ra.dot(&rb) / (ra.norm() * rb.norm())
            };
            let mut o: Vec<usize> = (0..m.nrows()).filter(|&j| j != i).collect();
            o.sort_by(|&a, &b| cos(i, b).partial_cmp(&cos(i, a)).unwrap());
            o.truncate(k);
            o
        };
        let n = x.nrows();
        (0..n)
            .map(|i| {
                let (a, b) = (top(x, i), top(y, i));
                a.iter().filter(|j| b.contains(j)).count() as f64 / k as f64
            })
            .sum::<f64>()
            / n as f64
    }

    #[test]
    fn equals_the_set_definition() {
        let mut r = Rng::new(3);
        for case in 0..12 {
            let (n, p, q, k) = (8 + case * 3, 2 + case % 4, 3 + case % 3, 1 + case % 6);
            let x = DMatrix::from_fn(n, p, |_, _| r.normal());
            // Y shares part of X's structure, so overlaps are neither 0 nor chance.
            let y = DMatrix::from_fn(n, q, |i, j| x[(i, j % p)] + 0.7 * r.normal());
            let (xs, _) = neighbours(&x, k);
            let (ys, _) = neighbours(&y, k);
            let fast = overlap(&xs, &ys, k);
            assert!((fast - slow(&x, &y, k)).abs() < 1e-15, "case {case}");
        }
    }
}
