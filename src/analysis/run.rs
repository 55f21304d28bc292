//! An optimisation run: the session that optimises Y, the measures watched along the way, the
//! R² of each of X's PCs (spec §4) and the decoding of the task variables from Y (spec §5) at
//! the steps a schedule picks, as one job every face drives alike.
//!
//! The CLI loops it to the end and writes every step; the page's worker takes the steps the
//! page asks for (`step`) and does the decoding in slices between them (`work`). Because the
//! ids are resolved here, the PCs tracked, the fold seed and the schedules are decided here,
//! the page and the CLI compute the same numbers for the same settings.
//!
//! Decoding works on copies of Y: when a decode is due at step s, Y_s is queued and decoded in
//! units of one cross-validation fold (first X itself, the neural reference, once per run).
//! At most one copy waits: if another decode falls due while one is in progress, the newer Y
//! replaces the waiting one (the CLI decodes after every step, so its queue never holds two).

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::calibrate::above_chance;
use super::captured::{pc_r2_linear, LinearChance};
use super::decode::{DecodeAll, DecodeError, DecodeOptions, Decoding};
use super::job::{Budget, Job, Progress};
use crate::data::{Recording, TaskVariable};
use crate::measures::{registry, Direction};
use crate::optim::history::Decimated;
use crate::optim::session::{
    initial_y, Objective, OptimizerKind, Session, SessionOptions, StepReport, StopReason,
};
use crate::target::Target;

/// The per-PC R² is tracked for at most this many PCs of X (the plots draw the first 20).
pub const TRACKED_PCS: usize = 100;

/// Points kept for the plots of a long run (score trajectory, R² and decoding), each thinned
/// evenly beyond this.
pub const PLOT_POINTS: usize = 2048;

/// When the per-PC R² is computed (always at Y₀, at a stop and on an explicit request).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum PcSchedule {
    /// Every k updates (the CLI's `--pc-every`).
    Steps(usize),
    /// Whenever the stepping since the last one has taken `(1/share − 1)` times its cost, so
    /// it takes at most `share` of the time (the page: fewer points, never a slow run).
    TimeShare(f64),
}

/// What defines a run: the same settings give the same trajectory on every face.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunSpec {
    /// The optimised measure (any id or alias).
    pub measure: String,
    /// Measures scored along the way (any ids; the optimised one and repeats are dropped).
    pub watch: Vec<String>,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    /// Seed of Y₀ ~ N(0, 1) and of the decoding's fold shuffle.
    pub seed: u64,
    /// Stop once the score passes this (below it, for a distance); how it is read: `stop_scale`.
    pub stop: Option<f64>,
    #[serde(default)]
    pub stop_scale: StopScale,
    pub max_steps: Option<usize>,
    /// Reproduce the authors' NaN guard (spec §3.1) instead of stopping on non-finite values.
    pub replicate_nan: bool,
    /// Keep a copy of Y every this many updates (0: none).
    pub snapshot_every: usize,
    pub pc_schedule: PcSchedule,
    /// Decode the task variables every this many updates (and at a stop); `None`: never.
    pub decode_every: Option<usize>,
    /// Also decode whenever the score has moved by this much since the last decoding, so the
    /// accuracy-against-score curve has points spaced in score, not only in steps.
    pub decode_every_score: Option<f64>,
}

impl Default for RunSpec {
    /// The CLI's defaults (`simscope optimize`).
    fn default() -> Self {
        RunSpec {
            measure: "cka".into(),
            watch: Vec::new(),
            optimizer: OptimizerKind::Adam,
            lr: 0.1,
            seed: 0,
            stop: Some(0.99),
            stop_scale: StopScale::Absolute,
            max_steps: Some(1000),
            replicate_nan: false,
            snapshot_every: 0,
            pc_schedule: PcSchedule::Steps(1),
            decode_every: Some(10),
            decode_every_score: None,
        }
    }
}

