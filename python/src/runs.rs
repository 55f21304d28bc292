//! Optimisation runs: `simscope optimize` (the core's `analysis::run::Run` job) and
//! `simscope joint` (`analysis::joint::JointJob`), returning what the CLI writes with `--out`.

use nalgebra::DMatrix;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::json;
use simscope::analysis::decode::decodable_threshold;
use simscope::analysis::joint::{nbs_bounds_given_cka, JointJob, JointSpec};
use simscope::analysis::run::{PcSchedule, Run, RunSpec, StopScale};
use simscope::optim::session::{OptimizerKind, StepReport, StopReason};

use crate::analyses::check_lr;
use crate::arrays::{recording, recording_with_labels, to_numpy, PyTaskVariable};
use crate::error;
use crate::jobs::{run_job, run_to_result};

/// The core's run defaults (`RunSpec::default()`, the CLI's): measure, lr, steps, stop,
/// seed, decode_every, pc_every, snapshot_every.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn optimize_defaults() -> (
    String,
    f64,
    Option<usize>,
    Option<f64>,
    u64,
    Option<usize>,
    usize,
    usize,
) {
    let d = RunSpec::default();
    let pc_every = match d.pc_schedule {
        PcSchedule::Steps(k) => k,
        PcSchedule::TimeShare(_) => 1,
    };
    (
        d.measure,
        d.lr,
        d.max_steps,
        d.stop,
        d.seed,
        d.decode_every,
        pc_every,
        d.snapshot_every,
    )
}

/// What a finished run leaves for Python (everything the CLI writes with `--out`).
struct Finished {
    output: simscope::analysis::run::RunOutput,
    ids: Vec<String>,
    tracked: usize,
    y: DMatrix<f64>,
    snapshots: Vec<(usize, DMatrix<f64>)>,
}

