//! Messages between the page (main thread) and the worker that owns the numerics.
//!
//! Every message is `{ id, body }`; a file's bytes travel beside the body as a transferred
//! `Uint8Array` in `bytes`. Requests and responses are grouped by the panel they belong to
//! (`{ panel: "joint", request: { kind: "start", … } }`), and each panel's responses include
//! its own `Failed`: an error names its panel, and only that panel reacts (a failing joint
//! job never stops a running optimisation). Each request gets exactly one response.

use serde::{Deserialize, Serialize};

pub use crate::analysis::calibrate::ReportRow as CalRow;
pub use crate::analysis::joint::JointSpec;
use crate::analysis::run::DecodeRow;
pub use crate::analysis::run::{RunReport, RunSpec};
use crate::optim::session::OptimizerKind;

/// Page → worker.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "panel", content = "request", rename_all = "snake_case")]
pub enum Request {
    Recording(RecordingRequest),
    Run(RunRequest),
    Perturb(PerturbRequest),
    Joint(JointRequest),
    Calibrate(CalibrateRequest),
    Compare(CompareRequest),
    Prune(PruneRequest),
    Bench(BenchRequest),
    /// The worker → one of its helper workers (never sent by the page).
    Helper(HelperRequest),
}

/// Worker → page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "panel", content = "response", rename_all = "snake_case")]
pub enum Response {
    /// The worker itself (ready, or a message it could not read).
    Worker(WorkerResponse),
    Recording(RecordingResponse),
    Run(RunResponse),
    Perturb(PerturbResponse),
    Joint(JointResponse),
    Calibrate(CalibrateResponse),
    Compare(CompareResponse),
    Prune(PruneResponse),
    Bench(BenchResponse),
    /// A helper worker → the worker (never seen by the page).
    Helper(HelperResponse),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkerResponse {
    /// The worker's module is initialised and listening; `simd` says which build it runs
    /// (the wasm compiled with `+simd128`, or the fallback).
    Ready { simd: bool },
    /// A message the worker could not read, or a worker that could not start.
    Failed { message: String },
}

// ---- Helper workers (the worker's pool; src/web/worker/pool.rs) -------------------------

/// The worker spreads independent units of a job over helper workers (other instances of the
/// same wasm): one `Init` (`Runs`) per job (`job` numbers it), then batches to score (runs to
/// run).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HelperRequest {
    /// Build the scorer of a Compare job's resampling.
    Init {
        job: u64,
        resampling: crate::analysis::compare::Resampling,
    },
    /// Score one batch of that job's samples.
    Score {
        job: u64,
        batch: crate::analysis::compare::SampleBatch,
    },
    /// Prepare X for a calibration's runs (`x` is the recording's matrix).
    Runs {
        job: u64,
        x: crate::analysis::compare::Matrix,
        spec: crate::analysis::calibrate::RunSpec,
    },
    /// Run one of that calibration's (measure, seed) runs to its end.
    Run { job: u64, run: usize },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HelperResponse {
    Initialised {
        job: u64,
    },
    /// `[sample][model][measure]`.
    Scored {
        job: u64,
        batch: crate::analysis::compare::SampleBatch,
        scores: Vec<Vec<Vec<f64>>>,
    },
    Ran {
        job: u64,
        outcome: crate::analysis::calibrate::RunOutcome,
    },
    Failed {
        job: u64,
        message: String,
    },
}

// ---- Recording X -------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordingRequest {
    /// Load a built-in dataset by name.
    Builtin { name: String },
    /// Load a user's `.npy`/`.npz` file (bytes alongside).
    File { name: String },
    /// Attach task labels from a `.npy`/`.csv`/`.json` file (bytes alongside).
    Labels { name: String },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordingResponse {
    /// A recording was loaded (it replaces the previous one; every panel's job is dropped).
    Loaded(DatasetSummary),
    /// The file was refused; the previous recording stays loaded.
    Failed { message: String },
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
    /// The first task variable (it colours the PC plot), if there is one.
    pub first_variable: Option<crate::data::TaskVariable>,
    pub warnings: Vec<String>,
}

// ---- Optimise (the run and its decoding) ------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunRequest {
    /// Start a fresh run on the loaded recording (Reset: the same settings give the same run).
    Start(RunSettings),
    /// Take up to `n` optimisation steps. `full` asks for the per-PC R² of the last step
    /// (otherwise computed only within its time share): an explicit Step, slow motion.
    Step { n: usize, full: bool },
    /// Decode for about 30 ms (X's reference first, then the queued copies of Y). The page
    /// asks again while the answer says work is left, so step requests are served between.
    Work,
    /// Play was paused: queue the Y on screen for decoding.
    Pause,
    /// Y as a `.npy` of the recording's shape (bytes alongside the answer).
    ExportY,
    /// Every score at every step as CSV (the worker writes it as the run goes; the page's
    /// plots keep a thinned copy).
    ExportTrajectory,
}

