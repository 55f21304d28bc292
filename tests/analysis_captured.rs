//! Per-PC R² (spec §4) and the joint-optimisation helpers (spec §7).
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use simscope::analysis::captured::{pc_r2, scores_at_threshold, Alignment, Threshold};
use simscope::analysis::job::run_to_end;
use simscope::analysis::joint::{nbs_bounds_given_cka, perimeter_targets, JointJob, JointSpec};
use simscope::linalg::center_columns;
use simscope::measures::registry;
use simscope::optim::session::initial_y;
use simscope::target::Target;

fn anisotropic(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    initial_y(n, p, seed)
        * DMatrix::from_diagonal(&DVector::from_fn(p, |i, _| 3.0 / (1.0 + i as f64)))
}

/// R² of regressing PC score i on Y (least squares with intercept), by an SVD of Y_c.
fn r2_direct(t: &Target, y: &DMatrix<f64>, i: usize) -> f64 {
    let yc = center_columns(y);
    let svd = yc.svd(true, false);
    let smax = svd.singular_values.max();
    let keep: Vec<usize> = (0..svd.singular_values.len())
        .filter(|&k| svd.singular_values[k] > 1e-9 * smax)
        .collect();
    let q = svd.u.unwrap().select_columns(&keep);
    let x = t.xs.column(i).into_owned();
    (q.transpose() * &x).norm_squared() / x.norm_squared()
}

#[test]
fn linear_r2_is_the_regression_r2_of_each_pc_score_tall_and_wide() {
    for (n, p, q) in [(40, 6, 4), (12, 6, 30)] {
        let x = anisotropic(n, p, 1);
        let t = Target::new(&x).unwrap();
        let y = initial_y(n, q, 2);
        let r2 = pc_r2(&t, &y, t.rank(), Alignment::Linear);
        for (i, v) in r2.iter().enumerate() {
            assert!(
                (v - r2_direct(&t, &y, i)).abs() < 1e-9,
                "{n}×{q} PC{}: {v}",
                i + 1
            );
        }
        if q >= n - 1 {
            assert!(r2.iter().all(|v| (v - 1.0).abs() < 1e-9));
        }
    }
}

#[test]
fn orthogonal_r2_uses_the_correct_rotation() {
    // Y = X_c Q: the correct Procrustes rotation recovers X exactly (the authors' V·U does not).
    let x = anisotropic(30, 5, 3);
    let t = Target::new(&x).unwrap();
    let q = initial_y(5, 5, 4).qr().q();
    let y = &t.xc * &q + DMatrix::from_element(30, 5, 1.5);
    for v in pc_r2(&t, &y, 5, Alignment::Orthogonal) {
        assert!((v - 1.0).abs() < 1e-10);
    }
    // scaled Y: only the scaled variant is invariant
    let y3 = &y * 3.0;
    assert!(pc_r2(&t, &y3, 5, Alignment::Orthogonal)[0] < 0.0);
    for v in pc_r2(&t, &y3, 5, Alignment::OrthogonalScaled) {
        assert!((v - 1.0).abs() < 1e-10);
    }
}

#[test]
fn score_at_threshold_uses_the_first_crossing_and_the_half_rule() {
    // PC 1 crosses (0.2 + 1)/2 = 0.6 between points 1 and 2; PC 2 never reaches 0.75.
    let r2 = vec![
        vec![0.2, 0.5],
        vec![0.4, 0.55],
        vec![0.8, 0.7],
        vec![0.5, 0.6],
    ];
    let scores = [0.1, 0.3, 0.5, 0.9];
    let s = scores_at_threshold(&r2, &scores, Threshold::Half);
    assert!((s[0].unwrap() - 0.4).abs() < 1e-12);
    assert_eq!(s[1], None);
    let s = scores_at_threshold(&r2, &scores, Threshold::Value(0.55));
    assert!((s[1].unwrap() - 0.3).abs() < 1e-12);
}

#[test]
fn perimeter_targets_walk_the_square_counter_clockwise_without_duplicates() {
    let t = perimeter_targets(4);
    let g = [0.0, 1.0 / 3.0, 2.0 / 3.0];
    let want: Vec<(f64, f64)> = g
        .iter()
        .map(|&v| (v, 0.0))
        .chain(g.iter().map(|&v| (1.0, v)))
        .chain([(1.0, 1.0), (2.0 / 3.0, 1.0), (1.0 / 3.0, 1.0)])
        .chain([(0.0, 1.0), (0.0, 2.0 / 3.0), (0.0, 1.0 / 3.0)])
        .collect();
    assert_eq!(t, want);
    assert_eq!(perimeter_targets(6).len(), 20);
}

#[test]
fn cka_nbs_sandwich_holds_on_random_data_and_on_every_joint_end_point() {
    // spec §9.4 example: random 12×4 data.
    for seed in 0..20 {
        let x = initial_y(12, 4, seed);
        let y = initial_y(12, 4, 100 + seed);
        let t = Arc::new(Target::new(&x).unwrap());
        let cka = registry::prepare("cka", t.clone(), 4).unwrap().0.score(&y);
        let nbs = registry::prepare("nbs", t.clone(), 4).unwrap().0.score(&y);
        let (lo, hi) = nbs_bounds_given_cka(cka, 4, 4);
        assert!(
            lo <= nbs + 1e-12 && nbs <= hi + 1e-12,
            "{lo} ≤ {nbs} ≤ {hi}"
        );
    }
    let x = anisotropic(40, 5, 7);
    let t = Arc::new(Target::new(&x).unwrap());
    let spec = JointSpec {
        a: "cka".into(),
        b: "nbs".into(),
        per_side: 3,
        steps: 30,
        lr: 0.1,
        seed: 0,
    };
    let runs = run_to_end(JointJob::new(t.clone(), &spec).unwrap(), |_| {}).unwrap();
    assert_eq!(runs.len(), 8);
    for r in &runs {
        assert_eq!(r.trajectory.len(), 31);
        assert_eq!(r.trajectory[0], runs[0].trajectory[0], "one shared Y₀");
        let (cka, nbs) = r.last();
        let (lo, hi) = nbs_bounds_given_cka(cka, 5, 5);
        assert!(lo <= nbs + 1e-12 && nbs <= hi + 1e-12);
    }
    // the target (1, 1) gets close to it
    let (a, b) = runs[4].last();
    assert_eq!(runs[4].target, (1.0, 1.0));
    assert!(a > 0.9 && b > 0.9, "({a}, {b})");
}
