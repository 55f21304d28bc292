//! The Prune panel's worker side: holds the model features F and the target, and runs
//! `analysis::prune::EvaluationRun` (the job `simscope prune` loops) in slices, so a Cancel (or any other
//! panel's request) waits at most one slice. Failures are `PruneResponse::Failed`, which
//! leaves the inputs as they were.

use nalgebra::DMatrix;

use super::{slice, Loaded};
use crate::analysis::job::Job;
use crate::analysis::prune::{
    self, builtin_demo, curve_csv, rdm, summary_json, EvaluationRun, MeasureFit, Options,
    PruneError, Rdm,
};
use crate::data::{self, npy::read_npy, Recording};
use crate::web::protocol::{PruneInputs, PruneRequest, PruneResponse, PruneResult, PruneSettings};

/// What the panel's target is.
enum Target {
    /// A validated target RDM (stimuli × stimuli).
    Rdm(DMatrix<f64>),
    /// A recording X (stimuli × units): its RDM is built with the run's distance.
    Recording(DMatrix<f64>),
}

/// A running evaluation and what its result needs besides the core's output.
struct Running {
    run: EvaluationRun,
    features: DMatrix<f64>,
    target_rdm: DMatrix<f64>,
    distance: Rdm,
}

/// The Prune panel's inputs and job.
#[derive(Default)]
pub(super) struct PrunePanel {
    features: Option<(String, DMatrix<f64>)>,
    target: Option<(String, Target)>,
    job: Option<Running>,
}

fn failed(message: String) -> PruneResponse {
    PruneResponse::Failed { message }
}

impl PrunePanel {
    pub fn handle(
        &mut self,
        l: Option<&Loaded>,
        req: PruneRequest,
        bytes: Option<Vec<u8>>,
    ) -> PruneResponse {
        match req {
            PruneRequest::Features { name } => self.features(&name, bytes),
            PruneRequest::Target { name, rdm } => self.target(&name, bytes, rdm),
            PruneRequest::TargetLoaded => self.target_recording(l.map(|l| &l.recording)),
            PruneRequest::Demo { name } => self.demo(&name),
            PruneRequest::Start(s) => self.start(&s),
            PruneRequest::Slice => self.slice(),
            PruneRequest::Cancel => self.cancel(),
        }
    }

    fn inputs(&self) -> PruneResponse {
        PruneResponse::Inputs(PruneInputs {
            features: self
                .features
                .as_ref()
                .map(|(n, f)| (n.clone(), f.nrows(), f.ncols())),
            target: self.target.as_ref().map(|(n, t)| match t {
                Target::Rdm(r) => (n.clone(), r.nrows(), "rdm".to_string()),
                Target::Recording(x) => (n.clone(), x.nrows(), "recording".to_string()),
            }),
        })
    }

    /// Model features from a `.npy`/`.npz` file: rows are stimuli (a 3-D recording's
    /// time × condition rows, as everywhere else).
    fn features(&mut self, name: &str, bytes: Option<Vec<u8>>) -> PruneResponse {
        let Some(bytes) = bytes else {
            return failed(format!("{name}: the file's bytes are missing"));
        };
        match data::read_recording(name, &bytes) {
            Ok((rec, _)) if rec.data.ncols() < 2 => failed(format!(
                "{name}: pruning needs at least 2 features (columns), got {}",
                rec.data.ncols()
            )),
            Ok((rec, _)) => {
                self.job = None;
                self.features = Some((name.to_string(), rec.data));
                self.inputs()
            }
            Err(e) => failed(format!("{name}: {e}")),
        }
    }

    /// A target from a file: a 2-D RDM checked by `prune::validate_rdm`, or a recording X.
    fn target(&mut self, name: &str, bytes: Option<Vec<u8>>, is_rdm: bool) -> PruneResponse {
        let Some(bytes) = bytes else {
            return failed(format!("{name}: the file's bytes are missing"));
        };
        let target = if is_rdm {
            let a = match read_npy(&bytes) {
                Ok(a) => a,
                Err(e) => return failed(format!("{name}: {e}")),
            };
            if a.is_text() || a.shape.len() != 2 {
                return failed(format!(
                    "{name}: a target RDM must be a 2-D numeric array (stimuli × stimuli), got shape {:?}",
                    a.shape
                ));
            }
            let r = DMatrix::from_row_slice(a.shape[0], a.shape[1], &a.values);
            if let Err(e) = prune::validate_rdm(&r) {
                return failed(format!("{name}: {e}"));
            }
            Target::Rdm(r)
        } else {
            match data::read_recording(name, &bytes) {
                Ok((rec, _)) => Target::Recording(rec.data),
                Err(e) => return failed(format!("{name}: {e}")),
            }
        };
        self.job = None;
        self.target = Some((name.to_string(), target));
        self.inputs()
    }

    /// The page's loaded recording X as the target, if its stimuli match F's.
    fn target_recording(&mut self, loaded: Option<&Recording>) -> PruneResponse {
        let Some(rec) = loaded else {
            return failed("load a recording X first".into());
        };
        if let Some((fname, f)) = &self.features {
            if f.nrows() != rec.data.nrows() {
                return failed(format!(
                    "the loaded recording {} has {} stimuli (rows) but the features {fname} have {}",
                    rec.name,
                    rec.data.nrows(),
                    f.nrows()
                ));
            }
        }
        self.job = None;
        self.target = Some((rec.name.clone(), Target::Recording(rec.data.clone())));
        self.inputs()
    }

