//! The analyses: each binding checks its arguments as the CLI command does (same messages),
//! calls the core function or job with the GIL released and returns plain Python values.
//! The argument checks that live in the CLI's `cmd_*.rs` are mirrored here, each message
//! pinned to the CLI's by `tests/test_errors.py`.

use std::sync::Arc;

use nalgebra::DMatrix;
use pyo3::prelude::*;
use serde_json::json;
use simscope::analysis::calibrate::{CalibrateOptions, Calibration};
use simscope::analysis::perturb::{self as pt, Perturbation};
use simscope::analysis::prune::{self as pr, MeasureFit, Options, PruneError, Rdm};
use simscope::analysis::Job;
use simscope::data::npy::read_npy;
use simscope::data::Recording;
use simscope::measures::{registry, Measure};
use simscope::target::Target;

use crate::arrays::{matrix_2d, recording, recording_with_labels, to_numpy, PyTaskVariable};
use crate::error;
use crate::jobs::{run_job, run_to_result, Ticker};

/// The prepared target of a recording, with the CLI's message (`{name}: {why}`).
fn target(rec: &Recording) -> PyResult<Arc<Target>> {
    Target::new(&rec.data)
        .map(Arc::new)
        .map_err(|e| error(format!("{}: {e}", rec.name)))
}

/// Build each measure for a Y of width `q`, collecting the registry's warnings.
fn prepare_all(
    ids: &[String],
    t: &Arc<Target>,
    q: usize,
    warnings: &mut Vec<String>,
) -> PyResult<Vec<Box<dyn Measure>>> {
    ids.iter()
        .map(|id| {
            let (m, w) = registry::prepare(id, t.clone(), q).map_err(error)?;
            warnings.extend(w);
            Ok(m)
        })
        .collect()
}

/// The CLI's check of `--lr`.
pub fn check_lr(lr: f64) -> PyResult<()> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(error(format!("--lr must be a positive number, got {lr}")))
    }
}

/// The core's calibration defaults (the CLI's): seeds, lr, steps, stop, decode_every.
#[pyfunction]
pub fn calibrate_defaults() -> (usize, f64, usize, f64, usize) {
    let d = CalibrateOptions::default();
    (d.seeds, d.lr, d.max_steps, d.stop, d.decode_every)
}

/// `simscope calibrate` (the core's `Calibration` job): returns the report (rows, reference
/// decodings, X's explained-variance ratios) and the job's notes and warnings.
#[pyfunction]
#[pyo3(signature = (x, labels, ids, seeds, lr, steps, stop, decode_every, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn calibrate<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: Vec<PyTaskVariable>,
    ids: Vec<String>,
    seeds: usize,
    lr: f64,
    steps: usize,
    stop: f64,
    decode_every: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>, Vec<String>)> {
    if ids.is_empty() {
        return Err(error("calibrate needs at least one --measure ID"));
    }
    if seeds == 0 {
        return Err(error("--seeds must be at least 1"));
    }
    check_lr(lr)?;
    let (rec, mut warnings) = recording_with_labels("X", x, labels)?;
    let opts = CalibrateOptions {
        seeds,
        lr,
        max_steps: steps,
        stop,
        decode_every,
        ..CalibrateOptions::default()
    };
    if rec.labels.is_empty() {
        warnings
            .push("X has no task variables (give labels=…); decodability is not reported".into());
    }
    let (t, w) = py.detach(|| -> PyResult<_> {
        let t = target(&rec)?;
        let mut w = Vec::new();
        prepare_all(&ids, &t, t.p, &mut w)?;
        Ok((t, w))
    })?;
    warnings.extend(w);
    let mut notes = Vec::new();
    let report = run_job(
        py,
        progress,
        || {
            Ok(Calibration::new(
                t,
                &rec.data,
                rec.time_steps(),
                &rec.labels,
                &ids,
                &opts,
            ))
        },
        |c| notes.extend(c.take_notes()),
        Job::result,
    )?;
    Ok((pythonize::pythonize(py, &report)?, notes, warnings))
}

/// The checks `simscope perturb` makes before perturbing (`k` is the 1-based PC).
fn check_perturbation(t: &Target, k: usize, angle: f64, scale: f64) -> PyResult<()> {
    let r = t.rank();
    if k == 0 || k > r {
        return Err(error(format!(
            "--pc must be between 1 and the rank of X ({r}), got {k}"
        )));
    }
    if !angle.is_finite() || !scale.is_finite() || scale < 0.0 {
        return Err(error(format!(
            "--angle must be finite and --scale finite and ≥ 0 (got {angle}, {scale})"
        )));
    }
    Ok(())
}

