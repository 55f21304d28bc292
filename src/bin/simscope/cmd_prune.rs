//! `simscope prune`: select the model features whose RDM best explains a brain RDM (Tarigopula
//! et al. 2023), with a seeded k-fold honest evaluation (docs/pruning.md).

use lexopt::prelude::*;
use nalgebra::DMatrix;
use serde_json::json;
use simscope::analysis::job::run_to_end;
use simscope::analysis::prune::{
    self, builtin_features, builtin_target_rdm, curve_csv, rdm, summary_json, EvaluationRun,
    MeasureFit, Options, PruneError, Rdm, DEMO_FEATURES,
};
use simscope::data::npy::read_npy;

use crate::common::CliError;
use crate::common::{out_dir, Progress};

/// Model features: a built-in demo name (with its planted columns) or a recording file (rows =
/// stimuli).
fn features(arg: &str) -> Result<(DMatrix<f64>, Option<Vec<usize>>), CliError> {
    if let Some((f, planted)) = builtin_features(arg) {
        // The category sets plant nothing: `planted` is null for them, as for a file.
        return Ok((f, (!planted.is_empty()).then_some(planted)));
    }
    let rec = crate::common::recording(arg).map_err(|CliError(m)| {
        CliError(format!(
            "{m} (built-in pruning demos: {})",
            DEMO_FEATURES.join(", ")
        ))
    })?;
    Ok((rec.data, None))
}

/// A target RDM: a built-in 92-image IT RDM name or a 2-D `.npy` file.
fn target_rdm(arg: &str) -> Result<DMatrix<f64>, CliError> {
    if let Some(r) = builtin_target_rdm(arg) {
        return Ok(r);
    }
    let bytes = crate::common::read_file(arg).map_err(|CliError(m)| {
        CliError(format!(
            "{m} (built-in target RDMs: kriegeskorte2008-mit, kriegeskorte2008-hit)"
        ))
    })?;
    let a = read_npy(&bytes).map_err(|e| CliError(format!("{arg}: {e}")))?;
    if a.is_text() || a.shape.len() != 2 {
        return Err(CliError(format!(
            "{arg}: a target RDM must be a 2-D numeric array (stimuli × stimuli), got shape {:?}",
            a.shape
        )));
    }
    Ok(DMatrix::from_row_slice(a.shape[0], a.shape[1], &a.values))
}

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut data, mut trdm, mut tx, mut out) = (None, None, None, None);
    let mut opts = Options::default();
    // `rsa` (model RDM vs target RDM) or a registered similarity measure's id.
    let mut fit = String::from("rsa");
    while let Some(arg) = parser.next()? {
        match arg {
            Long("target-rdm") => trdm = Some(parser.value()?.string()?),
            Long("target") => tx = Some(parser.value()?.string()?),
            Long("folds") => opts.folds = parser.value()?.parse()?,
            Long("seed") => opts.seed = parser.value()?.parse()?,
            Long("method") => opts.method = prune::method(&parser.value()?.string()?)?,
            Long("distance") => opts.distance = prune::distance(&parser.value()?.string()?)?,
            Long("compare") => opts.compare = prune::comparison(&parser.value()?.string()?)?,
            Long("fit") => fit = parser.value()?.string()?,
            Long("out") => out = Some(parser.value()?.string()?),
            Value(v) if data.is_none() => data = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let data = data.ok_or_else(|| {
        CliError(format!(
            "prune needs model features F (a .npy/.npz file, stimuli × features, or a demo: {})",
            DEMO_FEATURES.join(", ")
        ))
    })?;
    let out = out.ok_or_else(|| CliError("prune needs --out DIR".into()))?;
    let (f, planted) = features(&data)?;
    let measure = if fit == "rsa" {
        None
    } else {
        let Some(x) = &tx else {
            return Err(CliError(PruneError::MeasureNeedsRecording.to_string()));
        };
        let rec = crate::common::recording(x)?;
        Some(MeasureFit::new(&fit, rec.data).map_err(|e| CliError(format!("--fit {fit}: {e}")))?)
    };
    let target = match (trdm, tx) {
        (Some(r), None) => target_rdm(&r)?,
        (None, Some(x)) => {
            let rec = crate::common::recording(&x)?;
            if rec.data.ncols() < 2 && opts.distance == Rdm::Correlation {
                return Err(CliError(format!(
                    "{x}: a correlation-distance RDM needs at least 2 units"
                )));
            }
            rdm(&rec.data, opts.distance)
        }
        _ => {
            return Err(CliError(
                "prune needs exactly one of --target-rdm R.npy and --target X.npy".into(),
            ))
        }
    };
    let dir = out_dir(&out)?;
    // The same resumable job the page's worker slices, looped to the end.
    let run = match measure {
        Some(m) => EvaluationRun::with_measure(f.clone(), m, &opts),
        None => EvaluationRun::new(f.clone(), target, &opts),
    }
    .map_err(|e| CliError(e.to_string()))?;
    let mut progress = Progress::new();
    let mut first = true;
    let ev = run_to_end(run, |p| {
        progress.say(std::mem::take(&mut first), || format!("prune: {}", p.what))
    })
    .map_err(CliError)?;
    let curve = dir.join("curve.csv");
    std::fs::write(&curve, curve_csv(&ev))
        .map_err(|e| CliError(format!("cannot write {}: {e}", curve.display())))?;
    let kept = &ev.final_selection.kept;
    let folds: Vec<_> = ev
        .folds
        .iter()
        .map(|fo| {
            json!({"test_stimuli": fo.test, "n_kept": fo.selection.n_kept,
                   "kept": fo.selection.kept, "test_fit_pruned": fo.test_fit_pruned,
                   "test_fit_full": fo.test_fit_full, "test_fit_reweighted": fo.test_fit_reweighted})
        })
        .collect();
    let detail = json!({"kept": kept, "planted": planted, "n_features": f.ncols(), "n_stimuli": f.nrows(),
        "test_fit_pruned": ev.test_fit_pruned, "test_fit_full": ev.test_fit_full,
        "test_fit_reweighted": ev.test_fit_reweighted, "folds": folds});
    let path = dir.join("kept.json");
    std::fs::write(&path, serde_json::to_string_pretty(&detail)? + "\n")
        .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))?;
    println!("{}", summary_json(&ev));
    Ok(())
}
