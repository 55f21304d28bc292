//! Variance plots of X's PCs: the PCA spectrum of a recording, and the score at which each PC
//! is captured against its variance (the paper's "score needed to capture a PC" figure).

use plotters::prelude::*;

use super::{
    centred_note, err, frame, legend_above, styled_mesh, variance_colour, Key, PlotError, Style,
    PALETTE,
};

/// Log-scale axis range covering `values` (positive entries only), padded by a factor 1.5.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo.is_finite() {
        (lo / 1.5, hi * 1.5)
    } else {
        (1e-3, 1.0)
    }
}

/// Log-axis tick label: powers of ten only, as a percentage (1e-2 → "1%"); the ticks in
/// between stay unlabelled so narrow plots do not crowd.
pub(crate) fn decade_percent(v: &f64) -> String {
    let l = v.log10();
    if (l - l.round()).abs() > 1e-6 {
        return String::new();
    }
    let pct = 100.0 * 10f64.powi(l.round() as i32);
    if pct >= 1.0 {
        format!("{pct:.0}%")
    } else {
        format!("{pct}%")
    }
}

/// Smallest number of leading PCs whose ratios sum to `share` (None if they never do).
pub fn pcs_for_share(ratios: &[f64], share: f64) -> Option<usize> {
    let mut total = 0.0;
    ratios
        .iter()
        .position(|r| {
            total += r;
            total >= share
        })
        .map(|k| k + 1)
}

/// The PCA spectrum: explained-variance ratio per PC on a log axis, coloured as in every other
/// plot (dark = high variance), with the cumulative share as a line on the right axis.
pub fn pca_spectrum<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    ratios: &[f64],
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let k = ratios.len();
    let (lo, hi) = log_range(ratios.iter().copied());
    let mut chart = frame(root, style, 52.0)
        .right_y_label_area_size(style.px(44.0))
        .build_cartesian_2d(0.0..(k.max(1) as f64 + 1.0), (lo..hi).log_scale())
        .map_err(err)?
        .set_secondary_coord(0.0..(k.max(1) as f64 + 1.0), 0.0..1.0);
    styled_mesh(
        &mut chart.configure_mesh(),
        "PC",
        "share of variance",
        style,
    )
    .x_labels((k + 2).min(12))
    .x_label_formatter(&|v| {
        let r = v.round();
        if (v - r).abs() < 1e-6 && r >= 1.0 && r <= k as f64 {
            format!("{r}")
        } else {
            String::new()
        }
    })
    .y_label_formatter(&decade_percent)
    .draw()
    .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_desc("cumulative share (line)")
        .y_labels(3)
        .label_style(("sans-serif", style.font(12.0)))
        .axis_desc_style(("sans-serif", style.font(13.0)))
        .draw()
        .map_err(err)?;
    let logs: Vec<f64> = ratios.iter().map(|r| r.max(1e-300).ln()).collect();
    let (lmin, lmax) = logs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    chart
        .draw_series(
            ratios
                .iter()
                .enumerate()
                .filter(|(_, r)| **r > 0.0)
                .map(|(i, &r)| {
                    let t = if lmax > lmin {
                        (logs[i] - lmin) / (lmax - lmin)
                    } else {
                        1.0
                    };
                    let x = (i + 1) as f64;
                    Rectangle::new([(x - 0.4, lo), (x + 0.4, r)], variance_colour(t).filled())
                }),
        )
        .map_err(err)?;
    let mut total = 0.0;
    let cumulative = ratios.iter().enumerate().map(|(i, r)| {
        total += r;
        ((i + 1) as f64, total.min(1.0))
    });
    chart
        .draw_secondary_series(LineSeries::new(
            cumulative,
            RGBColor(60, 60, 60).stroke_width(style.px(1.5)),
        ))
        .map_err(err)?;
    root.present().map_err(err)
}

/// One optimised measure's "score needed to capture" each PC: the score at which the PC's R²
/// first passed its threshold, or `None` if it has not (yet).
pub struct CaptureSeries<'a> {
    pub measure: &'a str,
    pub scores: &'a [Option<f64>],
}

