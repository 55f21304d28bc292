//! "What is a good score for my data?" (the paper's Fig 3/4 answer, for any recording).
//!
//! For every measure, optimise from several seeds (Adam, stop at 0.99, at most 1000 updates
//! by default) and report with the spread over seeds:
//! (a) for every task variable, the score at which it becomes decodable: first crossing of
//!     chance + 0.9·(reference − chance) by the decoding accuracy of Y, with the reference
//!     accuracy decoded from X (spec §5.3);
//! (b) the score needed to capture every PC holding ≥ 10 % (and ≥ 1 %) of the variance: the
//!     largest of those PCs' scores at the "half" threshold (spec §4.2, first crossing),
//!     "not reached" if any of them never crosses;
//! (c) the number of updates to pass the stop score.
//! A seed whose run never reaches a quantity counts as "not reached" and is reported as such,
//! not averaged in.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::captured::{
    first_crossing, pc_r2, scores_at_threshold, Alignment, LinearChance, Threshold,
};
use super::decode::{decodable_threshold, DecodeError, DecodeOptions, Decoding, StagedDecode};
use super::job::{Budget, Job, Progress};
use crate::data::TaskVariable;
use crate::measures::{registry, Direction};
use crate::optim::session::{initial_y, Objective, Session, SessionOptions};
use crate::target::Target;

/// Calibration settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CalibrateOptions {
    pub seeds: usize,
    /// Seeds run are `first_seed .. first_seed + seeds` (Compare runs one seed from its own).
    pub first_seed: u64,
    pub lr: f64,
    pub stop: f64,
    pub max_steps: usize,
    /// Decode Y every this many updates (and at the last one).
    pub decode_every: usize,
    pub decode: DecodeOptions,
    /// Threads for the (measure, seed) runs in [`calibrate`] (the report does not depend on
    /// it; a job driven by hand runs them where it is advanced).
    pub threads: usize,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            seeds: 3,
            first_seed: 0,
            lr: 0.1,
            stop: 0.99,
            max_steps: 1000,
            decode_every: 5,
            decode: DecodeOptions::default(),
            threads: 1,
        }
    }
}

/// One line of the report: a quantity for one measure, over seeds.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct ReportRow {
    pub measure: String,
    /// `decodable`, `capture_pcs_10pct`, `capture_pcs_1pct` or `steps_to_stop`.
    pub quantity: String,
    /// The task variable for `decodable`, empty otherwise.
    pub variable: String,
    /// One value per seed; `None` = not reached.
    pub values: Vec<Option<f64>>,
    pub reached: usize,
    pub seeds: usize,
    /// Mean, standard deviation (n − 1), min and max over the seeds that reached it.
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Extra information (e.g. reference accuracy, pooled decoding, PCs involved).
    pub note: String,
    /// No score can reach it on this recording (X itself decodes the variable at chance, or a
    /// Y this wide fits every PC exactly): no values, and `note` says why.
    pub undefined: bool,
}

/// The reference decoding of a variable on X.
#[derive(Clone, Debug, Serialize)]
pub struct Reference {
    pub variable: String,
    pub reference: Decoding,
    pub threshold: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub references: Vec<Reference>,
    /// Explained-variance ratios of X's PCs (all of them).
    pub explained_variance_ratio: Vec<f64>,
    /// Every (measure, seed) run's trajectory, in run order, for reading a placement off it
    /// (`analysis::compare`).
    pub trajectories: Vec<Trajectory>,
}

/// One (measure, seed) run as it went: the score at every update (index = step, 0 = Y₀), the
/// R² of X's tracked PCs at every update, and the decoding accuracy of every usable variable
/// (in `Report::references` order) at the decoded updates.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Trajectory {
    pub measure: String,
    pub seed: u64,
    /// A distance (minimised): its scores are not on a [0, 1] scale.
    pub distance: bool,
    pub scores: Vec<f64>,
    /// `r2[step][i]`: R² of PC i + 1 (the PCs holding ≥ 1 % of the variance, at most 100).
    pub r2: Vec<Vec<f64>>,
    /// The updates at which Y was decoded, and the score there.
    pub decode_steps: Vec<usize>,
    pub decode_scores: Vec<f64>,
    /// `accuracies[j][k]`: accuracy of reference variable j at decoded update k (NaN if the
    /// decoder could not run).
    pub accuracies: Vec<Vec<f64>>,
    /// Whether the run passed the stop score (else it used every update).
    pub reached_stop: bool,
    /// Y is as wide as n − 1: every R² in `r2` is trivially 1 and tells nothing.
    pub pc_saturated: bool,
}

