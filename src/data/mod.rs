//! Recordings: a validated f64 matrix with its original shape and the task variables.
//!
//! Entry points for the page and the CLI:
//! * [`read_recording`] turns the bytes of a `.npy` or `.npz` file into a [`Recording`];
//! * [`read_labels`] / [`Recording::attach_labels`] add task variables from `.npy`, `.npz`,
//!   `.csv` or `.json` files;
//! * [`datasets`] holds the built-in recordings; [`write`] the `.npy`/`.npz`/CSV writers.
//!
//! `.npz` convention: the recording is the array named `X` (or `x`; failing that, the only
//! array with 2 or 3 dimensions); every 1-D array named `label_<name>` (or `labels_<name>`) is
//! the task variable `<name>`, one value per condition. See `docs/data.md`.

pub mod datasets;
pub mod labels;
pub mod npy;
pub mod npz;
pub mod write;

use nalgebra::DMatrix;
use serde::Serialize;

pub use labels::{read_labels, task_variable_from_array, MAX_FLOAT_CLASSES};
pub use npy::{NpyArray, NpyError, MAX_FILE_BYTES, MAX_VALUES};
pub use npz::{NpzArray, NpzError};

/// A categorical task variable with one value per condition (e.g. reach direction).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskVariable {
    /// Name as shown to the user (`choice`, `direction`, …).
    pub name: String,
    /// Class index (into `classes`) for each condition.
    pub class_of: Vec<usize>,
    /// Human-readable class names.
    pub classes: Vec<String>,
}

impl TaskVariable {
    /// Build from one label string per condition; classes are numbered in order of first
    /// appearance.
    pub fn from_labels(name: &str, labels: &[String]) -> Self {
        let mut classes: Vec<String> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let class_of = labels
            .iter()
            .map(|l| {
                *index.entry(l.as_str()).or_insert_with(|| {
                    classes.push(l.clone());
                    classes.len() - 1
                })
            })
            .collect();
        TaskVariable {
            name: name.to_string(),
            class_of,
            classes,
        }
    }

    /// The class name of each condition.
    pub fn labels(&self) -> Vec<String> {
        self.class_of
            .iter()
            .map(|&k| self.classes[k].clone())
            .collect()
    }
}

/// A recording X: `dims` is `[C, N]` (conditions × neurons) or `[T, C, N]` (time × conditions
/// × neurons); `data` is the flattened `(T·C) × N` matrix with row = t·C + c (spec §1.1).
#[derive(Clone, Debug)]
pub struct Recording {
    pub name: String,
    pub dims: Vec<usize>,
    pub data: DMatrix<f64>,
    /// Task variables, one value per condition.
    pub labels: Vec<TaskVariable>,
}

impl Recording {
    /// Number of time steps (1 for 2-D recordings).
    pub fn time_steps(&self) -> usize {
        if self.dims.len() == 3 {
            self.dims[0]
        } else {
            1
        }
    }

    /// Number of conditions C.
    pub fn conditions(&self) -> usize {
        self.dims[self.dims.len() - 2]
    }

    /// Number of neurons N.
    pub fn neurons(&self) -> usize {
        self.dims[self.dims.len() - 1]
    }

    /// Build from C-order values of shape `dims` (2 or 3 axes). Panics on a wrong shape: for
    /// trusted (built-in) data only; user data go through [`recording_from_array`].
    pub fn from_c_order(name: &str, dims: &[usize], values: &[f64]) -> Self {
        assert!(
            dims.len() == 2 || dims.len() == 3,
            "recordings have 2 or 3 axes"
        );
        let neurons = dims[dims.len() - 1];
        let rows = values.len() / neurons.max(1);
        Recording {
            name: name.to_string(),
            dims: dims.to_vec(),
            data: DMatrix::from_row_slice(rows, neurons, values),
            labels: Vec::new(),
        }
    }

    /// The values in C order of `dims` (the inverse of [`Recording::from_c_order`]).
    pub fn c_order_values(&self) -> Vec<f64> {
        let (r, c) = self.data.shape();
        let mut out = Vec::with_capacity(r * c);
        for i in 0..r {
            for j in 0..c {
                out.push(self.data[(i, j)]);
            }
        }
        out
    }

