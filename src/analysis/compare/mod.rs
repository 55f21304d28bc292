//! "My model's layer gets CKA 0.80 against my recording: is that good, and what does it
//! mean?" Every selected measure's score of each model Y₁…Y_k against a recording X, with
//!
//! * its **uncertainty**: a seeded bootstrap over conditions, percentile 95 % interval
//!   (2.5 % and 97.5 % quantiles, linear interpolation); for RDM-based measures the pairs of a
//!   resampled condition with itself are left out, as rsatoolbox does ([`resample`]);
//! * its **chance level**: a seeded permutation null (which condition of Y goes with which
//!   condition of X; for 3-D data the conditions are permuted at every time step alike, time
//!   is never permuted), with the null's mean, its 95th percentile and the p-value
//!   p = (1 + #{null ≥ value}) / (1 + N). For a distance (smaller = more similar) the
//!   direction flips: p counts null ≤ value and `null_p95` is the null's 5th percentile, the
//!   value a model must beat;
//! * its **meaning on this recording**: the placement on the calibration run of the measure
//!   (a synthetic Y optimised from a seeded random start against X; [`placement`]), with a
//!   verdict in words;
//! * and the **model's own profile**: the cross-validated R² of each of X's PCs from the model
//!   ([`profile`]) beside X's spectrum, and with labels the decoding accuracy from the model
//!   next to decoding from X (`analysis::decode`, same folds and seed).
//!
//! `value` is computed exactly as `simscope score` computes it (`measures::pair::score_one`:
//! the measure's pair formula, or the measure prepared against `Target::new(X)`), so the two
//! agree to the last bit.
//!
//! The whole comparison is one [`Job`]: units are one model's values, one batch of
//! permutations or bootstrap samples, one decoding fold, one profile fold, one calibration
//! step (or, on several threads, one whole calibration run per thread). With `threads > 1`
//! (native) the batches and the calibration runs use every core; the output is the same bit
//! for bit whatever the thread count or the budget, because every sample draws from its own
//! seeded generator and every calibration run is sequential on its own. In the page the same
//! job runs on one thread (batch = 1 sample) and the worker slices it.

pub mod placement;
pub mod profile;
pub mod resample;
pub mod tables;

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::calibrate::{above_chance, CalibrateOptions, Calibration, Reference, Report};
use super::decode::{decodable_threshold, DecodeError, DecodeOptions, Decoding, StagedDecode};
use super::job::{Budget, Job, Progress};
use crate::data::TaskVariable;
use crate::measures::pair::score_one;
use crate::measures::{registry, Direction};
use crate::target::Target;
use placement::{place, Placement};
use profile::PcProfile;
use resample::{evaluate, quantile, Engine, Kind, Prepared};

/// The measures Compare reports by default: the registry's Compare list, the paper's seven
/// (the six of its Fig 3 and the RSA its figures meant, spec §2.0) plus unbiased CKA and CCA.
pub fn default_measures() -> Vec<String> {
    registry::listed_ids(crate::measures::def::List::Compare)
}

/// The paper's seven measures (the speed benchmark's set).
pub fn paper_measures() -> Vec<String> {
    default_measures().into_iter().take(7).collect()
}

/// A model's activations on X's conditions: `data` is flattened like a recording (row =
/// t·C + c), `dims` its original shape.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub dims: Vec<usize>,
    pub data: DMatrix<f64>,
}

/// Settings of a comparison.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Measure ids (any alias; resolved and deduplicated).
    pub measures: Vec<String>,
    pub bootstrap: usize,
    pub permutations: usize,
    /// Seed of the permutations, the bootstrap, the calibration's Y₀ and the CV folds.
    pub seed: u64,
    /// Run the calibration placement (one run per measure).
    pub calibrate: bool,
    /// The calibration runs' settings (`seeds` is taken as 1, `first_seed` as `seed`).
    pub calibration: CalibrateOptions,
    /// Folds of the per-PC profile.
    pub profile_folds: usize,
    /// Threads for the resampling batches and the calibration runs (1 in the page).
    pub threads: usize,
    /// Samples per unit of work (0 = 1 on one thread, 32 per thread otherwise).
    pub batch: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            measures: default_measures(),
            bootstrap: 1000,
            permutations: 1000,
            seed: 0,
            calibrate: true,
            calibration: CalibrateOptions::default(),
            profile_folds: 5,
            threads: 1,
            batch: 0,
        }
    }
}

