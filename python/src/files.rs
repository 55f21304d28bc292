//! Recordings and labels from files or the built-in datasets, with the CLI's checks and
//! messages (the CLI's `common::recording`, `read_file` and `recording_with_labels`, which
//! live in the binary; the tests compare each message with the CLI's).

use std::path::Path;

use pyo3::prelude::*;
use simscope::data::npy::human_bytes;
use simscope::data::{datasets as builtins, read_recording, MAX_FILE_BYTES};

use crate::arrays::{to_numpy, to_py_labels, PyTaskVariable};
use crate::error;

/// The built-in datasets' metadata (`simscope datasets --json`).
#[pyfunction]
pub fn datasets(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(pythonize::pythonize(py, &builtins::catalogue())?)
}

/// Read a file for the data readers, refusing files over the size limit before reading them.
pub fn read_file(arg: &str) -> PyResult<Vec<u8>> {
    let path = Path::new(arg);
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            error(format!(
                "`{arg}` is neither a file nor a built-in dataset (built-ins: {})",
                builtins::names().join(", ")
            ))
        } else {
            error(format!("cannot read {arg}: {e}"))
        }
    })?;
    if meta.is_dir() {
        return Err(error(format!(
            "{arg} is a directory, not a .npy or .npz file"
        )));
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(error(format!(
            "{arg}: the file is too large: {} exceeds simscope's limit of {}; reduce it (average trials, keep fewer neurons or time bins, or cast to a smaller dtype) and save again",
            human_bytes(meta.len()),
            human_bytes(MAX_FILE_BYTES as u64)
        )));
    }
    std::fs::read(path).map_err(|e| error(format!("cannot read {arg}: {e}")))
}

/// A loaded recording for Python: (name, X in its own shape, task variables, warnings).
type Loaded<'py> = (String, Bound<'py, PyAny>, Vec<PyTaskVariable>, Vec<String>);

/// A built-in dataset by name, or a `.npy`/`.npz` file (what the CLI's DATA argument accepts).
#[pyfunction]
pub fn load<'py>(py: Python<'py>, arg: &str) -> PyResult<Loaded<'py>> {
    let (rec, warnings) = match builtins::builtin(arg) {
        Some(rec) => (rec, Vec::new()),
        None => {
            let bytes = read_file(arg)?;
            let (rec, w) = py
                .detach(|| read_recording(arg, &bytes))
                .map_err(|e| error(format!("{arg}: {e}")))?;
            (rec, w.into_iter().map(|w| format!("{arg}: {w}")).collect())
        }
    };
    let labels = to_py_labels(&rec.labels);
    let x = to_numpy(py, &rec.dims, rec.data);
    Ok((rec.name, x, labels, warnings))
}

/// Task variables from a labels file (`.npy`, `.npz`, `.csv`, `.json`) for a recording of
/// `conditions` conditions, as `--labels FILE` reads them. Returns them with warnings.
#[pyfunction]
pub fn read_labels(path: &str, conditions: usize) -> PyResult<(Vec<PyTaskVariable>, Vec<String>)> {
    if !Path::new(path).is_file() {
        return Err(error(format!("labels file `{path}` not found")));
    }
    let bytes = read_file(path)?;
    let (vars, warnings) = simscope::data::labels::read_labels(path, &bytes, conditions)
        .map_err(|e| error(format!("{path}: {e}")))?;
    Ok((
        to_py_labels(&vars),
        warnings
            .into_iter()
            .map(|w| format!("{path}: {w}"))
            .collect(),
    ))
}
