//! Turning a command-line DATA argument (a built-in dataset name or a file path) into a
//! recording.

use simscope::data::npy::read_npy;
use simscope::data::{datasets, Recording};

use crate::cli::CliError;

/// A built-in dataset by name, or a `.npy` file of 2 or 3 dimensions.
pub fn recording(arg: &str) -> Result<Recording, CliError> {
    if let Some(rec) = datasets::builtin(arg) {
        return Ok(rec);
    }
    let path = std::path::Path::new(arg);
    if !path.exists() {
        return Err(CliError(format!(
            "`{arg}` is neither a file nor a built-in dataset (built-ins: {})",
            datasets::BUILTIN.join(", ")
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| CliError(format!("cannot read {arg}: {e}")))?;
    let a = read_npy(&bytes).map_err(|e| CliError(format!("{arg}: {e}")))?;
    if a.shape.len() != 2 && a.shape.len() != 3 {
        return Err(CliError(format!(
            "{arg}: a recording needs 2 (conditions × neurons) or 3 (time × conditions × neurons) dimensions, got shape {:?}",
            a.shape
        )));
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Recording::from_c_order(&name, &a.shape, &a.values))
}
