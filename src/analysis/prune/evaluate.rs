//! The honest evaluation: for each seeded outer fold, select on the training stimuli only and
//! score on pairs among the held-out ones; then a final selection on all stimuli. One
//! resumable job ([`EvaluationRun`], an [`analysis::job::Job`](crate::analysis::job::Job)).

use nalgebra::DMatrix;

use super::fit::{measure_reweighted_fit, MeasureFit};
use super::nnls::{reweight, reweighted_fit};
use super::path::{fit_subset, measure_path_fits, path_fits};
use super::rdm::{rdm, upper, validate_rdm};
use super::select::{permutation, SelectRun, Selection};
use super::{Options, PruneError};
use crate::analysis::job::{Budget, Job, Progress};

/// One outer fold's results.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    /// Held-out stimuli (ascending).
    pub test: Vec<usize>,
    pub selection: Selection,
    /// Test fit along `selection.path.grid`.
    pub test_curve: Vec<f64>,
    pub test_fit_pruned: f64,
    pub test_fit_full: f64,
    pub test_fit_reweighted: f64,
}

/// One row of the train/test curve (fits averaged over folds).
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    pub n_kept: usize,
    pub train_fit: f64,
    pub test_fit: f64,
}

/// The whole honest evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub folds: Vec<Fold>,
    pub curve: Vec<CurvePoint>,
    pub test_fit_pruned: f64,
    pub test_fit_full: f64,
    pub test_fit_reweighted: f64,
    /// Final selection on all stimuli (what `kept` reports).
    pub final_selection: Selection,
}

/// Where an evaluation is, in its own units (what a progress callback is told).
#[derive(Clone, Copy, Debug)]
pub struct StageProgress {
    /// Current stage (0-based) of `stages`: one per fold plus the final selection.
    pub stage: usize,
    pub stages: usize,
    /// Greedy steps done / total in the current path.
    pub step: usize,
    pub steps: usize,
}

/// Seeded k-fold split of 0..n: fold sizes differ by at most one; each fold ascending.
pub fn folds(n: usize, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let perm = permutation(n, seed);
    let mut out = vec![Vec::new(); k];
    for (r, &s) in perm.iter().enumerate() {
        out[r % k].push(s);
    }
    out.iter_mut().for_each(|f| f.sort_unstable());
    out
}

/// Check the inputs of [`evaluate`].
pub fn check_inputs(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    opts: &Options,
) -> Result<(), PruneError> {
    validate_rdm(target)?;
    let n = f.nrows();
    if target.nrows() != n {
        return Err(PruneError::Mismatch {
            features: n,
            target: target.nrows(),
        });
    }
    for j in 0..f.ncols() {
        for i in 0..n {
            if !f[(i, j)].is_finite() {
                return Err(PruneError::NonFiniteFeature { i, j });
            }
        }
    }
    if f.ncols() < 2 {
        return Err(PruneError::TooFewFeatures(f.ncols()));
    }
    if opts.folds < 2 {
        return Err(PruneError::Folds(opts.folds));
    }
    // Each test fold needs ≥ 3 stimuli; each training set needs ≥ 6 (3 inner + 3 validation).
    let need = (3 * opts.folds).max(12);
    if n < need {
        return Err(PruneError::TooFewStimuli {
            n,
            folds: opts.folds,
            need,
        });
    }
    let all: Vec<usize> = (0..n).collect();
    let u = upper(target, &all);
    if u.iter().all(|&v| v == u[0]) {
        return Err(PruneError::ConstantTarget);
    }
    Ok(())
}

/// The honest evaluation ([`evaluate`]) as a resumable job owning its inputs, so the page's
/// worker can run it in slices of a few milliseconds and drop it on Cancel, and the CLI loops
/// it to the end ([`Job`]). A unit ([`EvaluationRun::step`]) is one greedy step or the
/// bookkeeping around one path or fold (at most an NNLS fit on the training pairs); running it
/// to the end gives exactly [`evaluate`]'s result, whatever the budgets.
pub struct EvaluationRun {
    f: DMatrix<f64>,
    target: DMatrix<f64>,
    opts: Options,
    split: Vec<Vec<usize>>,
    /// Stage in progress: fold k < folds, or the final selection (k = folds).
    stage: usize,
    selection: SelectRun,
    folds: Vec<Fold>,
    /// The fit, when it is a measure rather than RSA.
    measure: Option<MeasureFit>,
    /// The result, once done (driven as a [`Job`]).
    outcome: Option<Evaluation>,
    /// Whether the last unit ran (the result was handed over or kept) or a unit failed.
    finished: bool,
    failed: bool,
}