/// Canonical ids of `ids` (the theory is looked up by canonical id, as in the CLI).
fn canonical(ids: &[String]) -> PyResult<Vec<String>> {
    ids.iter()
        .map(|id| registry::resolve(id).map(|c| c.0).map_err(error))
        .collect()
}

const INEXACT: &str =
    "no centred direction is orthogonal to every PC, so the theory is approximate";

/// `simscope perturb X --pc K`: PC `pc` (1-based) rotated by `angle` degrees towards a
/// direction orthogonal to every PC and scaled by `scale`; every measure of `ids` measured on
/// the perturbed copy next to its closed form (None where there is none). Returns
/// (measured, theory, exact, the perturbed copy in X's shape, warnings).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn perturb<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    pc: usize,
    angle: f64,
    scale: f64,
    ids: Vec<String>,
    seed: u64,
) -> PyResult<(
    Vec<f64>,
    Vec<Option<f64>>,
    bool,
    Bound<'py, PyAny>,
    Vec<String>,
)> {
    let (rec, mut warnings) = recording("X", x)?;
    let canon = canonical(&ids)?;
    let (measured, theory, y, exact, w) = py.detach(|| -> PyResult<_> {
        let t = target(&rec)?;
        let mut w = Vec::new();
        check_perturbation(&t, pc, angle, scale)?;
        let measures = prepare_all(&ids, &t, t.p, &mut w)?;
        let pert = Perturbation::single(t.rank(), pc - 1, angle.to_radians(), scale);
        let py_ = pt::perturb(&t, &pert, seed);
        if !py_.exact {
            w.push(format!(
                "X has rank {} with n = {}: {INEXACT}",
                t.rank(),
                t.n
            ));
        }
        let measured: Vec<f64> = measures.iter().map(|m| m.score(&py_.y)).collect();
        let theory: Vec<Option<f64>> = canon.iter().map(|c| pt::theory(&t, &pert, c)).collect();
        Ok((measured, theory, py_.y, py_.exact, w))
    })?;
    warnings.extend(w);
    Ok((
        measured,
        theory,
        exact,
        to_numpy(py, &rec.dims, y),
        warnings,
    ))
}

/// `simscope perturb X --sweep`: each PC in turn decorrelated (the paper's Fig 6). Returns
/// the rows as columns: pc, variance, variance_ratio, measured[measure][row],
/// theory[measure][row] (NaN where there is no closed form), exact per row, and warnings.
#[pyfunction]
#[pyo3(signature = (x, ids, max_pcs, seed, progress=None))]
pub fn perturb_sweep<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    ids: Vec<String>,
    max_pcs: Option<usize>,
    seed: u64,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
    let (rec, mut warnings) = recording("X", x)?;
    let canon = canonical(&ids)?;
    let (t, measures, mut w) = py.detach(|| -> PyResult<_> {
        let t = target(&rec)?;
        let mut w = Vec::new();
        check_perturbation(&t, 1, 90.0, 1.0)?;
        let measures = prepare_all(&ids, &t, t.p, &mut w)?;
        Ok((t, measures, w))
    })?;
    let (rank, n) = (t.rank(), t.n);
    let rows = run_to_result(py, progress, move || {
        Ok(pt::SweepJob::new(
            t,
            canon,
            measures,
            max_pcs.unwrap_or(usize::MAX),
            seed,
        ))
    })?;
    if rows.iter().any(|r| !r.exact) {
        w.push(format!("X has rank {rank} with n = {n}: no centred direction is orthogonal to every PC, so the decorrelating directions are only orthogonal to the perturbed PC and the theory is approximate"));
    }
    warnings.extend(w);
    let column = |f: &dyn Fn(&pt::SweepRow) -> f64| -> Vec<f64> { rows.iter().map(f).collect() };
    let measured: Vec<Vec<f64>> = (0..ids.len()).map(|j| column(&|r| r.measured[j])).collect();
    let theory: Vec<Vec<f64>> = (0..ids.len())
        .map(|j| column(&|r| r.theory[j].unwrap_or(f64::NAN)))
        .collect();
    let out = json!({
        "pc": rows.iter().map(|r| r.pc).collect::<Vec<_>>(),
        "variance": column(&|r| r.variance),
        "variance_ratio": column(&|r| r.variance_ratio),
        "exact": rows.iter().map(|r| r.exact).collect::<Vec<_>>(),
    });
    let d = pythonize::pythonize(py, &out)?;
    // NaN has no JSON form: the measured and theory columns go in as plain float lists.
    d.set_item("measured", measured)?;
    d.set_item("theory", theory)?;
    Ok((d, warnings))
}

