//! What every command shares: the error type and the helpers for recordings, targets,
//! output files and progress lines. A leaf: it imports no command.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use simscope::data::npy::human_bytes;
use simscope::data::{datasets, Recording, MAX_FILE_BYTES};
use simscope::measures::{registry, Measure};
use simscope::target::Target;

/// A user-facing failure: printed as `error: <message>`, exit status 2.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// Build a measure from the registry, printing its warnings on stderr.
pub fn measure(id: &str, target: &Arc<Target>, q: usize) -> Result<Box<dyn Measure>, CliError> {
    let (m, warnings) = registry::prepare(id, target.clone(), q)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(m)
}

/// The recording named by DATA, with the task variables of `--labels FILE` (if given)
/// replacing any built-in ones.
pub fn recording_with_labels(data: &str, labels: Option<&str>) -> Result<Recording, CliError> {
    let mut rec = recording(data)?;
    if let Some(path) = labels {
        if !Path::new(path).is_file() {
            return Err(CliError(format!("labels file `{path}` not found")));
        }
        let bytes = read_file(path)?;
        let (vars, warnings) = simscope::data::labels::read_labels(path, &bytes, rec.conditions())
            .map_err(|e| CliError(format!("{path}: {e}")))?;
        for w in warnings {
            eprintln!("warning: {path}: {w}");
        }
        rec.labels = vars;
    }
    Ok(rec)
}

/// A target from a recording.
pub fn target(rec: &Recording) -> Result<Arc<Target>, CliError> {
    Ok(Arc::new(
        Target::new(&rec.data).map_err(|e| CliError(format!("{}: {e}", rec.name)))?,
    ))
}

/// Parse a positive finite learning rate.
pub fn check_lr(lr: f64) -> Result<f64, CliError> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(CliError(format!(
            "--lr must be a positive number, got {lr}"
        )))
    }
}

/// Create the output directory.
pub fn out_dir(dir: &str) -> Result<PathBuf, CliError> {
    let p = PathBuf::from(dir);
    std::fs::create_dir_all(&p).map_err(|e| CliError(format!("cannot create {dir}: {e}")))?;
    Ok(p)
}

/// Write a CSV file (fields are written as given; callers quote where needed).
pub fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError(format!("cannot write {}: {e}", path.display()));
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
    writeln!(f, "{}", header.join(",")).map_err(fail)?;
    for r in rows {
        writeln!(f, "{}", r.join(",")).map_err(fail)?;
    }
    f.flush().map_err(fail)
}

/// A number in CSV/JSON-friendly form: full precision, `NaN` never printed as such.
pub fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// Quote a CSV field if it needs it.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Progress on stderr at most every 2 s (and always for `force`).
pub struct Progress {
    last: Instant,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            last: Instant::now(),
        }
    }
    pub fn say(&mut self, force: bool, msg: impl FnOnce() -> String) {
        if force || self.last.elapsed().as_secs_f64() >= 2.0 {
            eprintln!("{}", msg());
            self.last = Instant::now();
        }
    }
}

/// Read a file for the data readers, refusing files over the size limit before reading them.
pub fn read_file(arg: &str) -> Result<Vec<u8>, CliError> {
    let path = std::path::Path::new(arg);
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CliError(format!(
                "`{arg}` is neither a file nor a built-in dataset (built-ins: {})",
                datasets::names().join(", ")
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

/// A built-in dataset by name, or a `.npy`/`.npz`/`.mat`/CSV file of 2 or 3 dimensions (with
/// the `.npz`/`.mat` label arrays); `FILE.npz:NAME` or `FILE.mat:NAME` chooses one array of a
/// file that holds several. Warnings go to stderr as `warning: …`.
pub fn recording(arg: &str) -> Result<Recording, CliError> {
    if let Some(rec) = datasets::builtin(arg) {
        return Ok(rec);
    }
    let (path, array) = match arg.rsplit_once(':') {
        Some((p, a)) if !Path::new(arg).exists() && Path::new(p).is_file() => (p, Some(a)),
        _ => (arg, None),
    };
    let bytes = read_file(path)?;
    let (rec, warnings) = simscope::data::read_recording_array(path, &bytes, array)
        .map_err(|e| CliError(format!("{path}: {e}")))?;
    for w in warnings {
        eprintln!("warning: {path}: {w}");
    }
    Ok(rec)
}