impl EvaluationRun {
    /// Check the inputs ([`check_inputs`]) and set up the first fold.
    pub fn new(f: DMatrix<f64>, target: DMatrix<f64>, opts: &Options) -> Result<Self, PruneError> {
        Self::build(f, target, None, opts)
    }

    /// The evaluation with a registered measure between F[:, S] and the target recording X as
    /// the fit (selection, validation and test scores on the stimuli's rows). The reweighting
    /// baseline keeps its NNLS fit of per-feature squared-difference RDMs to X's RDM (with
    /// `opts.distance`) on the training pairs, and is scored by the measure as the features
    /// scaled by √w (whose squared-Euclidean RDM is that reweighted RDM).
    pub fn with_measure(
        f: DMatrix<f64>,
        measure: MeasureFit,
        opts: &Options,
    ) -> Result<Self, PruneError> {
        if measure.x.nrows() != f.nrows() {
            return Err(PruneError::Mismatch {
                features: f.nrows(),
                target: measure.x.nrows(),
            });
        }
        let target = rdm(&measure.x, opts.distance);
        Self::build(f, target, Some(measure), opts)
    }

    fn build(
        f: DMatrix<f64>,
        target: DMatrix<f64>,
        measure: Option<MeasureFit>,
        opts: &Options,
    ) -> Result<Self, PruneError> {
        check_inputs(&f, &target, opts)?;
        let split = folds(f.nrows(), opts.folds, opts.seed);
        let selection = Self::stage_selection(&f, &target, measure.as_ref(), opts, &split, 0)?;
        Ok(EvaluationRun {
            f,
            target,
            opts: opts.clone(),
            split,
            stage: 0,
            selection,
            folds: Vec::with_capacity(opts.folds),
            measure,
            outcome: None,
            finished: false,
            failed: false,
        })
    }

    /// Training stimuli of fold `k` (all stimuli for the final stage).
    fn train(n: usize, split: &[Vec<usize>], k: usize) -> Vec<usize> {
        match split.get(k) {
            Some(test) => (0..n).filter(|s| test.binary_search(s).is_err()).collect(),
            None => (0..n).collect(),
        }
    }

    fn stage_selection(
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        measure: Option<&MeasureFit>,
        opts: &Options,
        split: &[Vec<usize>],
        k: usize,
    ) -> Result<SelectRun, PruneError> {
        let train = Self::train(f.nrows(), split, k);
        let inner_seed = if k < split.len() {
            opts.seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(k as u64 + 1))
        } else {
            opts.seed ^ 0xF1A1
        };
        SelectRun::with_fit(f, target, measure, &train, opts, inner_seed)
    }

    /// Where the run is (the stage and the current path's step).
    pub fn stage_progress(&self) -> StageProgress {
        let (step, steps) = self.selection.progress();
        StageProgress {
            stage: self.stage,
            stages: self.opts.folds + 1,
            step,
            steps,
        }
    }

    /// Whether the next [`EvaluationRun::step`] is a greedy step.
    pub fn at_step(&self) -> bool {
        self.selection.at_step()
    }

    /// One unit of work; the evaluation (handed over) once the final selection is done. After
    /// that, or after an error, the run is done; [`Job::advance`] keeps the evaluation for
    /// [`Job::result`] instead.
    pub fn step(&mut self) -> Result<Option<Evaluation>, PruneError> {
        if self.finished {
            return Ok(None);
        }
        let out = self.unit();
        match &out {
            Ok(Some(_)) => self.finished = true,
            Err(_) => {
                self.finished = true;
                self.failed = true;
            }
            Ok(None) => {}
        }
        out
    }

    fn unit(&mut self) -> Result<Option<Evaluation>, PruneError> {
        let (f, target, opts) = (&self.f, &self.target, &self.opts);
        let Some(selection) = self.selection.advance(f, target, opts)? else {
            return Ok(None);
        };
        let k = self.stage;
        if k < opts.folds {
            let test = &self.split[k];
            let train = Self::train(f.nrows(), &self.split, k);
            let measure = self.measure.as_ref();
            let test_curve = match measure {
                Some(m) => measure_path_fits(f, m, test, &selection.path)?,
                None => path_fits(f, target, test, &selection.path, opts),
            };
            let i = selection
                .path
                .grid
                .iter()
                .position(|&g| g == selection.n_kept)
                .unwrap_or(0);
            let w = reweight(f, target, &train);
            let all_features: Vec<usize> = (0..f.ncols()).collect();
            let (test_fit_full, test_fit_reweighted) = match measure {
                Some(m) => (
                    m.score(f, test, &all_features)?,
                    measure_reweighted_fit(f, m, test, &w)?,
                ),
                None => (
                    fit_subset(f, target, test, &all_features, opts),
                    reweighted_fit(f, target, test, &w, opts.compare),
                ),
            };
            self.folds.push(Fold {
                test: test.clone(),
                test_fit_pruned: test_curve[i],
                test_fit_full,
                test_fit_reweighted,
                selection,
                test_curve,
            });
            self.stage += 1;
            self.selection =
                Self::stage_selection(f, target, measure, opts, &self.split, self.stage)?;
            return Ok(None);
        }
        let out = std::mem::take(&mut self.folds);
        let grid = out[0].selection.path.grid.clone();
        let kf = out.len() as f64;
        let curve = grid
            .iter()
            .enumerate()
            .map(|(i, &n_kept)| CurvePoint {
                n_kept,
                train_fit: out.iter().map(|fo| fo.selection.path.fit[i]).sum::<f64>() / kf,
                test_fit: out.iter().map(|fo| fo.test_curve[i]).sum::<f64>() / kf,
            })
            .collect();
        let mean = |g: fn(&Fold) -> f64| out.iter().map(g).sum::<f64>() / kf;
        Ok(Some(Evaluation {
            test_fit_pruned: mean(|f| f.test_fit_pruned),
            test_fit_full: mean(|f| f.test_fit_full),
            test_fit_reweighted: mean(|f| f.test_fit_reweighted),
            curve,
            folds: out,
            final_selection: selection,
        }))
    }
}

