//! Recordings: a validated f64 matrix with its original shape and the task variables.
//!
//! Entry points for the page and the CLI:
//! * [`read_recording`] turns the bytes of a `.npy`, `.npz`, MATLAB `.mat` (level 5 / v7) or
//!   CSV/TSV file into a [`Recording`] ([`read_recording_array`] picks one array of a file
//!   that holds several);
//! * [`read_labels`] / [`Recording::attach_labels`] add task variables from `.npy`, `.npz`,
//!   `.csv` or `.json` files;
//! * [`datasets`] holds the built-in recordings; [`write`] the `.npy`/`.npz`/CSV writers.
//!
//! `.npz` convention: the recording is the array named `X` (or `x`; failing that, the only
//! array with 2 or 3 dimensions); every 1-D array named `label_<name>` (or `labels_<name>`) is
//! the task variable `<name>`, one value per condition. `.mat` files follow the same
//! convention with variables instead of arrays. See `docs/data.md`.

pub mod csv;
pub mod datasets;
pub mod labels;
pub mod mat;
pub mod npy;
pub mod npz;
pub mod write;

use nalgebra::DMatrix;
use serde::Serialize;

pub use csv::CsvError;
pub use labels::{read_labels, task_variable_from_array, MAX_FLOAT_CLASSES};
pub use mat::MatError;
pub use npy::{NpyArray, NpyError, MAX_FILE_BYTES, MAX_VALUES};
pub use npz::{NpzArray, NpzError};

/// A categorical task variable with one value per condition (e.g. reach direction).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
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
    #[error(transparent)]
    Mat(#[from] MatError),
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error("`{0}` is not a file simscope reads as a recording: use .npy/.npz (numpy.save, numpy.savez), .mat (MATLAB save(file, 'X', '-v7') or scipy.io.savemat) or .csv/.tsv/.txt (numbers, one row per condition, one column per neuron)")]
    Format(String),
    #[error("`{0}` is a JSON file, which simscope reads only as task labels: open it as labels (the labels button, or --labels FILE), and the recording as .npy, .npz, .mat or .csv")]
    JsonRecording(String),
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
    #[error("the {format} holds several arrays that could be the recording ({arrays}); name the recording X ({save}) or choose one by name, e.g. {choose}")]
    AmbiguousRecording {
        format: String,
        arrays: String,
        save: String,
        choose: String,
    },
    #[error("{file} has no array named `{name}` (arrays: {arrays})")]
    NoSuchArray {
        file: String,
        name: String,
        arrays: String,
    },
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
            DataError::Mat(e) => e.kind(),
            DataError::Csv(e) => e.kind(),
            DataError::Format(_) => "format",
            DataError::JsonRecording(_) => "json_recording",
            DataError::NoSuchArray { .. } => "no_such_array",
            DataError::TooFewDims { .. } => "too_few_dims",
            DataError::TooManyDims { .. } => "too_many_dims",
            DataError::EmptyAxis { .. } => "empty_axis",
            DataError::TextRecording(_) => "text_recording",
            DataError::NonFinite { .. } => "non_finite",
            DataError::NoRecording(_) => "no_recording",
            DataError::AmbiguousRecording { .. } => "ambiguous_recording",
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

/// Check that an array of this shape can be a recording: 2 or 3 axes, none of them empty.
pub fn check_recording_shape(shape: &[usize]) -> Result<(), DataError> {
    if shape.len() < 2 {
        return Err(DataError::TooFewDims {
            shape: shape.to_vec(),
        });
    }
    if shape.len() > 3 {
        return Err(DataError::TooManyDims {
            shape: shape.to_vec(),
        });
    }
    if let Some(axis) = shape.iter().position(|&d| d == 0) {
        return Err(DataError::EmptyAxis {
            shape: shape.to_vec(),
            axis,
        });
    }
    Ok(())
}

/// The error for the non-finite value `v` at multi-index `index`.
fn non_finite(v: f64, index: Vec<usize>) -> DataError {
    let what = if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    };
    DataError::NonFinite {
        what: what.into(),
        index,
    }
}

