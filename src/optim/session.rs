//! An optimisation session: a prepared target, a candidate Y, an objective and an optimiser.
//!
//! The session always holds the score and gradient of its *current* Y, so the score shown
//! after `step(n)` belongs to the Y shown, and each step costs exactly one score-and-gradient
//! evaluation (plus one plain score per watched measure).
//!
//! * Objective: maximise a similarity, minimise a distance (per [`Measure::direction`]), or the
//!   joint target −(|A − t_A| + |B − t_B|) of spec §7.1 (maximised).
//! * Stop rule (spec §3.1): before each update the current score is compared with `stop`
//!   (strict `>` when maximising, strict `<` for a distance); the session also stops after
//!   `max_steps` updates. Without either, `step(n)` always takes `n` updates (the page's use).
//! * Snapshots of Y every k updates, thinned by halving (k doubles) once `max_snapshots` is
//!   exceeded, so memory stays bounded for any run length.
//! * Non-finite values: by default an update that would produce a non-finite score or gradient
//!   is undone and the session stops with [`StopReason::NonFinite`]. With `replicate_nan` the
//!   authors' guard (spec §3.1, bug B4) is reproduced instead: a non-finite gradient skips the
//!   update (Adam's t does not advance) and every later evaluation, permanently, happens at
//!   Y + 0.01·ξ while the reported Y stays un-jittered.

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::Serialize;

use super::history::Decimated;
use super::{Adam, Sgd};
use crate::measures::{Direction, Measure};
use crate::rng::Rng;
use crate::target::Target;

/// Why a session stopped.
#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The score passed the stop threshold.
    Stop,
    /// `max_steps` updates were taken.
    MaxSteps,
    /// The next update would have produced a non-finite score or gradient (it was undone).
    NonFinite,
}

impl StopReason {
    /// The name used in CLI output (`stop`, `max_steps`, `non_finite`).
    pub fn as_str(&self) -> &'static str {
        match self {
            StopReason::Stop => "stop",
            StopReason::MaxSteps => "max_steps",
            StopReason::NonFinite => "non_finite",
        }
    }
}

/// What one call to [`Session::step`] reports.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct StepReport {
    /// Optimiser updates taken since the start (0 = the initial Y₀).
    pub step: usize,
    /// The objective at the current Y: the optimised measure's value (a score, or a distance
    /// when minimising), or J = −(|A − t_A| + |B − t_B|) for a joint target.
    pub score: f64,
    /// For a joint target, [A, B] at the current Y; empty otherwise.
    pub parts: Vec<f64>,
    /// The watched measures' scores at the current Y, in the order they were added.
    pub watched: Vec<f64>,
    /// Set once the session has stopped.
    pub stopped: Option<StopReason>,
}

/// Which optimiser updates Y.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam with PyTorch defaults (spec §3.3).
    Adam,
    /// Plain gradient descent, no momentum.
    Sgd,
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "adam" => Ok(OptimizerKind::Adam),
            "sgd" => Ok(OptimizerKind::Sgd),
            _ => Err(format!("unknown optimizer `{s}` (available: adam, sgd)")),
        }
    }
}

#[derive(Clone, Debug)]
enum Optimizer {
    Adam(Adam),
    Sgd(Sgd),
}

impl Optimizer {
    fn new(kind: OptimizerKind, lr: f64) -> Self {
        match kind {
            OptimizerKind::Adam => Optimizer::Adam(Adam::new(lr)),
            OptimizerKind::Sgd => Optimizer::Sgd(Sgd::new(lr)),
        }
    }
    fn step(&mut self, y: &mut DMatrix<f64>, loss_grad: &DMatrix<f64>) {
        match self {
            Optimizer::Adam(o) => o.step(y, loss_grad),
            Optimizer::Sgd(o) => o.step(y, loss_grad),
        }
    }
}

/// What the session optimises.
pub enum Objective {
    /// Maximise a similarity or minimise a distance, as the measure's direction says.
    Measure(Box<dyn Measure>),
    /// Maximise J = −(|A − t_A| + |B − t_B|) (spec §7.1), sub-gradient with sign(0) = 0.
    Joint {
        a: Box<dyn Measure>,
        b: Box<dyn Measure>,
        target_a: f64,
        target_b: f64,
    },
}

