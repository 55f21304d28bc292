//! `simscope calibrate`: "what is a good score for my data?" (see `analysis::calibrate`).

use lexopt::prelude::*;
use simscope::analysis::calibrate::{calibrate, report_csv, verdicts, CalibrateOptions};

use crate::common::CliError;
use crate::common::{check_lr, out_dir, recording_with_labels, target};

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut data, mut labels, mut ids, mut out) = (None, None, Vec::<String>::new(), None);
    let mut opts = CalibrateOptions {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..CalibrateOptions::default()
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Long("labels") => labels = Some(parser.value()?.string()?),
            Long("measure") => {
                for v in parser.values()? {
                    ids.push(v.string()?);
                }
            }
            Long("seeds") => opts.seeds = parser.value()?.parse()?,
            Long("lr") => opts.lr = parser.value()?.parse()?,
            Long("steps") => opts.max_steps = parser.value()?.parse()?,
            Long("stop") => opts.stop = parser.value()?.parse()?,
            Long("decode-every") => opts.decode_every = parser.value()?.parse()?,
            Long("threads") => opts.threads = parser.value()?.parse::<usize>()?.max(1),
            Long("out") => out = Some(parser.value()?.string()?),
            Value(v) if data.is_none() => data = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let data = data.ok_or_else(|| {
        CliError("calibrate needs a DATA argument (a file or a built-in dataset name)".into())
    })?;
    if ids.is_empty() {
        return Err(CliError("calibrate needs at least one --measure ID".into()));
    }
    let out = out.ok_or_else(|| CliError("calibrate needs --out DIR".into()))?;
    if opts.seeds == 0 {
        return Err(CliError("--seeds must be at least 1".into()));
    }
    check_lr(opts.lr)?;
    let rec = recording_with_labels(&data, labels.as_deref())?;
    let t = target(&rec)?;
    let q = t.p;
    for id in &ids {
        crate::common::measure(id, &t, q)?;
    }
    if rec.labels.is_empty() {
        eprintln!(
            "note: {} has no task variables (give --labels FILE); decodability is not reported",
            rec.name
        );
    }
    let dir = out_dir(&out)?;
    let report = calibrate(
        &t,
        &rec.data,
        rec.time_steps(),
        &rec.labels,
        &ids,
        &opts,
        |msg| eprintln!("calibrate: {msg}"),
    )
    .map_err(CliError)?;
    let csv_path = dir.join("report.csv");
    std::fs::write(&csv_path, report_csv(&report.rows))
        .map_err(|e| CliError(format!("cannot write {}: {e}", csv_path.display())))?;
    crate::svg::calibration_thresholds(&dir, &report.rows)?;
    // The rows as the core serialises them (the page and Python get the same fields).
    let table = serde_json::to_string(&report.rows).map_err(|e| CliError(e.to_string()))?;
    println!("{table}");
    for (_, verdict) in verdicts(&report.rows) {
        eprintln!("verdict: {verdict}");
    }
    Ok(())
}