/// A built-in pruning feature set (`prune-demo-mit`, …): the features and the planted columns
/// (empty for the category sets). None for another name.
#[pyfunction]
pub fn prune_features<'py>(py: Python<'py>, name: &str) -> Option<(Bound<'py, PyAny>, Vec<usize>)> {
    let (f, planted) = pr::builtin_features(name)?;
    let dims = [f.nrows(), f.ncols()];
    Some((to_numpy(py, &dims, f), planted))
}

/// A target RDM as `--target-rdm R` reads it: a built-in 92-image IT RDM name or a 2-D
/// `.npy` file, with the CLI's messages.
#[pyfunction]
pub fn prune_target_rdm<'py>(py: Python<'py>, arg: &str) -> PyResult<Bound<'py, PyAny>> {
    let r = match pr::builtin_target_rdm(arg) {
        Some(r) => r,
        None => {
            let bytes = crate::files::read_file(arg).map_err(|e| {
                error(format!(
                    "{} (built-in target RDMs: kriegeskorte2008-mit, kriegeskorte2008-hit)",
                    e.value(py)
                ))
            })?;
            let a = read_npy(&bytes).map_err(|e| error(format!("{arg}: {e}")))?;
            if a.is_text() || a.shape.len() != 2 {
                return Err(error(format!(
                    "{arg}: a target RDM must be a 2-D numeric array (stimuli × stimuli), got shape {:?}",
                    a.shape
                )));
            }
            DMatrix::from_row_slice(a.shape[0], a.shape[1], &a.values)
        }
    };
    let dims = [r.nrows(), r.ncols()];
    Ok(to_numpy(py, &dims, r))
}

fn parse_options(
    folds: usize,
    seed: u64,
    method: &str,
    distance: &str,
    compare: &str,
) -> PyResult<Options> {
    let (method, distance, compare) = (
        pr::method(method).map_err(error)?,
        pr::distance(distance).map_err(error)?,
        pr::comparison(compare).map_err(error)?,
    );
    Ok(Options {
        folds,
        seed,
        method,
        distance,
        compare,
        ..Options::default()
    })
}

