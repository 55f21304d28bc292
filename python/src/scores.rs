//! The registry and scores of a pair (the CLI's `simscope measures` and `simscope score`).

use pyo3::prelude::*;
use simscope::measures::{pair, registry};

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
    registry::resolve_list(&ids, None).map_err(error)
}

/// One measure's result: canonical id, score, ∂score/∂Y in Y's shape (when asked for).
type Scored<'py> = (String, f64, Option<Bound<'py, PyAny>>);

/// Score the pair (X, Y) with every measure of `ids`, as `simscope score X Y --measure …`
/// does (with `--grad-dir` when `grad`): the same core function, so the same checks, messages,
/// warnings and numbers.
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
    let (canon, w) = resolve(ids)?;
    warnings.extend(w);
    // The core's one-off scoring, exactly `simscope score`'s (checks, messages, warnings).
    let (xm, ym, xd, yd) = (xr.data, yr.data, xr.dims.clone(), yr.dims.clone());
    let (results, w) = py
        .detach(move || pair::score_pair(&xm, &xd, &ym, &yd, &canon, grad))
        .map_err(error)?;
    warnings.extend(w);
    let scored = results
        .into_iter()
        .map(|r| (r.id, r.value, r.grad.map(|g| to_numpy(py, &yr.dims, g))))
        .collect();
    Ok((scored, warnings))
}
