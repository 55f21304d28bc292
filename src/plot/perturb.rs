//! The Perturb-PCs panel's plots: X's PC variances as draggable bars, and the paper's sweep
//! (spec §6). Generic over `DrawingBackend` like every plot here.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::spectrum::decade_percent;
use super::{err, frame, legend_above, percent, styled_mesh, Key, PlotError, Style, PALETTE};

/// Where the bars were drawn, in backend pixels, so a pointer position can be mapped back to
/// a bar and a variance. The y axis is log10 of the explained-variance ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarLayout {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    /// log10 variance ratio at the bottom and top edges.
    pub lo: f64,
    pub hi: f64,
    pub bars: usize,
}

impl BarLayout {
    /// The bar under pixel column `x` (clamped to the first/last bar).
    pub fn bar_at(&self, x: f64) -> Option<usize> {
        if self.bars == 0 || self.right <= self.left {
            return None;
        }
        let f = (x - self.left) / (self.right - self.left) * self.bars as f64;
        Some((f.floor().max(0.0) as usize).min(self.bars - 1))
    }

    /// log10 variance ratio at pixel row `y` (may fall outside [lo, hi]).
    pub fn log_value_at(&self, y: f64) -> f64 {
        if self.bottom <= self.top {
            return self.lo;
        }
        self.lo + (self.bottom - y) / (self.bottom - self.top) * (self.hi - self.lo)
    }

    /// The same layout with every pixel coordinate divided by `k` (backend → CSS pixels).
    pub fn scaled(&self, k: f64) -> BarLayout {
        BarLayout {
            left: self.left / k,
            right: self.right / k,
            top: self.top / k,
            bottom: self.bottom / k,
            ..*self
        }
    }
}

/// The y range (log10 ratio) used for bars of these ratios: room for scales up to 3.
pub fn bar_range(ratios: &[f64]) -> (f64, f64) {
    let finite = ratios.iter().copied().filter(|r| *r > 0.0 && r.is_finite());
    let (mn, mx) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
        (a.min(r), b.max(r))
    });
    if !mn.is_finite() {
        return (-3.0, 1.0);
    }
    ((mn.log10() - 1.0).floor(), (mx * 9.0).log10().ceil())
}

/// X's PC variances as bars (height a_k² λ_k / S₁ on a log axis, the original height as an
/// outline), coloured from blue (θ = 0) to orange (θ = 90°), the focused bar outlined in black.
pub fn variance_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ratios: &[f64],
    scales: &[f64],
    angles_deg: &[f64],
    focus: Option<usize>,
    style: Style,
) -> Result<BarLayout, PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let m = ratios.len().max(1);
    let (lo, hi) = bar_range(ratios);
    let mut chart = frame(root, style, 52.0)
        .build_cartesian_2d(-0.5..(m as f64 - 0.5), lo..hi)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        "PC of X",
        "share of variance (log)",
        style,
    )
    .x_labels(m.min(12))
    .x_label_formatter(&|v| format!("{}", v.round() as i64 + 1))
    .y_label_formatter(&|v| decade_percent(&10f64.powf(v.round())))
    .y_labels(((hi - lo) as usize + 1).min(10))
    .draw()
    .map_err(err)?;
    let (blue, orange) = (PALETTE[0], PALETTE[1]);
    for (k, &r) in ratios.iter().enumerate() {
        let a = scales.get(k).copied().unwrap_or(1.0);
        let theta = angles_deg.get(k).copied().unwrap_or(0.0);
        let t = (theta / 90.0).clamp(0.0, 1.0);
        let mix = |x: u8, y: u8| (x as f64 + t * (y as f64 - x as f64)).round() as u8;
        let color = RGBColor(
            mix(blue.0, orange.0),
            mix(blue.1, orange.1),
            mix(blue.2, orange.2),
        );
        let x = k as f64;
        let h = (a * a * r).log10();
        if h.is_finite() && h > lo {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.4, lo), (x + 0.4, h.min(hi))],
                    color.filled(),
                )))
                .map_err(err)?;
        }
        let h0 = r.log10();
        if h0.is_finite() && (a != 1.0) {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.4, lo), (x + 0.4, h0.clamp(lo, hi))],
                    BLACK.mix(0.5).stroke_width(style.px(1.0)),
                )))
                .map_err(err)?;
        }
        if focus == Some(k) {
            let top = if h.is_finite() { h.clamp(lo, hi) } else { lo };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.45, lo), (x + 0.45, top.max(lo + 0.02 * (hi - lo)))],
                    BLACK.stroke_width(style.px(3.0)),
                )))
                .map_err(err)?;
        }
    }
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    root.present().map_err(err)?;
    Ok(BarLayout {
        left: xs.start as f64,
        right: xs.end as f64,
        top: ys.start as f64,
        bottom: ys.end as f64,
        lo,
        hi,
        bars: ratios.len(),
    })
}