/// Samples `start..end` of one resampling, handed out by [`Compare::checkout`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleBatch {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// A matrix as it crosses to another worker: n × p, column-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn of(m: &DMatrix<f64>) -> Self {
        Matrix {
            rows: m.nrows(),
            cols: m.ncols(),
            data: m.as_slice().to_vec(),
        }
    }

    pub fn to_dmatrix(&self) -> Result<DMatrix<f64>, String> {
        if self.data.len() != self.rows * self.cols {
            return Err("a matrix of the wrong size crossed to a helper".into());
        }
        Ok(DMatrix::from_column_slice(self.rows, self.cols, &self.data))
    }
}

/// The inputs of a job's resampling ([`Compare::resampling`]), from which a [`Resampler`]
/// elsewhere scores any of its samples bit for bit as the job would.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resampling {
    pub x: Matrix,
    pub time_steps: usize,
    /// Canonical measure ids.
    pub ids: Vec<String>,
    pub models: Vec<Matrix>,
    pub seed: u64,
}

/// Scores batches of a job's samples away from the job (a helper worker).
pub struct Resampler {
    engine: Engine,
    prepared: Prepared,
    seed: u64,
}

impl Resampler {
    pub fn new(r: &Resampling) -> Result<Self, String> {
        let x = r.x.to_dmatrix()?;
        let target = Arc::new(Target::new(&x).map_err(|e| format!("compare: X: {e}"))?);
        let models = r
            .models
            .iter()
            .map(Matrix::to_dmatrix)
            .collect::<Result<Vec<_>, _>>()?;
        if models.iter().any(|m| m.nrows() != x.nrows()) {
            return Err("compare: a model's rows differ from X's".into());
        }
        let engine = Engine::new(target, &x, r.time_steps, &r.ids, &models);
        let prepared = engine.prepare();
        Ok(Resampler {
            engine,
            prepared,
            seed: r.seed,
        })
    }

    /// The scores of `batch`, `[sample][model][measure]`.
    pub fn score(&self, batch: &SampleBatch) -> Vec<Vec<Vec<f64>>> {
        ResamplerRef {
            engine: &self.engine,
            prepared: &self.prepared,
            seed: self.seed,
            threads: 1,
        }
        .score(batch)
    }
}

/// The engine, prepared measures and seed that score a batch, wherever they live.
struct ResamplerRef<'a> {
    engine: &'a Engine,
    prepared: &'a Prepared,
    seed: u64,
    threads: usize,
}

impl ResamplerRef<'_> {
    fn score(&self, b: &SampleBatch) -> Vec<Vec<Vec<f64>>> {
        evaluate(
            self.engine,
            b.kind,
            self.seed,
            b.start..b.end,
            self.threads,
            self.prepared,
        )
    }
}

/// One measure's result for one model.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScoreReport {
    pub value: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub null_mean: Option<f64>,
    /// The null's 95th percentile (5th for a distance): the value to beat at p < 0.05.
    pub null_p95: Option<f64>,
    pub p_value: Option<f64>,
    pub direction: Direction,
    /// Bootstrap samples on which the score was defined (of `bootstrap`).
    pub bootstrap_valid: usize,
    pub calibration: Option<Placement>,
}

/// Decoding of a task variable from the model beside decoding from X.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelDecoding {
    pub variable: String,
    pub model: Option<f64>,
    pub x: f64,
    pub chance: f64,
    pub x_above_chance: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    pub name: String,
    pub shape: Vec<usize>,
    #[serde(serialize_with = "ordered")]
    pub scores: Vec<(String, ScoreReport)>,
    /// Cross-validated R² of X's PCs from the model (the PCs of `x_explained_variance`).
    pub pc_r2: Vec<f64>,
    pub decoding: Vec<ModelDecoding>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    pub models: Vec<ModelReport>,
    pub x_shape: Vec<usize>,
    /// Share of X's variance of each PC of the profile (those holding ≥ 1 %, at most 100).
    pub x_explained_variance: Vec<f64>,
    pub measures: Vec<String>,
    pub bootstrap: usize,
    pub permutations: usize,
    pub seed: u64,
    /// How the profile was cross-validated, in words.
    pub profile_cv: String,
    pub warnings: Vec<String>,
}

