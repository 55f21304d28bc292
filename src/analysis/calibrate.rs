//! "What is a good score for my data?" (the paper's Fig 3/4 answer, for any recording).
//!
//! For every measure, optimise from several seeds (Adam, stop at 0.99, at most 1000 updates
//! by default) and report with the spread over seeds:
//! (a) for every task variable, the score at which it becomes decodable: first crossing of
//!     chance + 0.9·(reference − chance) by the decoding accuracy of Y, with the reference
//!     accuracy decoded from X (spec §5.3);
//! (b) the score needed to capture every PC holding ≥ 10 % (and ≥ 1 %) of the variance: the
//!     largest of those PCs' scores at the "half" threshold (spec §4.2, first crossing),
//!     "not reached" if any of them never crosses;
//! (c) the number of updates to pass the stop score.
//! A seed whose run never reaches a quantity counts as "not reached" and is reported as such,
//! not averaged in.

use std::sync::Arc;

use serde::Serialize;

use super::captured::{first_crossing, pc_r2, scores_at_threshold, Alignment, Threshold};
use super::decode::{decodable_threshold, decode, DecodeError, DecodeOptions, Decoding};
use crate::data::TaskVariable;
use crate::measures::{Direction, Measure};
use crate::optim::session::{initial_y, Objective, Session, SessionOptions};
use crate::target::Target;

/// Builds a fresh measure from its id.
pub type MeasureFactory<'a> = &'a dyn Fn(&str) -> Result<Box<dyn Measure>, String>;

/// Calibration settings.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    pub seeds: usize,
    /// Seeds run are `first_seed .. first_seed + seeds` (the page runs one seed per slice).
    pub first_seed: u64,
    pub lr: f64,
    pub stop: f64,
    pub max_steps: usize,
    /// Decode Y every this many updates (and at the last one).
    pub decode_every: usize,
    pub decode: DecodeOptions,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            seeds: 3,
            first_seed: 0,
            lr: 0.1,
            stop: 0.99,
            max_steps: 1000,
            decode_every: 5,
            decode: DecodeOptions::default(),
        }
    }
}

/// One line of the report: a quantity for one measure, over seeds.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct ReportRow {
    pub measure: String,
    /// `decodable`, `capture_pcs_10pct`, `capture_pcs_1pct` or `steps_to_stop`.
    pub quantity: String,
    /// The task variable for `decodable`, empty otherwise.
    pub variable: String,
    /// One value per seed; `None` = not reached.
    pub values: Vec<Option<f64>>,
    pub reached: usize,
    pub seeds: usize,
    /// Mean, standard deviation (n − 1), min and max over the seeds that reached it.
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Extra information (e.g. reference accuracy, pooled decoding, PCs involved).
    pub note: String,
}

/// The reference decoding of a variable on X.
#[derive(Clone, Debug, Serialize)]
pub struct Reference {
    pub variable: String,
    pub reference: Decoding,
    pub threshold: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub references: Vec<Reference>,
    /// Explained-variance ratios of X's PCs (all of them).
    pub explained_variance_ratio: Vec<f64>,
}

/// A report line from per-seed values (the page merges its one-seed slices with this).
pub fn row(
    measure: &str,
    quantity: &str,
    variable: &str,
    values: Vec<Option<f64>>,
    note: String,
) -> ReportRow {
    let got: Vec<f64> = values.iter().flatten().cloned().collect();
    let m = got.len();
    let mean = (m > 0).then(|| got.iter().sum::<f64>() / m as f64);
    let sd = (m > 1).then(|| {
        let mu = mean.unwrap();
        (got.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (m - 1) as f64).sqrt()
    });
    ReportRow {
        measure: measure.into(),
        quantity: quantity.into(),
        variable: variable.into(),
        reached: m,
        seeds: values.len(),
        values,
        mean,
        sd,
        min: got.iter().cloned().reduce(f64::min),
        max: got.iter().cloned().reduce(f64::max),
        note,
    }
}

