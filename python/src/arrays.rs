//! NumPy arrays in and out.
//!
//! In: the core works on an owned nalgebra `DMatrix<f64>` (column-major) holding the flattened
//! (T·C) × N recording (row = t·C + c), so every array is copied exactly once, straight from
//! NumPy's memory (any dtype the file readers accept, C or Fortran order, any strides) into
//! that matrix, converting each value to f64 on the way. The checks and messages are the file
//! readers': the dtype through `npy::Dtype::parse`, the shape and the values through
//! `data::recording_from_matrix`. (Arrays in a non-native byte order are made native by the
//! Python layer first: a second copy, for a rare case.)
//!
//! Out: a matrix becomes a NumPy array of the recording's shape without a copy: the matrix's
//! buffer is handed to NumPy with the strides that read it in the recording's axes
//! (Fortran order for 2-D; for (T, C, N), strides (C, 1, T·C) in elements).

use nalgebra::DMatrix;
use numpy::ndarray::{ArrayD, ArrayViewD, IxDyn, ShapeBuilder};
use numpy::{Element, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use simscope::data::npy::{f16_to_f64, inexact_integers_warning, Dtype, Kind, NpyArray, NpyError};
use simscope::data::{
    check_recording_shape, recording_from_matrix, task_variable_from_array, DataError, Recording,
    TaskVariable,
};

use crate::error;

/// NumPy's descr string of an array's dtype (`<f8`, `|b1`, `<U3`, `|O`, …), as in a `.npy`
/// header.
fn descr(a: &Bound<'_, PyUntypedArray>) -> PyResult<String> {
    a.dtype().getattr("str")?.extract()
}

/// The file readers' refusal of a structured dtype, named by its fields as in a `.npy`
/// header (`[('a', '<f8'), …]`); `None` for a plain dtype.
fn structured(a: &Bound<'_, PyUntypedArray>) -> PyResult<Option<NpyError>> {
    let dtype = a.dtype();
    if dtype.getattr("names")?.is_none() {
        return Ok(None);
    }
    let fields = dtype.getattr("descr")?.repr()?.to_string();
    Ok(Some(NpyError::Structured(fields)))
}

fn as_array<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    what: &str,
) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
    obj.cast::<PyUntypedArray>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!("{what} must be a NumPy array"))
    })
}

/// The values of `view` in the column-major order of the flattened recording matrix: for
/// (C, N) the columns one after the other, for (T, C, N) neuron by neuron, each neuron's
/// (t, c) in row order t·C + c.
fn column_major<T: Copy>(view: ArrayViewD<'_, T>, conv: impl Fn(T) -> f64) -> Vec<f64> {
    let order: &[usize] = if view.ndim() == 2 {
        &[1, 0]
    } else {
        &[2, 0, 1]
    };
    view.permuted_axes(IxDyn(order))
        .iter()
        .map(|&v| conv(v))
        .collect()
}

/// The f64 values of a numeric array in C order (labels: 1-D or with unit axes).
fn c_order<T: Copy>(view: ArrayViewD<'_, T>, conv: impl Fn(T) -> f64) -> Vec<f64> {
    view.iter().map(|&v| conv(v)).collect()
}

/// The reader's warning for 64-bit integers beyond ±2⁵³ (not exact in f64), C order.
fn inexact<T: Copy + std::fmt::Display>(
    view: &ArrayViewD<'_, T>,
    dtype: &str,
    big: impl Fn(T) -> bool,
) -> Option<String> {
    let mut hits = view.iter().enumerate().filter(|(_, &v)| big(v));
    let (flat, first) = hits.next()?;
    Some(inexact_integers_warning(
        dtype,
        1 + hits.count(),
        &first.to_string(),
        flat,
    ))
}

const EXACT: u64 = 1 << 53;