    /// A built-in demo: its features and its target RDM.
    fn demo(&mut self, name: &str) -> PruneResponse {
        let Some((f, r)) = builtin_demo(name) else {
            return failed(format!(
                "no built-in pruning demo named `{name}` (there are: {})",
                prune::DEMO_FEATURES.join(", ")
            ));
        };
        let target_name = if name.ends_with("-hit") {
            "kriegeskorte2008-hit"
        } else {
            "kriegeskorte2008-mit"
        };
        self.job = None;
        self.features = Some((name.to_string(), f));
        self.target = Some((format!("{target_name} RDM"), Target::Rdm(r)));
        self.inputs()
    }

    /// Start an evaluation (replacing a running one) after checking every input.
    fn start(&mut self, s: &PruneSettings) -> PruneResponse {
        match self.try_start(s) {
            Ok(stages) => PruneResponse::Started { stages },
            Err(e) => failed(e),
        }
    }

    fn try_start(&mut self, s: &PruneSettings) -> Result<usize, String> {
        let opts = options(s)?;
        let (_, f) = self
            .features
            .as_ref()
            .ok_or("load model features F first")?;
        let (tname, t) = self.target.as_ref().ok_or("load a target first")?;
        if s.fit != "rsa" {
            // A registered measure between F[:, S] and the target recording X.
            let Target::Recording(x) = t else {
                return Err(PruneError::MeasureNeedsRecording.to_string());
            };
            let m = MeasureFit::new(&s.fit, x.clone()).map_err(|e| e.to_string())?;
            let distance = opts.distance;
            let run = EvaluationRun::with_measure(f.clone(), m, &opts)
                .map_err(|e| format!("{tname}: {e}"))?;
            self.job = Some(Running {
                run,
                features: f.clone(),
                target_rdm: rdm(x, distance),
                distance,
            });
            return Ok(opts.folds + 1);
        }
        let target_rdm = match t {
            Target::Rdm(r) => r.clone(),
            Target::Recording(x) => {
                if x.ncols() < 2 && opts.distance == Rdm::Correlation {
                    return Err(format!(
                        "{tname}: a correlation-distance RDM needs at least 2 units"
                    ));
                }
                rdm(x, opts.distance)
            }
        };
        let run =
            EvaluationRun::new(f.clone(), target_rdm.clone(), &opts).map_err(|e| e.to_string())?;
        self.job = Some(Running {
            run,
            features: f.clone(),
            target_rdm,
            distance: opts.distance,
        });
        Ok(opts.folds + 1)
    }

    /// About `SLICE_MS` of work; the result once the evaluation is done.
    fn slice(&mut self) -> PruneResponse {
        // A slice that crosses a cancel (or new inputs) finds no job: nothing to do.
        let Some(job) = self.job.as_mut() else {
            return PruneResponse::Cancelled;
        };
        if let Err(e) = job.run.advance(&mut slice()) {
            self.job = None;
            return failed(e);
        }
        if !job.run.is_done() {
            let p = job.run.stage_progress();
            return PruneResponse::Progress {
                stage: p.stage,
                stages: p.stages,
                step: p.step,
                steps: p.steps,
            };
        }
        let Running {
            run,
            features,
            target_rdm,
            distance,
        } = self.job.take().expect("checked above");
        match run.result() {
            Some(ev) => {
                PruneResponse::Done(Box::new(result(&features, &target_rdm, distance, &ev)))
            }
            None => failed("the pruning ended without a result".into()),
        }
    }

    fn cancel(&mut self) -> PruneResponse {
        self.job = None;
        PruneResponse::Cancelled
    }
}

/// The CLI's options from the panel's settings (the same words as its flags).
fn options(s: &PruneSettings) -> Result<Options, String> {
    Ok(Options {
        method: prune::method(&s.method)?,
        distance: prune::distance(&s.distance)?,
        compare: prune::comparison(&s.compare)?,
        folds: s.folds,
        seed: s.seed,
        ..Options::default()
    })
}

/// An RDM's off-diagonal entries as ranks scaled to 0..=255 (ties averaged; diagonal 0),
/// row-major, one char per entry (see `PruneResult::rdms`): RDMs of different distances and
/// units then share one colour scale.
fn rank_image(r: &DMatrix<f64>) -> String {
    let n = r.nrows();
    let all: Vec<usize> = (0..n).collect();
    let u = prune::upper(r, &all);
    let rk = prune::ranks(&u);
    let span = (rk.len().max(2) - 1) as f64;
    let mut out = vec![0u8; n * n];
    let mut k = 0;
    for i in 0..n {
        for j in i + 1..n {
            let v = (255.0 * (rk[k] - 1.0) / span).round() as u8;
            out[i * n + j] = v;
            out[j * n + i] = v;
            k += 1;
        }
    }
    out.into_iter().map(char::from).collect()
}

fn result(
    f: &DMatrix<f64>,
    target_rdm: &DMatrix<f64>,
    distance: Rdm,
    ev: &prune::Evaluation,
) -> PruneResult {
    let kept = ev.final_selection.kept.clone();
    let full = rdm(f, distance);
    let pruned = rdm(&f.select_columns(&kept), distance);
    PruneResult {
        n_features: f.ncols(),
        n_stimuli: f.nrows(),
        test_fit_pruned: ev.test_fit_pruned,
        test_fit_full: ev.test_fit_full,
        test_fit_reweighted: ev.test_fit_reweighted,
        curve: ev
            .curve
            .iter()
            .map(|c| (c.n_kept, c.train_fit, c.test_fit))
            .collect(),
        fold_sizes: ev.folds.iter().map(|fo| fo.selection.n_kept).collect(),
        summary_json: summary_json(ev),
        curve_csv: curve_csv(ev),
        rdms: [
            rank_image(target_rdm),
            rank_image(&full),
            rank_image(&pruned),
        ],
        kept,
    }
}