impl Objective {
    /// Whether the objective is maximised (`Similarity`) or minimised (`Distance`).
    pub fn direction(&self) -> Direction {
        match self {
            Objective::Measure(m) => m.direction(),
            Objective::Joint { .. } => Direction::Similarity,
        }
    }

    /// Value, parts and gradient of the value (not of the loss) at `y`.
    fn eval(
        &self,
        y: &DMatrix<f64>,
        grad: &mut DMatrix<f64>,
        scratch: &mut DMatrix<f64>,
    ) -> (f64, Vec<f64>) {
        match self {
            Objective::Measure(m) => (m.score_and_grad(y, grad), Vec::new()),
            Objective::Joint {
                a,
                b,
                target_a,
                target_b,
            } => {
                let va = a.score_and_grad(y, grad);
                let vb = b.score_and_grad(y, scratch);
                let (da, db) = (va - target_a, vb - target_b);
                *grad *= -sign0(da);
                let sb = -sign0(db);
                for (g, h) in grad.iter_mut().zip(scratch.iter()) {
                    *g += sb * h;
                }
                (-(da.abs() + db.abs()), vec![va, vb])
            }
        }
    }
}

fn sign0(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Session settings beyond the target, objective and Y₀.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    pub optimizer: OptimizerKind,
    pub lr: f64,
    /// Stop once the objective passes this value (above when maximising, below for a distance).
    pub stop: Option<f64>,
    /// Stop after this many updates.
    pub max_steps: Option<usize>,
    /// Keep a copy of Y every this many updates (0 = no snapshots).
    pub snapshot_every: usize,
    /// At most this many snapshots are kept (older ones are thinned, k doubles). ≥ 2.
    pub max_snapshots: usize,
    /// Reproduce the authors' NaN guard (spec §3.1) instead of stopping on non-finite values.
    pub replicate_nan: bool,
    /// Seed of the jitter used by `replicate_nan` (Y₀ is given separately).
    pub seed: u64,
    /// At most about this many states are kept in [`Session::history`] (thinned evenly
    /// beyond), so an endless run has flat memory.
    pub history_cap: usize,
    /// Also collect every state for [`Session::take_records`] (a face streaming the whole
    /// trajectory to a file takes them after each step).
    pub keep_records: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            optimizer: OptimizerKind::Adam,
            lr: 0.1,
            stop: None,
            max_steps: None,
            snapshot_every: 0,
            max_snapshots: 64,
            replicate_nan: false,
            seed: 0,
            history_cap: 4096,
            keep_records: false,
        }
    }
}

/// A stored copy of Y.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub step: usize,
    pub score: f64,
    pub y: DMatrix<f64>,
}

pub struct Session {
    pub target: Arc<Target>,
    objective: Objective,
    optimizer: Optimizer,
    options: SessionOptions,
    watch: Vec<(String, Box<dyn Measure>)>,
    y: DMatrix<f64>,
    grad: DMatrix<f64>,
    scratch: DMatrix<f64>,
    score: f64,
    parts: Vec<f64>,
    watched: Vec<f64>,
    step: usize,
    skipped: usize,
    stopped: Option<StopReason>,
    resample: bool,
    rng: Rng,
    snapshots: Vec<Snapshot>,
    snapshot_every: usize,
    history: Decimated<StepReport>,
    records: Vec<StepReport>,
}

/// Y₀ ~ N(0, 1) i.i.d. with X's flattened shape, drawn row by row (C order) from `seed`.
pub fn initial_y(n: usize, q: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = Rng::new(seed);
    let values: Vec<f64> = (0..n * q).map(|_| rng.normal()).collect();
    DMatrix::from_row_slice(n, q, &values)
}

impl Session {
    /// Maximise (or, for a distance, minimise) `measure` with Adam at learning rate `lr` from
    /// the given Y₀ (n × q, the same n as the target). No stop rule, no snapshots.
    pub fn new(target: Arc<Target>, measure: Box<dyn Measure>, y0: DMatrix<f64>, lr: f64) -> Self {
        Self::with_options(
            target,
            Objective::Measure(measure),
            y0,
            SessionOptions {
                lr,
                ..SessionOptions::default()
            },
        )
    }