/// Check that an array can be a recording (2 or 3 non-empty axes, numeric, finite) and build
/// it.
pub fn recording_from_array(name: &str, a: &NpyArray) -> Result<Recording, DataError> {
    check_recording_shape(&a.shape)?;
    if a.is_text() {
        return Err(DataError::TextRecording(a.descr.clone()));
    }
    if let Some(i) = a.values.iter().position(|v| !v.is_finite()) {
        return Err(non_finite(a.values[i], unravel(i, &a.shape)));
    }
    Ok(Recording::from_c_order(name, &a.shape, &a.values))
}

/// A recording from numbers already in the flattened layout: `data` is the (T·C) × N matrix
/// (row = t·C + c) of an array of shape `dims`. The checks and messages of
/// [`recording_from_array`] (a non-finite value is reported at its first position in C order
/// of `dims`, as the file readers do), without copying the values again: the Python package
/// converts a NumPy array of any dtype and memory order straight into this matrix.
///
/// Panics if `data`'s shape does not match `dims` (a caller's bug, not a user's).
pub fn recording_from_matrix(
    name: &str,
    dims: &[usize],
    data: DMatrix<f64>,
) -> Result<Recording, DataError> {
    check_recording_shape(dims)?;
    let neurons = dims[dims.len() - 1];
    assert_eq!(
        data.shape(),
        (dims.iter().product::<usize>() / neurons, neurons),
        "the matrix is not the flattened layout of shape {dims:?}"
    );
    // The first non-finite value in C order: row-major position r·N + j, smallest over the
    // first bad row of each column.
    let first = (0..neurons)
        .filter_map(|j| {
            let col = data.column(j);
            col.iter()
                .position(|v| !v.is_finite())
                .map(|r| r * neurons + j)
        })
        .min();
    if let Some(flat) = first {
        let (r, j) = (flat / neurons, flat % neurons);
        return Err(non_finite(data[(r, j)], unravel(flat, dims)));
    }
    Ok(Recording {
        name: name.to_string(),
        dims: dims.to_vec(),
        data,
        labels: Vec::new(),
    })
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
    Mat,
    Csv,
    Json,
}

/// Guess the kind of a file from its name, then its magic bytes.
pub fn file_kind(file_name: &str, bytes: &[u8]) -> Option<FileKind> {
    match extension(file_name).as_str() {
        "npy" => Some(FileKind::Npy),
        "npz" => Some(FileKind::Npz),
        "mat" => Some(FileKind::Mat),
        "csv" | "tsv" | "txt" => Some(FileKind::Csv),
        "json" => Some(FileKind::Json),
        _ if bytes.starts_with(b"\x93NUMPY") => Some(FileKind::Npy),
        _ if bytes.starts_with(b"PK") => Some(FileKind::Npz),
        _ if mat::looks_like_mat(bytes) => Some(FileKind::Mat),
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

/// `name (552, 86)` for every array, for messages.
fn array_list(arrays: &[NpzArray]) -> String {
    arrays
        .iter()
        .map(|a| format!("{} {:?}", a.name, a.array.shape))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pick the recording array of an `.npz` (see the module docs for the convention).
pub fn npz_recording_index(arrays: &[NpzArray]) -> Result<usize, DataError> {
    npz_recording_index_in(arrays, "rec.npz")
}

/// As [`npz_recording_index`], with the file name for the "choose one" example.
fn npz_recording_index_in(arrays: &[NpzArray], file: &str) -> Result<usize, DataError> {
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
        _ => Err(DataError::AmbiguousRecording {
            format: ".npz".into(),
            arrays: candidates
                .iter()
                .map(|&i| format!("{} {:?}", arrays[i].name, arrays[i].array.shape))
                .collect::<Vec<_>>()
                .join(", "),
            save: "np.savez(path, X=x, label_direction=d)".into(),
            choose: format!(
                "`{}:{}` on the command line",
                base_name(file),
                arrays[candidates[0]].name
            ),
        }),
    }
}

/// The file name without directories.
fn base_name(file_name: &str) -> &str {
    file_name.rsplit(['/', '\\']).next().unwrap_or(file_name)
}

/// Build a recording (with its labels) from the arrays of an `.npz`.
pub fn recording_from_npz(
    name: &str,
    arrays: &[NpzArray],
) -> Result<(Recording, Vec<String>), DataError> {
    recording_from_arrays(name, arrays, None, "rec.npz")
}

/// Build a recording (with its labels) from named arrays (of an `.npz`, or the variables of a
/// `.mat`): the array called `choice` if given, else the convention's choice.
fn recording_from_arrays(
    name: &str,
    arrays: &[NpzArray],
    choice: Option<&str>,
    file: &str,
) -> Result<(Recording, Vec<String>), DataError> {
    let xi = match choice {
        Some(c) => {
            arrays
                .iter()
                .position(|a| a.name == c)
                .ok_or_else(|| DataError::NoSuchArray {
                    file: base_name(file).into(),
                    name: c.into(),
                    arrays: array_list(arrays),
                })?
        }
        None => npz_recording_index_in(arrays, file)?,
    };
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
                "used `{}` {:?} as the recording; ignored array `{}` {:?} (only the recording and label_<name> arrays are used; choose another with `{}:{}`)",
                arrays[xi].name, arrays[xi].array.shape, a.name, a.array.shape, base_name(file), a.name
            )),
        }
    }
    rec.set_labels(vars)?;
    Ok((rec, warnings))
}