/// How a run reads its `stop` setting.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StopScale {
    /// `stop` is a score (the CLI's `--stop`).
    #[default]
    Absolute,
    /// `stop` is the share of the way to the measure's best value (the page's one "stop at"
    /// setting for every measure): see [`stop_by_measure`].
    ByMeasure,
}

/// The score at which a run stops when `stop` ∈ (0, 1] is read by the measure's registry range
/// and direction: a similarity with a finite maximum stops `stop` of the way up its range (0.99
/// for a [0, 1] score); a distance once it has covered `stop` of the way from its value at Y₀
/// (`start`) to its minimum (a distance is in the data's units, so no absolute value suits every
/// recording); an unbounded similarity such as ENSD never on its score (`None`).
pub fn stop_by_measure(
    range: [Option<f64>; 2],
    direction: Direction,
    stop: f64,
    start: f64,
) -> Option<f64> {
    let lo = range[0].unwrap_or(0.0);
    match direction {
        Direction::Similarity => range[1].map(|hi| lo + stop * (hi - lo)),
        Direction::Distance => {
            (start.is_finite() && start > lo).then_some(lo + (1.0 - stop) * (start - lo))
        }
    }
}

/// The state after a call to [`Run::step`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    pub step: usize,
    /// The optimised measure's value.
    pub score: f64,
    /// The watched measures' values, in [`Run::ids`] order after the first.
    pub watched: Vec<f64>,
    pub stopped: Option<StopReason>,
    /// R² of X's first PCs predicted from Y (linear alignment), when computed at this call.
    pub pc_r2: Option<Vec<f64>>,
}

/// The per-PC R² at one step.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PcRow {
    pub step: usize,
    pub score: f64,
    pub r2: Vec<f64>,
}

/// Decoding accuracies from Y at one step (`None` where a variable cannot be decoded).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DecodeRow {
    pub step: usize,
    pub score: f64,
    pub accuracy: Vec<Option<f64>>,
}

/// A copy of Y waiting to be decoded, or being decoded.
struct Pending {
    step: usize,
    score: f64,
    job: DecodeAll,
}

/// The decoding side of a run.
struct Decoder {
    /// The recording as given (decoded as is for the reference).
    x: DMatrix<f64>,
    variables: Vec<TaskVariable>,
    time_steps: usize,
    opts: DecodeOptions,
    every: Option<usize>,
    every_score: Option<f64>,
    /// The neural reference: decoding from X, once per run (or handed over).
    reference: Option<Vec<Result<Decoding, DecodeError>>>,
    reference_job: Option<DecodeAll>,
    current: Option<Pending>,
    waiting: Option<Pending>,
    /// The step and score of the last Y queued.
    last_queued: Option<(usize, f64)>,
    rows: Decimated<DecodeRow>,
    new_rows: Vec<DecodeRow>,
}

/// What a finished run hands over (the CLI writes it).
pub struct RunOutput {
    pub report: RunReport,
    pub pc_rows: Vec<PcRow>,
    pub decoded: Vec<DecodeRow>,
    pub reference: Vec<Result<Decoding, DecodeError>>,
}

/// An optimisation run (see the module docs).
pub struct Run {
    session: Session,
    target: Arc<Target>,
    ids: Vec<String>,
    warnings: Vec<String>,
    tracked: usize,
    /// What the R² rows mean for this Y's rank, as of the last R² (from Y₀ on).
    pc_chance: LinearChance,
    pc_schedule: PcSchedule,
    pc_rows: Decimated<PcRow>,
    /// Stepping time since the last R² and that R²'s cost (ms), for `TimeShare`.
    since_r2_ms: f64,
    r2_cost_ms: f64,
    clock: fn() -> f64,
    decoder: Option<Decoder>,
}

fn no_clock() -> f64 {
    0.0
}