/// Whether a decoding is above chance: a one-sided binomial test at 5 % of the number of
/// correct test predictions against the chance rate (the majority-class frequency), as if the
/// accuracy came from the C conditions alone. A 3-D recording's predictions share conditions,
/// whether averaged over time steps or pooled as samples: the samples of one condition are not
/// independent (pooled, they sit in training and test folds alike, so even a label drawn at
/// random "decodes" above its chance rate), so only C count.
pub fn above_chance(d: &Decoding, conditions: usize) -> bool {
    let n = conditions;
    if n == 0 || d.accuracy <= d.chance {
        return false;
    }
    let k = (d.accuracy * n as f64).round() as usize;
    binomial_tail(n, k, d.chance) < 0.05
}

/// P(Binomial(n, p) ≥ k), summed in log space (n up to millions without overflow).
pub fn binomial_tail(n: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut log_choose = 0.0; // ln C(n, i), built up from i = 0
    let mut total = 0.0;
    for i in 0..=n {
        if i > 0 {
            log_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        if i >= k {
            total += (log_choose + i as f64 * lp + (n - i) as f64 * lq).exp();
        }
    }
    total.min(1.0)
}

/// A report line from per-seed values (the page merges its one-seed slices with this).
pub fn row(
    measure: &str,
    quantity: &str,
    variable: &str,
    values: Vec<Option<f64>>,
    note: String,
) -> ReportRow {
    let got: Vec<f64> = values.iter().flatten().cloned().collect();
    let m = got.len();
    let mean = (m > 0).then(|| got.iter().sum::<f64>() / m as f64);
    let sd = (m > 1).then(|| {
        let mu = mean.unwrap();
        (got.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (m - 1) as f64).sqrt()
    });
    ReportRow {
        measure: measure.into(),
        quantity: quantity.into(),
        variable: variable.into(),
        reached: m,
        seeds: values.len(),
        values,
        mean,
        sd,
        min: got.iter().cloned().reduce(f64::min),
        max: got.iter().cloned().reduce(f64::max),
        note,
        undefined: false,
    }
}

/// The report as CSV (`simscope calibrate --out`'s `report.csv`, the page's CSV export): one
/// row per (measure, quantity, variable), per-seed values joined by `;` (`NA` = not reached),
/// an absent statistic empty.
pub fn report_csv(rows: &[ReportRow]) -> String {
    use crate::data::write::csv_field;
    let num = |v: Option<f64>| {
        v.filter(|v| v.is_finite())
            .map_or(String::new(), |v| format!("{v}"))
    };
    let mut out =
        String::from("measure,quantity,variable,seeds,reached,mean,sd,min,max,values,note\n");
    for r in rows {
        let values: Vec<String> = r
            .values
            .iter()
            .map(|v| v.map_or("NA".to_string(), |v| num(Some(v))))
            .collect();
        let cells = [
            csv_field(&r.measure),
            r.quantity.clone(),
            csv_field(&r.variable),
            r.seeds.to_string(),
            r.reached.to_string(),
            num(r.mean),
            num(r.sd),
            num(r.min),
            num(r.max),
            values.join(";"),
            csv_field(&r.note),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// One plain-language verdict per measure, read off the report's rows (in their order): where
/// a synthetic Y optimised for it captured X's large and small PCs, where each task variable
/// became decodable (or that X itself decodes it at chance), and how long it took. The page
/// leads its Calibration panel with these; `simscope calibrate` prints them on stderr.
pub fn verdicts(rows: &[ReportRow]) -> Vec<(String, String)> {
    let mut measures: Vec<&str> = Vec::new();
    for r in rows {
        if !measures.contains(&r.measure.as_str()) {
            measures.push(&r.measure);
        }
    }
    let at = |r: &ReportRow| match r.mean {
        Some(m) if r.reached == r.seeds => format!("at {m:.2}"),
        Some(m) => format!("at {m:.2} in {} of {} seeds", r.reached, r.seeds),
        None => "in no seed within the run".into(),
    };
    measures
        .into_iter()
        .map(|m| {
            let mut parts = Vec::new();
            let mut steps = String::new();
            for r in rows.iter().filter(|r| r.measure == m) {
                match r.quantity.as_str() {
                    "capture_pcs_10pct" if r.undefined => parts.push(
                        "cannot show which PCs it captures, as a Y this wide fits every PC exactly"
                            .into(),
                    ),
                    "capture_pcs_10pct" | "capture_pcs_1pct" if r.note.starts_with("PC") => {
                        parts.push(format!("captures {} {}", r.note, at(r)))
                    }
                    "decodable" if r.undefined => parts.push(format!(
                        "cannot make {} decodable, as X itself decodes it at chance",
                        r.variable
                    )),
                    "decodable" => parts.push(format!("makes {} decodable {}", r.variable, at(r))),
                    "steps_to_stop" => {
                        steps = match r.mean {
                            Some(n) => format!(" It passes the stop score after {n:.0} steps."),
                            None => " It never passes the stop score within the run.".into(),
                        }
                    }
                    _ => {}
                }
            }
            let text = if parts.is_empty() {
                format!("{m}: nothing to report.{steps}")
            } else {
                format!(
                    "{m}: a synthetic Y optimised for it {}.{steps}",
                    parts.join("; ")
                )
            };
            (m.to_string(), text)
        })
        .collect()
}

/// Run the calibration to its end (the CLI's loop over the [`Calibration`] job). `data` is X's
/// flattened matrix with `time_steps` time steps; `labels` may be empty (then (a) is skipped).
/// `progress(msg)` hears of skipped variables and finished runs. With `opts.threads` > 1 the
/// (measure, seed) runs are spread over that many threads ([`Calibration::checkout`]); the
/// report is the same to the bit whatever the thread count.
pub fn calibrate(
    target: &Arc<Target>,
    data: &nalgebra::DMatrix<f64>,
    time_steps: usize,
    labels: &[TaskVariable],
    ids: &[String],
    opts: &CalibrateOptions,
    mut progress: impl FnMut(&str),
) -> Result<Report, String> {
    let mut c = Calibration::new(target.clone(), data, time_steps, labels, ids, opts);
    if opts.threads > 1 {
        c.run_on_threads(opts.threads, &mut progress);
    }
    while !c.is_done() {
        c.advance(&mut Budget::units(1))?;
        for note in c.take_notes() {
            progress(&note);
        }
    }
    match c.failed.take() {
        Some(e) => Err(e),
        None => Ok(c.into_report()),
    }
}

/// What every (measure, seed) run of a calibration needs besides the prepared X. The job runs
/// its runs with it, and so does whoever it hands a run to (a thread natively, a helper worker
/// in the page), so a run's outcome does not depend on where it ran.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunSpec {
    /// Canonical measure ids; run `i` is measure `i / seeds`, seed `first_seed + i % seeds`.
    pub ids: Vec<String>,
    pub opts: CalibrateOptions,
    pub time_steps: usize,
    /// Every task variable: a run decodes each from Y, and the job keeps those that decode
    /// from X, so runs need not wait for X's decoding.
    pub variables: Vec<TaskVariable>,
    /// PCs whose R² is tracked (those holding ≥ 1 % of the variance, at most 100).
    pub pcs: usize,
}

impl RunSpec {
    /// Runs in all.
    pub fn runs(&self) -> usize {
        self.ids.len() * self.opts.seeds
    }
}

/// One finished (measure, seed) run: its trajectory and where it stopped.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunOutcome {
    pub run: usize,
    pub trajectory: Trajectory,
    /// Updates made, and the score after the last one.
    pub steps: usize,
    pub score: f64,
}

/// One (measure, seed) run as a resumable job: Adam from the seed's Y₀ until the stop score
/// or the update cap, the R² of X's tracked PCs after every update, and Y decoded every
/// `decode_every` updates (and at the last one).
pub struct CalRun {
    run: usize,
    target: Arc<Target>,
    spec: Arc<RunSpec>,
    session: Session,
    distance: bool,
    scores: Vec<f64>,
    r2: Vec<Vec<f64>>,
    dsteps: Vec<f64>,
    /// The update index of each entry of `dsteps`.
    dstep_at: Vec<usize>,
    acc: Vec<Vec<f64>>,
    /// A decoding of Y in progress: the variable (index into `spec.variables`), its staged
    /// decoding (None before it starts) and whether the run ends after it.
    decoding: Option<(usize, Option<StagedDecode>, bool)>,
    finished: bool,
}

impl CalRun {
    /// Run `run` of `spec` (see [`RunSpec::ids`]) against the prepared X.
    pub fn new(target: Arc<Target>, spec: Arc<RunSpec>, run: usize) -> Result<Self, String> {
        let seeds = spec.opts.seeds.max(1);
        let id = spec
            .ids
            .get(run / seeds)
            .ok_or_else(|| format!("calibration: there is no run {run}"))?;
        registry::optimisable(id)?;
        let measure = registry::prepare(id, target.clone(), target.p)
            .map(|(m, _)| m)
            .map_err(|e| e.to_string())?;
        let distance = measure.direction() == Direction::Distance;
        let seed = spec.opts.first_seed + (run % seeds) as u64;
        let y0 = initial_y(target.n, target.p, seed);
        let options = SessionOptions {
            lr: spec.opts.lr,
            stop: Some(spec.opts.stop),
            max_steps: Some(spec.opts.max_steps),
            ..SessionOptions::default()
        };
        let session =
            Session::with_options(target.clone(), Objective::Measure(measure), y0, options);
        let score0 = session.report().score;
        let r2 = vec![pc_r2(&target, session.y(), spec.pcs, Alignment::Linear)];
        Ok(CalRun {
            run,
            distance,
            scores: vec![score0],
            r2,
            dsteps: vec![score0],
            dstep_at: vec![0],
            acc: vec![Vec::new(); spec.variables.len()],
            decoding: Some((0, None, false)),
            finished: false,
            session,
            target,
            spec,
        })
    }

    /// One time step of a decoding of Y, or one update with its per-PC R².
    fn unit(&mut self) {
        if let Some((j, stage, last)) = self.decoding.as_mut() {
            let Some(var) = self.spec.variables.get(*j) else {
                self.finished = *last;
                self.decoding = None;
                return;
            };
            let y = self.session.y();
            if stage.is_none() {
                match StagedDecode::new(
                    y.nrows(),
                    self.spec.time_steps,
                    &var.name,
                    &var.class_of,
                    &self.spec.opts.decode,
                ) {
                    Ok(st) => *stage = Some(st),
                    Err(_) => {
                        self.acc[*j].push(f64::NAN);
                        *j += 1;
                        return;
                    }
                }
            }
            let st = stage.as_mut().expect("just set");
            st.advance(y);
            if st.is_done() {
                let d = stage.take().and_then(StagedDecode::finish);
                self.acc[*j].push(d.map(|d| d.accuracy).unwrap_or(f64::NAN));
                *j += 1;
            }
            return;
        }
        let rep = self.session.step(1);
        if rep.step == self.scores.len() - 1 && rep.stopped.is_some() {
            self.finished = true;
            return;
        }
        self.scores.push(rep.score);
        self.r2.push(pc_r2(
            &self.target,
            self.session.y(),
            self.spec.pcs,
            Alignment::Linear,
        ));
        let stopped = rep.stopped.is_some();
        if stopped || rep.step.is_multiple_of(self.spec.opts.decode_every.max(1)) {
            self.dsteps.push(rep.score);
            self.dstep_at.push(rep.step);
            self.decoding = Some((0, None, stopped));
        }
    }

    fn outcome(self) -> RunOutcome {
        let report = self.session.report();
        let seeds = self.spec.opts.seeds.max(1);
        RunOutcome {
            run: self.run,
            trajectory: Trajectory {
                measure: self.spec.ids[self.run / seeds].clone(),
                seed: self.spec.opts.first_seed + (self.run % seeds) as u64,
                distance: self.distance,
                scores: self.scores,
                r2: self.r2,
                decode_steps: self.dstep_at,
                decode_scores: self.dsteps,
                accuracies: self.acc,
                reached_stop: report.stopped == Some(crate::optim::StopReason::Stop),
                // The job knows X's shape's verdict (`Calibration::fold`).
                pc_saturated: false,
            },
            steps: report.step,
            score: report.score,
        }
    }
}

impl Job for CalRun {
    type Output = RunOutcome;

    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.finished {
            self.unit();
            if budget.spent() {
                break;
            }
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.scores.len() - 1,
            total: self.spec.opts.max_steps,
            what: String::new(),
        }
    }

    fn is_done(&self) -> bool {
        self.finished
    }

    fn result(self) -> Option<RunOutcome> {
        self.finished.then(|| self.outcome())
    }
}

/// A calibration as a resumable state machine. Each [`Calibration::advance`] does one unit of
/// work (one time step of a decoding of X or of Y, or one update with its per-PC R²). X's
/// variables are decoded first; then the (measure, seed) runs, each a [`CalRun`], go in
/// order here or are handed out ([`Calibration::checkout`]) to be run elsewhere and given
/// back ([`Calibration::deliver`]); the report folds them in run order, so it is the same to
/// the bit whoever ran what. The browser worker advances it for a bounded time per message,
/// so a Cancel waits for at most one slice instead of a whole run.
pub struct Calibration {
    target: Arc<Target>,
    data: nalgebra::DMatrix<f64>,
    time_steps: usize,
    labels: Vec<TaskVariable>,
    ids: Vec<String>,
    opts: CalibrateOptions,
    evr: Vec<f64>,
    k10: usize,
    k1: usize,
    references: Vec<Reference>,
    /// Indices into `labels` of the variables that decode from X, in `references` order.
    usable: Vec<usize>,
    /// The next label to decode from X, and its decoding in progress.
    next_label: usize,
    reference: Option<StagedDecode>,
    /// What the runs share, once X's variables are decoded.
    spec: Option<Arc<RunSpec>>,
    /// Every run's state, in run order.
    slots: Vec<Slot>,
    /// The run this job is running itself.
    local: Option<CalRun>,
    /// Measures whose rows are in `rows`.
    folded: usize,
    rows: Vec<ReportRow>,
    trajectories: Vec<Trajectory>,
    last: String,
    /// Skipped variables and finished runs, for the face to show ([`Calibration::take_notes`]).
    notes: Vec<String>,
    /// What the per-PC R² of a Y₀ of X's width means here (every run's Y₀ has that width).
    pc_chance: LinearChance,
    /// The first error: the job is then done, with no report.
    failed: Option<String>,
}

enum Slot {
    Pending,
    /// Running here or elsewhere.
    Out,
    Done(Box<RunOutcome>),
    Folded,
}

/// Per-seed values of a measure.
#[derive(Default)]
struct MeasureValues {
    dec: Vec<Vec<Option<f64>>>,
    cap10: Vec<Option<f64>>,
    cap1: Vec<Option<f64>>,
    steps: Vec<Option<f64>>,
}

impl Calibration {
    pub fn new(
        target: Arc<Target>,
        data: &nalgebra::DMatrix<f64>,
        time_steps: usize,
        labels: &[TaskVariable],
        ids: &[String],
        opts: &CalibrateOptions,
    ) -> Self {
        let evr: Vec<f64> = target.explained_variance_ratio().iter().cloned().collect();
        let k10 = evr.iter().filter(|&&v| v >= 0.10).count();
        let k1 = evr.iter().filter(|&&v| v >= 0.01).count().min(100);
        // Every run starts from a Gaussian Y₀ of X's width.
        let pc_chance = LinearChance::random(target.n, target.p);
        Calibration {
            target,
            data: data.clone(),
            time_steps,
            labels: labels.to_vec(),
            ids: ids.to_vec(),
            opts: opts.clone(),
            evr,
            k10,
            k1,
            references: Vec::new(),
            usable: Vec::new(),
            next_label: 0,
            reference: None,
            spec: None,
            slots: Vec::new(),
            local: None,
            folded: 0,
            rows: Vec::new(),
            trajectories: Vec::new(),
            last: String::new(),
            notes: Vec::new(),
            pc_chance,
            failed: None,
        }
    }

    /// Use a reference decoding of X computed elsewhere (e.g. once for several calibrations)
    /// instead of decoding X again: `references` as this job would compute them, `usable` the
    /// indices into `labels` they belong to.
    pub fn with_references(mut self, references: Vec<Reference>, usable: Vec<usize>) -> Self {
        self.references = references;
        self.usable = usable;
        self.next_label = self.labels.len();
        self.reference = None;
        self
    }

    /// The trajectories of the runs folded so far.
    pub fn trajectories(&self) -> &[Trajectory] {
        &self.trajectories
    }

    /// The reference decodings of X (complete once the first run has started).
    pub fn references(&self) -> &[Reference] {
        &self.references
    }

    /// (measure, seed) runs in all.
    pub fn total_runs(&self) -> usize {
        self.ids.len() * self.opts.seeds
    }

    /// (measure, seed) runs finished so far.
    pub fn runs_done(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Done(_) | Slot::Folded))
            .count()
    }

    /// The last run folded into the report, as `"{measure} seed {seed}"` (empty before).
    pub fn last_run(&self) -> &str {
        &self.last
    }

    /// Skipped variables and finished runs since the last call.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// What a run needs (what a helper is given); `None` once the job has failed.
    pub fn run_spec(&mut self) -> Option<RunSpec> {
        self.shared().map(|s| (*s).clone())
    }

    fn shared(&mut self) -> Option<Arc<RunSpec>> {
        if self.failed.is_some() {
            return None;
        }
        if self.spec.is_none() {
            let spec = RunSpec {
                ids: self.ids.clone(),
                opts: self.opts.clone(),
                time_steps: self.time_steps,
                variables: self.labels.clone(),
                pcs: self.k1,
            };
            self.slots = (0..spec.runs()).map(|_| Slot::Pending).collect();
            self.spec = Some(Arc::new(spec));
        }
        self.spec.clone()
    }

    /// Hand out the next run to be run elsewhere with [`CalRun`] and this job's
    /// [`Calibration::run_spec`], then given back with [`Calibration::deliver`] (or
    /// [`Calibration::release`]d), even while this job still decodes X; `None` once every run
    /// is out.
    pub fn checkout(&mut self) -> Option<usize> {
        self.shared()?;
        let i = self.slots.iter().position(|s| matches!(s, Slot::Pending))?;
        self.slots[i] = Slot::Out;
        Some(i)
    }

    /// A run handed out by [`Calibration::checkout`], finished.
    pub fn deliver(&mut self, outcome: RunOutcome) -> Result<(), String> {
        let i = outcome.run;
        let local = self.local.as_ref().is_some_and(|r| r.run == i);
        if local || !matches!(self.slots.get(i), Some(Slot::Out)) {
            return Err(format!(
                "calibration: run {i} was not handed out by this job"
            ));
        }
        self.slots[i] = Slot::Done(Box::new(outcome));
        self.fold();
        Ok(())
    }

    /// A handed-out run that will not come back (its helper was lost): run it here.
    pub fn release(&mut self, run: usize) {
        let local = self.local.as_ref().is_some_and(|r| r.run == run);
        if let (false, Some(s @ Slot::Out)) = (local, self.slots.get_mut(run)) {
            *s = Slot::Pending;
        }
    }

    /// End the job with an error (a run elsewhere failed).
    pub fn fail(&mut self, message: String) {
        self.failed.get_or_insert(message);
    }

    /// X is decoded, every run left is out and none is running here: nothing to do until
    /// [`Calibration::deliver`] (`advance` returns at once).
    pub fn is_waiting(&self) -> bool {
        !self.is_done()
            && self.next_label >= self.labels.len()
            && self.spec.is_some()
            && self.local.is_none()
            && !self.slots.iter().any(|s| matches!(s, Slot::Pending))
    }

    /// Run every pending run on `threads` threads while this one decodes X, telling
    /// `progress` of each run as it is folded.
    fn run_on_threads(&mut self, threads: usize, progress: &mut impl FnMut(&str)) {
        let Some(spec) = self.shared() else {
            return;
        };
        let mut runs: Vec<usize> = std::iter::from_fn(|| self.checkout()).collect();
        runs.reverse();
        let queue = std::sync::Mutex::new(runs);
        let (tx, rx) = std::sync::mpsc::channel::<Result<RunOutcome, String>>();
        let target = self.target.clone();
        std::thread::scope(|s| {
            for _ in 0..threads {
                let (queue, spec, target, tx) = (&queue, spec.clone(), target.clone(), tx.clone());
                s.spawn(move || {
                    let next = || queue.lock().ok().and_then(|mut q| q.pop());
                    while let Some(i) = next() {
                        let outcome = CalRun::new(target.clone(), spec.clone(), i)
                            .and_then(|r| super::job::run_to_end(r, |_| {}));
                        if tx.send(outcome).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut tell = |c: &mut Self, e: Result<(), String>| {
                if let Err(e) = e {
                    c.fail(e);
                    // The threads stop after their current run.
                    queue.lock().map(|mut q| q.clear()).ok();
                }
                for note in c.take_notes() {
                    progress(&note);
                }
            };
            while self.next_label < self.labels.len() && self.failed.is_none() {
                let r = self.unit().map(|_| ());
                tell(self, r);
            }
            for outcome in rx {
                let r = outcome.and_then(|o| self.deliver(o));
                tell(self, r);
            }
        });
    }

    /// Do the next unit of work: one time step of a decoding of X or of Y, or one update
    /// with its per-PC R². False when there was nothing to do here (every run left is out).
    fn unit(&mut self) -> Result<bool, String> {
        if self.next_label < self.labels.len() {
            self.advance_reference()?;
            if self.next_label == self.labels.len() {
                // Runs that came back while X was decoded can now be folded.
                self.fold();
            }
            return Ok(true);
        }
        if self.folded >= self.ids.len() {
            return Ok(false);
        }
        if self.opts.seeds == 0 {
            let id = self.ids[self.folded].clone();
            self.folded += 1;
            self.push_rows(&id, MeasureValues::default());
            return Ok(true);
        }
        let Some(spec) = self.shared() else {
            return Ok(false);
        };
        if let Some(run) = self.local.as_mut() {
            run.unit();
            if run.finished {
                let run = self.local.take().expect("checked above");
                let i = run.run;
                self.slots[i] = Slot::Done(Box::new(run.outcome()));
                self.fold();
            }
            return Ok(true);
        }
        let Some(i) = self.checkout() else {
            return Ok(false);
        };
        self.local = Some(CalRun::new(self.target.clone(), spec, i)?);
        Ok(true)
    }

    /// One time step of the reference decoding of the next variable from X.
    fn advance_reference(&mut self) -> Result<(), String> {
        let var = &self.labels[self.next_label];
        if self.reference.is_none() {
            match StagedDecode::new(
                self.data.nrows(),
                self.time_steps,
                &var.name,
                &var.class_of,
                &self.opts.decode,
            ) {
                Ok(st) => self.reference = Some(st),
                Err(e @ DecodeError::Mismatch { .. }) => return Err(e.to_string()),
                Err(e) => {
                    self.notes.push(format!("skipping variable: {e}"));
                    self.next_label += 1;
                    return Ok(());
                }
            }
        }
        let st = self.reference.as_mut().expect("just set");
        st.advance(&self.data);
        if st.is_done() {
            if let Some(d) = self.reference.take().and_then(StagedDecode::finish) {
                let threshold = decodable_threshold(d.chance, d.accuracy);
                self.references.push(Reference {
                    variable: var.name.clone(),
                    reference: d,
                    threshold,
                });
                self.usable.push(self.next_label);
            }
            self.next_label += 1;
        }
        Ok(())
    }

    /// Fold the finished runs of the next measures, in run order, into their rows (once X's
    /// variables are decoded: they decide which of a run's decodings count).
    fn fold(&mut self) {
        let seeds = self.opts.seeds;
        if self.spec.is_none() {
            return;
        }
        while self.next_label >= self.labels.len() && self.folded < self.ids.len() {
            let runs = self.folded * seeds..(self.folded + 1) * seeds;
            if !self.slots[runs.clone()]
                .iter()
                .all(|s| matches!(s, Slot::Done(_)))
            {
                return;
            }
            let mut v = MeasureValues {
                dec: vec![Vec::new(); self.references.len()],
                ..MeasureValues::default()
            };
            for i in runs {
                if let Slot::Done(o) = std::mem::replace(&mut self.slots[i], Slot::Folded) {
                    self.fold_run(&mut v, *o);
                }
            }
            let id = self.ids[self.folded].clone();
            self.folded += 1;
            self.push_rows(&id, v);
        }
    }

    /// One finished run's values for its measure's rows.
    fn fold_run(&mut self, v: &mut MeasureValues, o: RunOutcome) {
        let mut t = o.trajectory;
        // The decodings of the variables that decode from X, in `references` order.
        t.accuracies = self
            .usable
            .iter()
            .map(|&l| t.accuracies.get(l).cloned().unwrap_or_default())
            .collect();
        if t.distance {
            // Scores of a distance are not comparable on a [0, 1] scale; only steps count.
            v.dec.iter_mut().for_each(|d| d.push(None));
            v.cap10.push(None);
            v.cap1.push(None);
        } else {
            for (j, r) in self.references.iter().enumerate() {
                v.dec[j].push(first_crossing(
                    &t.accuracies[j],
                    &t.decode_scores,
                    r.threshold,
                ));
            }
            let sat = scores_at_threshold(&t.r2, &t.scores, Threshold::Half);
            let worst = |k: usize| -> Option<f64> {
                if k == 0 {
                    return None;
                }
                sat[..k]
                    .iter()
                    .try_fold(f64::NEG_INFINITY, |m, v| v.map(|v| m.max(v)))
            };
            v.cap10.push(worst(self.k10));
            v.cap1.push(worst(self.k1));
        }
        v.steps.push(t.reached_stop.then_some(o.steps as f64));
        self.notes.push(format!(
            "{} seed {}: {} steps, final score {:.6}",
            t.measure, t.seed, o.steps, o.score
        ));
        self.last = format!("{} seed {}", t.measure, t.seed);
        self.trajectories.push(Trajectory {
            pc_saturated: self.pc_chance.saturated(),
            ..t
        });
    }

    fn push_rows(&mut self, id: &str, mut v: MeasureValues) {
        if v.dec.len() != self.references.len() {
            v.dec = vec![Vec::new(); self.references.len()];
        }
        let conditions = self.data.nrows() / self.time_steps.max(1);
        for (j, r) in self.references.iter().enumerate() {
            let d = &r.reference;
            if !above_chance(d, conditions) {
                // A threshold between chance and an accuracy at chance is noise, not a score
                // at which the variable becomes decodable: report none, and say why.
                let note = format!(
                    "X itself decodes {} at chance (accuracy {:.4}, chance {:.4}; binomial test, 5%): no score makes it decodable from Y",
                    r.variable, d.accuracy, d.chance
                );
                let seeds = v.dec[j].len();
                v.dec[j].clear();
                self.rows.push(ReportRow {
                    undefined: true,
                    ..row(id, "decodable", &r.variable, vec![None; seeds], note)
                });
                continue;
            }
            let note = format!(
                "reference accuracy {:.4}, chance {:.4}, threshold {:.4}{}",
                d.accuracy,
                d.chance,
                r.threshold,
                if d.pooled {
                    ", time steps pooled as samples (too few samples per class per time step)"
                } else {
                    ""
                }
            );
            self.rows.push(row(
                id,
                "decodable",
                &r.variable,
                std::mem::take(&mut v.dec[j]),
                note,
            ));
        }
        let saturated = self.pc_chance.saturated();
        let pcs_note = |k: usize, pct: &str| {
            if saturated {
                // Every R² starts at 1, so "captured" would be the starting score: say why
                // there is no value instead (as for a variable X decodes at chance).
                self.pc_chance.warning().unwrap_or_default()
            } else if k == 0 {
                format!("no PC holds ≥ {pct} of the variance")
            } else if k == 1 {
                format!("PC1 (≥ {pct} of the variance)")
            } else {
                format!("PCs 1–{k} (≥ {pct} of the variance)")
            }
        };
        for (quantity, values, k, pct) in [
            ("capture_pcs_10pct", v.cap10, self.k10, "10%"),
            ("capture_pcs_1pct", v.cap1, self.k1, "1%"),
        ] {
            self.rows.push(if saturated {
                ReportRow {
                    undefined: true,
                    ..row(id, quantity, "", vec![None; values.len()], pcs_note(k, pct))
                }
            } else {
                row(id, quantity, "", values, pcs_note(k, pct))
            });
        }
        self.rows.push(row(
            id,
            "steps_to_stop",
            "",
            v.steps,
            format!("updates until the score passes {}", self.opts.stop),
        ));
    }

    /// The rows of the measures finished so far (all of them once `is_done`).
    pub fn rows(&self) -> &[ReportRow] {
        &self.rows
    }

    pub fn into_report(self) -> Report {
        Report {
            rows: self.rows,
            references: self.references,
            explained_variance_ratio: self.evr,
            trajectories: self.trajectories,
        }
    }
}

impl Job for Calibration {
    type Output = Report;

    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.is_done() {
            match self.unit() {
                Err(e) => {
                    self.failed = Some(e.clone());
                    return Err(e);
                }
                Ok(false) => break,
                Ok(true) if budget.spent() => break,
                Ok(true) => {}
            }
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.runs_done(),
            total: self.total_runs(),
            what: self.last.clone(),
        }
    }

    fn is_done(&self) -> bool {
        self.failed.is_some()
            || (self.next_label >= self.labels.len() && self.folded >= self.ids.len())
    }

    fn result(self) -> Option<Report> {
        (self.failed.is_none() && self.is_done()).then(|| self.into_report())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_csv_is_one_format_for_every_face() {
        let rows = vec![
            row(
                "cka",
                "decodable",
                "a, b",
                vec![Some(0.5), None],
                "quoted \"note\", here".into(),
            ),
            row("nbs", "steps_to_stop", "", vec![Some(12.0)], String::new()),
        ];
        assert_eq!(
            report_csv(&rows),
            "measure,quantity,variable,seeds,reached,mean,sd,min,max,values,note\n\
             cka,decodable,\"a, b\",2,1,0.5,,0.5,0.5,0.5;NA,\"quoted \"\"note\"\", here\"\n\
             nbs,steps_to_stop,,1,1,12,,12,12,12,\n"
        );
    }

    #[test]
    fn binomial_tail_and_above_chance() {
        assert!((binomial_tail(10, 10, 0.5) - 1.0 / 1024.0).abs() < 1e-15);
        assert!((binomial_tail(10, 0, 0.3) - 1.0).abs() < 1e-15);
        // P(X ≥ 2) for Binomial(3, 0.5) = 4/8.
        assert!((binomial_tail(3, 2, 0.5) - 0.5).abs() < 1e-12);
        let d = |accuracy: f64| Decoding {
            accuracy,
            per_time: vec![],
            pooled: false,
            chance: 0.125,
            classes: 8,
            folds: 5,
        };
        assert!(above_chance(&d(0.45), 552));
        assert!(!above_chance(&d(0.14), 552));
        assert!(!above_chance(&d(0.10), 552));
    }
}
