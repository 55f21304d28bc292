//! Messages between the page (main thread) and the worker that owns the numerics.
//!
//! Every message is `{ id, body }` with `body` one of the enums below (serde, tagged by
//! `kind`); a file's bytes travel beside the body as a transferred `Uint8Array` in `bytes`.
//! The worker answers each request with one response carrying the same id.

use serde::{Deserialize, Serialize};

/// Page → worker.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// Load a built-in dataset by name.
    Builtin { name: String },
    /// Load a user's `.npy`/`.npz` file (bytes alongside).
    File { name: String },
    /// Attach task labels from a `.npy`/`.csv`/`.json` file (bytes alongside).
    Labels { name: String },
    /// Start a fresh session on the loaded recording.
    Start(RunSettings),
    /// Take up to `n` optimisation steps. `full` asks for every figure of the report (the
    /// per-PC R², otherwise computed only within its time budget): an explicit Step.
    Step {
        n: usize,
        #[serde(default)]
        full: bool,
    },
    /// Score a perturbed copy of X (spec §6) against the closed forms.
    Perturb(PerturbSettings),
    /// Decode every task variable from the session's current Y (and, once per recording,
    /// from X: the neural reference). The work is done in slices of about 30 ms: the worker
    /// answers `DecodePending` until the last slice, which answers `Decoded`; the page sends
    /// `Decode` again to go on, so step requests are served in between.
    Decode,
    /// Time `score_and_grad` + Adam steps of `measure` on random n × p data in the worker,
    /// exactly as `simscope bench` does natively (`measures::cost::time_steps_with`).
    Bench {
        measure: String,
        n: usize,
        p: usize,
        budget_s: f64,
    },
    /// Y of the current session as a `.npy` of the recording's shape (bytes alongside the
    /// answer).
    ExportY,
    /// The paper's sweep: decorrelate each of the first `max_pcs` PCs in turn.
    Sweep {
        measures: Vec<String>,
        max_pcs: usize,
        seed: u64,
    },
    /// Start a joint job (spec §7): every perimeter target from one shared Y₀, run in slices.
    JointStart(JointSettings),
    /// Run the next slice of the joint job (~30 ms of steps), answered by `JointProgress`.
    JointSlice,
    /// Drop the joint job; a later `JointSlice` finds none.
    JointCancel,
    /// Start a calibration report (`analysis::calibrate`) on the loaded recording and labels.
    CalibrateStart {
        measures: Vec<String>,
        seeds: usize,
        lr: f64,
    },
    /// Run the calibration for about 30 ms more, answered by `CalibrateProgress`.
    CalibrateSlice,
    /// Drop the calibration job.
    CalibrateCancel,
    /// Prune panel: model features F from a file (bytes alongside), stimuli × features.
    PruneFeatures { name: String },
    /// Prune panel: the target from a file (bytes alongside): a target RDM (`rdm`) or a
    /// recording X (stimuli × units).
    PruneTarget { name: String, rdm: bool },
    /// Prune panel: the loaded recording X as the target.
    PruneTargetLoaded,
    /// Prune panel: a built-in demo's features and target RDM (`analysis::prune::builtin_demo`).
    PruneDemo { name: String },
    /// Start a pruning evaluation on the panel's inputs (`analysis::prune::EvaluationRun`).
    PruneStart(PruneSettings),
    /// Run the next slice of the pruning job (~30 ms of greedy steps), answered by
    /// `PruneProgress` or, at the end, `PruneDone`.
    PruneSlice,
    /// Drop the pruning job.
    PruneCancel,
}

/// What the Prune panel asks for (the CLI's flags of the same names).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PruneSettings {
    pub folds: usize,
    pub seed: u64,
    /// `backward` or `forward`.
    pub method: String,
    /// `correlation` or `sqeuclidean`.
    pub distance: String,
    /// `pearson` or `spearman`.
    pub compare: String,
    /// `rsa` (the default) or the canonical id of a registered measure.
    pub fit: String,
}

/// The Prune panel's inputs as the worker holds them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PruneInputs {
    /// (name, stimuli, features) of F.
    pub features: Option<(String, usize, usize)>,
    /// (name, stimuli, what: `rdm` or `recording`) of the target.
    pub target: Option<(String, usize, String)>,
}

/// A finished pruning evaluation, with everything the panel shows and exports.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PruneResult {
    /// Final selection on all stimuli (0-based, ascending).
    pub kept: Vec<usize>,
    pub n_features: usize,
    pub n_stimuli: usize,
    pub test_fit_pruned: f64,
    pub test_fit_full: f64,
    pub test_fit_reweighted: f64,
    /// (n_kept, train fit, test fit), means over folds, in path order.
    pub curve: Vec<(usize, f64, f64)>,
    /// Chosen size per outer fold.
    pub fold_sizes: Vec<usize>,
    /// `simscope prune`'s stdout summary and `curve.csv`, byte for byte.
    pub summary_json: String,
    pub curve_csv: String,
    /// Target, full-model and pruned-model RDMs over all stimuli, row-major n × n, each as
    /// ranks of its off-diagonal entries scaled to 0..=255 (diagonal 0) so they share a colour
    /// scale, one char (U+0000..U+00FF) per entry: a string crosses to the page in one piece,
    /// where 3 × 8,464 numbers would be converted one by one on the main thread.
    pub rdms: [String; 3],
}

/// One line of the calibration report: the core's row, sent as is.
pub use crate::analysis::calibrate::ReportRow as CalRow;