    /// A session with every option.
    pub fn with_options(
        target: Arc<Target>,
        objective: Objective,
        y0: DMatrix<f64>,
        options: SessionOptions,
    ) -> Self {
        let mut s = Session {
            target,
            objective,
            optimizer: Optimizer::new(options.optimizer, options.lr),
            watch: Vec::new(),
            y: y0,
            grad: DMatrix::zeros(0, 0),
            scratch: DMatrix::zeros(0, 0),
            score: f64::NAN,
            parts: Vec::new(),
            watched: Vec::new(),
            step: 0,
            skipped: 0,
            stopped: None,
            resample: false,
            rng: Rng::new(options.seed),
            snapshots: Vec::new(),
            snapshot_every: options.snapshot_every,
            history: Decimated::new(options.history_cap),
            records: Vec::new(),
            options,
        };
        s.evaluate();
        s.record();
        s
    }

    /// Also report `measure`'s score at every step (it is not optimised).
    pub fn watch(&mut self, id: &str, measure: Box<dyn Measure>) {
        self.watched.push(measure.score(&self.y));
        self.watch.push((id.to_string(), measure));
        if let Some(last) = self.history.last_mut() {
            last.watched = self.watched.clone();
        }
        if let Some(last) = self.records.last_mut() {
            last.watched = self.watched.clone();
        }
    }

