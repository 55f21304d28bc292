//! `simscope optimize`: one optimisation run (`analysis::run`, the job the page's worker
//! slices) looped to its end, written out as CSV, `.npy` and optionally SVG.

use std::path::Path;

use lexopt::prelude::*;
use nalgebra::DMatrix;
use serde_json::json;
use simscope::analysis::compare::{check_model, Model};
use simscope::analysis::decode::decodable_threshold;
use simscope::analysis::job::{Budget, Job};
use simscope::analysis::run::{PcSchedule, Run, RunSpec, StopScale};
use simscope::data::Recording;
use simscope::optim::session::{OptimizerKind, StopReason};

use crate::common::{
    check_lr, field, num, out_dir, recording_with_labels, target, write_csv, CliError, Progress,
};

/// Parse `--stop`: a number, or `none`/`inf` for no stop rule.
fn parse_stop(s: &str) -> Result<Option<f64>, CliError> {
    match s {
        "none" | "inf" | "off" => Ok(None),
        _ => s
            .parse::<f64>()
            .ok()
            .filter(|v| !v.is_nan())
            .map(Some)
            .ok_or_else(|| CliError(format!("--stop must be a number or `none`, got `{s}`"))),
    }
}

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut data, mut measure_id) = (None, "cka".to_string());
    let (mut lr, mut steps, mut stop, mut seed) = (0.1f64, 1000usize, Some(0.99f64), 0u64);
    let (mut optimizer, mut watch, mut labels) = (OptimizerKind::Adam, Vec::<String>::new(), None);
    let (mut snapshot_every, mut out, mut decode_every, mut pc_every) =
        (0usize, None, 10usize, 1usize);
    let (mut replicate_nan, mut svg, mut y0) = (false, false, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("measure") => measure_id = parser.value()?.string()?,
            Long("lr") => lr = parser.value()?.parse()?,
            Long("steps") => steps = parser.value()?.parse()?,
            Long("stop") => stop = parse_stop(&parser.value()?.string()?)?,
            Long("seed") => seed = parser.value()?.parse()?,
            Long("optimizer") => optimizer = parser.value()?.string()?.parse().map_err(CliError)?,
            Long("watch") => {
                for v in parser.values()? {
                    watch.push(v.string()?);
                }
            }
            Long("labels") => labels = Some(parser.value()?.string()?),
            Long("snapshot-every") => snapshot_every = parser.value()?.parse()?,
            Long("decode-every") => decode_every = parser.value()?.parse()?,
            Long("pc-every") => pc_every = parser.value()?.parse()?,
            Long("replicate-nan") => replicate_nan = true,
            Long("svg") => svg = true,
            Long("out") => out = Some(parser.value()?.string()?),
            Long("y0") => y0 = Some(parser.value()?.string()?),
            Value(v) if data.is_none() => data = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let data = data.ok_or_else(|| {
        CliError("optimize needs a DATA argument (a file or a built-in dataset name)".into())
    })?;
    check_lr(lr)?;
    if svg && out.is_none() {
        return Err(CliError(
            "--svg writes its figures into --out DIR: give one".into(),
        ));
    }
    let rec = recording_with_labels(&data, labels.as_deref())?;
    let target = target(&rec)?;
    let out = out.map(|d| out_dir(&d)).transpose()?;
    let decoding = out.is_some() && !rec.labels.is_empty();
    let spec = RunSpec {
        measure: measure_id.clone(),
        watch,
        optimizer,
        lr,
        seed,
        stop,
        stop_scale: StopScale::Absolute,
        max_steps: Some(steps),
        replicate_nan,
        snapshot_every,
        // Without --out nothing is written: the R² only at Y₀ and the stop.
        pc_schedule: PcSchedule::Steps(if out.is_some() { pc_every } else { usize::MAX }),
        decode_every: decoding.then_some(decode_every),
        decode_every_score: None,
    };
    let mut run = match y0 {
        // Start from a model's activations (the page's "optimise from this model"), checked
        // as Compare checks a model.
        Some(f) => {
            let y = crate::common::recording(&f)?;
            let model = Model {
                name: y.name,
                dims: y.dims,
                data: y.data,
            };
            for w in check_model(&rec.dims, rec.data.nrows(), &model).map_err(CliError)? {
                eprintln!("warning: --y0: {w}");
            }
            Run::from_y0(&rec, target.clone(), &spec, model.data).map_err(CliError)?
        }
        None => Run::new(&rec, target.clone(), &spec).map_err(CliError)?,
    };
    for w in run.warnings() {
        eprintln!("warning: {w}");
    }
    if let Some(w) = run.pc_chance().warning() {
        eprintln!("warning: per-PC R² (pc_r2.csv): {w}");
    }
    let ids = run.ids().to_vec();
    let mut trajectory: Vec<Vec<String>> = Vec::new();
    let mut progress = Progress::new();
    while !run.is_done() {
        run.advance(&mut Budget::units(1)).map_err(CliError)?;
        for r in run.take_records() {
            if out.is_some() {
                let mut row = vec![r.step.to_string(), num(r.score)];
                row.extend(r.watched.iter().map(|v| num(*v)));
                trajectory.push(row);
            }
            progress.say(false, || {
                format!(
                    "optimize: step {}/{steps}, {} = {:.6}",
                    r.step, measure_id, r.score
                )
            });
        }
    }
    let report = run.report();
    let stopped_by = report.stopped.map_or("max_steps", |s| s.as_str());
    if report.stopped == Some(StopReason::NonFinite) {
        eprintln!("warning: the next update would have made the score or gradient non-finite; stopped at the last finite Y");
    }
    if let Some(dir) = &out {
        write_run(dir, &rec, &run, &ids, &trajectory, svg)?;
    }
    println!(
        "{}",
        json!({"steps": report.step, "final_score": report.score, "stopped_by": stopped_by})
    );
    Ok(())
}