/// Run the calibration. `make(id)` builds a measure; `data` is X's flattened matrix with
/// `time_steps` time steps; `labels` may be empty (then (a) is skipped). `progress(msg)` is
/// called for each finished run.
#[allow(clippy::too_many_arguments)]
pub fn calibrate(
    target: &Arc<Target>,
    data: &nalgebra::DMatrix<f64>,
    time_steps: usize,
    labels: &[TaskVariable],
    ids: &[String],
    make: MeasureFactory,
    opts: &CalibrateOptions,
    mut progress: impl FnMut(&str),
) -> Result<Report, String> {
    let evr: Vec<f64> = target.explained_variance_ratio().iter().cloned().collect();
    let k10 = evr.iter().filter(|&&v| v >= 0.10).count();
    let k1 = evr.iter().filter(|&&v| v >= 0.01).count().min(100);
    let mut references = Vec::new();
    let mut usable: Vec<&TaskVariable> = Vec::new();
    for var in labels {
        match decode(data, time_steps, &var.name, &var.class_of, &opts.decode) {
            Ok(d) => {
                let threshold = decodable_threshold(d.chance, d.accuracy);
                references.push(Reference {
                    variable: var.name.clone(),
                    reference: d,
                    threshold,
                });
                usable.push(var);
            }
            Err(e @ DecodeError::Mismatch { .. }) => return Err(e.to_string()),
            Err(e) => progress(&format!("skipping variable: {e}")),
        }
    }
    let mut rows = Vec::new();
    for id in ids {
        let mut dec: Vec<Vec<Option<f64>>> = vec![Vec::new(); usable.len()];
        let (mut cap10, mut cap1, mut steps) = (Vec::new(), Vec::new(), Vec::new());
        for seed in opts.first_seed..opts.first_seed + opts.seeds as u64 {
            let measure = make(id)?;
            let distance = measure.direction() == Direction::Distance;
            let y0 = initial_y(target.n, target.p, seed);
            let options = SessionOptions {
                lr: opts.lr,
                stop: Some(opts.stop),
                max_steps: Some(opts.max_steps),
                ..SessionOptions::default()
            };
            let mut s =
                Session::with_options(target.clone(), Objective::Measure(measure), y0, options);
            let mut scores = vec![s.report().score];
            let mut r2 = vec![pc_r2(target, s.y(), k1, Alignment::Linear)];
            let mut dsteps: Vec<f64> = Vec::new();
            let mut acc: Vec<Vec<f64>> = vec![Vec::new(); usable.len()];
            let decode_now =
                |s: &Session, acc: &mut Vec<Vec<f64>>, dsteps: &mut Vec<f64>, score: f64| {
                    dsteps.push(score);
                    for (j, var) in usable.iter().enumerate() {
                        let a = decode(s.y(), time_steps, &var.name, &var.class_of, &opts.decode)
                            .map(|d| d.accuracy)
                            .unwrap_or(f64::NAN);
                        acc[j].push(a);
                    }
                };
            decode_now(&s, &mut acc, &mut dsteps, scores[0]);
            loop {
                let rep = s.step(1);
                if rep.step == scores.len() - 1 && rep.stopped.is_some() {
                    break;
                }
                scores.push(rep.score);
                r2.push(pc_r2(target, s.y(), k1, Alignment::Linear));
                if rep.stopped.is_some() || rep.step.is_multiple_of(opts.decode_every.max(1)) {
                    decode_now(&s, &mut acc, &mut dsteps, rep.score);
                }
                if rep.stopped.is_some() {
                    break;
                }
            }
            let report = s.report();
            if distance {
                // Scores of a distance are not comparable on a [0, 1] scale; only steps count.
                dec.iter_mut().for_each(|d| d.push(None));
                cap10.push(None);
                cap1.push(None);
            } else {
                for (j, r) in references.iter().enumerate() {
                    dec[j].push(first_crossing(&acc[j], &dsteps, r.threshold));
                }
                let sat = scores_at_threshold(&r2, &scores, Threshold::Half);
                let worst = |k: usize| -> Option<f64> {
                    if k == 0 {
                        return None;
                    }
                    sat[..k]
                        .iter()
                        .try_fold(f64::NEG_INFINITY, |m, v| v.map(|v| m.max(v)))
                };
                cap10.push(worst(k10));
                cap1.push(worst(k1));
            }
            let stopped_by_stop = report.stopped == Some(crate::optim::StopReason::Stop);
            steps.push(stopped_by_stop.then_some(report.step as f64));
            progress(&format!(
                "{id} seed {seed}: {} steps, final score {:.6}",
                report.step, report.score
            ));
        }
        for (j, r) in references.iter().enumerate() {
            let d = &r.reference;
            let note = format!(
                "reference accuracy {:.4}, chance {:.4}, threshold {:.4}{}",
                d.accuracy,
                d.chance,
                r.threshold,
                if d.pooled {
                    ", time steps pooled as samples (too few samples per class per time step)"
                } else {
                    ""
                }
            );
            rows.push(row(
                id,
                "decodable",
                &r.variable,
                std::mem::take(&mut dec[j]),
                note,
            ));
        }
        let pcs_note = |k: usize, pct: &str| {
            if k == 0 {
                format!("no PC holds ≥ {pct} of the variance")
            } else {
                format!("PCs 1–{k} (≥ {pct} of the variance)")
            }
        };
        rows.push(row(
            id,
            "capture_pcs_10pct",
            "",
            cap10,
            pcs_note(k10, "10%"),
        ));
        rows.push(row(id, "capture_pcs_1pct", "", cap1, pcs_note(k1, "1%")));
        rows.push(row(
            id,
            "steps_to_stop",
            "",
            steps,
            format!("updates until the score passes {}", opts.stop),
        ));
    }
    Ok(Report {
        rows,
        references,
        explained_variance_ratio: evr,
    })
}
