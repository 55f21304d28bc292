//! One score of a pair (X, Y) per measure: what `simscope score`, Python's `score` and the
//! Compare job's values compute, in one place so the faces cannot disagree (they did once:
//! the CLI and Python each had their own loop and checks).
//!
//! A measure that declares a pair formula (`Def::pair`: linear CKA, NBS and their angular
//! forms) is scored from the raw pair, without preparing X: one score of a 2000 × 500 pair
//! then costs a p × q product and its singular values, not X's thin SVD (issue 16, "a fast
//! score-only path"). Every other measure, and every gradient, is prepared against
//! `Target::new(X)`, built once and only if some measure needs it.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::{registry, DEGENERATE_NORM2};
use crate::linalg::{center_columns, frob2};
use crate::target::Target;

/// One measure's result on the pair.
#[derive(Debug)]
pub struct Scored {
    /// The canonical id.
    pub id: String,
    pub value: f64,
    /// ∂score/∂Y (n × q), when asked for.
    pub grad: Option<DMatrix<f64>>,
}

/// Score Y against X with every measure of `ids` (canonical ids, e.g. from
/// `registry::resolve_list`); `x_dims`/`y_dims` are the files' shapes, for messages. Returns the
/// results in `ids`' order and the warnings (a constant Y, a non-finite score, the measures'
/// own). Errors: a row-count mismatch, a non-finite Y, an X that is no target (too small,
/// non-finite, constant: `Target`'s messages), a measure that cannot take this Y.
pub fn score_pair(
    x: &DMatrix<f64>,
    x_dims: &[usize],
    y: &DMatrix<f64>,
    y_dims: &[usize],
    ids: &[String],
    grad: bool,
) -> Result<(Vec<Scored>, Vec<String>), String> {
    if x.nrows() != y.nrows() {
        return Err(format!(
            "X and Y must have the same number of samples (rows after flattening time × conditions): X {x_dims:?} gives {}, Y {y_dims:?} gives {}",
            x.nrows(),
            y.nrows()
        ));
    }
    if let Some(k) = y.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "Y contains a non-finite value at flattened row {}, column {}",
            k % y.nrows(),
            k / y.nrows()
        ));
    }
    // X is checked as a target whether or not one is built, so both paths refuse the same X.
    Target::check(x).map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    if frob2(&center_columns(y)) < DEGENERATE_NORM2 {
        warnings.push("Y is constant (every column has zero variance): normalised scores are undefined and reported as 0 with zero gradients".into());
    } else {
        warnings.extend(super::rsa::y_rows_warnings(ids, y));
    }
    let mut target: Option<Arc<Target>> = None;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        // The value is the same with or without a gradient (always `score_one`'s), so a
        // `--grad-dir` never changes a printed score; the gradient is the prepared measure's.
        let (value, w) = score_one(id, x, y, &mut target)?;
        warnings.extend(w);
        let g = if grad {
            let (m, _) = registry::prepare(id, prepared(x, &mut target)?, y.ncols())
                .map_err(|e| e.to_string())?;
            let mut g = DMatrix::zeros(0, 0);
            m.score_and_grad(y, &mut g);
            Some(g)
        } else {
            None
        };
        if !value.is_finite() {
            warnings.push(format!("{id}: the score is not finite for this input"));
        }
        out.push(Scored {
            id: id.clone(),
            value,
            grad: g,
        });
    }
    Ok((out, warnings))
}

/// X prepared as a target, built on first need and kept for the next measure.
fn prepared(x: &DMatrix<f64>, target: &mut Option<Arc<Target>>) -> Result<Arc<Target>, String> {
    if let Some(t) = target {
        return Ok(t.clone());
    }
    let t = Arc::new(Target::new(x).map_err(|e| e.to_string())?);
    Ok(target.insert(t).clone())
}