/// Serialise `[(key, value)]` as a JSON object in the given order.
pub(crate) fn ordered<S: Serializer, V: Serialize>(
    v: &[(String, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(v.len()))?;
    for (k, x) in v {
        m.serialize_entry(k, x)?;
    }
    m.end()
}

/// Check that a model can be compared with X (rows, time steps, conditions) and say
/// specifically what is wrong otherwise. Returns warnings.
pub fn check_model(x_dims: &[usize], x_rows: usize, model: &Model) -> Result<Vec<String>, String> {
    let (n, p) = (x_rows, x_dims[x_dims.len() - 1]);
    let (yr, yq) = model.data.shape();
    let name = &model.name;
    let rows_mean = if x_dims.len() == 3 {
        format!(
            "rows are time × conditions flattened (X is {:?}: {} time steps × {} conditions = {n} rows, {p} neurons)",
            x_dims, x_dims[0], x_dims[1]
        )
    } else {
        format!(
            "rows are conditions (X is {:?}: {n} conditions × {p} neurons)",
            x_dims
        )
    };
    if yr != n {
        if yr == p && yq == n {
            return Err(format!(
                "model `{name}` is {:?} and X is {:?}: one of the two looks transposed; {rows_mean}, so both need one row per condition: transpose the one whose rows are neurons or units (x.T in NumPy, X' in MATLAB)",
                model.dims, x_dims
            ));
        }
        if yq == n {
            return Err(format!(
                "model `{name}` has {yr} rows and {yq} columns, and {yq} is X's row count: it looks transposed (units × conditions); {rows_mean}: transpose it (y.T in NumPy, Y' in MATLAB)"
            ));
        }
        return Err(format!(
            "model `{name}` has {yr} rows but X has {n}: {rows_mean}; a model needs one row per condition of X, in the same order (model shape {:?})",
            model.dims
        ));
    }
    let mut warnings = Vec::new();
    match (x_dims.len(), model.dims.len()) {
        (3, 3) if model.dims[..2] != x_dims[..2] => {
            return Err(format!(
                "model `{name}` has {} time steps × {} conditions but X has {} × {}: a 3-D model needs X's time steps and conditions (widths may differ)",
                model.dims[0], model.dims[1], x_dims[0], x_dims[1]
            ));
        }
        (3, 2) => warnings.push(format!(
            "model `{name}` is 2-D with {yr} rows: read as X's time × conditions flattened (row = t·C + c)"
        )),
        (2, 3) => warnings.push(format!(
            "model `{name}` is 3-D {:?} but X is 2-D: its flattened rows (row = t·C + c) are paired with X's rows and resampled as X's conditions",
            model.dims
        )),
        _ => {}
    }
    if let Some(k) = model.data.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "model `{name}` contains a non-finite value at flattened row {}, column {}",
            k % yr,
            k / yr
        ));
    }
    Ok(warnings)
}

/// The calibration run of one measure, reusing X's reference decoding.
#[allow(clippy::too_many_arguments)]
fn calibration_for(
    target: &Arc<Target>,
    x: &DMatrix<f64>,
    time_steps: usize,
    labels: &[TaskVariable],
    id: &str,
    opts: &CalibrateOptions,
    references: &[Reference],
    usable: &[usize],
) -> Calibration {
    Calibration::new(
        target.clone(),
        x,
        time_steps,
        labels,
        &[id.to_string()],
        opts,
    )
    .with_references(references.to_vec(), usable.to_vec())
}

/// What the job is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Values,
    Permutations,
    Bootstrap,
    Reference,
    ModelDecode,
    Profile,
    Calibration,
    Done,
}

/// The comparison as a resumable job (see the module docs).
pub struct Compare {
    target: Arc<Target>,
    x: DMatrix<f64>,
    x_dims: Vec<usize>,
    time_steps: usize,
    labels: Vec<TaskVariable>,
    models: Vec<Model>,
    ids: Vec<String>,
    distance: Vec<bool>,
    opts: CompareOptions,
    engine: Engine,
    prepared: Option<Prepared>,
    warnings: Vec<String>,
    phase: Phase,
    /// The phase of the last unit done (what `progress` names).
    last_phase: Phase,
    // Values, then `[model][measure]` sample lists.
    values: Vec<Vec<f64>>,
    next_model: usize,
    perm: Vec<Vec<Vec<f64>>>,
    boot: Vec<Vec<Vec<f64>>>,
    next_sample: usize,
    /// Batches of the current resampling phase handed out ([`Compare::checkout`]) and not yet
    /// delivered: the phase ends when every sample is back.
    out: Vec<SampleBatch>,
    // Decoding of X (reference) and of the models.
    references: Vec<Reference>,
    usable: Vec<usize>,
    x_above: Vec<bool>,
    next_label: usize,
    staged: Option<StagedDecode>,
    model_acc: Vec<Vec<Option<f64>>>,
    decode_at: (usize, usize),
    // Profile.
    k_pcs: usize,
    profile: Option<PcProfile>,
    pc_r2: Vec<Vec<f64>>,
    // Calibration: one run per measure.
    calibrations: Vec<Option<Report>>,
    running: Option<Calibration>,
    next_measure: usize,
    units_done: usize,
    failed: Option<String>,
}

