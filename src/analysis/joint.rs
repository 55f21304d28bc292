//! Joint optimisation of two scores (spec §7): which (A, B) pairs can a Y reach?
//!
//! Targets walk the perimeter of the unit square counter-clockwise from (0, 0), N points per
//! side (4(N − 1) targets, no duplicated corners); each run maximises
//! J = −(|A − t_A| + |B − t_B|) with Adam from one shared Y₀ and no early stop; the final
//! points in perimeter order trace the boundary of the reachable region.

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::Serialize;

use crate::measures::Measure;
use crate::optim::session::{Objective, Session, SessionOptions};
use crate::target::Target;

/// g = linspace(0, 1, N); bottom (g_j, 0) j < N−1; right (1, g_j) j < N−1; top (g_j, 1) j from
/// N−1 down to 1; left (0, g_j) j from N−1 down to 1.
pub fn perimeter_targets(per_side: usize) -> Vec<(f64, f64)> {
    assert!(per_side >= 2, "at least 2 points per side");
    let g: Vec<f64> = (0..per_side)
        .map(|j| j as f64 / (per_side - 1) as f64)
        .collect();
    let m = per_side - 1;
    let mut t = Vec::with_capacity(4 * m);
    t.extend((0..m).map(|j| (g[j], 0.0)));
    t.extend((0..m).map(|j| (1.0, g[j])));
    t.extend((1..=m).rev().map(|j| (g[j], 1.0)));
    t.extend((1..=m).rev().map(|j| (0.0, g[j])));
    t
}

/// One target's run: (step, A, B) from Y₀ to the last step.
#[derive(Clone, Debug, Serialize)]
pub struct JointRun {
    pub target: (f64, f64),
    pub trajectory: Vec<(usize, f64, f64)>,
}

impl JointRun {
    /// The final (A, B).
    pub fn last(&self) -> (f64, f64) {
        let &(_, a, b) = self.trajectory.last().expect("a run has Y₀ at least");
        (a, b)
    }
}

/// Run every perimeter target for `steps` Adam updates from the shared `y0`. `make(id)` builds
/// a fresh measure for A (`id = 0`) or B (`id = 1`). `progress(done, total)` after each target.
pub fn run(
    target: &Arc<Target>,
    make: &dyn Fn(usize) -> Box<dyn Measure>,
    y0: &DMatrix<f64>,
    per_side: usize,
    steps: usize,
    lr: f64,
    mut progress: impl FnMut(usize, usize),
) -> Vec<JointRun> {
    let targets = perimeter_targets(per_side);
    let total = targets.len();
    targets
        .into_iter()
        .enumerate()
        .map(|(i, (ta, tb))| {
            let objective = Objective::Joint {
                a: make(0),
                b: make(1),
                target_a: ta,
                target_b: tb,
            };
            let options = SessionOptions {
                lr,
                max_steps: Some(steps),
                ..SessionOptions::default()
            };
            let mut s = Session::with_options(target.clone(), objective, y0.clone(), options);
            s.step(steps);
            let trajectory = s
                .history()
                .iter()
                .map(|r| (r.step, r.parts[0], r.parts[1]))
                .collect();
            progress(i + 1, total);
            JointRun {
                target: (ta, tb),
                trajectory,
            }
        })
        .collect()
}

/// Numerical rank of the centred Y (same relative tolerance as the target).
pub fn centred_rank(y: &DMatrix<f64>) -> usize {
    let yc = crate::linalg::center_columns(y);
    let sv = yc.singular_values();
    let smax = sv.iter().cloned().fold(0.0, f64::max);
    let tol = crate::target::RANK_RTOL * smax * y.nrows().max(y.ncols()) as f64;
    sv.iter().filter(|&&s| s > tol).count()
}

/// The analytic CKA–NBS sandwich (spec §7.4) as bounds on NBS given CKA:
/// √(CKA/√(r_x r_y)) ≤ NBS ≤ √(min(r_x, r_y)·CKA).
pub fn nbs_bounds_given_cka(cka: f64, r_x: usize, r_y: usize) -> (f64, f64) {
    let lo = (cka / ((r_x * r_y) as f64).sqrt()).sqrt();
    let hi = (r_x.min(r_y) as f64 * cka).sqrt().min(1.0);
    (lo, hi)
}
