//! Recordings: a validated f64 matrix with its original shape and the task variables.

pub mod datasets;
pub mod npy;

use nalgebra::DMatrix;
use serde::Serialize;

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
        let class_of = labels
            .iter()
            .map(|l| match classes.iter().position(|c| c == l) {
                Some(k) => k,
                None => {
                    classes.push(l.clone());
                    classes.len() - 1
                }
            })
            .collect();
        TaskVariable {
            name: name.to_string(),
            class_of,
            classes,
        }
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

    /// Build from C-order values of shape `dims` (2 or 3 axes).
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
}
