//! Plots, drawn with `plotters` on any `DrawingBackend`: a canvas in the page, SVG in the CLI
//! and tests. Functions take plain data (never a session) so every face can reuse them.

use nalgebra::DMatrix;
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use crate::analysis::percent;
use crate::measures::Direction;

pub mod calibrate;
pub mod compare;
pub mod decode;
pub mod joint;
pub mod perturb;
pub mod prune;
pub mod spectrum;
pub use calibrate::calibration_thresholds;
pub use compare::pc_profile;
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

/// How a legend entry is keyed beside its label.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Key {
    Line(RGBColor),
    /// A short dash (a model's level, a faint reference).
    Dash(RGBColor),
    Dot(RGBColor),
    Ring(RGBColor),
    Cross(RGBColor),
    Block(RGBColor),
}

/// A dashed segment from `a` to `b` in data coordinates, `n` dashes: drawn as short segments
/// because plotters' dashed style is not on every backend.
pub(crate) fn dashes(a: (f64, f64), b: (f64, f64), n: usize) -> Vec<Vec<(f64, f64)>> {
    (0..n)
        .map(|k| {
            let t0 = k as f64 / n as f64;
            let t1 = (k as f64 + 0.5) / n as f64;
            let p = |t: f64| (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            vec![p(t0), p(t1)]
        })
        .collect()
}

/// Legends sit above the data, never over it (issue 13: a legend in a corner covered the
/// curves it named). The entries are laid out left to right in rows across the top of `root`,
/// wrapping at its width (at most three rows; the rest are counted), and the area below the
/// band is returned for the chart. With no entries the whole of `root` is returned.
pub(crate) fn legend_above<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[(String, Key)],
    style: Style,
) -> Result<DrawingArea<DB, Shift>, PlotError> {
    if entries.is_empty() {
        return Ok(root.clone());
    }
    let (width, _) = root.dim_in_pixel();
    let font = style.font(12.0);
    let row_h = (1.5 * font).ceil() as i32;
    let key_w = style.px(18.0) as i32;
    let gap = style.px(14.0) as i32;
    let left = style.px(8.0) as i32;
    // Text width estimated from the character count (no font metrics in SVG tests, and the
    // same layout on every face).
    let text_w = |t: &str| (t.chars().count() as f64 * 0.56 * font).ceil() as i32;
    let mut placed: Vec<(i32, i32, String, Key)> = Vec::new();
    let (mut x, mut row) = (left, 0);
    for (k, (label, key)) in entries.iter().enumerate() {
        let w = key_w + style.px(4.0) as i32 + text_w(label);
        if x > left && x + w > width as i32 - left {
            row += 1;
            x = left;
        }
        if row == 3 {
            let rest = format!("… and {} more", entries.len() - k + 1);
            let last = placed.len().saturating_sub(1);
            if let Some(p) = placed.get_mut(last) {
                *p = (p.0, p.1, rest, Key::Dash(RGBColor(255, 255, 255)));
            }
            row = 2;
            break;
        }
        placed.push((x, row, label.clone(), *key));
        x += w + gap;
    }
    let band = (row + 1) * row_h + style.px(4.0) as i32;
    let (top, rest) = root.split_vertically(band);
    let s = |w: f64| style.px(w);
    for (x, r, label, key) in placed {
        let y = r * row_h + row_h / 2 + style.px(2.0) as i32;
        let kx = x + key_w / 2;
        match key {
            Key::Line(c) => top.draw(&PathElement::new(
                vec![(x, y), (x + key_w, y)],
                c.stroke_width(s(3.0)),
            )),
            Key::Dash(c) => top.draw(&PathElement::new(
                vec![(x + key_w / 4, y), (x + 3 * key_w / 4, y)],
                c.stroke_width(s(3.0)),
            )),
            Key::Dot(c) => top.draw(&Circle::new((kx, y), s(4.0), c.filled())),
            Key::Ring(c) => top.draw(&Circle::new((kx, y), s(4.0), c.stroke_width(s(2.0)))),
            Key::Cross(c) => top.draw(&Cross::new((kx, y), s(4.0), c.stroke_width(s(2.0)))),
            Key::Block(c) => top.draw(&Rectangle::new(
                [
                    (x + 2, y - s(5.0) as i32),
                    (x + key_w - 2, y + s(5.0) as i32),
                ],
                c.filled(),
            )),
        }
        .map_err(err)?;
        let text = ("sans-serif", font)
            .into_font()
            .color(&RGBColor(40, 40, 40))
            .pos(Pos::new(HPos::Left, VPos::Center));
        top.draw(&Text::new(label, (x + key_w + s(4.0) as i32, y), text))
            .map_err(err)?;
    }
    Ok(rest)
}

