//! Small dense linear-algebra helpers shared by the measures and analyses.
//!
//! Everything is f64 and column-major (`nalgebra::DMatrix`). Rows are samples (flattened
//! time × condition), columns are neurons.

use nalgebra::{DMatrix, DVector};

/// Column means (one per neuron).
pub fn column_means(m: &DMatrix<f64>) -> DVector<f64> {
    let n = m.nrows().max(1) as f64;
    DVector::from_iterator(m.ncols(), m.column_iter().map(|c| c.sum() / n))
}

/// Subtract each column's mean: X_c = H X.
pub fn center_columns(m: &DMatrix<f64>) -> DMatrix<f64> {
    let mut c = m.clone();
    center_columns_mut(&mut c);
    c
}

/// In-place column centring. Also used on gradients (spec §1.2: ∂f/∂Y = H ∂f/∂Y_c).
pub fn center_columns_mut(m: &mut DMatrix<f64>) {
    let n = m.nrows().max(1) as f64;
    for mut col in m.column_iter_mut() {
        let mean = col.sum() / n;
        col.add_scalar_mut(-mean);
    }
}

/// Squared Frobenius norm.
pub fn frob2(m: &DMatrix<f64>) -> f64 {
    m.iter().map(|v| v * v).sum()
}
