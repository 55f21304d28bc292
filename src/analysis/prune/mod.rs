//! Feature pruning after Tarigopula et al. 2023 ("Improved prediction of behavioral and neural
//! similarity spaces using pruned DNNs", Neural Networks): keep the model features whose RDM
//! best explains a brain RDM, with an honest out-of-sample evaluation.
//!
//! * **RDMs** of a feature subset S over stimuli: correlation distance 1 − r(x_i|S, x_j|S)
//!   (rows centred across the kept features) or squared Euclidean Σ_{f∈S}(x_if − x_jf)².
//! * **Fit**: Pearson or Spearman correlation of the upper triangles (pairs among a stimulus set).
//! * **Greedy paths** (backward elimination, forward selection) with exact incremental updates:
//!   squared Euclidean is a sum of per-feature terms, so toggling one feature changes every pair
//!   by one term; correlation distance keeps running sums P_ij = Σ_S x_if x_jf, P_ii and
//!   s_i = Σ_S x_if, from which c_ij = P_ij − s_i s_j/|S| and d_ij = 1 − c_ij/√(c_ii c_jj) follow
//!   in O(1) per pair. Scoring one candidate costs O(pairs) (Pearson) or O(pairs log pairs)
//!   (Spearman, a sort), so a greedy step costs O(features × pairs) (× log pairs for Spearman).
//!   After each committed step the state is recomputed from scratch (O(|S| × pairs), no drift).
//! * **Stopping** on validation fit: the path is also run on inner splits of the training
//!   stimuli and the number of kept features maximising the mean fit on pairs among the inner
//!   validation stimuli is used.
//! * **Honest evaluation**: a seeded k-fold split of stimuli; selection on training stimuli
//!   only; test fit on pairs among held-out stimuli; baselines: all features, and a reweighting
//!   of per-feature squared-difference RDMs by non-negative least squares (Lawson–Hanson).
//!
//! | file | what |
//! | --- | --- |
//! | `rdm.rs` | RDMs of feature subsets over pairs of stimuli, the incremental [`SubsetRdm`], fits |
//! | `path.rs` | greedy paths ([`PathRun`]: backward elimination, forward selection) |
//! | `select.rs` | one selection: inner validation splits choose the number of features |
//! | `nnls.rs` | the reweighting baseline (non-negative least squares) |
//! | `fit.rs` | a registered measure as the fit instead of RSA ([`MeasureFit`]) |
//! | `evaluate.rs` | the honest evaluation as a resumable job ([`EvaluationRun`]) |
//! | `demo.rs` | built-in demo features and target RDMs |
//!
//! RDMs and comparisons use the RSA measures' vocabulary ([`Rdm`], [`Compare`] from
//! `measures::rsa`).

mod demo;
mod evaluate;
mod fit;
mod nnls;
mod path;
mod rdm;
mod select;

pub use crate::measures::rsa::{pearson, ranks, Compare, Rdm};
pub use demo::{
    builtin_demo, builtin_features, builtin_target_rdm, category_features, demo_features,
    CATEGORY_FEATURES, DEMO_FEATURES, DEMO_NUISANCE, DEMO_SIGNAL,
};
pub use evaluate::{
    check_inputs, curve_csv, evaluate, evaluate_measure, folds, summary_json, CurvePoint,
    Evaluation, EvaluationRun, Fold, StageProgress,
};
pub use fit::{measure_reweighted_fit, MeasureFit};
pub use nnls::{nnls, nnls_gram, reweight, reweighted_fit};
pub use path::{fit_subset, greedy_path, measure_path_fits, path_fits, Path, PathRun};
pub use rdm::{compare, rdm, upper, validate_rdm, SubsetRdm};
pub use select::{select, SelectRun, Selection};

/// Greedy direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Start from every feature, remove the one whose removal gives the best fit.
    Backward,
    /// Start from none, add the one whose addition gives the best fit.
    Forward,
}

