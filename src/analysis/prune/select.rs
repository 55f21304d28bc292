//! One selection on a set of stimuli: the greedy path on all of them, the number of kept
//! features chosen on seeded inner validation splits ([`SelectRun`], one unit of work at a
//! time).

use nalgebra::DMatrix;

use super::fit::MeasureFit;
use super::path::{measure_path_fits, path_fits, Path, PathRun};
use super::{Options, PruneError};
use crate::rng::Rng;

/// Index of the largest value (the first, i.e. the earliest path step, on ties).
fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// A selection on one stimulus set: the path, the inner validation curve and the chosen size.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Path on all the given stimuli.
    pub path: Path,
    /// Inner splits: validation fit per entry of `path.grid`, averaged over the repeats (each
    /// inner path's subsets of the same sizes; the grids agree because they depend only on the
    /// number of features).
    pub validation: Vec<f64>,
    /// Chosen number of kept features (maximum validation fit).
    pub n_kept: usize,
    /// The kept features, ascending (`path.kept(n_kept)`).
    pub kept: Vec<usize>,
}

/// Seeded permutation of 0..n.
pub(super) fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

/// A selection ([`select`]) run one unit of work at a time: a greedy step, or the bookkeeping
/// between two paths. The inner paths come first (one per repeat, each scored on its
/// validation stimuli), then the path on all of `stims`.
pub struct SelectRun {
    stims: Vec<usize>,
    inner_seed: u64,
    nval: usize,
    repeats: usize,
    /// Inner repeat in progress (`repeats` once the main path runs).
    repeat: usize,
    val: Vec<usize>,
    path: PathRun,
    validation: Vec<f64>,
    /// The fit, when it is a measure rather than RSA.
    measure: Option<MeasureFit>,
}

impl SelectRun {
    /// The RSA selection.
    pub fn new(
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        stims: &[usize],
        opts: &Options,
        inner_seed: u64,
    ) -> Self {
        Self::with_fit(f, target, None, stims, opts, inner_seed)
            .expect("an RSA path cannot fail to start")
    }

    /// The selection with `measure` as the fit (RSA when None).
    pub fn with_fit(
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        measure: Option<&MeasureFit>,
        stims: &[usize],
        opts: &Options,
        inner_seed: u64,
    ) -> Result<Self, PruneError> {
        let nval = ((stims.len() as f64 * opts.inner_fraction).round() as usize)
            .clamp(3, stims.len().saturating_sub(3));
        let mut run = SelectRun {
            stims: stims.to_vec(),
            inner_seed,
            nval,
            repeats: opts.inner_repeats.max(1),
            repeat: 0,
            val: Vec::new(),
            path: PathRun::new(f, target, &[], opts),
            validation: Vec::new(),
            measure: measure.cloned(),
        };
        run.start_inner(f, target, opts)?;
        Ok(run)
    }

    fn new_path(
        &self,
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        stims: &[usize],
        opts: &Options,
    ) -> Result<PathRun, PruneError> {
        match &self.measure {
            Some(m) => PathRun::with_measure(f, m, stims, opts),
            None => Ok(PathRun::new(f, target, stims, opts)),
        }
    }

    /// Inner split `self.repeat`: validation stimuli and the path on the rest.
    fn start_inner(
        &mut self,
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        opts: &Options,
    ) -> Result<(), PruneError> {
        let perm = permutation(
            self.stims.len(),
            self.inner_seed
                .wrapping_add(0x2545_F491_4F6C_DD1D_u64.wrapping_mul(self.repeat as u64)),
        );
        let mut val: Vec<usize> = perm[..self.nval].iter().map(|&a| self.stims[a]).collect();
        let mut inner: Vec<usize> = perm[self.nval..].iter().map(|&a| self.stims[a]).collect();
        val.sort_unstable();
        inner.sort_unstable();
        self.val = val;
        self.path = self.new_path(f, target, &inner, opts)?;
        Ok(())
    }

    /// Progress of the current path: (done, total) steps.
    pub fn progress(&self) -> (usize, usize) {
        self.path.progress()
    }

    /// Whether the next [`SelectRun::advance`] is a greedy step (where cancelling is checked).
    pub fn at_step(&self) -> bool {
        !self.path.is_done()
    }

    /// One unit of work; the selection once the main path is finished.
    pub fn advance(
        &mut self,
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        opts: &Options,
    ) -> Result<Option<Selection>, PruneError> {
        if !self.path.is_done() {
            self.path.step();
            return Ok(None);
        }
        let done = std::mem::replace(&mut self.path, PathRun::new(f, target, &[], opts)).finish();
        if self.repeat < self.repeats {
            let v = match &self.measure {
                Some(m) => measure_path_fits(f, m, &self.val, &done)?,
                None => path_fits(f, target, &self.val, &done, opts),
            };
            if self.validation.is_empty() {
                self.validation = vec![0.0; v.len()];
            }
            let repeats = self.repeats as f64;
            self.validation
                .iter_mut()
                .zip(&v)
                .for_each(|(a, b)| *a += b / repeats);
            self.repeat += 1;
            if self.repeat < self.repeats {
                self.start_inner(f, target, opts)?;
            } else {
                self.path = self.new_path(f, target, &self.stims, opts)?;
            }
            return Ok(None);
        }
        let n_kept = done.grid[argmax(&self.validation)];
        let kept = done.kept(n_kept);
        Ok(Some(Selection {
            path: done,
            validation: std::mem::take(&mut self.validation),
            n_kept,
            kept,
        }))
    }
}

/// Select features on the stimuli `stims` only: the greedy path on all of them, the number of
/// features chosen on an inner validation split (seeded by `inner_seed`).
pub fn select(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    opts: &Options,
    inner_seed: u64,
    tick: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Selection, PruneError> {
    let mut run = SelectRun::new(f, target, stims, opts, inner_seed);
    loop {
        if run.at_step() {
            let (done, total) = run.progress();
            if !tick(done, total) {
                return Err(PruneError::Cancelled);
            }
        }
        if let Some(sel) = run.advance(f, target, opts)? {
            return Ok(sel);
        }
    }
}
