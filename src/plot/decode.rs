//! The Decode panel's plot: accuracy of decoding each task variable from Y against the
//! optimised score, with the neural reference (decoding from X) and chance as horizontal
//! lines, and a vertical marker where the accuracy first reaches chance + 0.9·(reference −
//! chance): the score needed to decode that variable (spec §5.3).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    empty_hint, err, frame, legend_above, score_axis, score_range, styled_mesh, Key, PlotError,
    Style, PALETTE,
};
use crate::analysis::decode::decodable_threshold;
use crate::measures::Direction;

/// One task variable's decoding curve.
pub struct DecodeSeries<'a> {
    pub name: &'a str,
    /// (score, accuracy) along the run, in order.
    pub points: Vec<(f64, f64)>,
    pub chance: f64,
    pub reference: Option<f64>,
    /// X decodes the variable above chance; if not, no score is needed (no marker is drawn).
    pub x_above_chance: bool,
}

/// Where the accuracy first reaches the decodability threshold: the score of the last decoded
/// point before the crossing (`None` if the curve starts at or above it) and of the first point
/// at or above it.
pub fn needed_bracket(series: &DecodeSeries) -> Option<(Option<f64>, f64)> {
    let reference = series.reference.filter(|_| series.x_above_chance)?;
    let threshold = decodable_threshold(series.chance, reference);
    let points: Vec<&(f64, f64)> = series.points.iter().filter(|p| p.1.is_finite()).collect();
    let k = points.iter().position(|p| p.1 >= threshold)?;
    Some((k.checked_sub(1).map(|j| points[j].0), points[k].0))
}

/// The first score at which the accuracy reaches the decodability threshold, if it does and
/// the crossing is located: its two sides lie within a tenth of the curve's span of scores. A
/// curve too sparse there (the first decode after Y₀ at step 314) gives `None`, never a
/// number it cannot support; [`needed_bracket`] says between which scores it lies.
pub fn score_needed(series: &DecodeSeries) -> Option<f64> {
    let (before, at) = needed_bracket(series)?;
    let Some(before) = before else {
        return Some(at);
    };
    let (lo, hi) = series
        .points
        .iter()
        .filter(|p| p.0.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    ((at - before).abs() <= 0.1 * (hi - lo)).then_some(at)
}

pub fn decode_accuracy<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[DecodeSeries],
    direction: Direction,
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let (sign, x_desc) = score_axis(direction);
    let (lo, hi) = score_range(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        sign,
    );
    let entries: Vec<(String, Key)> = series
        .iter()
        .enumerate()
        .map(|(j, s)| (s.name.to_string(), Key::Line(PALETTE[j % PALETTE.len()])))
        .collect();
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
        .build_cartesian_2d(lo..hi, 0.0..1.05)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        x_desc,
        "decoding accuracy from Y",
        style,
    )
    .x_label_formatter(&|v| format!("{:.2}", sign * v))
    .draw()
    .map_err(err)?;
    if series
        .iter()
        .all(|s| s.points.iter().filter(|p| p.1.is_finite()).count() < 2)
    {
        empty_hint(&chart, style)?;
    }
    for (j, s) in series.iter().enumerate() {
        let color = PALETTE[j % PALETTE.len()];
        if s.chance.is_finite() {
            chart
                .draw_series(LineSeries::new(
                    [(lo, s.chance), (hi, s.chance)],
                    color.mix(0.45).stroke_width(style.px(1.0)),
                ))
                .map_err(err)?;
        }
        if let Some(r) = s.reference.filter(|r| r.is_finite()) {
            chart
                .draw_series(LineSeries::new(
                    [(lo, r), (hi, r)],
                    color.mix(0.6).stroke_width(style.px(3.0)),
                ))
                .map_err(err)?;
        }
        if let Some(x) = score_needed(s).map(|x| sign * x) {
            chart
                .draw_series(LineSeries::new(
                    [(x, 0.0), (x, 1.05)],
                    color.stroke_width(style.px(1.0)),
                ))
                .map_err(err)?;
            // Label on the side of the marker with more room.
            let h = if x > 0.5 * (lo + hi) {
                HPos::Right
            } else {
                HPos::Left
            };
            let font = ("sans-serif", style.font(12.0))
                .into_font()
                .color(&color)
                .pos(Pos::new(h, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(" {} decodable ", s.name),
                    (x, 0.62 - 0.07 * j as f64),
                    font,
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(
                s.points
                    .iter()
                    .filter(|p| p.1.is_finite())
                    .map(|p| (sign * p.0, p.1)),
                color.stroke_width(style.px(2.0)),
            ))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_plot_renders_and_finds_the_marker() {
        let s = DecodeSeries {
            name: "choice",
            points: vec![(0.1, 0.5), (0.5, 0.7), (0.85, 0.9), (0.9, 0.98)],
            chance: 0.5,
            reference: Some(1.0),
            x_above_chance: true,
        };
        assert_eq!(score_needed(&s), Some(0.9));
        // One point fewer: the crossing lies somewhere between 0.5 and 0.9, too far apart to
        // name a score (a tenth of the 0.8 span is 0.08).
        let sparse = DecodeSeries {
            name: "choice",
            points: vec![(0.1, 0.5), (0.5, 0.7), (0.9, 0.98)],
            chance: 0.5,
            reference: Some(1.0),
            x_above_chance: true,
        };
        assert_eq!(score_needed(&sparse), None);
        assert_eq!(needed_bracket(&sparse), Some((Some(0.5), 0.9)));
        let at_chance = DecodeSeries {
            x_above_chance: false,
            points: s.points.clone(),
            ..s
        };
        assert_eq!(
            score_needed(&at_chance),
            None,
            "no threshold where X is at chance"
        );
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
            decode_accuracy(&root, &[s], Direction::Similarity, Style::default()).unwrap();
        }
        assert!(svg.contains("choice decodable"));
    }
}