/// One measure's score of the pair (no gradient): its pair formula if it declares one, else
/// the measure prepared against `target` (X's, built on first need and kept). The Compare job
/// scores its models' values with this, so they equal `simscope score`'s to the last bit.
pub fn score_one(
    id: &str,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    target: &mut Option<Arc<Target>>,
) -> Result<(f64, Vec<String>), String> {
    match registry::spec(id).map_err(|e| e.to_string())?.pair() {
        // (A Y without columns takes the prepared path for the registry's own message.)
        Some(f) if y.ncols() > 0 => Ok((f(x, y), Vec::new())),
        _ => {
            let (m, w) = registry::prepare(id, prepared(x, target)?, y.ncols())
                .map_err(|e| e.to_string())?;
            Ok((m.score(y), w))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn gaussian(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = Rng::new(seed);
        DMatrix::from_fn(n, p, |_, _| rng.normal())
    }

    #[test]
    fn pair_formulas_equal_the_prepared_measures() {
        // Tall and wide X and Y (the smaller Gram switches side), and a Y with a constant column.
        for (n, p, q) in [(40, 7, 5), (12, 30, 9), (25, 6, 40)] {
            let x = gaussian(n, p, 1);
            let mut y = &x.columns(0, p.min(q)).into_owned() * 0.3 + gaussian(n, p.min(q), 2);
            if q > p {
                y = DMatrix::from_fn(
                    n,
                    q,
                    |i, j| if j < p { y[(i, j)] } else { (j as f64).sin() },
                );
            }
            let t = Arc::new(Target::new(&x).unwrap());
            let mut checked = 0;
            for e in registry::entries() {
                let Some(f) = registry::spec(&e.id).unwrap().pair() else {
                    continue;
                };
                let (m, _) = registry::prepare(&e.id, t.clone(), y.ncols()).unwrap();
                let (a, b) = (f(&x, &y), m.score(&y));
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                    "{} {n}×{p}×{q}: pair {a} prepared {b}",
                    e.id
                );
                checked += 1;
            }
            assert_eq!(
                checked, 4,
                "cka, cka-angular-score, nbs, procrustes-angular-score"
            );
        }
    }

    #[test]
    fn one_check_and_one_message_on_every_path() {
        let x = gaussian(10, 3, 3);
        let y = gaussian(10, 2, 4);
        let ids: Vec<String> = ["cka", "linreg"].iter().map(|s| s.to_string()).collect();
        let (r, w) = score_pair(&x, &[10, 3], &y, &[10, 2], &ids, false).unwrap();
        assert_eq!(r.len(), 2);
        assert!(w.is_empty(), "{w:?}");
        // Asking for the gradient does not change the value (bit for bit).
        let (g, _) = score_pair(&x, &[10, 3], &y, &[10, 2], &ids, true).unwrap();
        assert_eq!(g[0].value.to_bits(), r[0].value.to_bits());
        assert_eq!(g[1].value.to_bits(), r[1].value.to_bits());
        assert!(g
            .iter()
            .all(|s| s.grad.as_ref().is_some_and(|g| g.shape() == (10, 2))));
        // A constant X is refused the same way whether or not a target is built.
        let flat = DMatrix::from_element(10, 3, 2.0);
        let pair_only = score_pair(&flat, &[10, 3], &y, &[10, 2], &ids[..1], false);
        let prepared = score_pair(&flat, &[10, 3], &y, &[10, 2], &ids[1..], false);
        assert_eq!(pair_only.err(), prepared.err());
        // A constant Y: 0 and the warning, on the pair path too.
        let (r, w) = score_pair(
            &x,
            &[10, 3],
            &DMatrix::from_element(10, 2, 1.0),
            &[10, 2],
            &ids[..1],
            false,
        )
        .unwrap();
        assert_eq!(r[0].value, 0.0);
        assert!(w[0].starts_with("Y is constant"));
        let e = score_pair(&x, &[10, 3], &gaussian(9, 2, 5), &[9, 2], &ids, false).unwrap_err();
        assert!(e.contains("X [10, 3] gives 10, Y [9, 2] gives 9"), "{e}");
    }
}