impl Job for EvaluationRun {
    type Output = Evaluation;

    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.finished {
            if let Some(ev) = self.step().map_err(|e| e.to_string())? {
                self.outcome = Some(ev);
            }
            if budget.spent() {
                break;
            }
        }
        Ok(())
    }

    /// Stages done of `folds + 1` (each fold, then the final selection), and the current
    /// path's step in words.
    fn progress(&self) -> Progress {
        let p = self.stage_progress();
        let what = if p.stage + 1 >= p.stages {
            "final selection on all stimuli".to_string()
        } else {
            format!("fold {}/{}", p.stage + 1, p.stages - 1)
        };
        Progress {
            done: if self.finished { p.stages } else { p.stage },
            total: p.stages,
            what: format!("{what}, step {}/{}", p.step, p.steps),
        }
    }

    fn is_done(&self) -> bool {
        self.finished
    }

    fn result(self) -> Option<Evaluation> {
        self.outcome
    }
}

/// [`evaluate`] with a registered measure as the fit ([`EvaluationRun::with_measure`]).
pub fn evaluate_measure(
    f: &DMatrix<f64>,
    measure: &MeasureFit,
    opts: &Options,
    progress: &mut dyn FnMut(StageProgress) -> bool,
) -> Result<Evaluation, PruneError> {
    drive(
        EvaluationRun::with_measure(f.clone(), measure.clone(), opts)?,
        progress,
    )
}

/// Honest evaluation: for each seeded outer fold, select on the training stimuli only, score on
/// pairs among the held-out stimuli; then a final selection on all stimuli. `progress` is
/// called before every greedy step and returns false to cancel.
pub fn evaluate(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    opts: &Options,
    progress: &mut dyn FnMut(StageProgress) -> bool,
) -> Result<Evaluation, PruneError> {
    drive(
        EvaluationRun::new(f.clone(), target.clone(), opts)?,
        progress,
    )
}

/// Run to the end unit by unit, asking `progress` before every greedy step whether to go on.
fn drive(
    mut run: EvaluationRun,
    progress: &mut dyn FnMut(StageProgress) -> bool,
) -> Result<Evaluation, PruneError> {
    loop {
        if run.at_step() && !progress(run.stage_progress()) {
            return Err(PruneError::Cancelled);
        }
        if let Some(ev) = run.step()? {
            return Ok(ev);
        }
    }
}

/// The summary `simscope prune` prints on stdout (and the page exports): kept features
/// (0-based) and the three mean test fits, as compact JSON with sorted keys.
pub fn summary_json(ev: &Evaluation) -> String {
    serde_json::json!({"kept": ev.final_selection.kept, "test_fit_pruned": ev.test_fit_pruned,
        "test_fit_full": ev.test_fit_full, "test_fit_reweighted": ev.test_fit_reweighted})
    .to_string()
}

/// The curve as `simscope prune` writes `DIR/curve.csv`: `n_kept,train_fit,test_fit`, full
/// precision (shortest round-trip form), a non-finite fit as an empty field.
pub fn curve_csv(ev: &Evaluation) -> String {
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v}")
        } else {
            String::new()
        }
    };
    let mut out = String::from("n_kept,train_fit,test_fit\n");
    for c in &ev.curve {
        out.push_str(&format!(
            "{},{},{}\n",
            c.n_kept,
            num(c.train_fit),
            num(c.test_fit)
        ));
    }
    out
}
