//! PC perturbation (spec §6): the closed forms equal the measured scores to 1e-10.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use simscope::analysis::perturb::{perturb, theory, Perturbation};
use simscope::linalg::center_columns;
use simscope::measures::cka::Cka;
use simscope::measures::Measure;
use simscope::optim::session::initial_y;
use simscope::target::Target;

fn anisotropic(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    let scale = DVector::from_fn(p, |i, _| 3.0 / (1.0 + i as f64).powf(0.8));
    initial_y(n, p, seed) * DMatrix::from_diagonal(&scale) + DMatrix::from_element(n, p, 0.7)
}

/// NBS by a direct SVD of X_cᵀY_c.
fn nbs_direct(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let (xc, yc) = (center_columns(x), center_columns(y));
    (xc.transpose() * &yc).singular_values().sum() / (xc.norm() * yc.norm())
}

/// In-sample R² of X on Y by least squares through an SVD of Y_c.
fn linreg_direct(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let (xc, yc) = (center_columns(x), center_columns(y));
    let svd = yc.svd(true, false);
    let u = svd.u.unwrap();
    let smax = svd.singular_values.max();
    let keep: Vec<usize> = (0..svd.singular_values.len())
        .filter(|&k| svd.singular_values[k] > 1e-10 * smax)
        .collect();
    let q = u.select_columns(&keep);
    (q.transpose() * &xc).norm_squared() / xc.norm_squared()
}

fn cases(r: usize) -> Vec<Perturbation> {
    let half = std::f64::consts::FRAC_PI_2;
    let mut mixed = Perturbation::identity(r);
    mixed.angles[0] = 0.4;
    mixed.scales[0] = 1.7;
    mixed.angles[2] = half;
    mixed.scales[3] = 0.0;
    mixed.angles[4] = 2.0; // beyond π/2: |cos θ| enters NBS
    mixed.scales[5] = 0.3;
    vec![
        Perturbation::single(r, 0, half, 1.0),
        Perturbation::single(r, 1, std::f64::consts::FRAC_PI_4, 1.0),
        Perturbation::single(r, 2, 0.0, 0.0),
        Perturbation::single(r, 3, 0.0, 2.0),
        Perturbation::single(r, r - 1, 1.1, 0.5),
        mixed,
    ]
}

#[test]
fn theory_equals_measured_for_cka_nbs_and_linreg() {
    for (n, p) in [(40, 8), (25, 12), (200, 30)] {
        let x = anisotropic(n, p, 1);
        let t = Arc::new(Target::new(&x).unwrap());
        let cka = Cka::new(t.clone());
        for (ci, pert) in cases(t.rank()).into_iter().enumerate() {
            let py = perturb(&t, &pert, 5 + ci as u64);
            assert!(py.exact);
            let checks = [
                ("cka", cka.score(&py.y)),
                ("nbs", nbs_direct(&x, &py.y)),
                ("linreg", linreg_direct(&x, &py.y)),
            ];
            for (id, measured) in checks {
                let th = theory(&t, &pert, id).unwrap();
                assert!(
                    (th - measured).abs() < 1e-10,
                    "{n}×{p} case {ci} {id}: theory {th} measured {measured}"
                );
            }
        }
    }
}

#[test]
fn decorrelation_check_values_of_the_spec() {
    // Decorrelating PC i: CKA = 1 − λ_i²/S₂, NBS = 1 − λ_i/S₁ (spec §6.1).
    let x = anisotropic(60, 10, 3);
    let t = Target::new(&x).unwrap();
    let lam = t.lambdas();
    for i in 0..t.rank() {
        let pert = Perturbation::single(t.rank(), i, std::f64::consts::FRAC_PI_2, 1.0);
        let cka = theory(&t, &pert, "cka").unwrap();
        let nbs = theory(&t, &pert, "nbs").unwrap();
        assert!((cka - (1.0 - lam[i] * lam[i] / t.s2)).abs() < 1e-14);
        assert!((nbs - (1.0 - lam[i] / t.s1)).abs() < 1e-14);
    }
}

#[test]
fn perturbation_is_deterministic_and_keeps_variances() {
    let x = anisotropic(30, 6, 4);
    let t = Target::new(&x).unwrap();
    let pert = Perturbation::single(t.rank(), 1, 1.0, 1.0);
    let a = perturb(&t, &pert, 9);
    assert_eq!(a.y, perturb(&t, &pert, 9).y);
    assert_ne!(a.y, perturb(&t, &pert, 10).y);
    // a = 1: Y's PC variances equal X's.
    let ty = Target::new(&a.y).unwrap();
    for (l1, l2) in t.lambdas().iter().zip(ty.lambdas().iter()) {
        assert!((l1 - l2).abs() < 1e-9 * l1);
    }
}

#[test]
fn too_small_a_complement_is_flagged_as_approximate() {
    // n − 1 = rank: no centred direction is orthogonal to every PC.
    let x = anisotropic(8, 10, 5);
    let t = Target::new(&x).unwrap();
    assert_eq!(t.rank(), 7);
    let p = perturb(
        &t,
        &Perturbation::single(7, 0, std::f64::consts::FRAC_PI_2, 1.0),
        1,
    );
    assert!(!p.exact);
    assert!(p.y.iter().all(|v| v.is_finite()));
}

#[test]
fn theory_equals_the_registry_measures_for_every_closed_form() {
    use simscope::measures::registry;
    let closed: Vec<String> = registry::entries()
        .into_iter()
        .filter(|e| e.closed_form)
        .map(|e| e.id)
        .collect();
    assert!(closed.len() >= 8, "{closed:?}");
    for (n, p) in [(60, 8), (200, 30)] {
        let x = anisotropic(n, p, 21);
        let t = Arc::new(Target::new(&x).unwrap());
        for (ci, pert) in cases(t.rank()).into_iter().enumerate() {
            let py = perturb(&t, &pert, 40 + ci as u64);
            for id in &closed {
                let (m, _) = registry::prepare(id, t.clone(), p).unwrap();
                let (th, measured) = (theory(&t, &pert, id).unwrap(), m.score(&py.y));
                assert!(
                    (th - measured).abs() < 1e-10 * th.abs().max(1.0),
                    "{n}×{p} case {ci} {id}: theory {th} measured {measured}"
                );
            }
        }
    }
}
