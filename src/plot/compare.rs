//! The Compare panel's profile plot: how much of each of X's PCs a model explains
//! (cross-validated R² of the PC from the model), beside how much of X's variance that PC
//! holds. A model with CKA 0.8 that explains PC1 alone and a model that explains PC1–5 read
//! apart here at a glance.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{err, frame, legend_above, styled_mesh, Key, PlotError, Style, PALETTE};

/// X's share of variance per PC (grey bars) and each model's R² per PC (a line with points,
/// one colour per model). R² below 0 (a model worse than the PC's mean) is drawn at 0.
pub fn pc_profile<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x_share: &[f64],
    models: &[(&str, &[f64])],
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let k = models
        .iter()
        .map(|(_, r2)| r2.len())
        .chain(std::iter::once(x_share.len()))
        .max()
        .unwrap_or(0)
        .max(1);
    let grey = RGBColor(190, 193, 198);
    let mut entries = vec![("X: share of variance".to_string(), Key::Block(grey))];
    for (m, (name, _)) in models.iter().enumerate() {
        entries.push((
            format!("R² from {name}"),
            Key::Line(PALETTE[m % PALETTE.len()]),
        ));
    }
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
        .build_cartesian_2d(0.5f64..(k as f64 + 0.5), 0.0f64..1.0f64)
        .map_err(err)?;
    styled_mesh(
        &mut chart.configure_mesh(),
        "PC of X",
        "variance share · R²",
        style,
    )
    .x_labels(k.min(12))
    .x_label_formatter(&|v| format!("{v:.0}"))
    .draw()
    .map_err(err)?;
    chart
        .draw_series(x_share.iter().enumerate().map(|(pc, &s)| {
            let x = pc as f64 + 1.0;
            Rectangle::new(
                [(x - 0.4, 0.0), (x + 0.4, s.clamp(0.0, 1.0))],
                grey.filled(),
            )
        }))
        .map_err(err)?;
    for (m, (_, r2)) in models.iter().enumerate() {
        let color = PALETTE[m % PALETTE.len()];
        let points: Vec<(f64, f64)> = r2
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(pc, v)| (pc as f64 + 1.0, v.clamp(0.0, 1.0)))
            .collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(style.px(2.0)),
            ))
            .map_err(err)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, style.px(3.0), color.filled())),
            )
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_draws_a_bar_per_pc_and_a_line_per_model() {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (500, 300)).into_drawing_area();
            let share = [0.5, 0.3, 0.2];
            let (a, b) = ([0.9, 0.4, -0.2], [0.1, f64::NAN, 0.7]);
            pc_profile(&root, &share, &[("a", &a), ("b", &b)], Style::default()).unwrap();
        }
        assert!(svg.contains("R² from a") && svg.contains("R² from b"));
        assert!(svg.contains("X: share of variance"));
        // Two model lines (their legend swatches are paths too), and the NaN skipped.
        assert!(svg.matches("<polyline").count() >= 2);
        assert!(svg.matches("<circle").count() >= 5, "3 + 2 finite points");
    }
}
