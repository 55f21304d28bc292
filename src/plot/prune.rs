//! Plots of feature pruning (`analysis::prune`): the train/test fit along the greedy path, and
//! RDMs as heatmaps on one shared rank scale.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    dashes, err, frame, legend_above, plasma, styled_mesh, Key, PlotError, Style, PALETTE,
};

/// What the fit-vs-features plot shows besides the curve.
#[derive(Clone, Copy, Debug)]
pub struct PruneReference {
    /// Mean test fit of all features and of the NNLS reweighting baseline.
    pub test_full: f64,
    pub test_reweighted: f64,
    /// The chosen number of kept features (final selection on all stimuli).
    pub chosen: usize,
}

/// Train and test fit (means over folds) against the number of features kept, one point per
/// size on the greedy path; dashed horizontal lines for the full model's and the reweighting
/// baseline's test fits, a vertical line at the chosen size. Train above test is the
/// selection's optimism that the held-out folds remove.
pub fn prune_curve<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    curve: &[(usize, f64, f64)],
    refs: PruneReference,
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let max_n = curve.iter().map(|c| c.0).max().unwrap_or(1).max(1);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let values = curve
        .iter()
        .flat_map(|c| [c.1, c.2])
        .chain([refs.test_full, refs.test_reweighted]);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let gray = RGBColor(110, 110, 110);
    let green = PALETTE[2];
    let mut entries = Vec::new();
    for (y, color, label) in [
        (refs.test_full, gray, "test, all features"),
        (refs.test_reweighted, green, "test, reweighted (NNLS)"),
    ] {
        if y.is_finite() {
            entries.push((label.to_string(), Key::Dash(color)));
        }
    }
    entries.push((
        format!("chosen: {} kept", refs.chosen),
        Key::Line(RGBColor(100, 100, 100)),
    ));
    entries.push(("train fit".to_string(), Key::Line(PALETTE[0])));
    entries.push((
        "test fit (held-out pairs)".to_string(),
        Key::Line(PALETTE[1]),
    ));
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
        .build_cartesian_2d(0.0..(max_n as f64 + 0.5), lo..hi)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        "features kept",
        "fit (mean over folds)",
        style,
    )
    .x_label_formatter(&|v| format!("{v:.0}"))
    .draw()
    .map_err(err)?;
    for (y, color) in [(refs.test_full, gray), (refs.test_reweighted, green)] {
        if y.is_finite() {
            let segments = dashes((0.0, y), (max_n as f64, y), 30);
            chart
                .draw_series(
                    segments
                        .into_iter()
                        .map(|s| PathElement::new(s, color.stroke_width(style.px(1.5)))),
                )
                .map_err(err)?;
        }
    }
    let chosen = refs.chosen as f64;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(chosen, lo), (chosen, hi)],
            BLACK.mix(0.6).stroke_width(style.px(1.5)),
        )))
        .map_err(err)?;
    for (k, pick) in [1usize, 2].into_iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64)> = curve
            .iter()
            .map(|c| (c.0 as f64, if pick == 1 { c.1 } else { c.2 }))
            .filter(|p| p.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied(),
                color.stroke_width(style.px(2.0)),
            ))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// One RDM (row-major n × n, values in [0, 1], e.g. scaled ranks) as a heatmap in the plasma
/// colour map, with a title; stimulus i is row i and column i, so RDMs drawn side by side share
/// the stimulus order. Only the cells of `rows` are drawn, and the frame only when `rows`
/// starts at 0: a canvas can then be filled a band of rows per animation frame (a 92 × 92 RDM
/// is 8,464 rectangles), while an SVG export passes `0..n`.
pub fn rdm_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    n: usize,
    values: &[f64],
    title: &str,
    rows: std::ops::Range<usize>,
    style: Style,
) -> Result<(), PlotError> {
    let first = rows.start == 0;
    if first {
        root.fill(&WHITE).map_err(err)?;
    }
    if n == 0 || values.len() != n * n {
        return root.present().map_err(err);
    }
    let mut chart = ChartBuilder::on(root)
        .margin(style.px(8.0))
        .caption(title, ("sans-serif", style.font(14.0)))
        .x_label_area_size(style.px(22.0))
        .y_label_area_size(style.px(30.0))
        .build_cartesian_2d(0..n, n..0)
        .map_err(err)?;
    if first {
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(4)
            .y_labels(4)
            .label_style(("sans-serif", style.font(11.0)))
            .draw()
            .map_err(err)?;
    }
    chart
        .draw_series((rows.start..rows.end.min(n)).flat_map(|i| {
            (0..n).map(move |j| {
                Rectangle::new([(j, i), (j + 1, i + 1)], plasma(values[i * n + j]).filled())
            })
        }))
        .map_err(err)?;
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_plots_render_to_svg() {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (500, 300)).into_drawing_area();
            let curve: Vec<(usize, f64, f64)> = (1..=10)
                .rev()
                .map(|k| (k, 0.5 + 0.03 * k as f64, 0.4 + 0.02 * k as f64))
                .collect();
            let refs = PruneReference {
                test_full: 0.3,
                test_reweighted: 0.55,
                chosen: 6,
            };
            prune_curve(&root, &curve, refs, Style::default()).unwrap();
        }
        assert!(
            svg.matches("<polyline").count() >= 2,
            "train and test lines"
        );
        assert!(svg.contains("chosen: 6 kept"));
        let mut svg2 = String::new();
        {
            let root = SVGBackend::with_string(&mut svg2, (300, 300)).into_drawing_area();
            let v: Vec<f64> = (0..16).map(|k| k as f64 / 15.0).collect();
            rdm_heatmap(&root, 4, &v, "target", 0..4, Style::default()).unwrap();
        }
        assert!(svg2.matches("<rect").count() >= 16, "one cell per entry");
    }
}