/// The page's run settings: the core's [`RunSpec`] minus what the worker decides (the page
/// has no step limit and computes the per-PC R² within a time share).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunSettings {
    pub measure: String,
    pub watch: Vec<String>,
    pub lr: f64,
    pub optimizer: OptimizerKind,
    pub seed: u64,
    pub stop: Option<f64>,
    pub decode_every: usize,
    /// Start from this Compare model's activations instead of a random Y₀ ("optimise from
    /// this model"); the model must be open in the Compare panel.
    #[serde(default)]
    pub y0_model: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunResponse {
    /// A run started: canonical ids (optimised first), warnings, the state at Y₀.
    Started {
        ids: Vec<String>,
        variables: Vec<String>,
        warnings: Vec<String>,
        /// What the per-PC R² means for this Y (its warning goes beside the R² plot).
        pc_chance: crate::analysis::LinearChance,
        /// The score at which the run stops, read by the measure (`None`: only when paused).
        stop_at: Option<f64>,
        report: Report,
    },
    /// The state after a `Step`.
    Report(Report),
    /// Decoding finished so far and what is left (`pending`: the step of the Y in progress).
    Decoding {
        rows: Vec<DecodeRow>,
        /// Chance and accuracy from X per variable, once the reference is done.
        reference: Option<Vec<ReferenceRow>>,
        pending: Option<usize>,
        done: usize,
        total: usize,
    },
    /// A step, decode or pause request for a run that a new recording has replaced (it was
    /// sent before the page learnt of the recording): nothing to do, nothing wrong.
    Stale,
    /// A file to save as `name` (its bytes alongside, in `bytes`): Y, or the trajectory.
    Download {
        name: String,
    },
    Failed {
        message: String,
    },
}

/// One step's state, as the page draws it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub run: RunReport,
    /// Y in X's top two PCs, row-major n × 2.
    pub y_pcs: Vec<f64>,
    /// Decoding work is waiting (a decode fell due): the page asks for `Work`.
    pub work: bool,
}

/// Decoding from X (the neural reference) of one variable.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReferenceRow {
    pub name: String,
    /// None when the variable cannot be decoded (the reason is in `note`).
    pub accuracy: Option<f64>,
    pub chance: f64,
    /// X itself decodes it above chance (else no score is "needed": X at chance).
    pub above_chance: bool,
    pub note: String,
}

// ---- Perturb PCs -------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PerturbRequest {
    /// Score a perturbed copy of X (spec §6) against the closed forms.
    Score(PerturbSettings),
    /// The paper's sweep: decorrelate each of the first `max_pcs` PCs in turn, in slices.
    SweepStart {
        measures: Vec<String>,
        max_pcs: usize,
        seed: u64,
    },
    SweepSlice,
    SweepCancel,
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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PerturbResponse {
    /// Scores of a perturbed X: measured and closed form, per canonical id.
    Scored {
        tag: String,
        ids: Vec<String>,
        measured: Vec<f64>,
        theory: Vec<Option<f64>>,
        /// Whether the theory is exact (the complement directions exist).
        exact: bool,
    },
    /// The sweep so far: (variance ratio, measured per id, theory per id) per PC.
    Sweep {
        ids: Vec<String>,
        rows: Vec<crate::plot::SweepRow>,
        exact: bool,
        done: usize,
        total: usize,
    },
    SweepCancelled,
    Failed {
        message: String,
    },
}

