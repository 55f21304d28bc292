//! Turning a command-line DATA argument (a built-in dataset name or a file path) into a
//! recording.

use simscope::data::npy::human_bytes;
use simscope::data::{datasets, read_recording, Recording, MAX_FILE_BYTES};

use crate::cli::CliError;

/// Read a file for the data readers, refusing files over the size limit before reading them.
pub fn read_file(arg: &str) -> Result<Vec<u8>, CliError> {
    let path = std::path::Path::new(arg);
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CliError(format!(
                "`{arg}` is neither a file nor a built-in dataset (built-ins: {})",
                datasets::BUILTIN.join(", ")
            ))
        } else {
            CliError(format!("cannot read {arg}: {e}"))
        }
    })?;
    if meta.is_dir() {
        return Err(CliError(format!(
            "{arg} is a directory, not a .npy or .npz file"
        )));
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(CliError(format!(
            "{arg}: the file is too large: {} exceeds simscope's limit of {}; reduce it (average trials, keep fewer neurons or time bins, or cast to a smaller dtype) and save again",
            human_bytes(meta.len()),
            human_bytes(MAX_FILE_BYTES as u64)
        )));
    }
    std::fs::read(path).map_err(|e| CliError(format!("cannot read {arg}: {e}")))
}

/// A built-in dataset by name, or a `.npy`/`.npz` file of 2 or 3 dimensions (with the `.npz`
/// label arrays). Warnings go to stderr as `warning: …`.
pub fn recording(arg: &str) -> Result<Recording, CliError> {
    if let Some(rec) = datasets::builtin(arg) {
        return Ok(rec);
    }
    let bytes = read_file(arg)?;
    let (rec, warnings) =
        read_recording(arg, &bytes).map_err(|e| CliError(format!("{arg}: {e}")))?;
    for w in warnings {
        eprintln!("warning: {arg}: {w}");
    }
    Ok(rec)
}
