//! Plots, drawn with `plotters` on any `DrawingBackend`: a canvas in the page, SVG in the CLI
//! and tests. Functions take plain data (never a session) so every face can reuse them.

use nalgebra::DMatrix;
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::CoordTranslate;
use plotters::coord::Shift;
use plotters::prelude::*;

pub mod decode;
pub mod joint;
pub mod perturb;
pub mod prune;
pub mod spectrum;
pub use decode::{decode_accuracy, needed_bracket, score_needed, DecodeSeries};
pub use joint::{joint_region, CkaNbsBounds, JointSeries};
pub use perturb::{perturb_sweep, variance_bars, BarLayout, SweepRow};
pub use prune::{prune_curve, rdm_heatmap, PruneReference};
pub use spectrum::{capture_scores, pca_spectrum, pcs_for_share, CaptureSeries};

/// A drawing failure, with the backend's message.
#[derive(Debug, thiserror::Error)]
#[error("plot: {0}")]
pub struct PlotError(String);

fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError(format!("{e:?}"))
}

/// Qualitative palette (Tableau 10), one colour per condition or measure.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Sizes that scale with the device pixel ratio so canvases stay sharp and legible.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Multiplier for fonts, strokes and margins (the page passes devicePixelRatio).
    pub scale: f64,
}

impl Default for Style {
    fn default() -> Self {
        Style { scale: 1.0 }
    }
}

impl Style {
    fn px(&self, v: f64) -> u32 {
        (v * self.scale).round().max(1.0) as u32
    }
    fn font(&self, v: f64) -> f64 {
        v * self.scale
    }
}

/// The frame every plot shares: margins and label areas scaled for the pixel ratio.
fn frame<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    style: Style,
    y_label_width: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.margin(style.px(8.0))
        .x_label_area_size(style.px(34.0))
        .y_label_area_size(style.px(y_label_width));
    b
}

/// The shared look of axes and grid (no minor lines, light major lines); callers may chain
/// more settings before `draw()`.
fn styled_mesh<'a, 'b, 'm, X, Y, XT, YT, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    x_desc: &str,
    y_desc: &str,
    style: Style,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
    DB: DrawingBackend,
{
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", style.font(12.0)))
        .axis_desc_style(("sans-serif", style.font(13.0)))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(228, 230, 234))
}

/// The shared legend box.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font: f64,
    style: Style,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", style.font(font)))
        .position(position)
        .draw()
        .map_err(err)
}

/// Score against optimisation step, one line per named series.
pub fn score_trace<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[(&str, &[(usize, f64)])],
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let max_step = series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.0))
        .max()
        .unwrap_or(0)
        .max(10);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for v in series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)) {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let mut chart = frame(root, style, 44.0)
        .build_cartesian_2d(0..max_step, lo..hi)
        .map_err(err)?;
    styled_mesh(&mut chart.configure_mesh(), "step", "score", style)
        .draw()
        .map_err(err)?;
    for (k, (name, points)) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().filter(|p| p.1.is_finite()).copied(),
                color.stroke_width(style.px(2.0)),
            ))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3))
            });
    }
    // Always a legend: the series' names say what is drawn (and, for a distance, which way is
    // better).
    if !series.is_empty() {
        legend(&mut chart, SeriesLabelPosition::LowerRight, 12.0, style)?;
    }
    root.present().map_err(err)
}

/// The task variable that colours the conditions of the PC plot: a class per condition.
#[derive(Clone, Copy, Debug)]
pub struct Colouring<'a> {
    pub name: &'a str,
    pub class_of: &'a [usize],
    pub classes: &'a [String],
}