// ---- Joint -------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JointRequest {
    /// Start a joint job (spec §7): every perimeter target from one shared Y₀, in slices.
    Start(JointSpec),
    /// Run the next ~30 ms of the joint job.
    Slice,
    /// Drop the joint job.
    Cancel,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JointResponse {
    /// A joint job started: canonical ids, its targets, the ranks of X and Y₀ (for the
    /// analytic CKA–NBS bounds).
    Started {
        a: String,
        b: String,
        targets: Vec<(f64, f64)>,
        rank_x: usize,
        rank_y: usize,
    },
    /// After a slice: targets finished in it (index, (A, B) trajectory), the target in
    /// progress with its trajectory so far, and whether all are done.
    Progress {
        finished: Vec<(usize, Vec<(f64, f64)>)>,
        current: Option<(usize, Vec<(f64, f64)>)>,
        all_done: bool,
    },
    Cancelled,
    Failed {
        message: String,
    },
}

// ---- Calibration -------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CalibrateRequest {
    /// Start a calibration report on the loaded recording and labels.
    Start {
        measures: Vec<String>,
        seeds: usize,
        lr: f64,
    },
    Slice,
    Cancel,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CalibrateResponse {
    /// A calibration started: `total` (measure, seed) runs.
    Started {
        measures: Vec<String>,
        total: usize,
    },
    /// After a slice: `done` of `total` runs, the last finished (empty before the first), and
    /// the report's rows once all are done. `threads`: this worker and the helpers that ran
    /// a run of this job; `waiting`: every run left is with a helper (ask again later).
    Progress {
        done: usize,
        total: usize,
        last: String,
        rows: Option<Vec<CalRow>>,
        threads: usize,
        waiting: bool,
    },
    Cancelled,
    Failed {
        message: String,
    },
}

// ---- Compare a model ---------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CompareRequest {
    /// Read a model's activations (the file's bytes beside) and check them against X; it
    /// joins the open models (replacing one of the same name).
    Model {
        name: String,
    },
    /// Close the open model of this name.
    Remove {
        name: String,
    },
    /// Compare the model with the loaded recording (`simscope compare`'s flags).
    Start(CompareSettings),
    Slice,
    Cancel,
}

/// What the Compare panel asks for (the CLI's flags of the same names).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CompareSettings {
    pub measures: Vec<String>,
    pub bootstrap: usize,
    pub permutations: usize,
    pub seed: u64,
    pub calibrate: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CompareResponse {
    /// The open models, as (name, shape), after one was read (it fits X's conditions;
    /// `warnings` from the reader and the checks) or closed.
    Models {
        models: Vec<(String, Vec<usize>)>,
        warnings: Vec<String>,
    },
    Started {
        total: usize,
    },
    /// After a slice: `done` of `total` units, the unit in progress, and once done the report
    /// as the JSON document `simscope compare` prints (byte for byte).
    Progress {
        done: usize,
        total: usize,
        what: String,
        report: Option<String>,
        /// Threads that scored samples of this job: the worker and the helpers that did.
        threads: usize,
    },
    Cancelled,
    Failed {
        message: String,
    },
}

// ---- Prune features ----------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PruneRequest {
    /// Model features F from a file (bytes alongside), stimuli × features.
    Features {
        name: String,
    },
    /// The target from a file (bytes alongside): a target RDM (`rdm`) or a recording X.
    Target {
        name: String,
        rdm: bool,
    },
    /// The loaded recording X as the target.
    TargetLoaded,
    /// A built-in demo's features and target RDM (`analysis::prune::builtin_demo`).
    Demo {
        name: String,
    },
    /// Start a pruning evaluation on the panel's inputs.
    Start(PruneSettings),
    Slice,
    Cancel,
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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PruneResponse {
    /// The inputs changed (or were confirmed).
    Inputs(PruneInputs),
    Started {
        stages: usize,
    },
    /// After a slice: the stage (fold, or the final selection at `stages − 1`) and the greedy
    /// step of its current path.
    Progress {
        stage: usize,
        stages: usize,
        step: usize,
        steps: usize,
    },
    Done(Box<PruneResult>),
    Cancelled,
    /// A request failed (bad file, invalid RDM, mismatch); the previous inputs and result are
    /// kept.
    Failed {
        message: String,
    },
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

// ---- Benchmarks (no panel: `scripts/bench-browser.mjs`) ---------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BenchRequest {
    /// Time `score_and_grad` + Adam steps of `measure` on random n × p data in the worker,
    /// exactly as `simscope bench` does natively.
    Steps {
        measure: String,
        n: usize,
        p: usize,
        budget_s: f64,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BenchResponse {
    /// The median milliseconds per step over `steps` timed steps.
    Steps {
        measure: String,
        n: usize,
        p: usize,
        median_ms: f64,
        steps: usize,
    },
    Failed {
        message: String,
    },
}
