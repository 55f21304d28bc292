//! The Joint panel's plot (spec §7): which (A, B) pairs can a Y reach? Each perimeter target's
//! trajectory (light), the final points joined in perimeter order (the boundary of the
//! reachable region), the targets, dashed 0.9 lines, and, for CKA against NBS, the analytic
//! bounds.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{dashes, err, frame, legend_above, styled_mesh, Key, PlotError, Style, PALETTE};
use crate::analysis::joint::nbs_bounds_given_cka;

/// A run ending within this L1 distance of its target reached it.
pub const REACHED: f64 = 0.02;

/// One perimeter target and its trajectory of (A, B) so far.
pub struct JointSeries<'a> {
    pub target: (f64, f64),
    pub trajectory: &'a [(f64, f64)],
    /// The run reached its last step (its last point is on the boundary).
    pub done: bool,
}

/// Where the analytic CKA–NBS bounds go: the ranks of X and Y₀, and whether CKA is on the
/// horizontal axis (`true`) or the vertical one.
#[derive(Clone, Copy, Debug)]
pub struct CkaNbsBounds {
    pub rank_x: usize,
    pub rank_y: usize,
    pub cka_on_x: bool,
}

pub fn joint_region<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    names: (&str, &str),
    runs: &[JointSeries],
    bounds: Option<CkaNbsBounds>,
    models: &[(&str, (f64, f64))],
    style: Style,
) -> Result<(), PlotError> {
    // A target counts as reached when the run ended within REACHED (L1) of it: reached ones
    // are drawn as green rings, unreached ones as red crosses, so a region that stops short of
    // a cross reads as "no Y got there", never as "not tried".
    let reached = |r: &JointSeries| {
        r.done
            && r.trajectory
                .last()
                .is_some_and(|p| (p.0 - r.target.0).abs() + (p.1 - r.target.1).abs() <= REACHED)
    };
    let red = PALETTE[3];
    let green = PALETTE[2];
    let black = RGBColor(20, 20, 20);
    let dark = PALETTE[0];
    let shown: Vec<&(&str, (f64, f64))> = models
        .iter()
        .filter(|(_, p)| p.0.is_finite() && p.1.is_finite())
        .collect();
    let done = runs.iter().filter(|r| r.done).count();
    let mut entries = Vec::new();
    let mut key = |on: bool, label: &str, k: Key| {
        if on {
            entries.push((label.to_string(), k));
        }
    };
    key(
        bounds.is_some(),
        "analytic CKA–NBS bounds",
        Key::Line(green),
    );
    key(
        runs.iter().any(|r| !reached(r)),
        "target not reached",
        Key::Cross(red),
    );
    key(runs.iter().any(reached), "target reached", Key::Ring(green));
    key(done >= 2, "reached (perimeter order)", Key::Line(dark));
    key(
        !shown.is_empty(),
        "model (Compare panel)",
        Key::Block(black),
    );
    root.fill(&WHITE).map_err(err)?;
    let area = legend_above(root, &entries, style)?;
    let mut chart = frame(&area, style, 44.0)
        .build_cartesian_2d(-0.02f64..1.02f64, -0.02f64..1.02f64)
        .map_err(err)?;
    styled_mesh(&mut chart.configure_mesh(), names.0, names.1, style)
        .draw()
        .map_err(err)?;
    let grey = RGBColor(120, 120, 120);
    for seg in
        dashes((0.9, 0.0), (0.9, 1.0), 25)
            .into_iter()
            .chain(dashes((0.0, 0.9), (1.0, 0.9), 25))
    {
        chart
            .draw_series(std::iter::once(PathElement::new(
                seg,
                grey.stroke_width(style.px(1.0)),
            )))
            .map_err(err)?;
    }
    if let Some(b) = bounds {
        let curve = |hi: bool| -> Vec<(f64, f64)> {
            (0..=100)
                .map(|k| {
                    let cka = k as f64 / 100.0;
                    let (lo_n, hi_n) = nbs_bounds_given_cka(cka, b.rank_x, b.rank_y);
                    let nbs = if hi { hi_n } else { lo_n };
                    if b.cka_on_x {
                        (cka, nbs)
                    } else {
                        (nbs, cka)
                    }
                })
                .collect()
        };
        for hi in [false, true] {
            chart
                .draw_series(LineSeries::new(
                    curve(hi),
                    green.stroke_width(style.px(2.0)),
                ))
                .map_err(err)?;
        }
    }
    let light = PALETTE[0].mix(0.25);
    for r in runs {
        // At most ~200 points per trajectory (plus the last) keep each frame cheap.
        let stride = r.trajectory.len().div_ceil(200).max(1);
        let last = r.trajectory.len().saturating_sub(1);
        chart
            .draw_series(LineSeries::new(
                r.trajectory
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| k % stride == 0 || *k == last)
                    .map(|(_, p)| *p)
                    .filter(|p| p.0.is_finite() && p.1.is_finite()),
                light.stroke_width(style.px(1.0)),
            ))
            .map_err(err)?;
    }
    if runs.iter().any(|r| !reached(r)) {
        chart
            .draw_series(
                runs.iter()
                    .filter(|r| !reached(r))
                    .map(|r| Cross::new(r.target, style.px(4.0), red.stroke_width(style.px(1.5)))),
            )
            .map_err(err)?;
    }
    if runs.iter().any(reached) {
        chart
            .draw_series(
                runs.iter().filter(|r| reached(r)).map(|r| {
                    Circle::new(r.target, style.px(5.0), green.stroke_width(style.px(2.0)))
                }),
            )
            .map_err(err)?;
    }
    let finals: Vec<(f64, f64)> = runs
        .iter()
        .filter(|r| r.done)
        .filter_map(|r| r.trajectory.last().copied())
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let all_done = !runs.is_empty() && runs.iter().all(|r| r.done);
    let mut boundary = finals.clone();
    if all_done && !finals.is_empty() {
        boundary.push(finals[0]);
    }
    // Join consecutive reached points, except where the straight segment between them would
    // leave the analytic CKA–NBS region: no Y lies there, so no line may suggest one does.
    let inside = |p: (f64, f64)| match bounds {
        None => true,
        Some(b) => {
            let (cka, nbs) = if b.cka_on_x { p } else { (p.1, p.0) };
            let (lo, hi) = nbs_bounds_given_cka(cka.max(0.0), b.rank_x, b.rank_y);
            nbs >= lo - 0.01 && nbs <= hi + 0.01
        }
    };
    for w in boundary.windows(2) {
        let (p, q) = (w[0], w[1]);
        let crosses = (1..10).any(|k| {
            let t = k as f64 / 10.0;
            !inside((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)))
        });
        if crosses {
            continue;
        }
        chart
            .draw_series(LineSeries::new([p, q], dark.stroke_width(style.px(2.0))))
            .map_err(err)?;
    }
    chart
        .draw_series(
            finals
                .iter()
                .map(|&p| Circle::new(p, style.px(3.0), dark.filled())),
        )
        .map_err(err)?;
    // The models the Compare panel scored on both measures: where a real model sits against
    // what synthetic Ys can reach.
    let size = style.px(5.0) as i32;
    let font = ("sans-serif", style.font(11.0)).into_font().color(&black);
    if !shown.is_empty() {
        chart
            .draw_series(shown.iter().map(|(name, p)| {
                EmptyElement::at(*p)
                    + Rectangle::new([(-size, -size), (size, size)], black.filled())
                    + Text::new(name.to_string(), (size + 3, -2 * size), font.clone())
            }))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_to_svg_with_bounds() {
        let traj = [(0.1, 0.2), (0.5, 0.6)];
        let runs = [JointSeries {
            target: (1.0, 1.0),
            trajectory: &traj,
            done: true,
        }];
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, (300, 200)).into_drawing_area();
            let b = CkaNbsBounds {
                rank_x: 3,
                rank_y: 5,
                cka_on_x: true,
            };
            let models = [("layer4", (0.8, 0.7))];
            joint_region(
                &root,
                ("cka", "nbs"),
                &runs,
                Some(b),
                &models,
                Style::default(),
            )
            .unwrap();
        }
        assert!(text.contains("<svg"));
        assert!(text.contains("analytic"));
        assert!(text.contains("layer4") && text.contains("model (Compare panel)"));
        assert!(
            text.contains("target not reached"),
            "(0.5, 0.6) is far from (1, 1)"
        );
    }

    #[test]
    fn reached_targets_and_unreached_ones_differ() {
        let near = [(0.3, 0.3), (0.99, 0.995)];
        let runs = [JointSeries {
            target: (1.0, 1.0),
            trajectory: &near,
            done: true,
        }];
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, (300, 200)).into_drawing_area();
            joint_region(&root, ("a", "b"), &runs, None, &[], Style::default()).unwrap();
        }
        assert!(text.contains("target reached"));
        assert!(!text.contains("not reached"));
        assert!(!text.contains("model"), "no model, no marker");
    }
}