    /// Add task variables, replacing any with the same name. Each must have one value per
    /// condition.
    pub fn set_labels(&mut self, vars: Vec<TaskVariable>) -> Result<(), DataError> {
        for v in &vars {
            if v.class_of.len() != self.conditions() {
                return Err(DataError::LabelCount {
                    name: v.name.clone(),
                    got: v.class_of.len(),
                    expected: self.conditions(),
                });
            }
        }
        for v in vars {
            match self.labels.iter_mut().find(|l| l.name == v.name) {
                Some(slot) => *slot = v,
                None => self.labels.push(v),
            }
        }
        Ok(())
    }

    /// Read task variables from a `.npy`, `.npz`, `.csv` or `.json` file and attach them.
    /// Returns warnings.
    pub fn attach_labels(
        &mut self,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Vec<String>, DataError> {
        let (vars, warnings) = read_labels(file_name, bytes, self.conditions())?;
        self.set_labels(vars)?;
        Ok(warnings)
    }
}

/// Why a file could not be used as a recording or as labels. Every message says what is wrong
/// and how to fix it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Npz(#[from] NpzError),
    #[error("`{0}` is not a .npy or .npz file: simscope reads NumPy arrays saved with numpy.save (.npy) or numpy.savez (.npz); load other formats (CSV, MATLAB, …) in Python and save them with numpy.save")]
    Format(String),
    #[error("a recording needs 2 dimensions (conditions × neurons) or 3 (time × conditions × neurons), but this array has shape {shape:?}{}", if shape.len() == 1 { " (1-D: this looks like labels or a single neuron; for one neuron save x.reshape(-1, 1))" } else { " (a single number)" })]
    TooFewDims { shape: Vec<usize> },
    #[error("a recording has at most 3 dimensions (time × conditions × neurons), but this array has shape {shape:?}; average or merge axes first, e.g. x.mean(axis=…) or x.reshape(T, C, N)")]
    TooManyDims { shape: Vec<usize> },
    #[error("the array of shape {shape:?} has an empty axis (axis {axis} has length 0); a recording needs at least one time step, condition and neuron")]
    EmptyAxis { shape: Vec<usize>, axis: usize },
    #[error("the recording holds text (dtype `{0}`), not numbers; save the neural data as numbers (e.g. x.astype(np.float64)) and strings only as labels")]
    TextRecording(String),
    #[error("the recording contains {what} at index {index:?} (the first one); replace or drop missing values before saving, e.g. np.nan_to_num(x) or remove that neuron/condition")]
    NonFinite { what: String, index: Vec<usize> },
    #[error("the .npz holds no recording: name it X, e.g. np.savez(path, X=x, label_direction=d) (arrays found: {0})")]
    NoRecording(String),
    #[error("the .npz holds several arrays that could be the recording ({0}); name the recording X, e.g. np.savez(path, X=x, label_direction=d)")]
    AmbiguousRecording(String),
    #[error("task variable `{name}` has {got} values but the recording has {expected} conditions; give exactly one label per condition, in the order of the recording's condition axis")]
    LabelCount {
        name: String,
        got: usize,
        expected: usize,
    },
    #[error("task variable `{name}`: {problem}")]
    Labels { name: String, problem: String },
}

impl DataError {
    /// A stable short name for the kind of error (tests, the page's error styling).
    pub fn kind(&self) -> &'static str {
        match self {
            DataError::Npy(e) => e.kind(),
            DataError::Npz(e) => e.kind(),
            DataError::Format(_) => "format",
            DataError::TooFewDims { .. } => "too_few_dims",
            DataError::TooManyDims { .. } => "too_many_dims",
            DataError::EmptyAxis { .. } => "empty_axis",
            DataError::TextRecording(_) => "text_recording",
            DataError::NonFinite { .. } => "non_finite",
            DataError::NoRecording(_) => "no_recording",
            DataError::AmbiguousRecording(_) => "ambiguous_recording",
            DataError::LabelCount { .. } => "label_count",
            DataError::Labels { .. } => "labels",
        }
    }
}