/// `simscope prune`: the honest (k-fold) evaluation of greedy feature pruning. `features` is a
/// 2-D or 3-D array (rows = stimuli); exactly one of `target_rdm` (stimuli × stimuli) and
/// `target` (a recording, rows = stimuli) is given; `fit` is `rsa` or a similarity measure's
/// id (then `target` is needed). Returns what `kept.json` holds plus the curve as columns.
#[pyfunction]
#[pyo3(signature = (features, planted, target_rdm, target, folds, seed, method, distance, compare, fit, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn prune<'py>(
    py: Python<'py>,
    features: &Bound<'py, PyAny>,
    planted: Option<Vec<usize>>,
    target_rdm: Option<&Bound<'py, PyAny>>,
    target: Option<&Bound<'py, PyAny>>,
    folds: usize,
    seed: u64,
    method: &str,
    distance: &str,
    compare: &str,
    fit: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
    let opts = parse_options(folds, seed, method, distance, compare)?;
    let (f, mut warnings) = recording("features", features)?;
    let f = f.data;
    let target_x = target
        .map(|x| {
            let (rec, w) = recording("target", x)?;
            warnings.extend(w);
            Ok::<_, PyErr>(rec.data)
        })
        .transpose()?;
    let measure = if fit == "rsa" {
        None
    } else {
        let Some(x) = &target_x else {
            return Err(error(PruneError::MeasureNeedsRecording));
        };
        Some(MeasureFit::new(fit, x.clone()).map_err(|e| error(format!("--fit {fit}: {e}")))?)
    };
    let rdm: DMatrix<f64> = match (target_rdm, &target_x) {
        (Some(r), None) => matrix_2d("target_rdm", r)?,
        (None, Some(x)) => {
            if x.ncols() < 2 && opts.distance == Rdm::Correlation {
                return Err(error(
                    "target: a correlation-distance RDM needs at least 2 units",
                ));
            }
            pr::rdm(x, opts.distance)
        }
        _ => {
            return Err(error(
                "prune needs exactly one of --target-rdm R.npy and --target X.npy",
            ))
        }
    };
    let ev = py.detach(|| -> PyResult<_> {
        let mut ticker = Ticker::new(progress);
        let mut tick = |p: pr::StageProgress| {
            let what = || {
                let stage = if p.stage + 1 == p.stages {
                    "final selection on all stimuli".to_string()
                } else {
                    format!("fold {}/{}", p.stage + 1, p.stages - 1)
                };
                format!("prune: {stage}, step {}/{}", p.step, p.steps)
            };
            ticker.tick(
                p.stage * p.steps.max(1) + p.step,
                p.stages * p.steps.max(1),
                what,
            )
        };
        let ev = match &measure {
            Some(m) => pr::evaluate_measure(&f, m, &opts, &mut tick),
            None => pr::evaluate(&f, &rdm, &opts, &mut tick),
        };
        match (ev, ticker.failed) {
            (_, Some(e)) => Err(e),
            (ev, None) => ev.map_err(error),
        }
    })?;
    let folds: Vec<_> = ev
        .folds
        .iter()
        .map(|fo| {
            json!({"test_stimuli": fo.test, "n_kept": fo.selection.n_kept,
                   "kept": fo.selection.kept, "test_fit_pruned": fo.test_fit_pruned,
                   "test_fit_full": fo.test_fit_full, "test_fit_reweighted": fo.test_fit_reweighted})
        })
        .collect();
    let out = json!({"kept": ev.final_selection.kept, "planted": planted,
        "n_features": f.ncols(), "n_stimuli": f.nrows(),
        "test_fit_pruned": ev.test_fit_pruned, "test_fit_full": ev.test_fit_full,
        "test_fit_reweighted": ev.test_fit_reweighted, "folds": folds});
    let d = pythonize::pythonize(py, &out)?;
    let curve = pyo3::types::PyDict::new(py);
    curve.set_item(
        "n_kept",
        ev.curve.iter().map(|c| c.n_kept).collect::<Vec<_>>(),
    )?;
    curve.set_item(
        "train_fit",
        ev.curve.iter().map(|c| c.train_fit).collect::<Vec<_>>(),
    )?;
    curve.set_item(
        "test_fit",
        ev.curve.iter().map(|c| c.test_fit).collect::<Vec<_>>(),
    )?;
    d.set_item("curve", curve)?;
    Ok((d, warnings))
}

/// `simscope compare X Y...` (the core's `Compare` job): each model's score against X with its
/// bootstrap interval, permutation null, calibration placement, per-PC profile and decoding.
/// `models` are (name, activations) pairs; `ids` empty means the default list. Returns the
/// report (the CLI's JSON document as Python values) and the conversion warnings.
#[pyfunction]
#[pyo3(signature = (x, labels, models, ids, bootstrap, permutations, seed, calibrate, threads, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn compare<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: Vec<PyTaskVariable>,
    models: Vec<(String, Bound<'py, PyAny>)>,
    ids: Vec<String>,
    bootstrap: usize,
    permutations: usize,
    seed: u64,
    calibrate: bool,
    threads: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
    use simscope::analysis::compare::{default_measures, Compare, CompareOptions, Model};
    let (rec, mut warnings) = recording_with_labels("X", x, labels)?;
    let mut ms = Vec::with_capacity(models.len());
    for (name, y) in &models {
        let (r, w) = recording(name, y)?;
        warnings.extend(w);
        ms.push(Model {
            name: name.clone(),
            dims: r.dims,
            data: r.data,
        });
    }
    let opts = CompareOptions {
        measures: if ids.is_empty() || ids.iter().any(|i| i == "default") {
            default_measures()
        } else {
            ids
        },
        bootstrap,
        permutations,
        seed,
        calibrate,
        threads: threads.max(1),
        ..CompareOptions::default()
    };
    let t = py.detach(|| target(&rec))?;
    let report = run_to_result(py, progress, || {
        Compare::new(t, &rec.data, &rec.dims, &rec.labels, ms, &opts)
    })?;
    Ok((pythonize::pythonize(py, &report)?, warnings))
}
