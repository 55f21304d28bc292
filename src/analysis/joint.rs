//! Joint optimisation of two scores (spec §7): which (A, B) pairs can a Y reach?
//!
//! Targets walk the perimeter of the unit square counter-clockwise from (0, 0), N points per
//! side (4(N − 1) targets, no duplicated corners); each run maximises
//! J = −(|A − t_A| + |B − t_B|) with Adam from one shared Y₀ and no early stop; the final
//! points in perimeter order trace the boundary of the reachable region.

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::Serialize;

use super::job::{Budget, Job, Progress};
use crate::measures::registry;
use crate::optim::session::{initial_y, Objective, Session, SessionOptions};
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

/// (step, A, B) at one state of a target's run.
pub type Point = (usize, f64, f64);

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

/// What defines a joint sweep (the CLI's flags, the page's Joint settings).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct JointSpec {
    /// Measure A (horizontal axis) and B (vertical), any ids.
    pub a: String,
    pub b: String,
    /// Targets per side of the unit square (4(N − 1) targets).
    pub per_side: usize,
    /// Adam updates per target.
    pub steps: usize,
    pub lr: f64,
    /// Seed of the shared Y₀.
    pub seed: u64,
}

/// The sweep as a job: every perimeter target in turn, one Adam update per unit of work, from
/// one shared Y₀ (so the CLI and the page's slices give the same trajectories).
pub struct JointJob {
    target: Arc<Target>,
    spec: JointSpec,
    targets: Vec<(f64, f64)>,
    y0: DMatrix<f64>,
    rank_y: usize,
    /// The target in progress and its session.
    index: usize,
    session: Option<Session>,
    /// (step, A, B) of the target in progress so far.
    current: Vec<(usize, f64, f64)>,
    runs: Vec<JointRun>,
}

impl JointJob {
    /// Check the ids (canonicalised) and settings against the recording's target.
    pub fn new(target: Arc<Target>, spec: &JointSpec) -> Result<Self, String> {
        let (a, _) = registry::resolve(&spec.a).map_err(|e| e.to_string())?;
        let (b, _) = registry::resolve(&spec.b).map_err(|e| e.to_string())?;
        for id in [&a, &b] {
            registry::optimisable(id)?;
            registry::prepare(id, target.clone(), target.p).map_err(|e| e.to_string())?;
        }
        if spec.per_side < 2 {
            return Err(format!(
                "points per side must be at least 2, got {}",
                spec.per_side
            ));
        }
        if !(spec.lr.is_finite() && spec.lr > 0.0) {
            return Err(format!(
                "the learning rate must be a positive number, got {}",
                spec.lr
            ));
        }
        let y0 = initial_y(target.n, target.p, spec.seed);
        Ok(JointJob {
            rank_y: centred_rank(&y0),
            targets: perimeter_targets(spec.per_side),
            spec: JointSpec {
                a,
                b,
                ..spec.clone()
            },
            target,
            y0,
            index: 0,
            session: None,
            current: Vec::new(),
            runs: Vec::new(),
        })
    }

    /// The settings with canonical ids.
    pub fn spec(&self) -> &JointSpec {
        &self.spec
    }

    pub fn targets(&self) -> &[(f64, f64)] {
        &self.targets
    }

    /// Ranks of X and of the centred Y₀ (for the analytic CKA–NBS bounds).
    pub fn ranks(&self) -> (usize, usize) {
        (self.target.rank(), self.rank_y)
    }

    /// The finished targets' runs, in perimeter order.
    pub fn runs(&self) -> &[JointRun] {
        &self.runs
    }

    /// The target in progress and its (step, A, B) trajectory so far.
    pub fn current(&self) -> Option<(usize, &[Point])> {
        (self.index < self.targets.len()).then_some((self.index, self.current.as_slice()))
    }

    fn unit(&mut self) -> Result<(), String> {
        if self.session.is_none() {
            let (ta, tb) = self.targets[self.index];
            let prepare = |id: &str| {
                registry::prepare(id, self.target.clone(), self.target.p)
                    .map(|(m, _)| m)
                    .map_err(|e| e.to_string())
            };
            let objective = Objective::Joint {
                a: prepare(&self.spec.a)?,
                b: prepare(&self.spec.b)?,
                target_a: ta,
                target_b: tb,
            };
            let options = SessionOptions {
                lr: self.spec.lr,
                max_steps: Some(self.spec.steps),
                keep_records: true,
                ..SessionOptions::default()
            };
            let mut s =
                Session::with_options(self.target.clone(), objective, self.y0.clone(), options);
            self.current = trajectory(&mut s);
            self.session = Some(s);
        }
        let s = self.session.as_mut().expect("just made");
        if s.report().step < self.spec.steps && s.stopped().is_none() {
            s.step(1);
            self.current.extend(trajectory(s));
        }
        if s.report().step >= self.spec.steps || s.stopped().is_some() {
            self.runs.push(JointRun {
                target: self.targets[self.index],
                trajectory: std::mem::take(&mut self.current),
            });
            self.session = None;
            self.index += 1;
        }
        Ok(())
    }
}

/// (step, A, B) of the states a joint session recorded since the last call.
fn trajectory(s: &mut Session) -> Vec<(usize, f64, f64)> {
    s.take_records()
        .iter()
        .map(|r| (r.step, r.parts[0], r.parts[1]))
        .collect()
}

impl Job for JointJob {
    type Output = Vec<JointRun>;

    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.is_done() {
            self.unit()?;
            if budget.spent() {
                break;
            }
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.runs.len(),
            total: self.targets.len(),
            what: format!(
                "target {}/{}",
                (self.index + 1).min(self.targets.len()),
                self.targets.len()
            ),
        }
    }

    fn is_done(&self) -> bool {
        self.index >= self.targets.len()
    }

    fn result(self) -> Option<Vec<JointRun>> {
        self.is_done().then_some(self.runs)
    }
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
