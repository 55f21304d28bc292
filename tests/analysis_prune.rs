//! Feature pruning (issue 7, Tarigopula et al. 2023): planted-subset recovery, no leakage of
//! held-out stimuli into selection, incremental updates equal to full recomputation, RDM
//! validation, NNLS optimality and the CLI's output shape.
#![cfg(not(target_arch = "wasm32"))] // native only: runs the CLI

mod common;
use common::simscope;

use nalgebra::{DMatrix, DVector};
use simscope::analysis::prune::{
    builtin_features, builtin_target_rdm, evaluate, evaluate_measure, fit_subset, greedy_path,
    measure_path_fits, nnls, path_fits, rdm, validate_rdm, Compare, MeasureFit, Method, Options,
    PathRun, PruneError, Rdm, SubsetRdm, DEMO_SIGNAL,
};
use simscope::rng::Rng;

fn random(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = Rng::new(seed);
    DMatrix::from_fn(n, p, |_, _| rng.normal())
}

/// Independent direct RDM of a subset (textbook formulas), entry (i, j).
fn direct(f: &DMatrix<f64>, kept: &[usize], d: Rdm, i: usize, j: usize) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = kept.iter().map(|&c| (f[(i, c)], f[(j, c)])).unzip();
    match d {
        Rdm::SquaredEuclidean => a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum(),
        Rdm::Correlation => {
            let m = a.len() as f64;
            let (ma, mb) = (a.iter().sum::<f64>() / m, b.iter().sum::<f64>() / m);
            let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
            for (x, y) in a.iter().zip(&b) {
                sab += (x - ma) * (y - mb);
                saa += (x - ma) * (x - ma);
                sbb += (y - mb) * (y - mb);
            }
            1.0 - sab / (saa * sbb).sqrt()
        }
    }
}

fn no_progress() -> impl FnMut(simscope::analysis::prune::StageProgress) -> bool {
    |_| true
}

#[test]
fn incremental_updates_equal_full_recomputation() {
    let f = random(15, 10, 1);
    let stims: Vec<usize> = vec![0, 2, 3, 5, 7, 8, 11, 12, 14];
    for d in [Rdm::SquaredEuclidean, Rdm::Correlation] {
        let mut st = SubsetRdm::new(&f, &stims, d, &(0..10).collect::<Vec<_>>());
        let mut buf = Vec::new();
        // Remove 0, 3, 7, add 3 back, remove 9, 1 without resync.
        for &c in &[0usize, 3, 7, 3, 9, 1] {
            st.values_toggled(c, &mut buf);
            st.toggle(c);
            let kept = st.kept();
            let v = st.values();
            let mut k = 0;
            for a in 0..stims.len() {
                for b in a + 1..stims.len() {
                    let want = direct(&f, &kept, d, stims[a], stims[b]);
                    assert!(
                        (v[k] - want).abs() < 1e-12,
                        "{d:?} {kept:?}: {} vs {want}",
                        v[k]
                    );
                    assert!((buf[k] - want).abs() < 1e-12, "toggled preview {d:?}");
                    k += 1;
                }
            }
        }
    }
}

#[test]
fn path_fits_equal_full_recomputation() {
    let f = random(18, 9, 2);
    let t = rdm(&random(18, 4, 3), Rdm::SquaredEuclidean);
    let stims: Vec<usize> = (0..18).filter(|i| i % 3 != 0).collect();
    for method in [Method::Backward, Method::Forward] {
        for distance in [Rdm::SquaredEuclidean, Rdm::Correlation] {
            for compare in [Compare::Pearson, Compare::Spearman] {
                let opts = Options {
                    method,
                    distance,
                    compare,
                    ..Default::default()
                };
                let path = greedy_path(&f, &t, &stims, &opts, &mut |_, _| true).unwrap();
                let replay = path_fits(&f, &t, &stims, &path, &opts);
                for (i, &n) in path.grid.iter().enumerate() {
                    let full = fit_subset(&f, &t, &stims, &path.kept(n), &opts);
                    if n == 1 && distance == Rdm::Correlation {
                        continue; // one feature: correlation distance undefined (0 by convention)
                    }
                    assert!(
                        (path.fit[i] - full).abs() < 1e-12,
                        "{method:?} {distance:?} {compare:?} n={n}"
                    );
                    assert!((replay[i] - full).abs() < 1e-12);
                }
            }
        }
    }
}