/// One sweep row: the decorrelated PC's variance ratio, then measured and closed-form scores
/// per measure.
pub type SweepRow = (f64, Vec<f64>, Vec<Option<f64>>);

/// The paper's Fig 6: the score after decorrelating each PC in turn (x: that PC's variance
/// ratio, log axis), one colour per measure; dots are measured, lines the closed form.
/// `rows` are (variance ratio, measured per id, theory per id).
pub fn perturb_sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ids: &[String],
    rows: &[SweepRow],
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let logs: Vec<f64> = rows.iter().map(|r| r.0.max(1e-300).log10()).collect();
    let (mut xlo, mut xhi) = logs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !(xlo.is_finite() && xhi > xlo) {
        xlo = -3.0;
        xhi = 0.0;
    }
    let (mut ylo, mut yhi) = (0.0f64, 1.0f64);
    for v in rows.iter().flat_map(|r| {
        r.1.iter()
            .copied()
            .chain(r.2.iter().filter_map(|t| *t))
            .collect::<Vec<_>>()
    }) {
        if v.is_finite() {
            ylo = ylo.min(v);
            yhi = yhi.max(v);
        }
    }
    let pad = 0.05 * (xhi - xlo);
    let entries: Vec<(String, Key)> = ids
        .iter()
        .enumerate()
        .map(|(j, id)| (id.to_string(), Key::Line(PALETTE[j % PALETTE.len()])))
        .collect();
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
        .build_cartesian_2d((xlo - pad)..(xhi + pad), ylo..yhi)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        "share of variance of the decorrelated PC (log)",
        "score",
        style,
    )
    .x_label_formatter(&|v| percent(10f64.powf(*v)))
    .draw()
    .map_err(err)?;
    for j in 0..ids.len() {
        let color = PALETTE[j % PALETTE.len()];
        let theory: Vec<(f64, f64)> = logs
            .iter()
            .zip(rows)
            .filter_map(|(x, r)| r.2.get(j).copied().flatten().map(|t| (*x, t)))
            .filter(|p| p.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(theory, color.stroke_width(style.px(2.0))))
            .map_err(err)?;
        chart
            .draw_series(
                logs.iter()
                    .zip(rows)
                    .filter_map(|(x, r)| r.1.get(j).map(|m| (*x, *m)))
                    .filter(|p| p.1.is_finite())
                    .map(|p| Circle::new(p, style.px(3.5), color.filled())),
            )
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_render_and_map_pixels_back() {
        let mut svg = String::new();
        let layout = {
            let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
            variance_bars(
                &root,
                &[0.6, 0.3, 0.1],
                &[1.0, 0.5, 1.0],
                &[0.0, 0.0, 90.0],
                Some(1),
                Style::default(),
            )
            .unwrap()
        };
        assert!(svg.matches("<rect").count() >= 4, "bars drawn");
        assert_eq!(layout.bars, 3);
        let mid = |k: f64| layout.left + (k + 0.5) / 3.0 * (layout.right - layout.left);
        assert_eq!(layout.bar_at(mid(0.0)), Some(0));
        assert_eq!(layout.bar_at(mid(2.0)), Some(2));
        assert!((layout.log_value_at(layout.bottom) - layout.lo).abs() < 1e-12);
        assert!((layout.log_value_at(layout.top) - layout.hi).abs() < 1e-12);
        let mut svg2 = String::new();
        {
            let root = SVGBackend::with_string(&mut svg2, (400, 300)).into_drawing_area();
            let rows = vec![
                (0.6, vec![0.5, 0.7], vec![Some(0.5), None]),
                (0.3, vec![0.8, 0.9], vec![Some(0.8), None]),
            ];
            perturb_sweep(&root, &["cka".into(), "x".into()], &rows, Style::default()).unwrap();
        }
        assert!(svg2.contains("<circle"), "measured points drawn");
    }
}
