//! Decoding (spec §5): L2 multinomial logistic regression with stratified, seeded k-fold CV.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use nalgebra::DMatrix;
use simscope::analysis::decode::{
    cv_accuracy, decode, stratified_folds, DecodeError, DecodeOptions, Logistic, StagedDecode,
};
use simscope::rng::Rng;

/// `classes` Gaussian clusters of `per` samples in `d` dims, centres `sep` apart.
fn clusters(
    classes: usize,
    per: usize,
    d: usize,
    sep: f64,
    seed: u64,
) -> (DMatrix<f64>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let centres = DMatrix::from_fn(classes, d, |_, _| rng.normal() * sep);
    let labels: Vec<usize> = (0..classes * per).map(|i| i % classes).collect();
    let x = DMatrix::from_fn(classes * per, d, |i, j| {
        centres[(labels[i], j)] + rng.normal()
    });
    (x, labels)
}

#[test]
fn gradient_of_the_fit_is_zero_at_the_optimum() {
    // The fitted model satisfies W = −C Xᵀ(P − Y) and Σ(P − Y) = 0 (stationarity).
    let (x, y) = clusters(3, 20, 4, 1.0, 1);
    let model = Logistic::fit(
        &x,
        &y,
        3,
        &DecodeOptions {
            tol: 1e-10,
            max_iter: 2000,
            ..Default::default()
        },
    );
    let z = &x * &model.w;
    let mut resid = DMatrix::zeros(x.nrows(), 3);
    for i in 0..x.nrows() {
        let row: Vec<f64> = (0..3).map(|j| z[(i, j)] + model.b[j]).collect();
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for j in 0..3 {
            resid[(i, j)] = (row[j] - m).exp() / s - if y[i] == j { 1.0 } else { 0.0 };
        }
    }
    let gw = x.transpose() * &resid + &model.w;
    assert!(gw.amax() < 1e-6, "‖∇W‖∞ = {}", gw.amax());
    for j in 0..3 {
        assert!(resid.column(j).sum().abs() < 1e-6);
    }
}

#[test]
fn separable_data_decodes_perfectly() {
    let (x, y) = clusters(4, 25, 10, 10.0, 2);
    let mut rng = Rng::new(0);
    let folds = stratified_folds(&y, 4, 5, &mut rng);
    let acc = cv_accuracy(&x, &y, 4, &folds, &DecodeOptions::default());
    assert!(acc > 0.99, "accuracy {acc}");
}

#[test]
fn shuffled_labels_decode_at_chance() {
    let mut accs = Vec::new();
    for seed in 0..6 {
        let (x, mut y) = clusters(4, 25, 10, 10.0, 10 + seed);
        Rng::new(100 + seed).shuffle(&mut y);
        let folds = stratified_folds(&y, 4, 5, &mut Rng::new(seed));
        accs.push(cv_accuracy(&x, &y, 4, &folds, &DecodeOptions::default()));
    }
    let mean = accs.iter().sum::<f64>() / accs.len() as f64;
    assert!(
        (mean - 0.25).abs() < 0.08,
        "mean accuracy {mean} over {accs:?}"
    );
}

#[test]
fn folds_are_stratified_balanced_and_seeded() {
    let y: Vec<usize> = (0..53).map(|i| i % 3).collect();
    let f1 = stratified_folds(&y, 3, 5, &mut Rng::new(4));
    let f2 = stratified_folds(&y, 3, 5, &mut Rng::new(4));
    let f3 = stratified_folds(&y, 3, 5, &mut Rng::new(5));
    assert_eq!(f1, f2);
    assert_ne!(f1, f3);
    for f in 0..5 {
        let size = f1.iter().filter(|&&v| v == f).count();
        assert!((10..=11).contains(&size), "fold {f} has {size}");
        for c in 0..3 {
            let m = (0..53).filter(|&i| f1[i] == f && y[i] == c).count();
            assert!((3..=4).contains(&m), "fold {f} class {c}: {m}");
        }
    }
}

#[test]
fn time_resolved_decoding_averages_over_time_steps() {
    // T = 3 time steps × C = 40 conditions; the label is decodable only at t = 1.
    let (t, c, d) = (3, 40, 6);
    let class_of: Vec<usize> = (0..c).map(|i| i % 2).collect();
    let mut rng = Rng::new(7);
    let data = DMatrix::from_fn(t * c, d, |row, j| {
        let (ti, ci) = (row / c, row % c);
        let signal = if ti == 1 && j == 0 {
            8.0 * (class_of[ci] as f64 - 0.5)
        } else {
            0.0
        };
        signal + rng.normal()
    });
    let res = decode(&data, t, "v", &class_of, &DecodeOptions::default()).unwrap();
    assert!(!res.pooled);
    assert_eq!(res.per_time.len(), 3);
    assert!(res.per_time[1] > 0.95, "{:?}", res.per_time);
    assert!(
        res.per_time[0] < 0.8 && res.per_time[2] < 0.8,
        "{:?}",
        res.per_time
    );
    assert!((res.accuracy - res.per_time.iter().sum::<f64>() / 3.0).abs() < 1e-15);
    assert_eq!(res.chance, 0.5);
    // The staged decoder (one fold per unit, as the browser worker runs it) is `decode`, and
    // each time step is exactly the k-fold CV of its slice.
    let folds = stratified_folds(&class_of, 2, 5, &mut Rng::new(0));
    for (ti, &acc) in res.per_time.iter().enumerate() {
        let slice = data.rows(ti * c, c).into_owned();
        let direct = cv_accuracy(&slice, &class_of, 2, &folds, &DecodeOptions::default());
        assert_eq!(acc.to_bits(), direct.to_bits(), "time step {ti}");
    }
    let mut staged =
        StagedDecode::new(data.nrows(), t, "v", &class_of, &DecodeOptions::default()).unwrap();
    let mut calls = 0;
    while !staged.is_done() {
        staged.advance(&data);
        calls += 1;
    }
    assert_eq!(calls, t * 5, "one call per fold per time step");
    assert_eq!(staged.finish(), Some(res));
}

#[test]
fn condition_averaged_data_pools_time_steps_and_says_so() {
    // One sample per class per time step (8 directions), 12 time steps.
    let (t, c, d) = (12, 8, 5);
    let class_of: Vec<usize> = (0..c).collect();
    let mut rng = Rng::new(8);
    let centres = DMatrix::from_fn(c, d, |_, _| 5.0 * rng.normal());
    let data = DMatrix::from_fn(t * c, d, |row, j| {
        centres[(row % c, j)] + 0.3 * rng.normal()
    });
    let res = decode(&data, t, "direction", &class_of, &DecodeOptions::default()).unwrap();
    assert!(res.pooled);
    assert!(res.per_time.is_empty());
    assert!(res.accuracy > 0.95, "{}", res.accuracy);
    assert!((res.chance - 0.125).abs() < 1e-15);
    // With only 2 time steps there are 2 samples per class: refuse, do not invent accuracy.
    let small = data.rows(0, 2 * c).into_owned();
    let err = decode(&small, 2, "direction", &class_of, &DecodeOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::TooFewSamples {
                min: 2,
                folds: 5,
                ..
            }
        ),
        "{err}"
    );
}