#[test]
fn invalid_rdms_are_refused() {
    let good = rdm(&random(6, 3, 4), Rdm::SquaredEuclidean);
    assert!(validate_rdm(&good).is_ok());
    assert!(matches!(
        validate_rdm(&DMatrix::zeros(3, 4)),
        Err(PruneError::NotSquare { rows: 3, cols: 4 })
    ));
    let mut asym = good.clone();
    asym[(1, 2)] += 0.5;
    assert!(matches!(
        validate_rdm(&asym),
        Err(PruneError::NotSymmetric { i: 1, j: 2, .. })
    ));
    let mut diag = good.clone();
    diag[(4, 4)] = 1.0;
    assert!(matches!(
        validate_rdm(&diag),
        Err(PruneError::NonZeroDiagonal { i: 4, .. })
    ));
    let mut nan = good.clone();
    nan[(0, 5)] = f64::NAN;
    assert!(matches!(
        validate_rdm(&nan),
        Err(PruneError::NonFinite { i: 0, j: 5 })
    ));
    // Evaluation refuses them too, and a size mismatch.
    let f = random(6, 3, 5);
    let e = evaluate(&f, &asym, &Options::default(), &mut no_progress());
    assert!(matches!(e, Err(PruneError::NotSymmetric { .. })));
    let big = rdm(&random(7, 3, 4), Rdm::SquaredEuclidean);
    let e = evaluate(&f, &big, &Options::default(), &mut no_progress());
    assert_eq!(
        e.unwrap_err(),
        PruneError::Mismatch {
            features: 6,
            target: 7
        }
    );
}

#[test]
fn nnls_satisfies_the_kkt_conditions() {
    let a = random(40, 8, 6);
    let b = DVector::from_iterator(40, random(40, 1, 7).iter().copied());
    let x = nnls(&a, &b);
    let g = a.transpose() * (&b - &a * &x); // negative gradient
    let mut active = 0;
    for i in 0..8 {
        assert!(x[i] >= 0.0);
        if x[i] > 0.0 {
            active += 1;
            assert!(g[i].abs() < 1e-9, "stationary on the support: {}", g[i]);
        } else {
            assert!(g[i] <= 1e-9, "no descent direction at a zero: {}", g[i]);
        }
    }
    assert!(
        active > 0 && active < 8,
        "a mixed support exercises both branches ({active})"
    );
}

#[test]
fn the_planted_subset_is_recovered() {
    let (f, planted) = builtin_features("prune-demo-mit").unwrap();
    assert_eq!(planted.len(), DEMO_SIGNAL);
    let t = builtin_target_rdm("kriegeskorte2008-mit").unwrap();
    let opts = Options {
        distance: Rdm::SquaredEuclidean,
        folds: 3,
        ..Default::default()
    };
    let ev = evaluate(&f, &t, &opts, &mut no_progress()).unwrap();
    let kept = &ev.final_selection.kept;
    let hit = kept
        .iter()
        .filter(|c| planted.binary_search(c).is_ok())
        .count();
    assert!(
        hit >= DEMO_SIGNAL - 2,
        "recovered {hit} of {DEMO_SIGNAL}: {kept:?}"
    );
    assert!(
        kept.len() - hit <= 3,
        "{} nuisance features kept",
        kept.len() - hit
    );
    assert!(ev.test_fit_pruned > ev.test_fit_full + 0.5, "{ev:?}");
    // The planted subset itself is the best of the path on all stimuli.
    let all: Vec<usize> = (0..f.nrows()).collect();
    let fp = fit_subset(&f, &t, &all, &planted, &opts);
    assert!(fp > 0.8, "planted fit {fp}");
}