impl Compare {
    /// Check the inputs and prepare the resampling (X's and every model's statistics).
    /// `x` is X's flattened matrix with `x_dims` its shape; `labels` may be empty.
    pub fn new(
        target: Arc<Target>,
        x: &DMatrix<f64>,
        x_dims: &[usize],
        labels: &[TaskVariable],
        models: Vec<Model>,
        opts: &CompareOptions,
    ) -> Result<Self, String> {
        if models.is_empty() {
            return Err("compare needs at least one model".into());
        }
        let mut warnings = Vec::new();
        for m in &models {
            warnings.extend(check_model(x_dims, x.nrows(), m)?);
        }
        let mut ids: Vec<String> = Vec::new();
        for id in &opts.measures {
            let (c, w) = registry::resolve(id).map_err(|e| e.to_string())?;
            warnings.extend(w);
            if !ids.contains(&c) {
                ids.push(c);
            }
        }
        if ids.is_empty() {
            return Err("compare needs at least one measure".into());
        }
        let mut distance = Vec::new();
        for id in &ids {
            let e = registry::entry(id).map_err(|e| e.to_string())?;
            distance.push(e.direction == Direction::Distance);
            if opts.calibrate && e.score_only.is_some() {
                warnings.push(format!(
                    "{id} is score-only (it cannot be optimised): it gets no calibration placement"
                ));
            }
            if e.direction == Direction::Distance {
                warnings.push(format!("{id} is a distance (smaller = more similar): its p-value counts null values ≤ the model's, its null_p95 is the null's 5th percentile, and its calibration placement is by steps only"));
            }
            for m in &models {
                let (_, w) = registry::prepare(id, target.clone(), m.data.ncols())
                    .map_err(|e| format!("model `{}`: {e}", m.name))?;
                for w in w {
                    warnings.push(format!("model `{}`: {w}", m.name));
                }
            }
        }
        // A model's conditions whose correlation or cosine distances are undefined.
        for m in &models {
            for w in crate::measures::rsa::y_rows_warnings(&ids, &m.data) {
                warnings.push(format!("model `{}`: {w}", m.name));
            }
        }
        let time_steps = if x_dims.len() == 3 { x_dims[0] } else { 1 };
        let conditions = x.nrows() / time_steps;
        if conditions < 3 && (opts.bootstrap > 0 || opts.permutations > 0) {
            warnings.push(format!("X has {conditions} conditions: a permutation null and a bootstrap over so few conditions say almost nothing"));
        }
        let datas: Vec<DMatrix<f64>> = models.iter().map(|m| m.data.clone()).collect();
        let engine = Engine::new(target.clone(), x, time_steps, &ids, &datas);
        let resampled: Vec<&String> = ids
            .iter()
            .zip(engine.families())
            .filter(|(_, f)| f.is_rdm())
            .map(|(id, _)| id)
            .collect();
        if !resampled.is_empty() && opts.bootstrap > 0 {
            warnings.push(format!(
                "bootstrap of {}: pairs of a resampled condition with itself are left out of the RDM comparison (as rsatoolbox does)",
                resampled.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        if opts.bootstrap > 0 && ids.iter().any(|id| id.contains("folds_cv")) {
            warnings.push("bootstrap of a cross-validated measure: a resampled condition's copies sit next to each other, so contiguous folds keep most of them together, but copies on either side of a fold boundary make its interval slightly optimistic".into());
        }
        let evr: Vec<f64> = target.explained_variance_ratio().iter().cloned().collect();
        let k_pcs = evr
            .iter()
            .filter(|&&v| v >= 0.01)
            .count()
            .clamp(1, 100)
            .min(evr.len());
        let n_models = models.len();
        let n_ids = ids.len();
        Ok(Compare {
            x: x.clone(),
            x_dims: x_dims.to_vec(),
            time_steps,
            labels: labels.to_vec(),
            distance,
            prepared: None,
            warnings,
            phase: Phase::Values,
            last_phase: Phase::Values,
            values: Vec::new(),
            next_model: 0,
            perm: vec![vec![Vec::new(); n_ids]; n_models],
            boot: vec![vec![Vec::new(); n_ids]; n_models],
            next_sample: 0,
            out: Vec::new(),
            references: Vec::new(),
            usable: Vec::new(),
            x_above: Vec::new(),
            next_label: 0,
            staged: None,
            model_acc: vec![Vec::new(); n_models],
            decode_at: (0, 0),
            k_pcs,
            profile: None,
            pc_r2: Vec::new(),
            calibrations: Vec::new(),
            running: None,
            next_measure: 0,
            units_done: 0,
            failed: None,
            engine,
            target,
            models,
            ids,
            opts: opts.clone(),
        })
    }

    /// The resampling in progress and its number of samples (None in other phases).
    fn resampling_phase(&self) -> Option<(Kind, usize)> {
        match self.phase {
            Phase::Permutations => Some((Kind::Permutation, self.opts.permutations)),
            Phase::Bootstrap => Some((Kind::Bootstrap, self.opts.bootstrap)),
            _ => None,
        }
    }

    /// Hand out the next `size` samples of the resampling phase in progress, to be scored
    /// elsewhere by a [`Resampler`] (the page's helper workers) and given back with
    /// [`Compare::deliver`]; `None` outside that phase or once all are out. Which samples go
    /// where changes nothing: each sample draws from its own seeded generator and the report
    /// sorts them.
    pub fn checkout(&mut self, size: usize) -> Option<SampleBatch> {
        let (kind, total) = self.resampling_phase()?;
        if self.next_sample >= total {
            return None;
        }
        let end = (self.next_sample + size.max(1)).min(total);
        let batch = SampleBatch {
            kind,
            start: self.next_sample,
            end,
        };
        self.next_sample = end;
        self.out.push(batch.clone());
        if self.prepared.is_none() {
            self.prepared = Some(self.engine.prepare());
        }
        Some(batch)
    }

    /// The scores of a batch handed out by [`Compare::checkout`], `[sample][model][measure]`.
    pub fn deliver(
        &mut self,
        batch: &SampleBatch,
        scores: Vec<Vec<Vec<f64>>>,
    ) -> Result<(), String> {
        if !self.out.contains(batch) {
            return Err(format!(
                "compare: samples {batch:?} were not handed out by this job"
            ));
        }
        let shape_ok = scores.len() == batch.end - batch.start
            && scores.iter().all(|s| {
                s.len() == self.models.len() && s.iter().all(|m| m.len() == self.ids.len())
            });
        if !shape_ok {
            return Err(format!(
                "compare: the scores of samples {batch:?} have the wrong shape"
            ));
        }
        self.store(batch, scores);
        self.units_done += (batch.end - batch.start).div_ceil(self.batch());
        Ok(())
    }

    fn store(&mut self, batch: &SampleBatch, scores: Vec<Vec<Vec<f64>>>) {
        self.out.retain(|b| b != batch);
        let store = match batch.kind {
            Kind::Permutation => &mut self.perm,
            Kind::Bootstrap => &mut self.boot,
        };
        for sample in scores {
            for (mi, row) in sample.into_iter().enumerate() {
                for (k, v) in row.into_iter().enumerate() {
                    store[mi][k].push(v);
                }
            }
        }
        self.last_phase = self.phase;
    }

    /// Score a handed-out batch here after all (its helper was lost), for [`Compare::deliver`].
    pub fn score_here(&self, batch: &SampleBatch) -> Vec<Vec<Vec<f64>>> {
        self.resampler().score(batch)
    }

    /// Every sample of the resampling phase is out and some are not back: nothing to do here
    /// until [`Compare::deliver`] (`advance` returns at once).
    pub fn is_waiting(&self) -> bool {
        self.resampling_phase()
            .is_some_and(|(_, total)| !self.out.is_empty() && self.next_sample >= total)
    }

    /// What a helper needs to score this job's samples exactly as this job would.
    pub fn resampling(&self) -> Resampling {
        Resampling {
            x: Matrix::of(&self.x),
            time_steps: self.time_steps,
            ids: self.ids.clone(),
            models: self.models.iter().map(|m| Matrix::of(&m.data)).collect(),
            seed: self.opts.seed,
        }
    }

    /// This job's own scorer (the one a helper builds from [`Compare::resampling`]).
    fn resampler(&self) -> ResamplerRef<'_> {
        ResamplerRef {
            engine: &self.engine,
            prepared: self.prepared.as_ref().expect("prepared at checkout"),
            seed: self.opts.seed,
            threads: self.opts.threads,
        }
    }

    fn batch(&self) -> usize {
        match self.opts.batch {
            0 if self.opts.threads <= 1 => 1,
            0 => 32 * self.opts.threads,
            b => b,
        }
    }

    fn cal_options(&self) -> CalibrateOptions {
        CalibrateOptions {
            seeds: 1,
            first_seed: self.opts.seed,
            decode: DecodeOptions {
                seed: self.opts.seed,
                ..self.opts.calibration.decode.clone()
            },
            ..self.opts.calibration.clone()
        }
    }

    fn decode_options(&self) -> DecodeOptions {
        self.cal_options().decode
    }

    fn conditions(&self) -> usize {
        self.x.nrows() / self.time_steps
    }

    /// One unit of work of the current phase.
    fn unit(&mut self) -> Result<(), String> {
        match self.phase {
            Phase::Values => {
                let m = &self.models[self.next_model];
                // Exactly `simscope score`'s path (a pair formula where the measure has one).
                let mut row = Vec::with_capacity(self.ids.len());
                let mut target = Some(self.target.clone());
                for id in &self.ids {
                    row.push(score_one(id, &self.x, &m.data, &mut target)?.0);
                }
                self.values.push(row);
                self.next_model += 1;
                if self.next_model >= self.models.len() {
                    self.phase = Phase::Permutations;
                }
            }
            Phase::Permutations | Phase::Bootstrap => {
                let (kind, total) = self.resampling_phase().expect("a resampling phase");
                if self.next_sample >= total {
                    if !self.out.is_empty() {
                        return Ok(()); // the rest is being scored elsewhere
                    }
                    self.next_sample = 0;
                    self.phase = if kind == Kind::Permutation {
                        Phase::Bootstrap
                    } else {
                        Phase::Reference
                    };
                    return Ok(());
                }
                let batch = self.checkout(self.batch()).expect("samples left");
                let scores = self.resampler().score(&batch);
                self.store(&batch, scores);
            }
            Phase::Reference => self.reference_unit()?,
            Phase::ModelDecode => self.model_decode_unit(),
            Phase::Profile => self.profile_unit(),
            Phase::Calibration => self.calibration_unit()?,
            Phase::Done => {}
        }
        Ok(())
    }

    /// One fold of the reference decoding of X.
    fn reference_unit(&mut self) -> Result<(), String> {
        if self.next_label >= self.labels.len() {
            self.phase = Phase::ModelDecode;
            return Ok(());
        }
        let var = &self.labels[self.next_label];
        if self.staged.is_none() {
            match StagedDecode::new(
                self.x.nrows(),
                self.time_steps,
                &var.name,
                &var.class_of,
                &self.decode_options(),
            ) {
                Ok(st) => self.staged = Some(st),
                Err(e @ DecodeError::Mismatch { .. }) => return Err(e.to_string()),
                Err(e) => {
                    self.warnings.push(format!("not decoding a variable: {e}"));
                    self.next_label += 1;
                    return Ok(());
                }
            }
        }
        let st = self.staged.as_mut().expect("just set");
        st.advance(&self.x);
        if st.is_done() {
            if let Some(d) = self.staged.take().and_then(StagedDecode::finish) {
                let above = above_chance(&d, self.conditions());
                self.references.push(Reference {
                    variable: var.name.clone(),
                    threshold: decodable_threshold(d.chance, d.accuracy),
                    reference: d,
                });
                self.usable.push(self.next_label);
                self.x_above.push(above);
            }
            self.next_label += 1;
        }
        Ok(())
    }

    /// One fold of decoding a reference variable from a model.
    fn model_decode_unit(&mut self) {
        let (mi, j) = self.decode_at;
        if mi >= self.models.len() || self.references.is_empty() {
            self.phase = Phase::Profile;
            self.next_model = 0;
            return;
        }
        let var = &self.labels[self.usable[j]];
        let y = &self.models[mi].data;
        if self.staged.is_none() {
            match StagedDecode::new(
                y.nrows(),
                self.time_steps,
                &var.name,
                &var.class_of,
                &self.decode_options(),
            ) {
                Ok(st) => self.staged = Some(st),
                Err(_) => {
                    self.model_acc[mi].push(None);
                    self.next_decode();
                    return;
                }
            }
        }
        let st = self.staged.as_mut().expect("just set");
        st.advance(y);
        if st.is_done() {
            let d: Option<Decoding> = self.staged.take().and_then(StagedDecode::finish);
            self.model_acc[mi].push(d.map(|d| d.accuracy));
            self.next_decode();
        }
    }

    fn next_decode(&mut self) {
        let (mi, j) = self.decode_at;
        self.decode_at = if j + 1 < self.references.len() {
            (mi, j + 1)
        } else {
            (mi + 1, 0)
        };
    }

    /// One fold of a model's per-PC profile.
    fn profile_unit(&mut self) {
        if self.next_model >= self.models.len() {
            self.phase = Phase::Calibration;
            return;
        }
        if self.profile.is_none() {
            let xs = self.target.xs.columns(0, self.k_pcs).into_owned();
            self.profile = Some(PcProfile::new(
                xs,
                &self.models[self.next_model].data,
                self.time_steps,
                self.opts.profile_folds,
                self.opts.seed,
            ));
        }
        let p = self.profile.as_mut().expect("just set");
        p.advance();
        if p.is_done() {
            self.pc_r2.push(p.finish().unwrap_or_default());
            self.profile = None;
            self.next_model += 1;
        }
    }

    fn new_calibration(&self, id: &str) -> Calibration {
        calibration_for(
            &self.target,
            &self.x,
            self.time_steps,
            &self.labels,
            id,
            &self.cal_options(),
            &self.references,
            &self.usable,
        )
    }

    /// One calibration update (one thread), or one whole run per thread for the next
    /// `threads` measures.
    fn calibration_unit(&mut self) -> Result<(), String> {
        if !self.opts.calibrate || self.next_measure >= self.ids.len() {
            self.phase = Phase::Done;
            return Ok(());
        }
        if self.opts.threads > 1 {
            let ids: Vec<String> = self.ids
                [self.next_measure..(self.next_measure + self.opts.threads).min(self.ids.len())]
                .to_vec();
            let opts = self.cal_options();
            let (target, x, t, labels) = (&self.target, &self.x, self.time_steps, &self.labels);
            let (refs, usable, opts) = (&self.references, &self.usable, &opts);
            // A score-only measure has no calibration run (its placement is None).
            let reports: Vec<Option<Result<Report, String>>> = std::thread::scope(|s| {
                let handles: Vec<_> = ids
                    .iter()
                    .map(|id| {
                        registry::optimisable(id).is_ok().then(|| {
                            s.spawn(move || {
                                let c =
                                    calibration_for(target, x, t, labels, id, opts, refs, usable);
                                super::job::run_to_end(c, |_| {})
                            })
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.map(|h| h.join().expect("a calibration thread panicked")))
                    .collect()
            });
            for r in reports {
                self.calibrations.push(r.transpose()?);
                self.next_measure += 1;
            }
            return Ok(());
        }
        if registry::optimisable(&self.ids[self.next_measure]).is_err() {
            self.calibrations.push(None);
            self.next_measure += 1;
            return Ok(());
        }
        if self.running.is_none() {
            let id = self.ids[self.next_measure].clone();
            self.running = Some(self.new_calibration(&id));
        }
        let c = self.running.as_mut().expect("just set");
        c.advance(&mut Budget::units(1))?;
        if c.is_done() {
            let report = self.running.take().and_then(|c| c.result());
            self.calibrations.push(report);
            self.next_measure += 1;
        }
        Ok(())
    }

    /// Units in all (an estimate for the calibration, counted in runs × steps).
    fn total_units(&self) -> usize {
        let b = self.batch();
        let folds = self.opts.calibration.decode.folds * self.time_steps;
        self.models.len()
            + self.opts.permutations.div_ceil(b)
            + self.opts.bootstrap.div_ceil(b)
            + self.labels.len() * folds * (1 + self.models.len())
            + self.models.len() * self.opts.profile_folds
            + if self.opts.calibrate {
                self.ids.len() * self.opts.calibration.max_steps / self.opts.threads.max(1)
            } else {
                0
            }
    }

    /// The report, from the finished phases.
    fn report(&self) -> CompareReport {
        let evr: Vec<f64> = self
            .target
            .explained_variance_ratio()
            .iter()
            .take(self.k_pcs)
            .cloned()
            .collect();
        let full_evr: Vec<f64> = self
            .target
            .explained_variance_ratio()
            .iter()
            .cloned()
            .collect();
        let models: Vec<ModelReport> = self
            .models
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                let scores = self
                    .ids
                    .iter()
                    .enumerate()
                    .map(|(k, id)| {
                        let value = self.values[mi][k];
                        let dist = self.distance[k];
                        let mut boot: Vec<f64> = self.boot[mi][k]
                            .iter()
                            .cloned()
                            .filter(|v| v.is_finite())
                            .collect();
                        boot.sort_by(f64::total_cmp);
                        let mut null: Vec<f64> = self.perm[mi][k]
                            .iter()
                            .cloned()
                            .filter(|v| v.is_finite())
                            .collect();
                        null.sort_by(f64::total_cmp);
                        let n = null.len();
                        let beyond = null
                            .iter()
                            .filter(|&&v| if dist { v <= value } else { v >= value })
                            .count();
                        let calibration = self
                            .calibrations
                            .get(k)
                            .and_then(|r| r.as_ref())
                            .and_then(|r| r.trajectories.first())
                            .map(|t| {
                                place(id, value, t, &full_evr, &self.references, &self.x_above)
                            });
                        let r = ScoreReport {
                            value,
                            ci_low: quantile(&boot, 0.025),
                            ci_high: quantile(&boot, 0.975),
                            null_mean: (n > 0).then(|| null.iter().sum::<f64>() / n as f64),
                            null_p95: quantile(&null, if dist { 0.05 } else { 0.95 }),
                            p_value: (n > 0).then(|| (1 + beyond) as f64 / (1 + n) as f64),
                            direction: if dist {
                                Direction::Distance
                            } else {
                                Direction::Similarity
                            },
                            bootstrap_valid: boot.len(),
                            calibration,
                        };
                        (id.clone(), r)
                    })
                    .collect();
                let decoding = self
                    .references
                    .iter()
                    .enumerate()
                    .map(|(j, r)| ModelDecoding {
                        variable: r.variable.clone(),
                        model: self.model_acc[mi].get(j).cloned().flatten(),
                        x: r.reference.accuracy,
                        chance: r.reference.chance,
                        x_above_chance: self.x_above[j],
                    })
                    .collect();
                ModelReport {
                    name: m.name.clone(),
                    shape: m.dims.clone(),
                    scores,
                    pc_r2: self.pc_r2.get(mi).cloned().unwrap_or_default(),
                    decoding,
                }
            })
            .collect();
        let mut warnings = self.warnings.clone();
        for (mi, m) in self.models.iter().enumerate() {
            for (k, id) in self.ids.iter().enumerate() {
                let s = &models[mi].scores[k].1;
                if let (Some(lo), Some(hi)) = (s.ci_low, s.ci_high) {
                    if s.value < lo || s.value > hi {
                        warnings.push(format!("model `{}`, {id}: the value {:.4} lies outside its bootstrap interval [{lo:.4}, {hi:.4}]: resampling conditions with replacement duplicates some of them, which biases {id} on a resample (upward for kernel, Procrustes and in-sample measures, which count a duplicated condition as shared structure; either way for cross-validated ones), more so for fewer conditions; read this interval as the spread of the score, not its location (the RDM measures leave self-pairs out and are not biased this way)", m.name, s.value));
                    }
                }
                let bad = self.boot[mi][k].iter().filter(|v| !v.is_finite()).count();
                if bad > 0 {
                    warnings.push(format!("model `{}`, {id}: the score is undefined on {bad} of {} bootstrap samples (left out of the interval)", m.name, self.boot[mi][k].len()));
                }
            }
        }
        CompareReport {
            models,
            x_shape: self.x_dims.clone(),
            x_explained_variance: evr,
            measures: self.ids.clone(),
            bootstrap: self.opts.bootstrap,
            permutations: self.opts.permutations,
            seed: self.opts.seed,
            profile_cv: format!(
                "{} folds over conditions (seeded shuffle, seed {}; every time step of a condition in its condition's fold), ridge regression with λ chosen per PC and fold by generalised cross-validation on the training rows; R² of the pooled out-of-fold predictions",
                self.opts.profile_folds, self.opts.seed
            ),
            warnings,
        }
    }
}

impl Job for Compare {
    type Output = CompareReport;

    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.is_done() && !self.is_waiting() {
            self.last_phase = self.phase;
            if let Err(e) = self.unit() {
                self.failed = Some(e.clone());
                return Err(e);
            }
            self.units_done += 1;
            if budget.spent() {
                break;
            }
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        let what = match self.last_phase {
            Phase::Values => "scores".to_string(),
            Phase::Permutations => format!(
                "permutations {}/{}",
                self.next_sample, self.opts.permutations
            ),
            Phase::Bootstrap => format!("bootstrap {}/{}", self.next_sample, self.opts.bootstrap),
            Phase::Reference => "decoding X".into(),
            Phase::ModelDecode => "decoding the models".into(),
            Phase::Profile => "per-PC profile".into(),
            Phase::Calibration => format!(
                "calibration {}/{}",
                self.next_measure.min(self.ids.len()),
                self.ids.len()
            ),
            Phase::Done => "done".into(),
        };
        let total = self
            .total_units()
            .max(self.units_done + usize::from(!self.is_done()));
        Progress {
            done: if self.is_done() {
                total
            } else {
                self.units_done
            },
            total,
            what,
        }
    }

    fn is_done(&self) -> bool {
        self.failed.is_some() || self.phase == Phase::Done
    }

    fn result(self) -> Option<CompareReport> {
        (self.failed.is_none() && self.is_done()).then(|| self.report())
    }
}
