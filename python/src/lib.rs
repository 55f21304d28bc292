//! `simscope._core`: the Python package's extension module, a thin layer over the simscope
//! core. It converts NumPy arrays into the core's matrices (one copy, see [`arrays`]), calls
//! the core's functions and jobs with the GIL released, and hands back NumPy arrays and plain
//! Python values. It computes nothing itself: every number comes from the `simscope` crate,
//! so the package, the CLI and the page agree to the bit.
//!
//! The pure-Python package `simscope/` (beside this crate) is the public API: it normalises
//! arguments, turns warnings into `warnings.warn` and documents every function.

mod analyses;
mod arrays;
mod files;
mod jobs;
mod runs;
mod scores;

use pyo3::prelude::*;

pyo3::create_exception!(
    _core,
    SimscopeError,
    pyo3::exceptions::PyValueError,
    "A simscope error: the same message the CLI prints after `error: `."
);

/// A `SimscopeError` with `msg` (what the CLI would print after `error: `).
pub(crate) fn error(msg: impl std::fmt::Display) -> PyErr {
    SimscopeError::new_err(msg.to_string())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SimscopeError", m.py().get_type::<SimscopeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "PRUNE_DEMOS",
        simscope::analysis::prune::DEMO_FEATURES.to_vec(),
    )?;
    m.add_function(wrap_pyfunction!(scores::measures, m)?)?;
    m.add_function(wrap_pyfunction!(scores::resolve, m)?)?;
    m.add_function(wrap_pyfunction!(scores::score_pair, m)?)?;
    m.add_function(wrap_pyfunction!(files::datasets, m)?)?;
    m.add_function(wrap_pyfunction!(files::load, m)?)?;
    m.add_function(wrap_pyfunction!(files::read_labels, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::task_variable, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::calibrate_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::calibrate, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::compare, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::perturb, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::perturb_sweep, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::prune, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::prune_features, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::prune_target_rdm, m)?)?;
    m.add_function(wrap_pyfunction!(runs::optimize_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(runs::optimize, m)?)?;
    m.add_function(wrap_pyfunction!(runs::joint, m)?)?;
    Ok(())
}