/// Canonical ids of `ids`, deduplicated in first-seen order, without `exclude`, with the
/// registry's warnings (aliases used, misnamed ids).
fn resolve_list(
    ids: &[String],
    exclude: Option<&str>,
) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    for id in ids {
        let (canon, w) = registry::resolve(id).map_err(|e| e.to_string())?;
        if Some(canon.as_str()) != exclude && !out.contains(&canon) {
            warnings.extend(w);
            out.push(canon);
        }
    }
    Ok((out, warnings))
}

impl Run {
    /// A run on `recording` (prepared as `target`) from Y₀ ~ N(0, 1) drawn from `spec.seed`.
    pub fn new(recording: &Recording, target: Arc<Target>, spec: &RunSpec) -> Result<Self, String> {
        let y0 = initial_y(target.n, target.p, spec.seed);
        Self::from_y0(recording, target, spec, y0)
    }

    /// A run from a given Y₀ (n rows like X; any width), e.g. a model's activations.
    pub fn from_y0(
        recording: &Recording,
        target: Arc<Target>,
        spec: &RunSpec,
        y0: DMatrix<f64>,
    ) -> Result<Self, String> {
        if y0.nrows() != target.n {
            return Err(format!(
                "Y₀ has {} rows but the recording has {} (rows are time × conditions)",
                y0.nrows(),
                target.n
            ));
        }
        if !(spec.lr.is_finite() && spec.lr > 0.0) {
            return Err(format!(
                "the learning rate must be a positive number, got {}",
                spec.lr
            ));
        }
        registry::optimisable(&spec.measure)?;
        let q = y0.ncols();
        // Measured with every R² (the first, of Y₀, below); a model's Y₀ may be rank-deficient.
        let pc_chance = LinearChance::random(y0.nrows(), q);
        let (measure, mut warnings) =
            registry::prepare(&spec.measure, target.clone(), q).map_err(|e| e.to_string())?;
        let (canonical, _) = registry::resolve(&spec.measure).map_err(|e| e.to_string())?;
        let (watch, w) = resolve_list(&spec.watch, Some(&canonical))?;
        warnings.extend(w);
        let options = SessionOptions {
            optimizer: spec.optimizer,
            lr: spec.lr,
            stop: spec.stop,
            max_steps: spec.max_steps,
            snapshot_every: spec.snapshot_every,
            replicate_nan: spec.replicate_nan,
            seed: spec.seed,
            history_cap: PLOT_POINTS,
            keep_records: true,
            ..SessionOptions::default()
        };
        let mut session =
            Session::with_options(target.clone(), Objective::Measure(measure), y0, options);
        if let (StopScale::ByMeasure, Some(stop)) = (spec.stop_scale, spec.stop) {
            let e = registry::entry(&canonical).map_err(|e| e.to_string())?;
            let start = session.report().score;
            session.set_stop(stop_by_measure(e.range, e.direction, stop, start));
        }
        for id in &watch {
            let (m, w) = registry::prepare(id, target.clone(), q).map_err(|e| e.to_string())?;
            warnings.extend(w);
            session.watch(id, m);
        }
        let decoder = match (spec.decode_every, recording.labels.is_empty()) {
            (Some(every), false) => Some(Decoder {
                x: recording.data.clone(),
                variables: recording.labels.clone(),
                time_steps: recording.time_steps(),
                opts: DecodeOptions {
                    seed: spec.seed,
                    ..DecodeOptions::default()
                },
                every: Some(every.max(1)),
                every_score: spec.decode_every_score,
                reference: None,
                reference_job: None,
                current: None,
                waiting: None,
                last_queued: None,
                rows: Decimated::new(PLOT_POINTS),
                new_rows: Vec::new(),
            }),
            _ => None,
        };
        let tracked = target.rank().min(TRACKED_PCS);
        let mut run = Run {
            session,
            target,
            ids: std::iter::once(canonical).chain(watch).collect(),
            warnings,
            tracked,
            pc_chance,
            pc_schedule: spec.pc_schedule,
            pc_rows: Decimated::new(PLOT_POINTS),
            since_r2_ms: 0.0,
            r2_cost_ms: 0.0,
            clock: no_clock,
            decoder,
        };
        run.record_r2();
        run.queue_decode();
        Ok(run)
    }

