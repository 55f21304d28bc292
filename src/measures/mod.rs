//! Similarity measures between the prepared target X and a candidate Y, each with its
//! closed-form gradient with respect to Y (spec §2). One file per measure family.

pub mod cka;

use nalgebra::DMatrix;

/// Whether larger values mean "more similar" (a score) or "less similar" (a distance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Similarity,
    Distance,
}

/// A measure bound to one prepared target. `y` is the flattened n × q candidate.
pub trait Measure {
    /// The score s(X, Y).
    fn score(&self, y: &DMatrix<f64>) -> f64;
    /// The score and ∂s/∂Y, written into `grad` (resized to Y's shape).
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64;
    /// Whether the optimiser should maximise or minimise it.
    fn direction(&self) -> Direction {
        Direction::Similarity
    }
}