/// C-order multi-index of flat position `i` in `shape`.
pub fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (k, &d) in shape.iter().enumerate().rev() {
        let d = d.max(1);
        idx[k] = i % d;
        i /= d;
    }
    idx
}

/// Check that an array can be a recording (2 or 3 non-empty axes, numeric, finite) and build
/// it.
pub fn recording_from_array(name: &str, a: &NpyArray) -> Result<Recording, DataError> {
    if a.shape.len() < 2 {
        return Err(DataError::TooFewDims {
            shape: a.shape.clone(),
        });
    }
    if a.shape.len() > 3 {
        return Err(DataError::TooManyDims {
            shape: a.shape.clone(),
        });
    }
    if let Some(axis) = a.shape.iter().position(|&d| d == 0) {
        return Err(DataError::EmptyAxis {
            shape: a.shape.clone(),
            axis,
        });
    }
    if a.is_text() {
        return Err(DataError::TextRecording(a.descr.clone()));
    }
    if let Some(i) = a.values.iter().position(|v| !v.is_finite()) {
        let v = a.values[i];
        let what = if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(DataError::NonFinite {
            what: what.into(),
            index: unravel(i, &a.shape),
        });
    }
    Ok(Recording::from_c_order(name, &a.shape, &a.values))
}

/// The file name without directories and extension.
pub fn file_stem(file_name: &str) -> &str {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rfind('.') {
        Some(0) | None => base,
        Some(i) => &base[..i],
    }
}

