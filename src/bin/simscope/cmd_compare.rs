//! `simscope compare X Y... [--measure ID]... [--bootstrap N] [--permutations N] [--seed S]
//! [--labels L] [--no-calibrate] [--threads T] [--out DIR]`: each model's score against X with
//! its bootstrap interval, permutation null and calibration placement
//! (`analysis::compare`). One JSON document on stdout; with `--out`, the same as CSV files.

use std::path::Path;

use lexopt::prelude::*;
use serde_json::Value;
use simscope::analysis::compare::{default_measures, Compare, CompareOptions, Model};
use simscope::analysis::job::run_to_end;

use crate::common::{out_dir, recording_with_labels, target, CliError, Progress};

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let mut files: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut labels = None;
    let mut out = None;
    let mut opts = CompareOptions {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..CompareOptions::default()
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Long("measure") | Short('m') => ids.push(parser.value()?.string()?),
            Long("bootstrap") => opts.bootstrap = parser.value()?.parse()?,
            Long("permutations") => opts.permutations = parser.value()?.parse()?,
            Long("seed") => opts.seed = parser.value()?.parse()?,
            Long("labels") => labels = Some(parser.value()?.string()?),
            Long("no-calibrate") => opts.calibrate = false,
            Long("threads") => opts.threads = parser.value()?.parse::<usize>()?.max(1),
            Long("out") => out = Some(parser.value()?.string()?),
            Value(v) => files.push(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    if files.len() < 2 {
        return Err(CliError(format!(
            "compare needs X and at least one model Y, got {} file(s); usage: simscope compare X Y... [--measure ID]... [--bootstrap N] [--permutations N] [--seed S] [--labels L] [--no-calibrate] [--out DIR]",
            files.len()
        )));
    }
    if !ids.is_empty() {
        opts.measures = if ids.iter().any(|i| i == "default") {
            default_measures()
        } else {
            ids
        };
    }
    let x = recording_with_labels(&files[0], labels.as_deref())?;
    let t = target(&x)?;
    let mut models = Vec::new();
    for f in &files[1..] {
        let y = crate::common::recording(f)?;
        let name = if files[1..].iter().filter(|g| *g == f).count() > 1 {
            format!("{}#{}", y.name, models.len() + 1)
        } else {
            y.name.clone()
        };
        models.push(Model {
            name,
            dims: y.dims.clone(),
            data: y.data,
        });
    }
    if opts.calibrate && x.labels.is_empty() {
        eprintln!(
            "note: {} has no task variables (give --labels FILE); decodability is not placed",
            x.name
        );
    }
    let job = Compare::new(t, &x.data, &x.dims, &x.labels, models, &opts).map_err(CliError)?;
    let mut progress = Progress::new();
    // Each phase's wall time on stderr (the speed benchmark reads these): the time between
    // two progress reports belongs to the unit just done, named by `what`.
    let mut totals: Vec<(String, f64)> = Vec::new();
    let mut last = std::time::Instant::now();
    let report = run_to_end(job, |p| {
        let dt = last.elapsed().as_secs_f64();
        last = std::time::Instant::now();
        let phase = p.what.split(' ').next().unwrap_or("").to_string();
        match totals.last_mut() {
            Some((name, t)) if *name == phase => *t += dt,
            _ => totals.push((phase, dt)),
        }
        progress.say(false, || {
            format!("compare: {} ({}/{} units)", p.what, p.done, p.total)
        })
    })
    .map_err(CliError)?;
    for (phase, t) in &totals {
        eprintln!("compare: {phase} took {t:.2} s");
    }
    let doc = serde_json::to_value(&report).map_err(|e| CliError(e.to_string()))?;
    if let Some(dir) = out {
        let dir = out_dir(&dir)?;
        write_tables(&dir, &doc)?;
        crate::svg::compare_profile(&dir, &report)?;
    }
    println!("{doc}");
    Ok(())
}

/// `scores.csv` (one row per model × measure), `pc_r2.csv` (model × PC) and `decoding.csv`.
fn write_tables(dir: &Path, doc: &Value) -> Result<(), CliError> {
    for (name, text) in simscope::analysis::compare::tables::tables(doc) {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