    /// The clock (ms) the `TimeShare` schedule measures with (the worker's `performance.now`).
    pub fn with_clock(mut self, clock: fn() -> f64) -> Self {
        self.clock = clock;
        self
    }

    /// Canonical ids: the optimised measure, then the watched ones.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// What the registry said about these measures on this recording.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// A random Y's R² and whether the R² rows can say anything (their warning, if any,
    /// belongs beside the R² plot, not among the measures').
    pub fn pc_chance(&self) -> LinearChance {
        self.pc_chance
    }

    /// How many of X's PCs the R² rows hold.
    pub fn tracked_pcs(&self) -> usize {
        self.tracked
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// The current Y (flattened n × q).
    pub fn y(&self) -> &DMatrix<f64> {
        self.session.y()
    }

    /// The state now (R² only if it was computed for this very step).
    pub fn report(&self) -> RunReport {
        let r = self.session.report();
        let pc_r2 = self
            .pc_rows
            .last()
            .filter(|row| row.step == r.step)
            .map(|row| row.r2.clone());
        RunReport {
            step: r.step,
            score: r.score,
            watched: r.watched,
            stopped: r.stopped,
            pc_r2,
        }
    }

    /// Take up to `n` updates (fewer if the run stops). The R² is computed when its schedule
    /// says so, at a stop and, with `full`, at the last step; a decode is queued when due.
    pub fn step(&mut self, n: usize, full: bool) -> RunReport {
        let mut r2_now = false;
        for _ in 0..n {
            let t0 = (self.clock)();
            let before = self.session.report().step;
            let rep = self.session.step(1);
            self.since_r2_ms += (self.clock)() - t0;
            if rep.step == before {
                if rep.stopped.is_some() {
                    break; // stopped before updating
                }
                continue; // an update skipped by the replicated NaN guard
            }
            r2_now = self.r2_due(&rep);
            if r2_now {
                self.record_r2();
            }
            self.queue_decode();
            if rep.stopped.is_some() {
                break;
            }
        }
        if full && !r2_now {
            self.record_r2();
        }
        let mut report = self.report();
        if !(r2_now || full) {
            report.pc_r2 = None;
        }
        report
    }

    fn r2_due(&self, rep: &StepReport) -> bool {
        rep.stopped.is_some()
            || match self.pc_schedule {
                PcSchedule::Steps(k) => rep.step.is_multiple_of(k.max(1)),
                PcSchedule::TimeShare(share) => {
                    self.since_r2_ms * share >= self.r2_cost_ms * (1.0 - share)
                }
            }
    }

    fn record_r2(&mut self) {
        let t0 = (self.clock)();
        let r = self.session.report();
        let (r2, chance) = pc_r2_linear(&self.target, self.session.y(), self.tracked);
        self.pc_chance = chance;
        self.r2_cost_ms = (self.clock)() - t0;
        self.since_r2_ms = 0.0;
        if self.pc_rows.last().is_some_and(|row| row.step == r.step) {
            return;
        }
        self.pc_rows.push(
            r.step,
            PcRow {
                step: r.step,
                score: r.score,
                r2,
            },
        );
    }

    /// Every state recorded since the last call: the whole trajectory, for a face that
    /// streams it to a file (the kept history is thinned for plots).
    pub fn take_records(&mut self) -> Vec<StepReport> {
        self.session.take_records()
    }

    /// The per-PC R² rows so far (thinned evenly past [`PLOT_POINTS`]).
    pub fn pc_rows(&self) -> Vec<&PcRow> {
        self.pc_rows.items().iter().map(|(_, r)| r).collect()
    }

    /// Whether the recording has task variables to decode (and decoding is on).
    pub fn decodes(&self) -> bool {
        self.decoder.is_some()
    }

    /// The task variables' names, in decoding order.
    pub fn variables(&self) -> Vec<String> {
        self.decoder
            .iter()
            .flat_map(|d| d.variables.iter().map(|v| v.name.clone()))
            .collect()
    }

    /// Decoding from X (the neural reference), once computed.
    pub fn reference(&self) -> Option<&[Result<Decoding, DecodeError>]> {
        self.decoder.as_ref().and_then(|d| d.reference.as_deref())
    }

    /// Per task variable, whether X itself decodes it above chance (a one-sided binomial test,
    /// `calibrate::above_chance`): the score needed to decode a variable X does not carry is
    /// not a threshold, and faces say "X at chance" instead.
    pub fn reference_above_chance(&self) -> Option<Vec<bool>> {
        let d = self.decoder.as_ref()?;
        let t = d.time_steps.max(1);
        let conditions = self.target().n / t;
        let r = d.reference.as_deref()?;
        Some(
            r.iter()
                .map(|x| x.as_ref().is_ok_and(|x| above_chance(x, conditions)))
                .collect(),
        )
    }

    /// Hand over a reference decoded earlier on the same recording with the same options
    /// (the worker keeps it across runs of one seed: decoding X can take seconds).
    pub fn set_reference(&mut self, reference: Vec<Result<Decoding, DecodeError>>) {
        if let Some(d) = self.decoder.as_mut() {
            d.reference = Some(reference);
            d.reference_job = None;
        }
    }

    /// The fold seed of the decoding (the reference can be reused only with the same one).
    pub fn decode_seed(&self) -> Option<u64> {
        self.decoder.as_ref().map(|d| d.opts.seed)
    }

    /// The decoding rows so far (thinned evenly past [`PLOT_POINTS`]).
    pub fn decoded(&self) -> Vec<&DecodeRow> {
        self.decoder
            .iter()
            .flat_map(|d| d.rows.items().iter().map(|(_, r)| r))
            .collect()
    }

    /// Decoding rows finished since the last call.
    pub fn take_decoded(&mut self) -> Vec<DecodeRow> {
        self.decoder
            .as_mut()
            .map(|d| std::mem::take(&mut d.new_rows))
            .unwrap_or_default()
    }

    /// The step of the Y being decoded or waiting, if any.
    pub fn decode_pending(&self) -> Option<usize> {
        let d = self.decoder.as_ref()?;
        d.current
            .as_ref()
            .or(d.waiting.as_ref())
            .map(|p| p.step)
            .or_else(|| d.reference_job.as_ref().map(|_| 0))
    }

    /// Units of decoding done and in all for the work in hand (X's reference and the Y in
    /// progress).
    pub fn decode_progress(&self) -> Progress {
        let Some(d) = self.decoder.as_ref() else {
            return Progress::default();
        };
        let parts = [
            d.reference_job.as_ref().map(|j| j.progress()),
            d.current.as_ref().map(|p| p.job.progress()),
        ];
        let mut p = Progress::default();
        for q in parts.into_iter().flatten() {
            p.done += q.done;
            p.total += q.total;
            p.what = q.what;
        }
        p
    }

    /// Queue the current Y for decoding if the schedule says so (always at Y₀ and at a stop).
    fn queue_decode(&mut self) {
        let r = self.session.report();
        let Some(d) = self.decoder.as_ref() else {
            return;
        };
        let due = match d.last_queued {
            None => true,
            Some((step, score)) => {
                step != r.step
                    && (r.stopped.is_some()
                        || d.every.is_some_and(|k| r.step.is_multiple_of(k))
                        || d.every_score
                            .is_some_and(|ds| (r.score - score).abs() >= ds))
            }
        };
        if due {
            self.decode_now();
        }
    }

    /// Queue the current Y for decoding now (the page asks at a pause, so the table always
    /// describes the Y on screen). Nothing if this step was queued already.
    pub fn decode_now(&mut self) {
        let r = self.session.report();
        let y = self.session.y();
        let Some(d) = self.decoder.as_mut() else {
            return;
        };
        if d.last_queued.is_some_and(|(step, _)| step == r.step) {
            return;
        }
        if d.reference.is_none() && d.reference_job.is_none() {
            // X first: the reference is the scale every accuracy from Y is read against.
            d.reference_job = Some(DecodeAll::new(
                d.x.clone(),
                d.time_steps,
                &d.variables,
                &d.opts,
            ));
        }
        let pending = Pending {
            step: r.step,
            score: r.score,
            job: DecodeAll::new(y.clone(), d.time_steps, &d.variables, &d.opts),
        };
        if d.current.is_none() {
            d.current = Some(pending);
        } else {
            d.waiting = Some(pending);
        }
        d.last_queued = Some((r.step, r.score));
    }

    /// Whether decoding work is waiting (the worker asks for slices while it is).
    pub fn has_work(&self) -> bool {
        self.decoder.as_ref().is_some_and(|d| {
            d.reference_job.is_some() || d.current.is_some() || d.waiting.is_some()
        })
    }

    /// Do decoding work (X's reference first, then each queued Y) within `budget`.
    pub fn work(&mut self, budget: &mut Budget) -> Result<(), String> {
        let Some(d) = self.decoder.as_mut() else {
            return Ok(());
        };
        loop {
            if let Some(job) = d.reference_job.as_mut() {
                job.advance(budget)?;
                if !job.is_done() {
                    return Ok(());
                }
                d.reference = d.reference_job.take().and_then(Job::result);
            } else if let Some(p) = d.current.as_mut() {
                p.job.advance(budget)?;
                if !p.job.is_done() {
                    return Ok(());
                }
                {
                    let p = d.current.take().expect("checked");
                    let accuracy = p
                        .job
                        .result()
                        .expect("done")
                        .into_iter()
                        .map(|r| r.ok().map(|d| d.accuracy))
                        .collect();
                    let row = DecodeRow {
                        step: p.step,
                        score: p.score,
                        accuracy,
                    };
                    d.rows.push(row.step, row.clone());
                    d.new_rows.push(row);
                    d.current = d.waiting.take();
                }
            } else {
                return Ok(());
            }
            // A job finished: go on to the next one only if the budget allows.
            if budget.is_spent() {
                return Ok(());
            }
        }
    }

    /// Everything the run computed, for a face that writes it out.
    pub fn output(&self) -> RunOutput {
        RunOutput {
            report: self.report(),
            pc_rows: self.pc_rows().into_iter().cloned().collect(),
            decoded: self.decoded().into_iter().cloned().collect(),
            reference: self.reference().map(|r| r.to_vec()).unwrap_or_default(),
        }
    }
}

impl Job for Run {
    type Output = RunOutput;

    /// One unit: a decoding fold while decoding is waiting, else one update.
    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.is_done() {
            if self.has_work() {
                self.work(&mut Budget::units(1))?;
            } else {
                self.step(1, false);
            }
            if budget.spent() {
                break;
            }
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        let r = self.session.report();
        Progress {
            done: r.step,
            total: self.session.max_steps().unwrap_or(0).max(r.step),
            what: format!("{} = {:.6}", self.ids[0], r.score),
        }
    }

    /// Done once the session has stopped and every queued decoding is finished. A run
    /// without a stop rule or step limit never ends (the page's endless Play).
    fn is_done(&self) -> bool {
        self.session.stopped().is_some() && !self.has_work()
    }

    fn result(self) -> Option<RunOutput> {
        self.is_done().then(|| self.output())
    }
}
