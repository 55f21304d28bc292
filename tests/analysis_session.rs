//! The optimisation session (spec §3): optimisers, objectives, stop rule, watched measures,
//! bounded snapshots, NaN handling, and finite trajectories for every registered measure.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use nalgebra::DMatrix;
use simscope::measures::cka::Cka;
use simscope::measures::{registry, Direction, Measure};
use simscope::optim::session::{initial_y, Objective, OptimizerKind, Session, SessionOptions};
use simscope::optim::StopReason;
use simscope::target::Target;

fn target(n: usize, p: usize, seed: u64) -> Arc<Target> {
    let scale = DMatrix::from_diagonal(&nalgebra::DVector::from_fn(p, |i, _| {
        2.0 / (1.0 + i as f64)
    }));
    Arc::new(Target::new(&(initial_y(n, p, seed) * scale)).unwrap())
}

fn measure(id: &str, t: &Arc<Target>) -> Box<dyn Measure> {
    registry::prepare(id, t.clone(), t.p).unwrap().0
}

#[test]
fn new_keeps_the_page_api_and_initial_y_is_row_major() {
    let y = initial_y(3, 2, 5);
    let mut rng = simscope::rng::Rng::new(5);
    let draws: Vec<f64> = (0..6).map(|_| rng.normal()).collect();
    assert_eq!(y[(0, 1)], draws[1]);
    assert_eq!(y[(2, 0)], draws[4]);
    let t = target(30, 4, 1);
    let mut s = Session::new(
        t.clone(),
        Box::new(Cka::new(t.clone())),
        initial_y(30, 4, 0),
        0.1,
    );
    let r0 = s.report();
    assert_eq!(r0.step, 0);
    let r = s.step(7);
    assert_eq!(r.step, 7);
    assert!(r.score > r0.score);
    assert_eq!(s.y().shape(), (30, 4));
    assert_eq!(r.stopped, None);
}

#[test]
fn stop_rule_counts_updates_like_the_authors() {
    let t = target(40, 5, 2);
    let run = |stop| {
        let opts = SessionOptions {
            stop: Some(stop),
            max_steps: Some(500),
            ..Default::default()
        };
        let mut s = Session::with_options(
            t.clone(),
            Objective::Measure(measure("cka", &t)),
            initial_y(40, 5, 3),
            opts,
        );
        let r = s.run(|_| {});
        (r, s.history().iter().map(|h| h.score).collect::<Vec<_>>())
    };
    let (r, scores) = run(0.95);
    assert_eq!(r.stopped, Some(StopReason::Stop));
    // the first state above the threshold is the last one; no update after it
    assert!(r.score > 0.95);
    assert!(scores[..scores.len() - 1].iter().all(|&s| s <= 0.95));
    assert_eq!(scores.len(), r.step + 1);
    // never reached: stops at max_steps
    let opts = SessionOptions {
        stop: Some(2.0),
        max_steps: Some(25),
        ..Default::default()
    };
    let mut s = Session::with_options(
        t.clone(),
        Objective::Measure(measure("cka", &t)),
        initial_y(40, 5, 3),
        opts,
    );
    let r = s.step(1000);
    assert_eq!((r.step, r.stopped), (25, Some(StopReason::MaxSteps)));
    // already above at Y₀ (stop below the initial score): zero updates
    let opts = SessionOptions {
        stop: Some(-1.0),
        ..Default::default()
    };
    let mut s = Session::with_options(
        t.clone(),
        Objective::Measure(measure("cka", &t)),
        initial_y(40, 5, 3),
        opts,
    );
    assert_eq!(s.step(10).step, 0);
}

#[test]
fn a_distance_is_minimised_and_stops_below() {
    let t = target(40, 5, 4);
    let m = measure("procrustes-euclidean", &t);
    assert_eq!(m.direction(), Direction::Distance);
    let d0 = m.score(&initial_y(40, 5, 0));
    let opts = SessionOptions {
        stop: Some(0.5 * d0),
        max_steps: Some(2000),
        ..Default::default()
    };
    let mut s = Session::with_options(t.clone(), Objective::Measure(m), initial_y(40, 5, 0), opts);
    let r = s.run(|_| {});
    assert_eq!(r.stopped, Some(StopReason::Stop));
    assert!(r.score < 0.5 * d0);
}

