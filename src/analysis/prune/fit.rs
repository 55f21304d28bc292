//! A registered similarity measure as the fit instead of RSA: the score between the kept
//! features and a target recording on a set of stimuli.

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};

use super::PruneError;
use crate::measures::{registry, Direction};
use crate::target::Target;

/// A registered similarity measure as the fit (issue 7 item 2, "optionally any registered
/// measure"): the score between the kept features F[s, S] and the target recording X[s, :] on
/// one set s of stimuli (rows). Unlike RSA it has no incremental update, so a greedy step costs
/// one full measure evaluation per candidate (prepared target shared within a stimulus set,
/// the measure prepared once per subset width).
#[derive(Clone, Debug)]
pub struct MeasureFit {
    /// Canonical registry id.
    pub id: String,
    pub(super) x: DMatrix<f64>,
}

impl MeasureFit {
    /// Check the id (a similarity: higher = better fits) against the target recording X.
    pub fn new(id: &str, x: DMatrix<f64>) -> Result<Self, PruneError> {
        let entry = registry::entry(id).map_err(|e| PruneError::Measure(e.to_string()))?;
        if entry.direction != Direction::Similarity {
            return Err(PruneError::NotSimilarity(entry.id));
        }
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                if !x[(i, j)].is_finite() {
                    return Err(PruneError::NonFiniteTarget { i, j });
                }
            }
        }
        Ok(MeasureFit { id: entry.id, x })
    }

    /// Stimuli (rows) of the target recording.
    pub fn stimuli(&self) -> usize {
        self.x.nrows()
    }

    /// X's rows `stims`, prepared as a measure target.
    pub(super) fn target(&self, stims: &[usize]) -> Result<Arc<Target>, PruneError> {
        let xs = self.x.select_rows(stims);
        Target::new(&xs)
            .map(Arc::new)
            .map_err(|e| PruneError::Measure(format!("target X on {} stimuli: {e}", stims.len())))
    }

    /// The measure's score of the features `kept` on the rows `stims` (full recomputation);
    /// NaN when the measure cannot be computed for this width.
    pub fn score(
        &self,
        f: &DMatrix<f64>,
        stims: &[usize],
        kept: &[usize],
    ) -> Result<f64, PruneError> {
        let t = self.target(stims)?;
        let y = f.select_rows(stims).select_columns(kept);
        Ok(score_with(&self.id, &t, &y))
    }
}

/// `id`'s score of Y against a prepared target, NaN when it cannot be prepared for Y's width.
pub(super) fn score_with(id: &str, t: &Arc<Target>, y: &DMatrix<f64>) -> f64 {
    match registry::prepare(id, t.clone(), y.ncols()) {
        Ok((m, _)) => m.score(y),
        Err(_) => f64::NAN,
    }
}

/// The reweighting baseline scored by a measure: the features scaled by √w on the rows `stims`.
pub fn measure_reweighted_fit(
    f: &DMatrix<f64>,
    m: &MeasureFit,
    stims: &[usize],
    w: &DVector<f64>,
) -> Result<f64, PruneError> {
    let t = m.target(stims)?;
    let mut y = f.select_rows(stims);
    for (c, mut col) in y.column_iter_mut().enumerate() {
        col *= w[c].max(0.0).sqrt();
    }
    Ok(score_with(&m.id, &t, &y))
}