    /// Ids of the watched measures, in report order.
    pub fn watch_ids(&self) -> Vec<&str> {
        self.watch.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// Whether the objective is maximised or minimised.
    pub fn direction(&self) -> Direction {
        self.objective.direction()
    }

    /// Take up to `n` optimiser updates (fewer if the session stops) and report the state after
    /// the last one.
    pub fn step(&mut self, n: usize) -> StepReport {
        for _ in 0..n {
            if self.check_stop() {
                break;
            }
            self.advance();
        }
        self.check_stop();
        self.report()
    }

    /// Step until the stop rule or `max_steps` (1000 if unset), calling `on_step` after each
    /// update.
    pub fn run(&mut self, mut on_step: impl FnMut(&StepReport)) -> StepReport {
        if self.options.max_steps.is_none() {
            self.options.max_steps = Some(1000);
        }
        while !self.check_stop() {
            self.advance();
            on_step(self.history.last().expect("history is never empty"));
        }
        self.report()
    }

    /// The current state.
    pub fn report(&self) -> StepReport {
        StepReport {
            step: self.step,
            score: self.score,
            parts: self.parts.clone(),
            watched: self.watched.clone(),
            stopped: self.stopped,
        }
    }

    /// The current candidate Y (flattened n × q).
    pub fn y(&self) -> &DMatrix<f64> {
        &self.y
    }

    /// The step limit, if any.
    pub fn max_steps(&self) -> Option<usize> {
        self.options.max_steps
    }

    /// The stop score in force (`None`: none).
    pub fn stop(&self) -> Option<f64> {
        self.options.stop
    }

    /// Replace the stop score (before the first step: a rule read from the score at Y₀).
    pub fn set_stop(&mut self, stop: Option<f64>) {
        self.options.stop = stop;
    }

    /// Why the session stopped, if it did.
    pub fn stopped(&self) -> Option<StopReason> {
        self.stopped
    }

    /// The evaluated states from Y₀ on (one entry per update; with `replicate_nan`, also one
    /// per skipped update): all of them up to `history_cap`, then thinned evenly, always with
    /// the newest last.
    pub fn history(&self) -> Vec<&StepReport> {
        self.history.items().iter().map(|(_, r)| r).collect()
    }

    /// Every state recorded since the last call, when `keep_records` is set (else empty).
    pub fn take_records(&mut self) -> Vec<StepReport> {
        std::mem::take(&mut self.records)
    }

    /// The kept snapshots of Y (always including Y₀ when snapshots are on).
    pub fn snapshots(&self) -> &[Snapshot] {
        &self.snapshots
    }

    /// Updates skipped by the replicated NaN guard.
    pub fn skipped_steps(&self) -> usize {
        self.skipped
    }

    fn passed_stop(&self) -> bool {
        match self.options.stop {
            None => false,
            Some(s) => match self.objective.direction() {
                Direction::Similarity => self.score > s,
                Direction::Distance => self.score < s,
            },
        }
    }

    /// Update `stopped` from the current state; true if the session must not step.
    fn check_stop(&mut self) -> bool {
        if self.stopped.is_none() {
            if self.passed_stop() {
                self.stopped = Some(StopReason::Stop);
            } else if self
                .options
                .max_steps
                .is_some_and(|m| self.step + self.skipped >= m)
            {
                self.stopped = Some(StopReason::MaxSteps);
            }
        }
        self.stopped.is_some()
    }

    fn evaluate(&mut self) {
        let (score, parts) = if self.resample {
            let mut yj = self.y.clone();
            for v in yj.iter_mut() {
                *v += 0.01 * self.rng.normal();
            }
            self.objective.eval(&yj, &mut self.grad, &mut self.scratch)
        } else {
            self.objective
                .eval(&self.y, &mut self.grad, &mut self.scratch)
        };
        self.score = score;
        self.parts = parts;
        self.watched = self.watch.iter().map(|(_, m)| m.score(&self.y)).collect();
    }

    fn record(&mut self) {
        let report = self.report();
        if self.options.keep_records {
            self.records.push(report.clone());
        }
        self.history.push(self.step + self.skipped, report);
        let k = self.snapshot_every;
        if k > 0
            && self.step.is_multiple_of(k)
            && self.snapshots.last().is_none_or(|s| s.step < self.step)
        {
            self.snapshots.push(Snapshot {
                step: self.step,
                score: self.score,
                y: self.y.clone(),
            });
            if self.snapshots.len() > self.options.max_snapshots.max(2) {
                let kept: Vec<Snapshot> = self.snapshots.drain(..).step_by(2).collect();
                self.snapshots = kept;
                self.snapshot_every *= 2;
            }
        }
    }

    fn loss_sign(&self) -> f64 {
        match self.objective.direction() {
            Direction::Similarity => -1.0, // maximise: loss = −score
            Direction::Distance => 1.0,
        }
    }

    fn advance(&mut self) {
        let sign = self.loss_sign();
        let grad_finite = self.grad.iter().all(|v| v.is_finite());
        if self.options.replicate_nan {
            if !grad_finite {
                self.resample = true;
                self.skipped += 1;
            } else {
                self.grad *= sign;
                self.optimizer.step(&mut self.y, &self.grad);
                self.step += 1;
            }
            self.evaluate();
            self.record();
            return;
        }
        if !grad_finite || !self.score.is_finite() {
            self.stopped = Some(StopReason::NonFinite);
            return;
        }
        let (y_prev, opt_prev) = (self.y.clone(), self.optimizer.clone());
        let (grad_prev, score_prev) = (self.grad.clone(), self.score);
        self.grad *= sign;
        self.optimizer.step(&mut self.y, &self.grad);
        self.evaluate();
        if !self.score.is_finite() || self.grad.iter().any(|v| !v.is_finite()) {
            self.y = y_prev;
            self.optimizer = opt_prev;
            self.grad = grad_prev;
            self.score = score_prev;
            self.evaluate();
            self.stopped = Some(StopReason::NonFinite);
            return;
        }
        self.step += 1;
        self.record();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::datasets::toy2d;
    use crate::measures::cka::Cka;

    #[test]
    fn cka_on_toy2d_rises_past_0_99_and_is_deterministic() {
        let x = toy2d(0.5);
        let target = Arc::new(Target::new(&x.data).unwrap());
        let run = |seed| {
            let y0 = initial_y(60, 2, seed);
            let mut s = Session::new(target.clone(), Box::new(Cka::new(target.clone())), y0, 0.1);
            let first = s.report().score;
            (first, s.step(200))
        };
        let (first, last) = run(0);
        assert!(first < 0.9, "initial CKA {first}");
        assert!(last.score > 0.99, "CKA after 200 steps {}", last.score);
        assert_eq!(last.step, 200);
        assert_eq!(run(0).1, last);
    }
}
