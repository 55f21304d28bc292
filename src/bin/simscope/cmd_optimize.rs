//! `simscope optimize`: one optimisation session with watched measures, per-PC R², decoding
//! and Y snapshots.

use lexopt::prelude::*;
use serde_json::json;
use simscope::analysis::captured::{pc_r2, Alignment};
use simscope::analysis::decode::{decodable_threshold, decode, DecodeOptions};
use simscope::data::TaskVariable;
use simscope::measures::Measure;
use simscope::optim::session::{initial_y, Objective, OptimizerKind, Session, SessionOptions};

use crate::common::{
    check_lr, field, measure, num, out_dir, recording_with_labels, target, write_csv, CliError,
    Progress,
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
    let (mut replicate_nan, mut svg) = (false, false);
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
    let q = rec.data.ncols();
    let m = measure(&measure_id, &target, q)?;
    let watched: Vec<(String, Box<dyn Measure>)> = watch
        .iter()
        .map(|id| Ok((id.clone(), measure(id, &target, q)?)))
        .collect::<Result<_, CliError>>()?;
    let out = out.map(|d| out_dir(&d)).transpose()?;
    let options = SessionOptions {
        optimizer,
        lr,
        stop,
        max_steps: Some(steps),
        snapshot_every,
        replicate_nan,
        seed,
        ..SessionOptions::default()
    };
    let y0 = initial_y(rec.data.nrows(), q, seed);
    let mut session = Session::with_options(target.clone(), Objective::Measure(m), y0, options);
    for (id, w) in watched {
        session.watch(&id, w);
    }

    let k_pc = target.rank().min(100);
    // (step, optimised score, R² per PC) at the steps where R² is computed.
    let mut pc_rows: Vec<(usize, f64, Vec<f64>)> = Vec::new();
    let pc_row = |s: &Session| {
        let rep = s.report();
        (
            rep.step,
            rep.score,
            pc_r2(&target, s.y(), k_pc, Alignment::Linear),
        )
    };
    let decoding = out.is_some() && !rec.labels.is_empty();
    let dopts = DecodeOptions {
        seed,
        ..DecodeOptions::default()
    };
    let t_steps = rec.time_steps();
    let mut dec_rows: Vec<Vec<String>> = Vec::new();
    let dec_row = |s: &Session, vars: &[TaskVariable]| {
        let rep = s.report();
        let mut row = vec![rep.step.to_string(), num(rep.score)];
        for v in vars {
            let a = decode(s.y(), t_steps, &v.name, &v.class_of, &dopts)
                .map(|d| d.accuracy)
                .unwrap_or(f64::NAN);
            row.push(num(a));
        }
        row
    };
    if out.is_some() {
        pc_rows.push(pc_row(&session));
    }
    if decoding {
        dec_rows.push(dec_row(&session, &rec.labels));
    }
    let mut progress = Progress::new();
    loop {
        let rep = session.step(1);
        let advanced = pc_rows.last().is_none_or(|r| r.0 != rep.step);
        if out.is_some()
            && advanced
            && (rep.step.is_multiple_of(pc_every.max(1)) || rep.stopped.is_some())
        {
            pc_rows.push(pc_row(&session));
        }
        if decoding
            && dec_rows.last().is_none_or(|r| r[0] != rep.step.to_string())
            && (rep.step.is_multiple_of(decode_every.max(1)) || rep.stopped.is_some())
        {
            dec_rows.push(dec_row(&session, &rec.labels));
        }
        progress.say(false, || {
            format!(
                "optimize: step {}/{steps}, {} = {:.6}",
                rep.step, measure_id, rep.score
            )
        });
        if rep.stopped.is_some() {
            break;
        }
    }
    let report = session.report();
    let stopped_by = report.stopped.map_or("max_steps", |s| s.as_str());
    if report.stopped == Some(simscope::optim::StopReason::NonFinite) {
        eprintln!("warning: the next update would have made the score or gradient non-finite; stopped at the last finite Y");
    }
    if let Some(dir) = &out {
        let mut header = vec!["step".to_string(), "objective".to_string()];
        header.extend(session.watch_ids().iter().map(|s| field(s)));
        let rows: Vec<Vec<String>> = session
            .history()
            .iter()
            .map(|r| {
                let mut row = vec![r.step.to_string(), num(r.score)];
                row.extend(r.watched.iter().map(|v| num(*v)));
                row
            })
            .collect();
        write_csv(&dir.join("trajectory.csv"), &header, &rows)?;
        let mut header = vec!["step".to_string(), "score".to_string()];
        header.extend((1..=k_pc).map(|i| format!("r2_pc{i}")));
        let rows: Vec<Vec<String>> = pc_rows
            .iter()
            .map(|(step, score, r2)| {
                let mut row = vec![step.to_string(), num(*score)];
                row.extend(r2.iter().map(|v| num(*v)));
                row
            })
            .collect();
        write_csv(&dir.join("pc_r2.csv"), &header, &rows)?;
        if decoding {
            let mut header = vec!["step".to_string(), "score".to_string()];
            header.extend(rec.labels.iter().map(|v| field(&v.name)));
            write_csv(&dir.join("decoding.csv"), &header, &dec_rows)?;
            let mut refs = Vec::new();
            for v in &rec.labels {
                match decode(&rec.data, t_steps, &v.name, &v.class_of, &dopts) {
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
        let y = session.y();
        let values: Vec<f64> = (0..y.nrows())
            .flat_map(|i| (0..y.ncols()).map(move |j| y[(i, j)]))
            .collect();
        let path = dir.join("Y.npy");
        std::fs::write(
            &path,
            simscope::data::npy::write_npy_f64(&rec.dims, &values),
        )
        .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))?;
        if svg {
            let score_rows = |k: Option<usize>| -> Vec<(usize, f64)> {
                session
                    .history()
                    .iter()
                    .map(|r| (r.step, k.map_or(r.score, |k| r.watched[k])))
                    .collect()
            };
            let mut scores = vec![(measure_id.as_str(), score_rows(None))];
            for (k, id) in session.watch_ids().iter().enumerate() {
                scores.push((*id, score_rows(Some(k))));
            }
            let pc_r2 = pc_rows
                .iter()
                .map(|(_, score, r2)| (*score, r2.clone()))
                .collect();
            let figures = crate::svg::RunFigures {
                scores,
                pc_r2,
                ratios: target.explained_variance_ratio().iter().copied().collect(),
                x_pcs: target.project(&rec.data, 2),
                y_pcs: target.project(session.y(), 2),
                conditions: rec.conditions(),
            };
            for name in crate::svg::write_run(dir, &figures)? {
                eprintln!("wrote {}", dir.join(name).display());
            }
        }
        for s in session.snapshots() {
            let values: Vec<f64> = (0..s.y.nrows())
                .flat_map(|i| (0..s.y.ncols()).map(move |j| s.y[(i, j)]))
                .collect();
            let path = dir.join(format!("Y_step{:06}.npy", s.step));
            std::fs::write(
                &path,
                simscope::data::npy::write_npy_f64(&rec.dims, &values),
            )
            .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    println!(
        "{}",
        json!({"steps": report.step, "final_score": report.score, "stopped_by": stopped_by})
    );
    Ok(())
}