/// Score at which each PC of X was captured against that PC's share of variance (log axis).
/// PCs not captured yet sit on the top edge as hollow markers, so a measure that never
/// captures low-variance PCs is visible at a glance.
pub fn capture_scores<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    ratios: &[f64],
    series: &[CaptureSeries],
    uninformative: Option<&str>,
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let (lo, hi) = log_range(ratios.iter().copied());
    let (mut smin, mut smax) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in series.iter().flat_map(|s| s.scores.iter().flatten()) {
        if s.is_finite() {
            smin = smin.min(*s);
            smax = smax.max(*s);
        }
    }
    let (ylo, yhi) = if smax > smin {
        let pad = 0.08 * (smax - smin);
        (smin - pad, smax + pad)
    } else {
        (0.0, 1.0)
    };
    let entries: Vec<(String, Key)> = series
        .iter()
        .enumerate()
        .map(|(m, s)| (s.measure.to_string(), Key::Dot(PALETTE[m % PALETTE.len()])))
        .collect();
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 48.0)
        .build_cartesian_2d((lo..hi).log_scale(), ylo..yhi)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        "PC's share of X's variance",
        "score when captured",
        style,
    )
    .x_label_formatter(&decade_percent)
    .draw()
    .map_err(err)?;
    if let Some(why) = uninformative {
        // Every R² starts at 1: a "score when captured" would be the starting score for all.
        return centred_note(&chart, why, 0.5, style).and_then(|_| root.present().map_err(err));
    }
    let size = style.px(4.0) as i32;
    for (m, s) in series.iter().enumerate() {
        let color = PALETTE[m % PALETTE.len()];
        let reached: Vec<(f64, f64)> = ratios
            .iter()
            .zip(s.scores)
            .filter_map(|(&r, v)| v.filter(|v| v.is_finite() && r > 0.0).map(|v| (r, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(
                reached.iter().copied(),
                color.mix(0.5).stroke_width(style.px(1.0)),
            ))
            .map_err(err)?;
        chart
            .draw_series(
                reached
                    .iter()
                    .map(|&p| Circle::new(p, size, color.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(
                ratios
                    .iter()
                    .zip(s.scores)
                    .filter(|(r, v)| v.is_none() && **r > 0.0)
                    .map(|(&r, _)| Circle::new((r, yhi), size, color.stroke_width(style.px(1.5)))),
            )
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_are_labelled_as_percentages() {
        assert_eq!(decade_percent(&0.1), "10%");
        assert_eq!(decade_percent(&1.0), "100%");
        assert_eq!(decade_percent(&0.001), "0.1%");
        assert_eq!(decade_percent(&0.2), "");
    }

    #[test]
    fn share_counts_leading_pcs() {
        assert_eq!(pcs_for_share(&[0.5, 0.3, 0.15, 0.05], 0.9), Some(3));
        assert_eq!(pcs_for_share(&[0.5, 0.3], 0.9), None);
        assert_eq!(pcs_for_share(&[0.95, 0.05], 0.9), Some(1));
    }

    #[test]
    fn spectrum_and_capture_draw_marks() {
        let ratios = [0.6, 0.25, 0.1, 0.04, 0.01];
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
            pca_spectrum(&root, &ratios, Style::default()).unwrap();
        }
        assert!(
            svg.matches("<rect").count() >= ratios.len(),
            "one bar per PC"
        );
        assert!(svg.contains("<polyline"), "cumulative line");
        let scores = [Some(0.2), Some(0.5), Some(0.8), None, None];
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
            let s = [CaptureSeries {
                measure: "cka",
                scores: &scores,
            }];
            capture_scores(&root, &ratios, &s, None, Style::default()).unwrap();
        }
        // 3 captured + 2 hollow + 1 legend marker.
        assert!(svg.matches("<circle").count() >= 6, "{svg}");
    }
}