#[test]
fn held_out_stimuli_never_reach_selection() {
    let (f, _) = builtin_features("prune-demo-mit").unwrap();
    let t = builtin_target_rdm("kriegeskorte2008-mit").unwrap();
    let opts = Options {
        folds: 4,
        seed: 3,
        ..Default::default()
    };
    let ev = evaluate(&f, &t, &opts, &mut no_progress()).unwrap();
    // Scramble fold 0's test stimuli: their features and their target rows/columns.
    let test = ev.folds[0].test.clone();
    let mut rng = Rng::new(99);
    let (mut f2, mut t2) = (f.clone(), t.clone());
    for &s in &test {
        for c in 0..f2.ncols() {
            f2[(s, c)] = 10.0 * rng.normal();
        }
        for o in 0..t2.nrows() {
            if o != s {
                let v = rng.uniform() * 3.0;
                t2[(s, o)] = v;
                t2[(o, s)] = v;
            }
        }
    }
    let ev2 = evaluate(&f2, &t2, &opts, &mut no_progress()).unwrap();
    assert_eq!(ev2.folds[0].test, test);
    // Fold 0's selection (path, train curve, validation curve, chosen subset) is unchanged...
    assert_eq!(ev.folds[0].selection, ev2.folds[0].selection);
    // ...its held-out score does change, and so does a fold that trains on those stimuli.
    assert_ne!(ev.folds[0].test_fit_pruned, ev2.folds[0].test_fit_pruned);
    assert_ne!(ev.folds[1].selection.path, ev2.folds[1].selection.path);
}