/// Why pruning cannot run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PruneError {
    #[error("the target RDM must be square, got {rows} × {cols}")]
    NotSquare { rows: usize, cols: usize },
    #[error("the target RDM has a non-finite entry at ({i}, {j})")]
    NonFinite { i: usize, j: usize },
    #[error("the target RDM is not symmetric: entries ({i}, {j}) and ({j}, {i}) differ by {diff:e} (tolerance {tol:e})")]
    NotSymmetric {
        i: usize,
        j: usize,
        diff: f64,
        tol: f64,
    },
    #[error("the target RDM's diagonal must be zero, but entry ({i}, {i}) is {value}")]
    NonZeroDiagonal { i: usize, value: f64 },
    #[error("the target RDM is constant off the diagonal: no fit can be computed")]
    ConstantTarget,
    #[error("the features have {features} stimuli (rows) but the target has {target}")]
    Mismatch { features: usize, target: usize },
    #[error("the features matrix has a non-finite value at ({i}, {j})")]
    NonFiniteFeature { i: usize, j: usize },
    #[error("pruning needs at least 2 features, got {0}")]
    TooFewFeatures(usize),
    #[error("pruning needs at least {need} stimuli for {folds} folds (each held-out fold needs 3 stimuli and each training set 6), got {n}")]
    TooFewStimuli { n: usize, folds: usize, need: usize },
    #[error("--folds must be at least 2, got {0}")]
    Folds(usize),
    #[error("cancelled")]
    Cancelled,
    #[error("fit measure: {0}")]
    Measure(String),
    #[error("`{0}` is a distance (lower = more similar); the fit must be a similarity measure")]
    NotSimilarity(String),
    #[error("a measure as the fit needs a target recording X (stimuli × units), not a target RDM")]
    MeasureNeedsRecording,
    #[error("the target recording has a non-finite value at ({i}, {j})")]
    NonFiniteTarget { i: usize, j: usize },
}

/// The greedy direction named by the word every face uses (the CLI's `--method`, the page's
/// setting, Python's keyword): `backward` or `forward`.
pub fn method(word: &str) -> Result<Method, String> {
    match word {
        "backward" => Ok(Method::Backward),
        "forward" => Ok(Method::Forward),
        o => Err(format!("--method must be backward or forward, got `{o}`")),
    }
}

/// The model RDM's distance by its word: `correlation` or `sqeuclidean`.
pub fn distance(word: &str) -> Result<Rdm, String> {
    match word {
        "correlation" => Ok(Rdm::Correlation),
        "sqeuclidean" => Ok(Rdm::SquaredEuclidean),
        o => Err(format!(
            "--distance must be correlation or sqeuclidean, got `{o}`"
        )),
    }
}

/// How the RDMs are compared, by its word: `pearson` or `spearman`.
pub fn comparison(word: &str) -> Result<Compare, String> {
    match word {
        "pearson" => Ok(Compare::Pearson),
        "spearman" => Ok(Compare::Spearman),
        o => Err(format!("--compare must be pearson or spearman, got `{o}`")),
    }
}

/// Options of a pruning run.
#[derive(Clone, Debug)]
pub struct Options {
    pub distance: Rdm,
    pub compare: Compare,
    pub method: Method,
    /// Outer folds (k ≥ 2).
    pub folds: usize,
    pub seed: u64,
    /// Fraction of the training stimuli held out as the inner validation set (default 0.25).
    pub inner_fraction: f64,
    /// Number of seeded inner splits whose validation curves are averaged (default 3).
    pub inner_repeats: usize,
    /// Backward elimination removes one feature per step while at most this many remain;
    /// above it, it removes the worst 5% (ranked by their single-removal fits) per step.
    pub exact_below: usize,
    /// Forward selection stops after this many features (default 256: a full forward path costs
    /// O(features² × pairs)).
    pub max_kept: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            distance: Rdm::Correlation,
            compare: Compare::Pearson,
            method: Method::Backward,
            folds: 5,
            seed: 0,
            inner_fraction: 0.25,
            inner_repeats: 3,
            exact_below: 256,
            max_kept: 256,
        }
    }
}