/// Read a recording from the bytes of a `.npy`, `.npz`, `.mat` or CSV/TSV file (the extension
/// of `file_name` decides; without one, the magic bytes). Returns the recording and non-fatal
/// warnings.
///
/// This is the page's entry point for user files. It never panics; files over
/// [`MAX_FILE_BYTES`] are refused before anything is allocated (the page should also check
/// `File.size` against that limit before reading the bytes).
pub fn read_recording(
    file_name: &str,
    bytes: &[u8],
) -> Result<(Recording, Vec<String>), DataError> {
    read_recording_array(file_name, bytes, None)
}

/// [`read_recording`], choosing the array (of an `.npz`) or variable (of a `.mat`) named
/// `array` as the recording instead of the convention's choice (`X`, or the only candidate).
/// A labels file is never read as a recording: JSON is refused with a pointer to the labels
/// input, and CSV is read as numbers only.
pub fn read_recording_array(
    file_name: &str,
    bytes: &[u8],
    array: Option<&str>,
) -> Result<(Recording, Vec<String>), DataError> {
    let name = file_stem(file_name);
    let single = |what: &str| -> Result<(), DataError> {
        match array {
            Some(a) => Err(DataError::NoSuchArray {
                file: base_name(file_name).into(),
                name: a.into(),
                arrays: format!("a {what} file holds one unnamed array"),
            }),
            None => Ok(()),
        }
    };
    match file_kind(file_name, bytes) {
        Some(FileKind::Npy) => {
            single(".npy")?;
            let a = npy::read_npy(bytes)?;
            let rec = recording_from_array(name, &a)?;
            Ok((rec, a.warnings))
        }
        Some(FileKind::Npz) => {
            let (arrays, mut warnings) = npz::read_npz(bytes)?;
            let (rec, w) = recording_from_arrays(name, &arrays, array, file_name)?;
            warnings.extend(w);
            Ok((rec, warnings))
        }
        Some(FileKind::Mat) => recording_from_mat(name, file_name, bytes, array),
        Some(FileKind::Csv) => {
            single("CSV")?;
            let t = csv::read_table(file_name, bytes)?;
            let a = NpyArray {
                shape: vec![t.rows, t.cols],
                descr: "<f8".into(),
                fortran_order: false,
                values: t.values,
                strings: Vec::new(),
                warnings: Vec::new(),
            };
            let rec = recording_from_array(name, &a)?;
            let mut warnings = t.warnings;
            if t.cols == 1 {
                warnings.push(format!("the file has a single column: read as a recording of one neuron with {} conditions (if it holds task labels, open it as labels instead)", t.rows));
            }
            Ok((rec, warnings))
        }
        Some(FileKind::Json) => Err(DataError::JsonRecording(file_name.to_string())),
        None => Err(DataError::Format(file_name.to_string())),
    }
}