#[test]
fn cli_prints_the_summary_and_writes_the_curve() {
    let dir = std::env::temp_dir().join(format!("simscope-prune-{}", std::process::id()));
    let d = dir.to_string_lossy().to_string();
    let (code, out, err) = simscope(&[
        "prune",
        "prune-demo-mit",
        "--target-rdm",
        "kriegeskorte2008-mit",
        "--folds",
        "3",
        "--distance",
        "sqeuclidean",
        "--out",
        &d,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(|s| s.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "kept",
            "test_fit_full",
            "test_fit_pruned",
            "test_fit_reweighted"
        ]
    );
    let kept = obj["kept"].as_array().unwrap();
    assert!(!kept.is_empty() && kept.iter().all(|k| k.as_u64().unwrap() < 96));
    for k in ["test_fit_full", "test_fit_pruned", "test_fit_reweighted"] {
        assert!(obj[k].as_f64().unwrap().abs() <= 1.0);
    }
    let csv = std::fs::read_to_string(dir.join("curve.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("n_kept,train_fit,test_fit"));
    assert_eq!(lines.next().unwrap().split(',').next(), Some("96"));
    assert_eq!(csv.lines().count(), 1 + 96);
    let detail: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("kept.json")).unwrap()).unwrap();
    assert_eq!(detail["kept"], obj["kept"]);

    // A bad target RDM file: exit 2 with a specific message.
    let mut bad = rdm(&random(96, 3, 8), Rdm::SquaredEuclidean);
    bad[(1, 0)] += 1.0;
    let path = dir.join("bad.npy");
    let vals: Vec<f64> = (0..96 * 96).map(|k| bad[(k / 96, k % 96)]).collect();
    std::fs::write(&path, simscope::data::npy::write_npy_f64(&[96, 96], &vals)).unwrap();
    let (code, out, err) = simscope(&[
        "prune",
        "prune-demo-mit",
        "--target-rdm",
        &path.to_string_lossy(),
        "--out",
        &d,
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("error:") && err.contains("not symmetric"),
        "{err}"
    );
    let (code, _, err) = simscope(&["prune", "prune-demo-mit", "--out", &d]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error:"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fit as a registered measure: F = the 12 real category features, X = the monkey IT
/// embedding (92 × 91), 4 folds.
fn measure_problem() -> (DMatrix<f64>, DMatrix<f64>, Options) {
    let (f, planted) = builtin_features("prune-categories-mit").unwrap();
    assert!(planted.is_empty());
    let x = simscope::data::datasets::kriegeskorte2008_mit().data;
    let opts = Options {
        folds: 4,
        seed: 1,
        ..Default::default()
    };
    (f, x, opts)
}

fn registry_score(
    id: &str,
    f: &DMatrix<f64>,
    x: &DMatrix<f64>,
    stims: &[usize],
    kept: &[usize],
) -> f64 {
    let t = std::sync::Arc::new(simscope::target::Target::new(&x.select_rows(stims)).unwrap());
    let y = f.select_rows(stims).select_columns(kept);
    let (m, _) = simscope::measures::registry::prepare(id, t, y.ncols()).unwrap();
    m.score(&y)
}

#[test]
fn measure_fit_equals_the_registry_score() {
    let (f, x, opts) = measure_problem();
    for id in ["cka", "procrustes-angular-score"] {
        let m = MeasureFit::new(id, x.clone()).unwrap();
        let stims: Vec<usize> = (0..92).filter(|s| s % 3 != 1).collect();
        for kept in [
            vec![0, 5, 7],
            vec![2, 3, 4, 5, 11],
            (0..12).collect::<Vec<_>>(),
        ] {
            let got = m.score(&f, &stims, &kept).unwrap();
            assert_eq!(
                got,
                registry_score(id, &f, &x, &stims, &kept),
                "{id} {kept:?}"
            );
        }
        // Every fit along a measure path, and its replay on other stimuli, is that score.
        let mut run = PathRun::with_measure(&f, &m, &stims, &opts).unwrap();
        while !run.is_done() {
            run.step();
        }
        let path = run.finish();
        assert_eq!(path.grid.len(), 12);
        let other: Vec<usize> = (0..92).filter(|s| s % 3 == 1).collect();
        let replay = measure_path_fits(&f, &m, &other, &path).unwrap();
        for (k, &n) in path.grid.iter().enumerate() {
            let kept = path.kept(n);
            assert_eq!(
                path.fit[k],
                registry_score(id, &f, &x, &stims, &kept),
                "{id} n={n}"
            );
            assert_eq!(
                replay[k],
                registry_score(id, &f, &x, &other, &kept),
                "{id} replay n={n}"
            );
        }
    }
    // The evaluation's held-out fits are the registry's scores on the held-out rows.
    let m = MeasureFit::new("cka", x.clone()).unwrap();
    let ev = evaluate_measure(&f, &m, &opts, &mut no_progress()).unwrap();
    let all: Vec<usize> = (0..12).collect();
    for fo in &ev.folds {
        let full = registry_score("cka", &f, &x, &fo.test, &all);
        assert_eq!(fo.test_fit_full, full);
        let pruned = registry_score("cka", &f, &x, &fo.test, &fo.selection.kept);
        assert_eq!(fo.test_fit_pruned, pruned);
    }
    assert!(ev.test_fit_pruned.is_finite() && ev.test_fit_reweighted.is_finite());
}

#[test]
fn measure_fit_has_no_leakage() {
    let (f, x, opts) = measure_problem();
    let m = MeasureFit::new("cka", x.clone()).unwrap();
    let ev = evaluate_measure(&f, &m, &opts, &mut no_progress()).unwrap();
    // Scramble fold 0's test stimuli: their features and their rows of X.
    let test = ev.folds[0].test.clone();
    let mut rng = Rng::new(7);
    let (mut f2, mut x2) = (f.clone(), x.clone());
    for &s in &test {
        for c in 0..f2.ncols() {
            f2[(s, c)] = rng.normal();
        }
        for c in 0..x2.ncols() {
            x2[(s, c)] = 10.0 * rng.normal();
        }
    }
    let m2 = MeasureFit::new("cka", x2).unwrap();
    let ev2 = evaluate_measure(&f2, &m2, &opts, &mut no_progress()).unwrap();
    assert_eq!(ev2.folds[0].test, test);
    assert_eq!(ev.folds[0].selection, ev2.folds[0].selection);
    assert_ne!(ev.folds[0].test_fit_pruned, ev2.folds[0].test_fit_pruned);
    assert_ne!(ev.folds[1].selection.path, ev2.folds[1].selection.path);
}

#[test]
fn measure_fits_are_refused_where_they_do_not_apply() {
    let x = simscope::data::datasets::kriegeskorte2008_mit().data;
    assert_eq!(
        MeasureFit::new("procrustes-euclidean", x.clone()).unwrap_err(),
        PruneError::NotSimilarity("procrustes-euclidean".into())
    );
    assert!(matches!(
        MeasureFit::new("no-such-measure", x),
        Err(PruneError::Measure(_))
    ));
    let (code, _, err) = simscope(&[
        "prune",
        "prune-categories-mit",
        "--target-rdm",
        "kriegeskorte2008-mit",
        "--fit",
        "cka",
        "--out",
        &std::env::temp_dir()
            .join("simscope-prune-fit")
            .to_string_lossy(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a target recording X"), "{err}");
}

#[test]
fn category_features_are_the_rsatoolbox_indicators() {
    let (f, _) = builtin_features("prune-categories-hit").unwrap();
    assert_eq!(f.shape(), (92, 12));
    assert!(f.iter().all(|&v| v == 0.0 || v == 1.0));
    // animate + inanimate = 1 for every image; 48 animate images.
    for i in 0..92 {
        assert_eq!(f[(i, 0)] + f[(i, 1)], 1.0);
    }
    assert_eq!(f.column(0).sum(), 48.0);
}

/// The evaluation is a `Job`: one unit at a time, slices of any size, or to the end in one
/// call give the same result bit for bit, equal to `evaluate`'s; progress counts the stages.
#[test]
fn the_evaluation_is_a_job_whose_result_does_not_depend_on_the_budget() {
    use simscope::analysis::job::{run_to_end, Budget, Job};
    use simscope::analysis::prune::EvaluationRun;
    let (f, _) = builtin_features("prune-categories-hit").unwrap();
    let t = builtin_target_rdm("kriegeskorte2008-hit").unwrap();
    let opts = Options {
        folds: 3,
        compare: Compare::Spearman,
        method: Method::Forward,
        ..Default::default()
    };
    let reference = evaluate(&f, &t, &opts, &mut no_progress()).unwrap();
    let mut stages = Vec::new();
    let by_units = run_to_end(
        EvaluationRun::new(f.clone(), t.clone(), &opts).unwrap(),
        |p| stages.push((p.done, p.total)),
    )
    .unwrap();
    assert_eq!(by_units, reference);
    assert_eq!(stages.last(), Some(&(4, 4)));
    assert!(stages.windows(2).all(|w| w[0].0 <= w[1].0));
    for n in [7, 1000] {
        let mut run = EvaluationRun::new(f.clone(), t.clone(), &opts).unwrap();
        let mut calls = 0;
        while !run.is_done() {
            run.advance(&mut Budget::units(n)).unwrap();
            calls += 1;
        }
        assert!(calls > 1 || n == 1000);
        assert_eq!(run.result().unwrap(), reference, "slices of {n} units");
    }
    let mut whole = EvaluationRun::new(f.clone(), t.clone(), &opts).unwrap();
    whole.advance(&mut Budget::unlimited()).unwrap();
    assert!(whole.is_done());
    assert_eq!(whole.result().unwrap(), reference);
    // A failing unit ends the job with an error and no result.
    let m = MeasureFit::new("cka", DMatrix::from_element(92, 3, 1.0)).unwrap();
    match EvaluationRun::with_measure(f.clone(), m, &opts) {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(mut run) => {
            let r = run.advance(&mut Budget::unlimited());
            assert!(r.is_err() && run.is_done());
            assert!(run.result().is_none());
        }
    }
}