#[test]
fn sgd_and_adam_both_climb_and_are_deterministic() {
    let t = target(50, 6, 5);
    for (kind, lr, steps) in [
        (OptimizerKind::Adam, 0.1, 60),
        (OptimizerKind::Sgd, 20.0, 200),
    ] {
        let go = || {
            let opts = SessionOptions {
                optimizer: kind,
                lr,
                ..Default::default()
            };
            let mut s = Session::with_options(
                t.clone(),
                Objective::Measure(measure("cka", &t)),
                initial_y(50, 6, 1),
                opts,
            );
            let first = s.report().score;
            (first, s.step(steps), s.y().clone())
        };
        let (first, r, y) = go();
        assert!(r.score > first + 0.3, "{kind:?}: {first} → {}", r.score);
        let (_, r2, y2) = go();
        assert_eq!(r, r2);
        assert_eq!(y, y2);
    }
}

#[test]
fn watched_measures_are_reported_every_step() {
    let t = target(30, 4, 6);
    let mut s = Session::new(t.clone(), measure("cka", &t), initial_y(30, 4, 0), 0.1);
    s.watch("nbs", measure("nbs", &t));
    s.watch("linreg", measure("linreg", &t));
    assert_eq!(s.watch_ids(), vec!["nbs", "linreg"]);
    s.step(5);
    let nbs = measure("nbs", &t);
    for h in s.history() {
        assert_eq!(h.watched.len(), 2);
    }
    assert_eq!(s.history().len(), 6);
    assert_eq!(s.report().watched[0], nbs.score(s.y()));
}

#[test]
fn snapshots_are_bounded_and_evenly_spaced() {
    let t = target(20, 3, 7);
    let opts = SessionOptions {
        snapshot_every: 3,
        max_snapshots: 8,
        ..Default::default()
    };
    let mut s = Session::with_options(
        t.clone(),
        Objective::Measure(measure("cka", &t)),
        initial_y(20, 3, 0),
        opts,
    );
    s.step(1000);
    let snaps = s.snapshots();
    assert!(snaps.len() <= 8 && snaps.len() >= 4, "{}", snaps.len());
    assert_eq!(snaps[0].step, 0);
    let gap = snaps[1].step - snaps[0].step;
    assert!(gap.is_multiple_of(3));
    assert!(snaps.windows(2).all(|w| w[1].step - w[0].step == gap));
    assert_eq!(snaps[0].y, initial_y(20, 3, 0));
}

#[test]
fn joint_objective_approaches_its_targets() {
    let t = target(60, 6, 8);
    let objective = Objective::Joint {
        a: measure("cka", &t),
        b: measure("nbs", &t),
        target_a: 0.6,
        target_b: 0.85,
    };
    let mut s = Session::with_options(
        t.clone(),
        objective,
        initial_y(60, 6, 0),
        SessionOptions {
            lr: 0.05,
            ..Default::default()
        },
    );
    let r0 = s.report();
    let r = s.step(300);
    assert_eq!(r.parts.len(), 2);
    assert!((r.score + (r.parts[0] - 0.6).abs() + (r.parts[1] - 0.85).abs()).abs() < 1e-15);
    assert!(r.score > r0.score);
    assert!(r.score > -0.05, "J = {} at {:?}", r.score, r.parts);
}

/// CKA whose gradient is NaN on the given evaluation calls (0-based).
struct NanAt {
    inner: Cka,
    calls: AtomicUsize,
    bad: Vec<usize>,
}

impl Measure for NanAt {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.inner.score(y)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let k = self.calls.fetch_add(1, Ordering::Relaxed);
        let s = self.inner.score_and_grad(y, grad);
        if self.bad.contains(&k) {
            grad[(0, 0)] = f64::NAN;
        }
        s
    }
}