/// What the Joint panel asks for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JointSettings {
    pub a: String,
    pub b: String,
    pub per_side: usize,
    pub steps: usize,
    pub lr: f64,
    pub seed: u64,
}

/// A perturbation of X's PCs and the measures to score it with.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PerturbSettings {
    /// (PC, 0-based; amplitude a; angle θ in degrees); PCs not listed are unchanged.
    pub entries: Vec<(usize, f64, f64)>,
    pub measures: Vec<String>,
    pub seed: u64,
    /// Echoed back so the page knows which settings a result belongs to.
    pub tag: String,
}

/// What defines a run: the same settings give the same trajectory.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunSettings {
    pub measure: String,
    pub watch: Vec<String>,
    pub lr: f64,
    pub optimizer: String,
    pub seed: u64,
    pub stop: f64,
}

/// Worker → page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// The worker's module is initialised and listening; `simd` says which build it runs
    /// (the wasm compiled with `+simd128`, or the fallback).
    Ready {
        #[serde(default)]
        simd: bool,
    },
    /// A recording was loaded (it replaces the previous one).
    Loaded(DatasetSummary),
    /// A session started; `measure`/`watch` are canonical ids.
    Started {
        measure: String,
        watch: Vec<String>,
        warnings: Vec<String>,
        report: Report,
    },
    /// State after a `Step`.
    Report(Report),
    /// Scores of a perturbed X: measured and closed form, per canonical id.
    Perturbed {
        tag: String,
        ids: Vec<String>,
        measured: Vec<f64>,
        theory: Vec<Option<f64>>,
        /// Whether the theory is exact (the complement directions exist).
        exact: bool,
    },
    /// The sweep's rows: (variance ratio, measured per id, theory per id).
    Swept {
        ids: Vec<String>,
        rows: Vec<crate::plot::SweepRow>,
        exact: bool,
    },
    /// A decoding is under way: `done` of `total` units (one time step of one variable, from
    /// X first, then from Y). Send `Decode` again to go on.
    DecodePending { done: usize, total: usize },
    /// What `Bench` measured: the median milliseconds per step over `steps` timed steps.
    Benched {
        measure: String,
        n: usize,
        p: usize,
        median_ms: f64,
        steps: usize,
    },
    /// Decoding accuracies (None where a variable cannot be decoded) at `step`.
    Decoded {
        step: usize,
        score: f64,
        names: Vec<String>,
        accuracy: Vec<Option<f64>>,
        chance: Vec<f64>,
        reference: Vec<Option<f64>>,
    },
    /// Y as `.npy` bytes (alongside, in `bytes`), to be saved as `name`.
    YNpy { name: String },
    /// A joint job started: canonical ids, its targets, the ranks of X and Y₀ (for the
    /// analytic CKA–NBS bounds).
    JointStarted {
        a: String,
        b: String,
        targets: Vec<(f64, f64)>,
        rank_x: usize,
        rank_y: usize,
    },
    /// After a slice: target `index`'s trajectory of (A, B) so far, and whether it is done.
    JointProgress {
        index: usize,
        trajectory: Vec<(f64, f64)>,
        target_done: bool,
        all_done: bool,
    },
    /// The joint job was dropped.
    JointCancelled,
    /// A calibration started: `total` (measure, seed) runs.
    CalibrateStarted { measures: Vec<String>, total: usize },
    /// After a slice: `done` of `total` runs, the last finished (empty before the first), and
    /// the report's rows once all are done.
    CalibrateProgress {
        done: usize,
        total: usize,
        last: String,
        rows: Option<Vec<CalRow>>,
    },
    /// The calibration job was dropped.
    CalibrateCancelled,
    /// The Prune panel's inputs changed (or were confirmed).
    PruneInputs(PruneInputs),
    /// A pruning job started.
    PruneStarted { stages: usize },
    /// After a slice: the stage (fold, or the final selection at `stages − 1`) and the greedy
    /// step of its current path.
    PruneProgress {
        stage: usize,
        stages: usize,
        step: usize,
        steps: usize,
    },
    /// The pruning job finished.
    PruneDone(Box<PruneResult>),
    /// The pruning job was dropped.
    PruneCancelled,
    /// A Prune panel request failed (bad file, invalid RDM, mismatch); the worker's previous
    /// inputs and the page's previous result are kept. Separate from `Error` so a pruning
    /// failure never stops other panels' jobs, and vice versa.
    PruneFailed { message: String },
    /// The request failed; the worker's previous state is unchanged.
    Error { message: String },
}

/// The loaded recording, as the page shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DatasetSummary {
    pub name: String,
    pub dims: Vec<usize>,
    pub conditions: usize,
    /// Task-variable names with their number of classes.
    pub labels: Vec<(String, usize)>,
    /// Explained-variance ratios of the first PCs (at most 200).
    pub explained: Vec<f64>,
    pub rank: usize,
    /// X in its own top two PCs, row-major n × 2.
    pub x_pcs: Vec<f64>,
    pub warnings: Vec<String>,
}

/// One step's state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub step: usize,
    pub score: f64,
    /// Scores of the watched measures, in `Started::watch` order.
    pub watched: Vec<f64>,
    /// Y in X's top two PCs, row-major n × 2.
    pub y_pcs: Vec<f64>,
    /// Why the session stopped, if it did (`stop`, `max_steps`, `non_finite`).
    pub stopped: Option<String>,
    /// R² of X's first PCs predicted from Y (linear alignment, spec §4.1), when computed.
    pub pc_r2: Option<Vec<f64>>,
}
