//! The calibration report's plot: for each measure (a row), the score at which a synthetic Y
//! optimised against X made each task variable decodable and captured the PCs of each
//! variance band, mean over seeds with the seeds' range. Read down a column: which measure
//! needs the higher score for the same thing (issue 13: 15 rows of numbers said less).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{err, frame, legend_above, styled_mesh, Key, PlotError, Style, PALETTE};
use crate::analysis::calibrate::ReportRow;
use crate::measures::registry;

/// The quantities drawn, in the order of `rows`' first appearance: every `decodable` variable,
/// then the two PC bands (steps to stop are not a score and are left to the table).
fn quantities(rows: &[ReportRow]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in rows.iter().filter(|r| r.quantity != "steps_to_stop") {
        let q = (r.quantity.clone(), r.variable.clone());
        if !out.contains(&q) {
            out.push(q);
        }
    }
    out
}

fn label(quantity: &str, variable: &str, undefined: bool) -> String {
    match quantity {
        "decodable" if undefined => format!("{variable} decodable (X at chance: none)"),
        "decodable" => format!("{variable} decodable"),
        "capture_pcs_10pct" if undefined => "PCs ≥ 10% captured (any Y this wide: none)".into(),
        "capture_pcs_10pct" => "PCs ≥ 10% captured".into(),
        "capture_pcs_1pct" if undefined => "PCs ≥ 1% captured (any Y this wide: none)".into(),
        "capture_pcs_1pct" => "PCs ≥ 1% captured".into(),
        q => q.into(),
    }
}

/// One row per measure, one marker per quantity at its mean over the seeds that reached it,
/// with a bar over their range; a quantity no seed reached is a hollow marker at the right
/// edge. A quantity no score can reach (a variable X itself decodes at chance, PCs a Y this
/// wide fits exactly) has no marker and its legend entry says so.
pub fn calibration_thresholds<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[ReportRow],
    style: Style,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let mut measures: Vec<&str> = Vec::new();
    for r in rows {
        if !measures.contains(&r.measure.as_str()) {
            measures.push(&r.measure);
        }
    }
    let qs = quantities(rows);
    let undefined = |q: &(String, String)| {
        rows.iter()
            .filter(|r| r.quantity == q.0 && r.variable == q.1)
            .any(|r| r.undefined)
    };
    let entries: Vec<(String, Key)> = qs
        .iter()
        .enumerate()
        .map(|(k, q)| {
            let c = PALETTE[k % PALETTE.len()];
            let chance = undefined(q);
            let key = if chance { Key::Cross(c) } else { Key::Dot(c) };
            (label(&q.0, &q.1, chance), key)
        })
        .collect();
    let area = legend_above(root, &entries, style)?;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for v in rows
        .iter()
        .filter(|r| r.quantity != "steps_to_stop")
        .flat_map(|r| [r.min, r.max])
        .flatten()
    {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    // Rows in words, as the menus (the ids are in the table below).
    let names: Vec<String> = measures.iter().map(|id| registry::name(id)).collect();
    let n = measures.len().max(1);
    let name_width = names.iter().map(|m| m.chars().count()).max().unwrap_or(4);
    let y_label = (7.0 * name_width as f64).clamp(44.0, 220.0);
    let mut chart = frame(&area, style, y_label)
        .build_cartesian_2d(lo..(hi + 0.04 * (hi - lo)), -0.5..(n as f64 - 0.5))
        .map_err(err)?;
    styled_mesh(&mut chart.configure_mesh(), "score reached", "", style)
        .y_labels(n)
        .y_label_formatter(&move |v| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 {
                names
                    .get(n - 1 - k as usize)
                    .map_or(String::new(), |s| s.to_string())
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(err)?;
    // Markers of one row spread vertically a little, so equal scores stay distinguishable.
    let offset = |k: usize| 0.5 * (k as f64 + 0.5) / qs.len().max(1) as f64 - 0.25;
    for (m, measure) in measures.iter().enumerate() {
        let y_row = (n - 1 - m) as f64;
        for (k, q) in qs.iter().enumerate() {
            let Some(r) = rows
                .iter()
                .find(|r| r.measure == *measure && r.quantity == q.0 && r.variable == q.1)
            else {
                continue;
            };
            if r.undefined {
                continue;
            }
            let c = PALETTE[k % PALETTE.len()];
            let y = y_row + offset(k);
            match (r.mean, r.min, r.max) {
                (Some(mean), Some(a), Some(b)) => {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(a, y), (b, y)],
                            c.stroke_width(style.px(2.0)),
                        )))
                        .map_err(err)?;
                    chart
                        .draw_series(std::iter::once(Circle::new(
                            (mean, y),
                            style.px(4.5),
                            c.filled(),
                        )))
                        .map_err(err)?;
                }
                _ => {
                    chart
                        .draw_series(std::iter::once(Circle::new(
                            (hi, y),
                            style.px(4.5),
                            c.stroke_width(style.px(1.5)),
                        )))
                        .map_err(err)?;
                }
            }
        }
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(measure: &str, quantity: &str, variable: &str, values: &[Option<f64>]) -> ReportRow {
        crate::analysis::calibrate::row(measure, quantity, variable, values.to_vec(), String::new())
    }

    #[test]
    fn one_row_per_measure_and_a_marker_per_quantity() {
        let mut chance = row("cka", "decodable", "context", &[None, None]);
        chance.undefined = true;
        let rows = vec![
            row("cka", "decodable", "choice", &[Some(0.8), Some(0.9)]),
            chance,
            row("cka", "capture_pcs_10pct", "", &[Some(0.6), Some(0.7)]),
            row("cka", "steps_to_stop", "", &[Some(300.0), Some(320.0)]),
            row("nbs", "decodable", "choice", &[None, None]),
            row("nbs", "capture_pcs_10pct", "", &[Some(0.5), Some(0.55)]),
        ];
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (500, 300)).into_drawing_area();
            calibration_thresholds(&root, &rows, Style::default()).unwrap();
        }
        assert!(svg.contains("choice decodable"));
        assert!(svg.contains("context decodable (X at chance: none)"));
        assert!(svg.contains("PCs ≥ 10% captured"));
        assert!(
            svg.contains("\nlinear CKA\n") && svg.contains("\nNBS\n"),
            "rows in words"
        );
        // 3 reached (cka choice, cka PCs, nbs PCs), 1 hollow (nbs choice), 2 legend dots; the
        // at-chance variable has none.
        assert_eq!(svg.matches("<circle").count(), 6);
        // The axis holds the steps' row out: 320 steps is not a score.
        assert!(!svg.contains("\n300\n") && !svg.contains("\n100\n"));
    }
}