/// The recording of a `.mat`: the variable `array` if given, else `X`/`x`, else the only
/// numeric matrix that is not a `label_<name>` vector. Refused variables (cells, structs, …)
/// are warnings unless the recording would be one of them.
fn recording_from_mat(
    name: &str,
    file_name: &str,
    bytes: &[u8],
    array: Option<&str>,
) -> Result<(Recording, Vec<String>), DataError> {
    let f = mat::read_mat(file_name, bytes)?;
    let file = base_name(file_name);
    let wanted = array.or_else(|| {
        ["X", "x"]
            .into_iter()
            .find(|n| f.skipped.iter().any(|(s, _)| s.name == *n))
    });
    if let Some(w) = wanted {
        if let Some((_, e)) = f.skipped.iter().find(|(s, _)| s.name == w) {
            return Err(DataError::Mat((**e).clone()));
        }
    }
    let mut warnings = f.warnings.clone();
    for (s, _) in &f.skipped {
        warnings.push(format!("skipped variable: {}", s.error));
    }
    let has_x = f.arrays.iter().any(|a| a.name == "X" || a.name == "x");
    let choice: Option<String> = match array {
        Some(a) => Some(a.to_string()),
        None if has_x => None,
        None => {
            // MATLAB arrays are at least 2-D: a 1×n or n×1 vector is not a candidate unless
            // it is all there is.
            let matrix = |a: &NpzArray| {
                npz_label_name(&a.name).is_none()
                    && matches!(a.array.shape.len(), 2 | 3)
                    && a.array.shape.iter().filter(|&&d| d > 1).count() >= 2
            };
            let cands: Vec<&NpzArray> = f.arrays.iter().filter(|a| matrix(a)).collect();
            match cands.as_slice() {
                [one] => Some(one.name.clone()),
                [] if f.arrays.is_empty() => {
                    return Err(match f.skipped.first() {
                        Some((_, e)) if f.skipped.len() == 1 => DataError::Mat((**e).clone()),
                        _ => DataError::NoRecording(format!(
                            "{}; in MATLAB: save(file, 'X', '-v7') with X numeric",
                            f.skipped
                                .iter()
                                .map(|(s, _)| s.error.clone())
                                .collect::<Vec<_>>()
                                .join("; ")
                        )),
                    })
                }
                [] => None,
                many => {
                    return Err(DataError::AmbiguousRecording {
                        format: ".mat file".into(),
                        arrays: many
                            .iter()
                            .map(|a| {
                                format!(
                                    "{} {} {}",
                                    a.name,
                                    mat::dims_text(&a.array.shape),
                                    matlab_class(&a.array.descr)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        save: "in MATLAB: X = yourVariable; save(file, 'X', '-v7')".into(),
                        choose: format!("`{file}:{}` on the command line", many[0].name),
                    })
                }
            }
        }
    };
    let (rec, w) = recording_from_arrays(name, &f.arrays, choice.as_deref(), file_name)?;
    warnings.extend(w);
    Ok((rec, warnings))
}

/// The MATLAB class name of the dtype a `.mat` variable was read with.
fn matlab_class(descr: &str) -> &'static str {
    match descr {
        "<f8" => "double",
        "<f4" => "single",
        "|i1" => "int8",
        "|u1" => "uint8",
        "|b1" => "logical",
        "<i2" => "int16",
        "<u2" => "uint16",
        "<i4" => "int32",
        "<u4" => "uint32",
        "<i8" => "int64",
        _ => "uint64",
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

    #[test]
    fn matrix_recordings_check_like_files() {
        // Two non-finite values: the file reader reports the first in C order; so must the
        // matrix path, although it scans column by column.
        let dims = [2, 2, 3];
        let mut c_order: Vec<f64> = (0..12).map(f64::from).collect();
        c_order[5] = f64::NEG_INFINITY; // (0, 1, 2)
        c_order[7] = f64::NAN; // (1, 0, 1)
        let bytes = npy::write_npy_f64(&dims, &c_order);
        let from_file = read_recording("r.npy", &bytes).unwrap_err();
        let m = DMatrix::from_row_slice(4, 3, &c_order);
        let from_matrix = recording_from_matrix("r", &dims, m).unwrap_err();
        assert_eq!(from_file, from_matrix);
        assert_eq!(
            from_matrix,
            DataError::NonFinite {
                what: "-Inf".into(),
                index: vec![0, 1, 2]
            }
        );
        let good: Vec<f64> = (0..12).map(f64::from).collect();
        let rec = recording_from_matrix("r", &dims, DMatrix::from_row_slice(4, 3, &good)).unwrap();
        assert_eq!(rec.c_order_values(), good);
        assert_eq!(
            recording_from_matrix("r", &[3, 0], DMatrix::zeros(3, 0))
                .unwrap_err()
                .kind(),
            "empty_axis"
        );
        assert_eq!(
            check_recording_shape(&[2, 2, 2, 2]).unwrap_err().kind(),
            "too_many_dims"
        );
    }
}