#[test]
fn authors_nan_guard_is_replicated_on_request() {
    let t = target(30, 4, 9);
    let m = NanAt {
        inner: Cka::new(t.clone()),
        calls: AtomicUsize::new(0),
        bad: vec![3],
    };
    let opts = SessionOptions {
        replicate_nan: true,
        seed: 1,
        ..Default::default()
    };
    let mut s = Session::with_options(
        t.clone(),
        Objective::Measure(Box::new(m)),
        initial_y(30, 4, 0),
        opts,
    );
    let r = s.step(10);
    // 10 iterations, one of them skipped: 9 updates
    assert_eq!(r.step, 9);
    assert_eq!(s.skipped_steps(), 1);
    assert_eq!(s.history().len(), 11);
    // from then on the recorded score belongs to a jittered Y, not to the reported one
    let cka = Cka::new(t.clone());
    assert!((r.score - cka.score(s.y())).abs() > 0.0);
    assert!(r.score.is_finite() && s.y().iter().all(|v| v.is_finite()));
}

#[test]
fn by_default_a_non_finite_gradient_stops_at_the_last_finite_y() {
    let t = target(30, 4, 9);
    let m = NanAt {
        inner: Cka::new(t.clone()),
        calls: AtomicUsize::new(0),
        bad: vec![3],
    };
    let mut s = Session::with_options(
        t.clone(),
        Objective::Measure(Box::new(m)),
        initial_y(30, 4, 0),
        SessionOptions::default(),
    );
    let r = s.step(10);
    assert_eq!(r.stopped, Some(StopReason::NonFinite));
    assert!(r.step < 4);
    assert!(r.score.is_finite() && s.y().iter().all(|v| v.is_finite()));
    assert_eq!(Cka::new(t).score(s.y()), r.score);
}

/// Every registered measure, 100 seeds: score, Y and every watched value stay finite.
fn finite_for(ids: &[String], n: usize, p: usize, seeds: u64, steps: usize) {
    let t = target(n, p, 11);
    for id in ids {
        for seed in 0..seeds {
            let mut s = Session::new(t.clone(), measure(id, &t), initial_y(n, p, seed), 0.1);
            let r = s.step(steps);
            assert_eq!(r.stopped, None, "{id} seed {seed} stopped: {:?}", r.stopped);
            assert!(
                s.history().iter().all(|h| h.score.is_finite()),
                "{id} seed {seed}: non-finite score"
            );
            assert!(
                s.y().iter().all(|v| v.is_finite()),
                "{id} seed {seed}: non-finite Y"
            );
        }
    }
}

/// One id per distinct code path (the ridge λ values share one).
fn families() -> Vec<String> {
    let mut ids: Vec<String> = registry::all_ids()
        .into_iter()
        .filter(|id| !id.starts_with("ridge-"))
        .collect();
    ids.push("ridge-lambda100-r2#5folds_cv".into());
    ids.push("ridge-lambda100-r2#no_cv".into());
    ids
}

#[test]
fn trajectories_stay_finite_100_seeds_100x20_every_measure() {
    finite_for(&registry::all_ids(), 100, 20, 100, 15);
}

#[test]
fn trajectories_stay_finite_100_seeds_500x100_kernels_and_bures() {
    let ids: Vec<String> = families()
        .into_iter()
        .filter(|id| !id.contains("r2") && !id.starts_with("rsa") && id != "linreg")
        .collect();
    finite_for(&ids, 500, 100, 100, 2);
}

#[test]
fn trajectories_stay_finite_100_seeds_500x100_regression_and_rsa() {
    let ids: Vec<String> = families()
        .into_iter()
        .filter(|id| id.contains("r2") || id.starts_with("rsa") || id == "linreg")
        .collect();
    finite_for(&ids, 500, 100, 100, 2);
}

#[test]
#[ignore = "long: a few seeds at 1080×200 and 2000×500 (run with --ignored)"]
fn trajectories_stay_finite_large() {
    for (n, p, seeds, steps) in [(1080, 200, 3, 20), (2000, 500, 2, 10)] {
        let t0 = std::time::Instant::now();
        finite_for(&families(), n, p, seeds, steps);
        eprintln!(
            "{n}×{p}: {seeds} seeds × {steps} steps × {} measures finite in {:.1} s",
            families().len(),
            t0.elapsed().as_secs_f64()
        );
    }
}
