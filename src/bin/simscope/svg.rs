//! `--svg`: the page's plots of a run, drawn by the same `simscope::plot` functions on
//! plotters' SVG backend, so a batch run gives the figures a user sees in the explorer.

use std::path::Path;

use nalgebra::DMatrix;
use plotters::prelude::{IntoDrawingArea, SVGBackend};
use simscope::analysis::captured::{scores_at_threshold, Threshold};
use simscope::measures::registry;
use simscope::plot::{self, CaptureSeries, PlotError, Style};

use crate::common::CliError;

/// Size of every figure, in SVG pixels.
const SIZE: (u32, u32) = (800, 480);

/// What an optimisation run leaves to draw.
pub struct RunFigures<'a> {
    /// (measure id, (step, score) per recorded step), the optimised measure first.
    pub scores: Vec<(&'a str, Vec<(usize, f64)>)>,
    /// (optimised score, R² per PC of X) at the steps where R² was computed.
    pub pc_r2: Vec<(f64, Vec<f64>)>,
    /// A random Y's R² on every PC (the dashed line).
    pub pc_chance: f64,
    /// Explained-variance ratios of X's PCs.
    pub ratios: Vec<f64>,
    /// X and the final Y in X's top two PCs (n × 2), and the number of conditions.
    pub x_pcs: DMatrix<f64>,
    pub y_pcs: DMatrix<f64>,
    pub conditions: usize,
    /// The task variable that colours the conditions (the recording's first), if any.
    pub colour_by: Option<&'a simscope::data::TaskVariable>,
}

type Area<'a> = plotters::prelude::DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw(
    dir: &Path,
    name: &str,
    f: impl FnOnce(&Area) -> Result<(), PlotError>,
) -> Result<String, CliError> {
    draw_sized(dir, name, SIZE, f)
}

fn draw_sized(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    f: impl FnOnce(&Area) -> Result<(), PlotError>,
) -> Result<String, CliError> {
    let path = dir.join(name);
    let root = SVGBackend::new(&path, size).into_drawing_area();
    f(&root).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    root.present()
        .map_err(|e| CliError(format!("cannot write {}: {e:?}", path.display())))?;
    Ok(name.to_string())
}

/// Write scores.svg, pc_r2.svg, capture.svg, spectrum.svg and pcs.svg into `dir`; returns
/// the file names.
pub fn write_run(dir: &Path, run: &RunFigures) -> Result<Vec<String>, CliError> {
    let style = Style::default();
    let series: Vec<(&str, &[(usize, f64)])> = run
        .scores
        .iter()
        .map(|(id, h)| (*id, h.as_slice()))
        .collect();
    let (scores, r2): (Vec<f64>, Vec<Vec<f64>>) = run.pc_r2.iter().cloned().unzip();
    let captured = scores_at_threshold(&r2, &scores, Threshold::Half);
    let k = captured.len().min(run.ratios.len());
    let measure = run.scores.first().map_or("", |s| s.0);
    let name = registry::name(measure);
    Ok(vec![
        draw(dir, "scores.svg", |r| {
            plot::score_trace(r, &series, &[], style)
        })?,
        draw(dir, "pc_r2.svg", |r| {
            plot::pc_capture(
                r,
                &run.pc_r2,
                &run.ratios,
                Some(run.pc_chance),
                registry::direction(measure),
                style,
            )
        })?,
        draw(dir, "capture.svg", |r| {
            let s = [CaptureSeries {
                measure: &name,
                scores: &captured,
            }];
            let why = (run.pc_chance >= 1.0).then_some(plot::SATURATED_NOTE);
            plot::capture_scores(r, &run.ratios[..k], &s, why, style)
        })?,
        draw(dir, "spectrum.svg", |r| {
            plot::pca_spectrum(r, &run.ratios, style)
        })?,
        draw(dir, "pcs.svg", |r| {
            let colour_by = run.colour_by.map(|v| plot::Colouring {
                name: &v.name,
                class_of: &v.class_of,
                classes: &v.classes,
            });
            plot::pc_trajectories(r, &run.x_pcs, &run.y_pcs, run.conditions, colour_by, style)
        })?,
    ])
}

/// `simscope compare --out`'s profile.svg: X's variance per PC and each model's R² per PC
/// (the page's Compare profile plot).
pub fn compare_profile(
    dir: &Path,
    report: &simscope::analysis::compare::CompareReport,
) -> Result<String, CliError> {
    let models: Vec<(&str, &[f64])> = report
        .models
        .iter()
        .map(|m| (m.name.as_str(), m.pc_r2.as_slice()))
        .collect();
    draw(dir, "profile.svg", |r| {
        plot::pc_profile(r, &report.x_explained_variance, &models, Style::default())
    })
}

/// The calibration report's thresholds plot (`simscope calibrate --out`'s thresholds.svg, the
/// page's Calibration plot), 44 px a measure.
pub fn calibration_thresholds(
    dir: &Path,
    rows: &[simscope::analysis::calibrate::ReportRow],
) -> Result<String, CliError> {
    let mut measures: Vec<&str> = rows.iter().map(|r| r.measure.as_str()).collect();
    measures.dedup();
    let size = (SIZE.0, 110 + 44 * measures.len() as u32);
    draw_sized(dir, "thresholds.svg", size, |r| {
        plot::calibration_thresholds(r, rows, Style::default())
    })
}