/// `simscope optimize X --out DIR`: one optimisation run, every step recorded, the per-PC R²
/// every `pc_every` updates and (with task variables) the decoding every `decode_every`.
#[pyfunction]
#[pyo3(signature = (x, labels, measure, watch, optimizer, lr, steps, stop, seed, snapshot_every, decode_every, pc_every, replicate_nan, y0=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn optimize<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: Vec<PyTaskVariable>,
    measure: String,
    watch: Vec<String>,
    optimizer: &str,
    lr: f64,
    steps: usize,
    stop: Option<f64>,
    seed: u64,
    snapshot_every: usize,
    decode_every: usize,
    pc_every: usize,
    replicate_nan: bool,
    y0: Option<Bound<'py, PyAny>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
    check_lr(lr)?;
    if stop.is_some_and(f64::is_nan) {
        return Err(error("--stop must be a number or `none`, got `NaN`"));
    }
    let optimizer: OptimizerKind = optimizer.parse().map_err(error)?;
    let (rec, mut warnings) = recording_with_labels("X", x, labels)?;
    // Y₀ = a model's activations (`simscope optimize --y0`), checked as Compare checks one.
    let mut y0 = match y0 {
        Some(y) => {
            let (r, w) = recording("y0", &y)?;
            warnings.extend(w);
            let model = simscope::analysis::compare::Model {
                name: "y0".into(),
                dims: r.dims,
                data: r.data,
            };
            warnings.extend(
                simscope::analysis::compare::check_model(&rec.dims, rec.data.nrows(), &model)
                    .map_err(error)?,
            );
            Some(model.data)
        }
        None => None,
    };
    let spec = RunSpec {
        measure,
        watch,
        optimizer,
        lr,
        seed,
        stop,
        stop_scale: StopScale::Absolute,
        max_steps: Some(steps),
        replicate_nan,
        snapshot_every,
        pc_schedule: PcSchedule::Steps(pc_every),
        decode_every: (!rec.labels.is_empty()).then_some(decode_every),
        decode_every_score: None,
    };
    let mut records: Vec<StepReport> = Vec::new();
    let mut run_warnings = Vec::new();
    let mut pc_chance = f64::NAN;
    let done = run_job(
        py,
        progress,
        || {
            let t = std::sync::Arc::new(
                simscope::target::Target::new(&rec.data)
                    .map_err(|e| format!("{}: {e}", rec.name))?,
            );
            let run = match y0.take() {
                Some(y0) => Run::from_y0(&rec, t, &spec, y0)?,
                None => Run::new(&rec, t, &spec)?,
            };
            run_warnings.extend(run.warnings().iter().cloned());
            run_warnings.extend(run.pc_chance().warning().map(|w| format!("per-PC R²: {w}")));
            pc_chance = run.pc_chance().level;
            Ok(run)
        },
        |r| records.extend(r.take_records()),
        |r| {
            let session = r.session();
            Some(Finished {
                ids: r.ids().to_vec(),
                tracked: r.tracked_pcs(),
                y: session.y().clone(),
                snapshots: session
                    .snapshots()
                    .iter()
                    .map(|s| (s.step, s.y.clone()))
                    .collect(),
                output: r.output(),
            })
        },
    )?;
    warnings.extend(run_warnings);
    let out = done.output;
    if out.report.stopped == Some(StopReason::NonFinite) {
        warnings.push("the next update would have made the score or gradient non-finite; stopped at the last finite Y".into());
    }
    let d = PyDict::new(py);
    d.set_item("steps", out.report.step)?;
    d.set_item("final_score", out.report.score)?;
    d.set_item(
        "stopped_by",
        out.report.stopped.map_or("max_steps", |s| s.as_str()),
    )?;
    d.set_item("ids", done.ids.clone())?;
    // A random Y's per-PC R² for this Y's rank (1: every PC trivially captured).
    d.set_item("pc_r2_chance", pc_chance)?;
    // trajectory.csv: step, objective, then one column per watched measure.
    let traj = PyDict::new(py);
    traj.set_item("step", records.iter().map(|r| r.step).collect::<Vec<_>>())?;
    traj.set_item(
        "objective",
        records.iter().map(|r| r.score).collect::<Vec<_>>(),
    )?;
    for (k, id) in done.ids[1..].iter().enumerate() {
        traj.set_item(id, records.iter().map(|r| r.watched[k]).collect::<Vec<_>>())?;
    }
    d.set_item("trajectory", traj)?;
    // pc_r2.csv: step, score and the R² of each of the first `tracked` PCs.
    let pc = PyDict::new(py);
    pc.set_item(
        "step",
        out.pc_rows.iter().map(|r| r.step).collect::<Vec<_>>(),
    )?;
    pc.set_item(
        "score",
        out.pc_rows.iter().map(|r| r.score).collect::<Vec<_>>(),
    )?;
    let r2 = DMatrix::from_fn(out.pc_rows.len(), done.tracked, |i, j| out.pc_rows[i].r2[j]);
    pc.set_item("r2", to_numpy(py, &[r2.nrows(), r2.ncols()], r2))?;
    d.set_item("pc_r2", pc)?;
    if !rec.labels.is_empty() {
        // decoding.csv and decoding_reference.csv.
        let dec = PyDict::new(py);
        dec.set_item(
            "step",
            out.decoded.iter().map(|r| r.step).collect::<Vec<_>>(),
        )?;
        dec.set_item(
            "score",
            out.decoded.iter().map(|r| r.score).collect::<Vec<_>>(),
        )?;
        for (k, v) in rec.labels.iter().enumerate() {
            let acc: Vec<f64> = out
                .decoded
                .iter()
                .map(|r| r.accuracy[k].unwrap_or(f64::NAN))
                .collect();
            dec.set_item(&v.name, acc)?;
        }
        d.set_item("decoding", dec)?;
        let refs = PyDict::new(py);
        for (v, r) in rec.labels.iter().zip(&out.reference) {
            match r {
                Ok(r) => {
                    if r.pooled {
                        warnings.push(format!("`{}`: too few samples per class in a time step for {}-fold CV; time steps were pooled as samples", v.name, r.folds));
                    }
                    let row = json!({"reference": r.accuracy, "chance": r.chance,
                        "threshold": decodable_threshold(r.chance, r.accuracy),
                        "pooled": r.pooled, "folds": r.folds});
                    refs.set_item(&v.name, pythonize::pythonize(py, &row)?)?;
                }
                Err(e) => warnings.push(e.to_string()),
            }
        }
        d.set_item("decoding_reference", refs)?;
    }
    d.set_item("Y", to_numpy(py, &rec.dims, done.y))?;
    let snaps = PyDict::new(py);
    for (step, y) in done.snapshots {
        snaps.set_item(step, to_numpy(py, &rec.dims, y))?;
    }
    d.set_item("snapshots", snaps)?;
    Ok((d.into_any(), warnings))
}