fn extension(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rfind('.') {
        Some(i) if i > 0 => base[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Which reader a file needs, from its extension or, failing that, its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Npy,
    Npz,
    Csv,
    Json,
}

/// Guess the kind of a file from its name, then its magic bytes.
pub fn file_kind(file_name: &str, bytes: &[u8]) -> Option<FileKind> {
    match extension(file_name).as_str() {
        "npy" => Some(FileKind::Npy),
        "npz" => Some(FileKind::Npz),
        "csv" | "tsv" | "txt" => Some(FileKind::Csv),
        "json" => Some(FileKind::Json),
        _ if bytes.starts_with(b"\x93NUMPY") => Some(FileKind::Npy),
        _ if bytes.starts_with(b"PK") => Some(FileKind::Npz),
        _ => None,
    }
}

/// Names of the `.npz` arrays that hold task variables, with the variable names.
pub fn npz_label_name(array_name: &str) -> Option<&str> {
    if array_name == "labels" || array_name == "label" {
        return Some("label");
    }
    array_name
        .strip_prefix("label_")
        .or_else(|| array_name.strip_prefix("labels_"))
        .filter(|s| !s.is_empty())
}

/// Pick the recording array of an `.npz` (see the module docs for the convention).
pub fn npz_recording_index(arrays: &[NpzArray]) -> Result<usize, DataError> {
    if let Some(i) = arrays
        .iter()
        .position(|a| a.name == "X")
        .or_else(|| arrays.iter().position(|a| a.name == "x"))
    {
        return Ok(i);
    }
    let names = || {
        arrays
            .iter()
            .map(|a| format!("{} {:?}", a.name, a.array.shape))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let candidates: Vec<usize> = (0..arrays.len())
        .filter(|&i| {
            npz_label_name(&arrays[i].name).is_none()
                && matches!(arrays[i].array.shape.len(), 2 | 3)
        })
        .collect();
    match candidates.as_slice() {
        [i] => Ok(*i),
        [] => Err(DataError::NoRecording(names())),
        _ => Err(DataError::AmbiguousRecording(
            candidates
                .iter()
                .map(|&i| arrays[i].name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// Build a recording (with its labels) from the arrays of an `.npz`.
pub fn recording_from_npz(
    name: &str,
    arrays: &[NpzArray],
) -> Result<(Recording, Vec<String>), DataError> {
    let xi = npz_recording_index(arrays)?;
    let mut rec = recording_from_array(name, &arrays[xi].array)?;
    let mut warnings: Vec<String> = arrays[xi].array.warnings.clone();
    let mut vars = Vec::new();
    for (i, a) in arrays.iter().enumerate() {
        if i == xi {
            continue;
        }
        match npz_label_name(&a.name) {
            Some(var) => vars.push(task_variable_from_array(var, &a.array, rec.conditions())?),
            None => warnings.push(format!(
                "ignored array `{}` {:?}: only X and label_<name> arrays are used",
                a.name, a.array.shape
            )),
        }
    }
    rec.set_labels(vars)?;
    Ok((rec, warnings))
}

/// Read a recording from the bytes of a `.npy` or `.npz` file (the extension of `file_name`
/// decides; without one, the magic bytes). Returns the recording and non-fatal warnings.
///
/// This is the page's entry point for user files. It never panics; files over
/// [`MAX_FILE_BYTES`] are refused before anything is allocated (the page should also check
/// `File.size` against that limit before reading the bytes).
pub fn read_recording(
    file_name: &str,
    bytes: &[u8],
) -> Result<(Recording, Vec<String>), DataError> {
    let name = file_stem(file_name);
    match file_kind(file_name, bytes) {
        Some(FileKind::Npy) => {
            let a = npy::read_npy(bytes)?;
            let rec = recording_from_array(name, &a)?;
            Ok((rec, a.warnings))
        }
        Some(FileKind::Npz) => {
            let (arrays, mut warnings) = npz::read_npz(bytes)?;
            let (rec, w) = recording_from_npz(name, &arrays)?;
            warnings.extend(w);
            Ok((rec, warnings))
        }
        _ => Err(DataError::Format(file_name.to_string())),
    }
}

/// Summary of one array for `simscope info` and the page's file panel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArraySummary {
    pub shape: Vec<usize>,
    /// NumPy's descr string, e.g. `<f8`.
    pub dtype: String,
    pub fortran_order: bool,
    /// `None` for text or empty arrays.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

impl ArraySummary {
    pub fn of(a: &NpyArray) -> Self {
        let finite = !a.values.is_empty() && a.values.iter().all(|v| v.is_finite());
        let (min, max, mean) = if finite {
            let min = a.values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = a.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = a.values.iter().sum::<f64>() / a.values.len() as f64;
            (Some(min), Some(max), Some(mean))
        } else {
            (None, None, None)
        };
        ArraySummary {
            shape: a.shape.clone(),
            dtype: a.descr.clone(),
            fortran_order: a.fortran_order,
            min,
            max,
            mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_kinds() {
        assert_eq!(file_stem("/a/b/rec.npy"), "rec");
        assert_eq!(file_stem("C:\\x\\y.z.npz"), "y.z");
        assert_eq!(file_kind("A.NPZ", b""), Some(FileKind::Npz));
        assert_eq!(file_kind("blob", b"\x93NUMPY"), Some(FileKind::Npy));
        assert_eq!(file_kind("blob", b"hello"), None);
        assert_eq!(unravel(7, &[2, 2, 3]), vec![1, 0, 1]);
    }

    #[test]
    fn recording_checks() {
        let one_d = npy::read_npy(&npy::write_npy_f64(&[3], &[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(
            recording_from_array("x", &one_d).unwrap_err().kind(),
            "too_few_dims"
        );
        let nan = npy::read_npy(&npy::write_npy_f64(&[2, 2], &[1.0, 2.0, f64::NAN, 3.0])).unwrap();
        let e = recording_from_array("x", &nan).unwrap_err();
        assert_eq!(
            e,
            DataError::NonFinite {
                what: "NaN".into(),
                index: vec![1, 0]
            }
        );
        let (rec, w) =
            read_recording("r.npy", &npy::write_npy_f64(&[2, 3, 2], &[0.5; 12])).unwrap();
        assert!(w.is_empty());
        assert_eq!(
            (rec.time_steps(), rec.conditions(), rec.neurons()),
            (2, 3, 2)
        );
        assert_eq!(rec.data.shape(), (6, 2));
    }
}