/// Convert a numeric array (of a dtype `Dtype::parse` accepted) with `take`, which receives a
/// typed view and a conversion to f64. 64-bit integer arrays add the reader's warning.
macro_rules! numeric {
    ($a:expr, $dt:expr, $warnings:expr, $take:ident) => {{
        let a = $a;
        fn view<'py, T: Element>(
            a: &Bound<'py, PyUntypedArray>,
        ) -> PyResult<numpy::PyReadonlyArrayDyn<'py, T>> {
            let typed = a.cast::<PyArrayDyn<T>>().map_err(|_| {
                error("the array's dtype does not match its descr (an unusual NumPy build?); convert it with x.astype(np.float64)")
            })?;
            typed.try_readonly().map_err(|e| error(format!("the array cannot be read: {e}")))
        }
        match ($dt.kind, $dt.itemsize) {
            (Kind::Bool, _) => $take(view::<bool>(a)?.as_array(), |v| if v { 1.0 } else { 0.0 }),
            (Kind::Int, 1) => $take(view::<i8>(a)?.as_array(), f64::from),
            (Kind::UInt, 1) => $take(view::<u8>(a)?.as_array(), f64::from),
            (Kind::Int, 2) => $take(view::<i16>(a)?.as_array(), f64::from),
            (Kind::UInt, 2) => $take(view::<u16>(a)?.as_array(), f64::from),
            (Kind::Int, 4) => $take(view::<i32>(a)?.as_array(), f64::from),
            (Kind::UInt, 4) => $take(view::<u32>(a)?.as_array(), f64::from),
            (Kind::Int, _) => {
                let ro = view::<i64>(a)?;
                $warnings.extend(inexact(&ro.as_array(), "int64", |v: i64| v.unsigned_abs() > EXACT));
                $take(ro.as_array(), |v| v as f64)
            }
            (Kind::UInt, _) => {
                let ro = view::<u64>(a)?;
                $warnings.extend(inexact(&ro.as_array(), "uint64", |v: u64| v > EXACT));
                $take(ro.as_array(), |v| v as f64)
            }
            (Kind::Float, 2) => $take(view::<half::f16>(a)?.as_array(), |v| f16_to_f64(v.to_bits())),
            (Kind::Float, 4) => $take(view::<f32>(a)?.as_array(), f64::from),
            (Kind::Float, _) => $take(view::<f64>(a)?.as_array(), |v| v),
            (Kind::Unicode | Kind::Bytes, _) => unreachable!("text is handled by the caller"),
        }
    }};
}