/// Before a run has two points a plot says what it will show, instead of blank axes at step 0
/// (issue 13). Drawn centred in the chart's data range.
pub const EMPTY_HINT: &str = "press Play or Step: the run is drawn here";

fn empty_hint<DB: DrawingBackend, CT: CoordTranslate>(
    chart: &ChartContext<'_, DB, CT>,
    style: Style,
) -> Result<(), PlotError> {
    centred_note(chart, EMPTY_HINT, 0.5, style)
}

/// Said on the R² and capture plots when Y is as wide as n − 1 (every R² is 1 from the start).
pub const SATURATED_NOTE: &str =
    "every R² is 1 for any Y\nwith n − 1 columns or more:\nno PC is told apart";

/// Grey text centred across the plotting area at `height` (0 = top, 1 = bottom), one line per
/// `\n`.
pub(crate) fn centred_note<DB: DrawingBackend, CT: CoordTranslate>(
    chart: &ChartContext<'_, DB, CT>,
    text: &str,
    height: f64,
    style: Style,
) -> Result<(), PlotError> {
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let size = style.font(13.0);
    let font = ("sans-serif", size)
        .into_font()
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    let lines: Vec<&str> = text.lines().collect();
    let step = 1.3 * size;
    let top = h as f64 * height - step * (lines.len() as f64 - 1.0) / 2.0;
    for (k, line) in lines.iter().enumerate() {
        let y = (top + step * k as f64) as i32;
        area.draw(&Text::new(*line, (w as i32 / 2, y), font.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// A model's score on the first series' measure, drawn across the score plot so the
/// synthetic trajectory can be read against it (where the curve crosses the line, the
/// synthetic Y reached the model's score).
#[derive(Clone, Copy, Debug)]
pub struct ModelMark<'a> {
    pub name: &'a str,
    pub value: f64,
}

/// Score against optimisation step, one line per named series, and the models' scores on the
/// first series' measure as dashed lines.
pub fn score_trace<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[(&str, &[(usize, f64)])],
    marks: &[ModelMark],
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
    let marked = marks.iter().map(|m| m.value);
    for v in series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.1))
        .chain(marked)
    {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    // The series' names say what is drawn (and, for a distance, which way is better).
    let mark_colour = |k: usize| RGBColor(40, 40, 40).mix(1.0 - 0.25 * (k % 3) as f64);
    let mut entries: Vec<(String, Key)> = series
        .iter()
        .enumerate()
        .map(|(k, (name, _))| (name.to_string(), Key::Line(PALETTE[k % PALETTE.len()])))
        .collect();
    for (k, m) in marks
        .iter()
        .enumerate()
        .filter(|(_, m)| m.value.is_finite())
    {
        let c = mark_colour(k).to_rgba();
        entries.push((
            format!("model {}: {:.3}", m.name, m.value),
            Key::Dash(RGBColor(c.0, c.1, c.2)),
        ));
    }
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
        .build_cartesian_2d(0..max_step, lo..hi)
        .map_err(err)?;
    styled_mesh(&mut chart.configure_mesh(), "step", "score", style)
        .draw()
        .map_err(err)?;
    if series
        .iter()
        .all(|(_, s)| s.iter().filter(|p| p.1.is_finite()).count() < 2)
    {
        empty_hint(&chart, style)?;
    }
    for (k, (_, points)) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().filter(|p| p.1.is_finite()).copied(),
                color.stroke_width(style.px(2.0)),
            ))
            .map_err(err)?;
    }
    // Dashes of about a quarter of the steps' span each (integer steps), a grey per model.
    let n_dashes = (max_step / 4).clamp(1, 40);
    for (k, m) in marks
        .iter()
        .enumerate()
        .filter(|(_, m)| m.value.is_finite())
    {
        let color = mark_colour(k);
        let dash = |j: usize| {
            let a = j * max_step / n_dashes;
            let b = a + (max_step / n_dashes / 2).max(1);
            PathElement::new(
                vec![(a, m.value), (b, m.value)],
                color.stroke_width(style.px(2.0)),
            )
        };
        chart.draw_series((0..n_dashes).map(dash)).map_err(err)?;
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
    let colour_by = colour_by.filter(|g| g.class_of.len() == conditions);
    let entries: Vec<(String, Key)> = colour_by.map_or(Vec::new(), |g| {
        g.classes
            .iter()
            .take(PALETTE.len())
            .enumerate()
            .map(|(k, class)| (format!("{} {class}", g.name), Key::Dot(PALETTE[k])))
            .collect()
    });
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
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

/// Where a plot's score axis puts "better": to the right, always. A distance (lower is
/// better) is drawn on a reversed axis, so that every R²-against-score and
/// decoding-against-score plot reads left to right as the optimisation goes (issue 13).
/// Returns the sign that maps a score to its axis position and the axis name.
pub fn score_axis(direction: Direction) -> (f64, &'static str) {
    match direction {
        Direction::Similarity => (1.0, "score"),
        Direction::Distance => (-1.0, "distance (reversed: better to the right)"),
    }
}

/// The range of the finite axis positions `sign · score`, padded by 2 %, or the unit
/// interval (in axis positions) when there is no finite score or a single one.
pub(crate) fn score_range(scores: impl Iterator<Item = f64>, sign: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in scores.map(|s| sign * s).filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        (lo, hi) = if sign > 0.0 { (0.0, 1.0) } else { (-1.0, 0.0) };
    }
    let pad = 0.02 * (hi - lo);
    (lo - pad, hi + pad)
}

