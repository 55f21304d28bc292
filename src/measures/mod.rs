//! Similarity measures between the prepared target X and a candidate Y, each with its
//! closed-form gradient with respect to Y (spec §2). One file per measure family, in which
//! each measure is one declaration ([`def::Def`]: id, aliases, metadata, constructor, cost
//! model, perturbation theory, default lists); the [`registry`] collects them in one list.
//!
//! Conventions shared by every measure:
//! * `y` is the flattened n × q candidate (row = t·C + c); q may differ from X's width p.
//!   Measures that the authors zero-pad (Procrustes, CCA, regressions) are computed in a form
//!   on which padding has no effect, so no padding is materialised.
//! * The gradient always has Y's shape and is column-centred wherever the score is
//!   translation invariant (spec §1.2).
//! * A degenerate Y (all columns constant, ‖Y_c‖ < 1e-150) gives score 0 (distance: ‖X_c‖) and
//!   a zero gradient instead of NaN; the CLI warns about it.

pub mod bures;
pub mod cca;
pub mod cka;
pub mod def;
pub mod distance;
pub mod kernel;
pub mod knn;
pub mod matching;
pub mod pair;
pub mod registry;
pub mod regression;
pub mod rsa;
pub mod shape;

use nalgebra::DMatrix;

/// Whether larger values mean "more similar" (a score) or "less similar" (a distance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Similarity,
    Distance,
}

/// A measure bound to one prepared target. `y` is the flattened n × q candidate. `Send + Sync`
/// so a prepared measure can be shared by the threads of a native job (bootstrap, seeds) and
/// used by the Python binding with the GIL released.
pub trait Measure: Send + Sync {
    /// The score s(X, Y).
    fn score(&self, y: &DMatrix<f64>) -> f64;
    /// The score and ∂s/∂Y, written into `grad` (resized to Y's shape).
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64;
    /// Whether the optimiser should maximise or minimise it.
    fn direction(&self) -> Direction {
        Direction::Similarity
    }
}

/// Why a measure cannot be prepared.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MeasureError {
    #[error("unknown measure `{id}` (run `simscope measures` for the list{hint})")]
    Unknown { id: String, hint: String },
    #[error("bad measure id `{id}`: {why}")]
    BadId { id: String, why: String },
    #[error("measure `{id}` cannot be computed here: {why}")]
    Unsupported { id: String, why: String },
}

/// ‖Y_c‖² below this counts as a constant Y (every normalised score undefined).
pub const DEGENERATE_NORM2: f64 = 1e-300;

/// The angular-score transform ang(s) = 1 − (2/π)·arccos(s), s clamped into [−1, 1].
pub fn angular(s: f64) -> f64 {
    1.0 - std::f64::consts::FRAC_2_PI * s.clamp(-1.0, 1.0).acos()
}

/// d ang/ds = (2/π)(1 − s²)^(−1/2), with 1 − s² floored at 1e-16 (spec G4).
pub fn angular_slope(s: f64) -> f64 {
    let s = s.clamp(-1.0, 1.0);
    std::f64::consts::FRAC_2_PI / (1.0 - s * s).max(1e-16).sqrt()
}

/// ang(inner score): the angular score of a similarity in [0, 1] (e.g. CKA, NBS, mean ρ).
pub struct Angular<M>(pub M);

impl<M: Measure> Measure for Angular<M> {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        angular(self.0.score(y))
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let s = self.0.score_and_grad(y, grad);
        *grad *= angular_slope(s);
        angular(s)
    }
}

/// Zero the gradient (resized to Y's shape) and return `value`: the degenerate-Y answer.
pub(crate) fn degenerate(y: &DMatrix<f64>, grad: &mut DMatrix<f64>, value: f64) -> f64 {
    *grad = DMatrix::zeros(y.nrows(), y.ncols());
    value
}