/// The numbers of a 2-D or 3-D array as the flattened (T·C) × N matrix, with the dtype and
/// shape checks of the file readers (not the finiteness check: see [`recording`]). Errors
/// read `{name}: {message}` as the CLI's read `{file}: {message}`.
fn numeric_matrix(
    name: &str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<(Vec<usize>, DMatrix<f64>, Vec<String>)> {
    let a = as_array(obj, name)?;
    let fail = |e: DataError| error(format!("{name}: {e}"));
    if let Some(e) = structured(a)? {
        return Err(fail(e.into()));
    }
    let d = descr(a)?;
    let dt = Dtype::parse(&d).map_err(|e| fail(e.into()))?;
    let shape = a.shape().to_vec();
    check_recording_shape(&shape).map_err(fail)?;
    if matches!(dt.kind, Kind::Unicode | Kind::Bytes) {
        return Err(fail(DataError::TextRecording(d)));
    }
    let mut warnings = Vec::new();
    let values = numeric!(a, dt, warnings, column_major);
    let neurons = shape[shape.len() - 1];
    let data = DMatrix::from_vec(values.len() / neurons, neurons, values);
    Ok((shape, data, warnings))
}

/// A NumPy array as a recording named `name`, with the file readers' checks and messages.
/// Returns the reader's warnings.
pub fn recording(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<(Recording, Vec<String>)> {
    let (shape, data, warnings) = numeric_matrix(name, obj)?;
    let rec =
        recording_from_matrix(name, &shape, data).map_err(|e| error(format!("{name}: {e}")))?;
    Ok((rec, warnings))
}

/// A 2-D numeric array as a matrix (a target RDM: its own checks come from the core), with the
/// CLI's message for anything else.
pub fn matrix_2d(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<DMatrix<f64>> {
    let a = as_array(obj, name)?;
    let text = Dtype::parse(&descr(a)?)
        .map(|dt| matches!(dt.kind, Kind::Unicode | Kind::Bytes))
        .unwrap_or(false);
    if text || a.ndim() != 2 {
        return Err(error(format!(
            "{name}: a target RDM must be a 2-D numeric array (stimuli × stimuli), got shape {:?}",
            a.shape()
        )));
    }
    Ok(numeric_matrix(name, obj)?.1)
}

/// A recording's matrix as a NumPy array of shape `dims`, without a copy (module docs).
pub fn to_numpy<'py>(py: Python<'py>, dims: &[usize], m: DMatrix<f64>) -> Bound<'py, PyAny> {
    let rows = m.nrows();
    let strides: Vec<usize> = match dims {
        [_, _] => vec![1, rows],
        [_, c, _] => vec![*c, 1, rows],
        _ => unreachable!("recordings have 2 or 3 axes"),
    };
    let values: Vec<f64> = m.data.into();
    let arr = ArrayD::from_shape_vec(IxDyn(dims).strides(IxDyn(&strides)), values)
        .expect("the strides address the matrix exactly");
    numpy::PyArray::from_owned_array(py, arr).into_any()
}

/// A task variable as Python sees it: (name, class index per condition, class names).
pub type PyTaskVariable = (String, Vec<usize>, Vec<String>);

pub fn to_py_labels(vars: &[TaskVariable]) -> Vec<PyTaskVariable> {
    vars.iter()
        .map(|v| (v.name.clone(), v.class_of.clone(), v.classes.clone()))
        .collect()
}

/// Task variables back from Python, checked (a class index must name a class).
pub fn from_py_labels(vars: Vec<PyTaskVariable>) -> PyResult<Vec<TaskVariable>> {
    vars.into_iter()
        .map(|(name, class_of, classes)| {
            if let Some(&k) = class_of.iter().find(|&&k| k >= classes.len()) {
                return Err(error(format!(
                    "task variable `{name}`: class index {k} but only {} classes",
                    classes.len()
                )));
            }
            Ok(TaskVariable {
                name,
                class_of,
                classes,
            })
        })
        .collect()
}

/// A recording from an array and task variables (which replace any it has).
pub fn recording_with_labels(
    name: &str,
    x: &Bound<'_, PyAny>,
    labels: Vec<PyTaskVariable>,
) -> PyResult<(Recording, Vec<String>)> {
    let (mut rec, warnings) = recording(name, x)?;
    let vars = from_py_labels(labels)?;
    rec.labels.clear();
    rec.set_labels(vars).map_err(error)?;
    Ok((rec, warnings))
}

/// A task variable from a 1-D array with one value per condition, read as the `.npz` reader
/// reads a `label_<name>` array (numbers sorted into classes, text in order of appearance).
/// Text arrays arrive as (descr, shape, strings) from the Python layer.
#[pyfunction]
#[pyo3(signature = (name, values, conditions, text=None))]
pub fn task_variable(
    name: &str,
    values: &Bound<'_, PyAny>,
    conditions: usize,
    text: Option<Vec<String>>,
) -> PyResult<PyTaskVariable> {
    let a = as_array(values, name)?;
    let fail = |e: DataError| error(format!("labels: {e}"));
    let d = descr(a)?;
    let shape = a.shape().to_vec();
    let mut warnings = Vec::new();
    let (values, strings) = match text {
        Some(s) => (Vec::new(), s),
        None => {
            let dt = Dtype::parse(&d).map_err(|e| fail(e.into()))?;
            if matches!(dt.kind, Kind::Unicode | Kind::Bytes) {
                return Err(error(
                    "text labels must be passed with their strings (the Python layer does this)",
                ));
            }
            (numeric!(a, dt, warnings, c_order), Vec::new())
        }
    };
    let array = NpyArray {
        shape,
        descr: d,
        fortran_order: false,
        values,
        strings,
        warnings,
    };
    let v = task_variable_from_array(name, &array, conditions).map_err(fail)?;
    Ok((v.name, v.class_of, v.classes))
}