/// Share of each PC of X captured by Y (R², y) against the optimised score (x, better to the
/// right: see [`score_axis`]), one line per PC coloured by its log explained-variance ratio
/// (dark = high variance); the last PC is drawn first so PC1 is on top (spec §4.3, the paper's
/// "R² vs score" figure).
pub fn pc_capture<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[(f64, Vec<f64>)],
    ratios: &[f64],
    chance: Option<f64>,
    direction: Direction,
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let (sign, x_desc) = score_axis(direction);
    let (lo, hi) = score_range(points.iter().map(|p| p.0), sign);
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
    let colour = |pc: usize| {
        variance_colour(if lmax > lmin {
            (logs[pc] - lmin) / (lmax - lmin)
        } else {
            1.0
        })
    };
    let grey = RGBColor(110, 110, 110);
    let mut entries: Vec<(String, Key)> = (0..k.min(3))
        .map(|pc| {
            (
                format!("PC{} ({})", pc + 1, percent(ratios[pc])),
                Key::Line(colour(pc)),
            )
        })
        .collect();
    if let Some(c) = chance {
        entries.push((format!("random Y ({c:.2})"), Key::Dash(grey)));
    }
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
        .build_cartesian_2d(lo..hi, 0.0..1.0)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        x_desc,
        "R² of X's PC from Y",
        style,
    )
    .x_label_formatter(&|v| format!("{:.2}", sign * v))
    .draw()
    .map_err(err)?;
    if points.iter().filter(|p| p.0.is_finite()).count() < 2 {
        empty_hint(&chart, style)?;
    }
    if chance.is_some_and(|c| c >= 1.0) {
        // Said on the plot itself: every line sits on 1 whatever the score.
        centred_note(&chart, SATURATED_NOTE, 0.4, style)?;
    }
    if let Some(c) = chance.filter(|c| c.is_finite()) {
        for seg in dashes((lo, c), (hi, c), 30) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    seg,
                    grey.stroke_width(style.px(1.5)),
                )))
                .map_err(err)?;
        }
    }
    for pc in (0..k).rev() {
        let line = points
            .iter()
            .filter(|(s, r)| s.is_finite() && pc < r.len() && r[pc].is_finite())
            .map(|(s, r)| (sign * s, r[pc].clamp(0.0, 1.0)));
        chart
            .draw_series(LineSeries::new(
                line,
                colour(pc).stroke_width(style.px(2.0)),
            ))
            .map_err(err)?;
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
            score_trace(&root, &[("cka", &pts)], &[], Style::default()).unwrap();
        }
        assert!(svg.contains("<polyline"), "no line drawn");
        assert!(!svg.contains("model"), "no model, no mark");
        assert!(!svg.contains(EMPTY_HINT), "a run with points has no hint");
        let mut empty = String::new();
        {
            let root = SVGBackend::with_string(&mut empty, (400, 300)).into_drawing_area();
            score_trace(&root, &[("cka", &[(0, 0.1)])], &[], Style::default()).unwrap();
        }
        assert!(empty.contains(EMPTY_HINT), "step 0 says what will be drawn");
        let mut marked = String::new();
        {
            let root = SVGBackend::with_string(&mut marked, (400, 300)).into_drawing_area();
            let pts: Vec<(usize, f64)> = (0..20).map(|i| (i, i as f64 / 20.0)).collect();
            let marks = [ModelMark {
                name: "layer4",
                value: 0.5,
            }];
            score_trace(&root, &[("cka", &pts)], &marks, Style::default()).unwrap();
        }
        assert!(marked.contains("model layer4: 0.500"), "the mark's legend");
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

    /// The y of the `<text>` whose content is `label`, and the smallest y of the polylines
    /// of more than two points stroked in `colour` (the data, not its two-point legend key),
    /// in an SVG plotters wrote.
    fn text_y_and_data_top(svg: &str, label: &str, colour: &str) -> (f64, f64) {
        let attr = |tag: &str, name: &str| -> Option<String> {
            let k = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[k..k + tag[k..].find('"')?].to_string())
        };
        let text = svg
            .split("<text")
            .find(|t| {
                t.split('>')
                    .nth(1)
                    .is_some_and(|c| c.trim_start().starts_with(label))
            })
            .unwrap_or_else(|| panic!("no text {label}"));
        let y = attr(text, "y").unwrap().parse().unwrap();
        let top = svg
            .split("<polyline")
            .skip(1)
            .filter(|p| p.split("/>").next().unwrap().contains(colour))
            .map(|p| attr(p, "points").unwrap())
            .filter(|pts| pts.split_whitespace().count() > 2)
            .flat_map(|pts| pts.split_whitespace().map(String::from).collect::<Vec<_>>())
            .map(|xy| xy.split(',').nth(1).unwrap().parse::<f64>().unwrap())
            .fold(f64::INFINITY, f64::min);
        (y, top)
    }

    #[test]
    fn legends_sit_above_the_data_and_wrap() {
        // A curve that climbs to the top right corner, where the old legend sat.
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
            let pts: Vec<(usize, f64)> = (0..50).map(|i| (i, i as f64 / 49.0)).collect();
            let low: Vec<(usize, f64)> = (0..50).map(|i| (i, 0.5 * i as f64 / 49.0)).collect();
            score_trace(
                &root,
                &[("CKA", &pts), ("NBS", &low)],
                &[],
                Style::default(),
            )
            .unwrap();
        }
        let (y, top) = text_y_and_data_top(&svg, "CKA", "#1F77B4");
        assert!(top.is_finite(), "the curve is drawn");
        assert!(y < top, "legend at y={y}, data from y={top}");
        // Many entries on a narrow plot wrap into rows and are counted past three rows.
        let mut narrow = String::new();
        {
            let root = SVGBackend::with_string(&mut narrow, (200, 300)).into_drawing_area();
            let pts: Vec<(usize, f64)> = (0..5).map(|i| (i, 0.1 * i as f64)).collect();
            let names: Vec<String> = (0..12).map(|k| format!("measure number {k}")).collect();
            let series: Vec<(&str, &[(usize, f64)])> =
                names.iter().map(|n| (n.as_str(), &pts[..])).collect();
            score_trace(&root, &series, &[], Style::default()).unwrap();
        }
        assert!(narrow.contains("measure number 0") && narrow.contains("measure number 1"));
        assert!(
            narrow.contains("… and 10 more"),
            "rows past three are counted"
        );
        assert!(!narrow.contains("measure number 11"));
    }

    #[test]
    fn a_distance_reads_left_to_right_as_it_falls() {
        assert_eq!(score_axis(Direction::Similarity).0, 1.0);
        let (sign, desc) = score_axis(Direction::Distance);
        assert_eq!(sign, -1.0);
        assert!(desc.contains("reversed"));
        // Distances 0.9 → 0.1: axis positions −0.9 → −0.1, so the best (0.1) is rightmost.
        let (lo, hi) = score_range([0.9, 0.5, 0.1].into_iter(), sign);
        assert!(lo < -0.9 && hi > -0.1 && hi < 0.0);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
            let pts = vec![
                (0.9, vec![0.1, 0.0]),
                (0.5, vec![0.6, 0.2]),
                (0.1, vec![0.99, 0.8]),
            ];
            pc_capture(
                &root,
                &pts,
                &[0.7, 0.3],
                Some(0.25),
                Direction::Distance,
                Style::default(),
            )
            .unwrap();
        }
        assert!(
            svg.contains("random Y (0.25)"),
            "the chance level is in the legend"
        );
        // Tick labels show the distances themselves, not their negatives, falling to the right.
        let ticks: Vec<f64> = svg
            .split("<text")
            .filter_map(|t| t.split('>').nth(1)?.split('<').next()?.trim().parse().ok())
            .filter(|v: &f64| (v * 100.0).round() % 10.0 == 0.0 && *v < 1.0 && *v > 0.0)
            .collect();
        let x_ticks: Vec<f64> = ticks.iter().rev().take(3).copied().collect();
        assert!(
            x_ticks.windows(2).all(|w| w[0] < w[1]),
            "last ticks fall: {ticks:?}"
        );
        assert!(!svg.contains("-0.50"));
        assert!(svg.contains("distance (reversed"));
        assert!(svg.contains("PC1 (70%)") && svg.contains("PC2 (30%)"));
        assert_eq!(percent(0.0712), "7.1%");
        assert_eq!(percent(0.71), "71%");
        assert_eq!(percent(f64::NAN), "—");
    }
}