/// `simscope joint X --a A --b B --out DIR`: from one shared Y₀, minimise |A − t_A| + |B − t_B|
/// for each target on the perimeter of the unit square (spec §7).
#[pyfunction]
#[pyo3(signature = (x, a, b, per_side, steps, lr, seed, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn joint<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    a: String,
    b: String,
    per_side: usize,
    steps: usize,
    lr: f64,
    seed: u64,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
    check_lr(lr)?;
    let (rec, mut warnings) = recording("X", x)?;
    let t = py.detach(|| -> PyResult<_> {
        let t = std::sync::Arc::new(
            simscope::target::Target::new(&rec.data)
                .map_err(|e| error(format!("{}: {e}", rec.name)))?,
        );
        for id in [&a, &b] {
            let (_, w) =
                simscope::measures::registry::prepare(id, t.clone(), t.p).map_err(error)?;
            warnings.extend(w);
        }
        Ok(t)
    })?;
    let (rank_x, n, q) = (t.rank(), t.n, t.p);
    let spec = JointSpec {
        a,
        b,
        per_side,
        steps,
        lr,
        seed,
    };
    let mut canon = (String::new(), String::new());
    let runs = run_to_result(py, progress, || {
        let job = JointJob::new(t, &spec)?;
        canon = (job.spec().a.clone(), job.spec().b.clone());
        Ok(job)
    })?;
    let (ca, cb) = canon;
    let d = PyDict::new(py);
    d.set_item("a", &ca)?;
    d.set_item("b", &cb)?;
    d.set_item("targets", runs.len())?;
    d.set_item("steps", steps)?;
    // boundary.csv: each target and where its run ended.
    let boundary = PyDict::new(py);
    boundary.set_item(
        "target_a",
        runs.iter().map(|r| r.target.0).collect::<Vec<_>>(),
    )?;
    boundary.set_item(
        "target_b",
        runs.iter().map(|r| r.target.1).collect::<Vec<_>>(),
    )?;
    boundary.set_item(
        "final_a",
        runs.iter().map(|r| r.last().0).collect::<Vec<_>>(),
    )?;
    boundary.set_item(
        "final_b",
        runs.iter().map(|r| r.last().1).collect::<Vec<_>>(),
    )?;
    d.set_item("boundary", boundary)?;
    // trajectories.csv, one dict per target: step, a, b.
    let trajectories: Vec<Bound<'py, PyDict>> = runs
        .iter()
        .map(|r| {
            let t = PyDict::new(py);
            t.set_item("target", r.target)?;
            t.set_item("step", r.trajectory.iter().map(|p| p.0).collect::<Vec<_>>())?;
            t.set_item("a", r.trajectory.iter().map(|p| p.1).collect::<Vec<_>>())?;
            t.set_item("b", r.trajectory.iter().map(|p| p.2).collect::<Vec<_>>())?;
            Ok(t)
        })
        .collect::<PyResult<_>>()?;
    d.set_item("trajectories", trajectories)?;
    if (ca == "cka" && cb == "nbs") || (ca == "nbs" && cb == "cka") {
        // cka_nbs_bounds.csv: the analytic sandwich (spec §7.4) at each final point, with Y's
        // centred rank bounded by min(n − 1, q), as the CLI does.
        let ry = (n - 1).min(q).max(1);
        let (mut cka, mut nbs, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
        for r in &runs {
            let (fa, fb) = r.last();
            let (c, s) = if ca == "cka" { (fa, fb) } else { (fb, fa) };
            let (l, h) = nbs_bounds_given_cka(c, rank_x, ry);
            cka.push(c);
            nbs.push(s);
            lo.push(l);
            hi.push(h);
        }
        let hold = nbs
            .iter()
            .zip(lo.iter().zip(&hi))
            .all(|(s, (l, h))| *s >= l - 1e-12 && *s <= h + 1e-12);
        let bounds = PyDict::new(py);
        bounds.set_item("cka", cka)?;
        bounds.set_item("nbs", nbs)?;
        bounds.set_item("nbs_lower", lo)?;
        bounds.set_item("nbs_upper", hi)?;
        d.set_item("cka_nbs_bounds", bounds)?;
        d.set_item("cka_nbs_bounds_hold", hold)?;
    }
    Ok((d.into_any(), warnings))
}