/// X and Y in X's top two PCs. `x_pcs` and `y_pcs` are n × 2 with row = t·C + c. With time
/// (n > C), one trajectory per condition (as in the paper's animations): X wide and faint, Y
/// solid. Without (a conditions × neurons recording), one point per condition: X a faint disc,
/// Y a dot. Conditions take the colour of their class of `colour_by` (with a legend), else of
/// their index with time, else one colour. Axes fit X and Y.
pub fn pc_trajectories<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x_pcs: &DMatrix<f64>,
    y_pcs: &DMatrix<f64>,
    conditions: usize,
    colour_by: Option<Colouring>,
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let n = x_pcs.nrows().min(y_pcs.nrows());
    let conditions = conditions.clamp(1, n.max(1));
    let times = n / conditions;
    let dims = x_pcs.ncols().min(2);
    let coord =
        |m: &DMatrix<f64>, row: usize, d: usize| if d < m.ncols() { m[(row, d)] } else { 0.0 };
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for m in [x_pcs, y_pcs] {
        for row in 0..n {
            for d in 0..2 {
                let v = coord(m, row, d);
                if v.is_finite() {
                    lo[d] = lo[d].min(v);
                    hi[d] = hi[d].max(v);
                }
            }
        }
    }
    for d in 0..2 {
        if !(lo[d].is_finite() && hi[d] > lo[d]) {
            lo[d] = -1.0;
            hi[d] = 1.0;
        }
        let pad = 0.06 * (hi[d] - lo[d]);
        lo[d] -= pad;
        hi[d] += pad;
    }
    let mut chart = frame(root, style, 44.0)
        .build_cartesian_2d(lo[0]..hi[0], lo[1]..hi[1])
        .map_err(err)?;
    let y_desc = if dims > 1 {
        "PC2 of X"
    } else {
        "(X has one PC)"
    };
    styled_mesh(&mut chart.configure_mesh(), "PC1 of X", y_desc, style)
        .draw()
        .map_err(err)?;
    let colour_by = colour_by.filter(|g| g.class_of.len() == conditions);
    let colour = |c: usize| match colour_by {
        Some(g) => PALETTE[g.class_of[c] % PALETTE.len()],
        None if times > 1 => PALETTE[c % PALETTE.len()],
        None => PALETTE[0],
    };
    let path = |m: &DMatrix<f64>, c: usize| {
        (0..times)
            .map(|t| {
                let row = t * conditions + c;
                (coord(m, row, 0), coord(m, row, 1))
            })
            .collect::<Vec<_>>()
    };
    if times > 1 {
        for c in 0..conditions {
            let color = colour(c);
            chart
                .draw_series(LineSeries::new(
                    path(x_pcs, c),
                    color.mix(0.35).stroke_width(style.px(5.0)),
                ))
                .map_err(err)?;
            let yp = path(y_pcs, c);
            chart
                .draw_series(LineSeries::new(
                    yp.clone(),
                    color.stroke_width(style.px(2.0)),
                ))
                .map_err(err)?;
            chart
                .draw_series(
                    yp.iter()
                        .map(|&p| Circle::new(p, style.px(2.5), color.filled())),
                )
                .map_err(err)?;
        }
    } else {
        chart
            .draw_series((0..conditions).map(|c| {
                Circle::new(
                    path(x_pcs, c)[0],
                    style.px(5.0),
                    colour(c).mix(0.3).filled(),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(
                (0..conditions)
                    .map(|c| Circle::new(path(y_pcs, c)[0], style.px(2.5), colour(c).filled())),
            )
            .map_err(err)?;
    }
    if let Some(g) = colour_by {
        let shown = g.classes.len().min(PALETTE.len());
        for (k, class) in g.classes.iter().take(shown).enumerate() {
            let color = PALETTE[k];
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())
                .map_err(err)?
                .label(format!("{} {class}", g.name))
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, 11.0, style)?;
    }
    root.present().map_err(err)
}

/// A PC's colour from its log variance share t ∈ [0, 1] (1 = the largest): plasma reversed
/// and cut before its yellow end, so the high-variance PCs are the darkest (legible on white
/// and on a projector) and the low-variance ones orange.
pub fn variance_colour(t: f64) -> RGBColor {
    plasma(0.78 * (1.0 - t.clamp(0.0, 1.0)))
}

/// The plasma colour map at t ∈ [0, 1] (dark blue → yellow), by linear interpolation of five
/// anchors; used to colour PCs by log explained variance, as in the paper's figures.
pub fn plasma(t: f64) -> RGBColor {
    const ANCHORS: [(f64, f64, f64); 5] = [
        (13.0, 8.0, 135.0),
        (126.0, 3.0, 168.0),
        (204.0, 71.0, 120.0),
        (248.0, 149.0, 64.0),
        (240.0, 249.0, 33.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    } * 4.0;
    let k = (t.floor() as usize).min(3);
    let f = t - k as f64;
    let (a, b) = (ANCHORS[k], ANCHORS[k + 1]);
    let mix = |x: f64, y: f64| (x + f * (y - x)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Share of each PC of X captured by Y (R², y) against the optimised score (x), one line per
/// PC coloured by its log explained-variance ratio (dark = high variance); the last PC is
/// drawn first so PC1 is on top (spec §4.3, the paper's "R² vs score" figure).
pub fn pc_capture<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[(f64, Vec<f64>)],
    ratios: &[f64],
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (s, _) in points {
        if s.is_finite() {
            lo = lo.min(*s);
            hi = hi.max(*s);
        }
    }
    // No finite score yet, or a single one: show the unit interval.
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        lo = 0.0;
        hi = 1.0;
    }
    let pad = 0.02 * (hi - lo);
    let mut chart = frame(root, style, 44.0)
        .build_cartesian_2d((lo - pad)..(hi + pad), 0.0..1.0)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        "score",
        "R² of X's PC from Y",
        style,
    )
    .draw()
    .map_err(err)?;
    let k = points
        .iter()
        .map(|(_, r)| r.len())
        .max()
        .unwrap_or(0)
        .min(ratios.len());
    let logs: Vec<f64> = ratios[..k].iter().map(|r| r.max(1e-12).ln()).collect();
    let (lmin, lmax) = logs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    for pc in (0..k).rev() {
        let t = if lmax > lmin {
            (logs[pc] - lmin) / (lmax - lmin)
        } else {
            1.0
        };
        let color = variance_colour(t);
        let line = points
            .iter()
            .filter(|(s, r)| s.is_finite() && pc < r.len() && r[pc].is_finite())
            .map(|(s, r)| (*s, r[pc].clamp(0.0, 1.0)));
        let series = chart
            .draw_series(LineSeries::new(line, color.stroke_width(style.px(2.0))))
            .map_err(err)?;
        if pc < 3 {
            let label = format!("PC{} ({:.1}%)", pc + 1, 100.0 * ratios[pc]);
            series.label(label).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3))
            });
        }
    }
    if k > 0 {
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 12.0, style)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_render_to_svg() {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
            let pts: Vec<(usize, f64)> = (0..20).map(|i| (i, i as f64 / 20.0)).collect();
            score_trace(&root, &[("cka", &pts)], Style::default()).unwrap();
        }
        assert!(svg.contains("<polyline"), "no line drawn");
        let mut svg2 = String::new();
        {
            let root = SVGBackend::with_string(&mut svg2, (400, 300)).into_drawing_area();
            let x = DMatrix::from_fn(12, 2, |i, j| (i * (j + 1)) as f64);
            pc_trajectories(&root, &x, &(&x * 0.5), 3, None, Style::default()).unwrap();
        }
        assert!(
            svg2.matches("<polyline").count() >= 6,
            "expected 2 paths per condition"
        );
        // Without time (conditions × neurons), X and Y are both drawn, as points, coloured by
        // the task variable's class with a legend.
        let mut svg3 = String::new();
        {
            let root = SVGBackend::with_string(&mut svg3, (400, 300)).into_drawing_area();
            let x = DMatrix::from_fn(12, 2, |i, j| (i * (j + 1)) as f64);
            let class_of: Vec<usize> = (0..12).map(|i| i % 2).collect();
            let classes = ["left".to_string(), "right".to_string()];
            let by = Colouring {
                name: "side",
                class_of: &class_of,
                classes: &classes,
            };
            pc_trajectories(&root, &x, &(&x * 0.5), 12, Some(by), Style::default()).unwrap();
        }
        assert!(svg3.matches("<circle").count() >= 24, "X and Y points");
        assert!(svg3.contains("side right"), "class legend");
    }
}
