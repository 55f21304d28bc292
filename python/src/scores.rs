//! The registry and scores of a pair (the CLI's `simscope measures` and `simscope score`).

use std::sync::Arc;

use nalgebra::DMatrix;
use pyo3::prelude::*;
use simscope::measures::{registry, DEGENERATE_NORM2};
use simscope::target::Target;

use crate::arrays::{recording, to_numpy};
use crate::error;

/// The registry's entries as `simscope measures --json` prints them.
#[pyfunction]
pub fn measures(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(pythonize::pythonize(py, &registry::entries())?)
}

/// Canonical ids for `ids` (`all` expands to every listed id; aliases resolve; duplicates
/// are dropped, keeping the first), with the registry's warnings, as `simscope score` does.
#[pyfunction]
pub fn resolve(ids: Vec<String>) -> PyResult<(Vec<String>, Vec<String>)> {
    let mut canon: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    for id in &ids {
        let list = if id == "all" {
            registry::all_ids()
        } else {
            vec![id.clone()]
        };
        for id in list {
            let (c, w) = registry::resolve(&id).map_err(error)?;
            warnings.extend(w);
            if !canon.contains(&c) {
                canon.push(c);
            }
        }
    }
    Ok((canon, warnings))
}

/// One measure's result: canonical id, score, ∂score/∂Y in Y's shape (when asked for).
type Scored<'py> = (String, f64, Option<Bound<'py, PyAny>>);

/// Score the pair (X, Y) with every measure of `ids`, as `simscope score X Y --measure …`
/// does (with `--grad-dir` when `grad`): X prepared once, the same checks, messages and
/// warnings.
#[pyfunction]
pub fn score_pair<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    ids: Vec<String>,
    grad: bool,
) -> PyResult<(Vec<Scored<'py>>, Vec<String>)> {
    if ids.is_empty() {
        return Err(error(
            "score needs at least one --measure ID (or --measure all)",
        ));
    }
    let (xr, mut warnings) = recording("X", x)?;
    let (yr, w) = recording("Y", y)?;
    warnings.extend(w);
    let (xm, ym) = (xr.data, yr.data);
    if xm.nrows() != ym.nrows() {
        return Err(error(format!(
            "X and Y must have the same number of samples (rows after flattening time × conditions): X {:?} gives {}, Y {:?} gives {}",
            xr.dims,
            xm.nrows(),
            yr.dims,
            ym.nrows()
        )));
    }
    let (canon, w) = resolve(ids)?;
    warnings.extend(w);
    let (results, w) = py.detach(move || -> PyResult<_> {
        let mut warnings = Vec::new();
        let target = Arc::new(Target::new(&xm).map_err(error)?);
        let yc_norm2 = simscope::linalg::frob2(&simscope::linalg::center_columns(&ym));
        if yc_norm2 < DEGENERATE_NORM2 {
            warnings.push("Y is constant (every column has zero variance): normalised scores are undefined and reported as 0 with zero gradients".to_string());
        }
        let mut out = Vec::new();
        for id in canon {
            let (m, w) = registry::prepare(&id, target.clone(), ym.ncols()).map_err(error)?;
            warnings.extend(w);
            let (value, g) = if grad {
                let mut g = DMatrix::zeros(0, 0);
                let s = m.score_and_grad(&ym, &mut g);
                (s, Some(g))
            } else {
                (m.score(&ym), None)
            };
            if !value.is_finite() {
                warnings.push(format!("{id}: the score is not finite for this input"));
            }
            out.push((id, value, g));
        }
        Ok((out, warnings))
    })?;
    warnings.extend(w);
    let scored = results
        .into_iter()
        .map(|(id, v, g)| (id, v, g.map(|g| to_numpy(py, &yr.dims, g))))
        .collect();
    Ok((scored, warnings))
}