/// Write a finished run into `dir`: the trajectory, the per-PC R², the decoding and its
/// reference, Y and its snapshots as `.npy`, and with `svg` the page's plots.
fn write_run(
    dir: &Path,
    rec: &Recording,
    run: &Run,
    ids: &[String],
    trajectory: &[Vec<String>],
    svg: bool,
) -> Result<(), CliError> {
    let session = run.session();
    let target = run.target();
    let mut header = vec!["step".to_string(), "objective".to_string()];
    header.extend(ids[1..].iter().map(|s| field(s)));
    write_csv(&dir.join("trajectory.csv"), &header, trajectory)?;
    let k_pc = run.tracked_pcs();
    let mut header = vec!["step".to_string(), "score".to_string()];
    header.extend((1..=k_pc).map(|i| format!("r2_pc{i}")));
    let pc_rows = run.pc_rows();
    let rows: Vec<Vec<String>> = pc_rows
        .iter()
        .map(|r| {
            let mut row = vec![r.step.to_string(), num(r.score)];
            row.extend(r.r2.iter().map(|v| num(*v)));
            row
        })
        .collect();
    write_csv(&dir.join("pc_r2.csv"), &header, &rows)?;
    if run.decodes() {
        let mut header = vec!["step".to_string(), "score".to_string()];
        header.extend(rec.labels.iter().map(|v| field(&v.name)));
        let rows: Vec<Vec<String>> = run
            .decoded()
            .iter()
            .map(|r| {
                let mut row = vec![r.step.to_string(), num(r.score)];
                row.extend(r.accuracy.iter().map(|a| num(a.unwrap_or(f64::NAN))));
                row
            })
            .collect();
        write_csv(&dir.join("decoding.csv"), &header, &rows)?;
        let mut refs = Vec::new();
        for (v, d) in rec.labels.iter().zip(run.reference().unwrap_or(&[])) {
            match d {
                Ok(d) => {
                    if d.pooled {
                        eprintln!("note: `{}`: too few samples per class in a time step for {}-fold CV; time steps were pooled as samples", v.name, d.folds);
                    }
                    refs.push(vec![
                        field(&v.name),
                        num(d.accuracy),
                        num(d.chance),
                        num(decodable_threshold(d.chance, d.accuracy)),
                        d.pooled.to_string(),
                        d.folds.to_string(),
                    ])
                }
                Err(e) => eprintln!("warning: {e}"),
            }
        }
        let header: Vec<String> = [
            "variable",
            "reference",
            "chance",
            "threshold",
            "pooled",
            "folds",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        write_csv(&dir.join("decoding_reference.csv"), &header, &refs)?;
    }
    write_y(&dir.join("Y.npy"), &rec.dims, session.y())?;
    if svg {
        let history = session.history();
        let score_rows = |k: Option<usize>| -> Vec<(usize, f64)> {
            history
                .iter()
                .map(|r| (r.step, k.map_or(r.score, |k| r.watched[k])))
                .collect()
        };
        let mut scores = vec![(ids[0].as_str(), score_rows(None))];
        for (k, id) in ids[1..].iter().enumerate() {
            scores.push((id.as_str(), score_rows(Some(k))));
        }
        let pc_r2 = pc_rows.iter().map(|r| (r.score, r.r2.clone())).collect();
        let figures = crate::svg::RunFigures {
            scores,
            pc_r2,
            pc_chance: run.pc_chance().level,
            ratios: target.explained_variance_ratio().iter().copied().collect(),
            x_pcs: target.project(&rec.data, 2),
            y_pcs: target.project(session.y(), 2),
            conditions: rec.conditions(),
            colour_by: rec.labels.first(),
        };
        for name in crate::svg::write_run(dir, &figures)? {
            eprintln!("wrote {}", dir.join(name).display());
        }
    }
    for s in session.snapshots() {
        write_y(
            &dir.join(format!("Y_step{:06}.npy", s.step)),
            &rec.dims,
            &s.y,
        )?;
    }
    Ok(())
}

/// Y (flattened n × q) as a C-order `.npy` of the recording's shape.
fn write_y(path: &Path, dims: &[usize], y: &DMatrix<f64>) -> Result<(), CliError> {
    let values: Vec<f64> = (0..y.nrows())
        .flat_map(|i| (0..y.ncols()).map(move |j| y[(i, j)]))
        .collect();
    std::fs::write(path, simscope::data::npy::write_npy_f64(dims, &values))
        .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))
}
