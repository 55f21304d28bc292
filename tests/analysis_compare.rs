//! `analysis::compare`: the resampling fast paths equal the registry's measures, results do
//! not depend on threads or budgets, and the statistics are honest (uniform p-values for an
//! unrelated model, the permutation-null mean of biased CKA equal to its exact expectation,
//! intervals that shrink with more conditions, time never permuted within conditions).

use std::sync::Arc;

use nalgebra::DMatrix;
use simscope::analysis::calibrate::{calibrate, verdicts, CalibrateOptions};
use simscope::analysis::compare::resample::{condition_rows, rdm_compare, Engine, Kind};
use simscope::analysis::compare::{
    check_model, default_measures, Compare, CompareOptions, CompareReport, Model,
};
use simscope::analysis::job::{run_to_end, Budget, Job};
use simscope::data::TaskVariable;
use simscope::linalg::center_columns;
use simscope::measures::registry;
use simscope::measures::rsa::{rdm_matrix, Compare as RdmCompare, Rdm};
use simscope::rng::Rng;
use simscope::target::Target;

fn normal(n: usize, p: usize, rng: &mut Rng) -> DMatrix<f64> {
    DMatrix::from_fn(n, p, |_, _| rng.normal())
}

fn model(name: &str, y: DMatrix<f64>) -> Model {
    Model {
        name: name.into(),
        dims: vec![y.nrows(), y.ncols()],
        data: y,
    }
}

fn run(
    x: &DMatrix<f64>,
    dims: &[usize],
    labels: &[TaskVariable],
    ys: Vec<Model>,
    opts: &CompareOptions,
) -> CompareReport {
    let t = Arc::new(Target::new(x).unwrap());
    run_to_end(Compare::new(t, x, dims, labels, ys, opts).unwrap(), |_| {}).unwrap()
}

fn quick(ids: &[&str], perms: usize, boot: usize, seed: u64) -> CompareOptions {
    CompareOptions {
        measures: ids.iter().map(|s| s.to_string()).collect(),
        permutations: perms,
        bootstrap: boot,
        seed,
        calibrate: false,
        ..CompareOptions::default()
    }
}

fn score(id: &str, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let t = Arc::new(Target::new(x).unwrap());
    registry::prepare(id, t, y.ncols()).unwrap().0.score(y)
}

/// Every family's permuted and bootstrapped score equals the registry's measure on the
/// permuted (resampled) pair; RDM measures' bootstrap equals a direct computation over the
/// pairs of distinct resampled conditions.
#[test]
fn fast_paths_equal_the_measures_on_the_resampled_pairs() {
    let mut rng = Rng::new(7);
    let (n, p, q) = (24, 5, 7);
    let x = normal(n, p, &mut rng);
    let y = &x * normal(p, q, &mut rng) * 0.5 + normal(n, q, &mut rng);
    let ids = default_measures();
    let t = Arc::new(Target::new(&x).unwrap());
    let engine = Engine::new(t, &x, 1, &ids, std::slice::from_ref(&y));
    let prepared = engine.prepare();
    for i in 0..4 {
        let rows = engine.rows(Kind::Permutation, 3, i);
        let got = engine.sample(Kind::Permutation, 3, i, &prepared);
        let yp = y.select_rows(&rows);
        for (k, id) in ids.iter().enumerate() {
            let want = score(id, &x, &yp);
            assert!(
                (got[0][k] - want).abs() < 1e-12,
                "perm {i} {id}: {} vs {want}",
                got[0][k]
            );
        }
        let rows = engine.rows(Kind::Bootstrap, 3, i);
        let got = engine.sample(Kind::Bootstrap, 3, i, &prepared);
        let (xb, yb) = (x.select_rows(&rows), y.select_rows(&rows));
        for (k, id) in ids.iter().enumerate() {
            let want = if id.starts_with("rsa-") {
                // Pearson over the pairs of distinct source rows, written out directly.
                let (ra, rb) = (
                    rdm_matrix(Rdm::Correlation, &x),
                    rdm_matrix(Rdm::Correlation, &y),
                );
                let mut va = Vec::new();
                let mut vb = Vec::new();
                for l in 0..n {
                    for kk in 0..l {
                        if rows[kk] != rows[l] {
                            va.push(ra[(rows[kk], rows[l])]);
                            vb.push(rb[(rows[kk], rows[l])]);
                        }
                    }
                }
                let m = va.len() as f64;
                let (ma, mb) = (va.iter().sum::<f64>() / m, vb.iter().sum::<f64>() / m);
                let c: f64 = va.iter().zip(&vb).map(|(a, b)| (a - ma) * (b - mb)).sum();
                let sa: f64 = va.iter().map(|a| (a - ma).powi(2)).sum();
                let sb: f64 = vb.iter().map(|b| (b - mb).powi(2)).sum();
                c / (sa * sb).sqrt()
            } else {
                score(id, &xb, &yb)
            };
            assert!(
                (got[0][k] - want).abs() < 1e-12,
                "boot {i} {id}: {} vs {want}",
                got[0][k]
            );
        }
    }
    // Identity pairs: the RDM comparison equals the RSA measure itself.
    let id: Vec<usize> = (0..n).collect();
    let (ra, rb) = (
        rdm_matrix(Rdm::Correlation, &x),
        rdm_matrix(Rdm::Correlation, &y),
    );
    let v = rdm_compare(&ra, &rb, &id, &id, RdmCompare::Pearson);
    assert!((v - score("rsa-correlation-pearson", &x, &y)).abs() < 1e-12);
}

/// The same report, bit for bit, on 1, 2 and 4 threads and whatever the budget, with labels
/// and a (short) calibration.
#[test]
fn results_do_not_depend_on_threads_or_budget() {
    let mut rng = Rng::new(11);
    let (n, p) = (30, 4);
    let x = normal(n, p, &mut rng);
    let labels = vec![TaskVariable::from_labels(
        "side",
        &(0..n).map(|i| (i % 3).to_string()).collect::<Vec<_>>(),
    )];
    let mut x = x;
    for i in 0..n {
        x[(i, 0)] += 3.0 * (i % 3) as f64; // make `side` decodable from X
    }
    let ys = || {
        vec![
            model("a", &x * 2.0 + normal(n, p, &mut Rng::new(5))),
            model("b", normal(n, 6, &mut Rng::new(6))),
        ]
    };
    let mut opts = CompareOptions {
        measures: vec![
            "cka".into(),
            "procrustes-angular-score".into(),
            "rsa-correlation-pearson".into(),
            "ridge-lambda100-r2#5folds_cv".into(),
        ],
        permutations: 40,
        bootstrap: 30,
        seed: 9,
        ..CompareOptions::default()
    };
    opts.calibration.max_steps = 25;
    let json = |threads: usize| {
        let o = CompareOptions {
            threads,
            ..opts.clone()
        };
        serde_json::to_string(&run(&x, &[n, p], &labels, ys(), &o)).unwrap()
    };
    let one = json(1);
    assert_eq!(one, json(2));
    assert_eq!(one, json(4));
    assert!(one.contains("\"verdict\""), "{one}");
    // Budget: 7 units per call instead of 1.
    let t = Arc::new(Target::new(&x).unwrap());
    let mut job = Compare::new(t, &x, &[n, p], &labels, ys(), &opts).unwrap();
    while !job.is_done() {
        job.advance(&mut Budget::units(7)).unwrap();
    }
    assert_eq!(one, serde_json::to_string(&job.result().unwrap()).unwrap());
}

/// The page's helper workers: batches handed out (`checkout`), scored by a `Resampler` built
/// only from the job's `resampling()` (as another worker would, after a serde round trip), and
/// delivered back out of order give the report of the job run alone, bit for bit. A batch
/// that was never handed out, or of the wrong shape, is refused.
#[test]
fn samples_scored_elsewhere_and_delivered_out_of_order_give_the_same_report() {
    use simscope::analysis::compare::{Resampler, Resampling};
    let mut rng = Rng::new(21);
    let (n, p) = (27, 4);
    let x = normal(n, p, &mut rng);
    let ys = || {
        vec![
            model("a", &x * 1.5 + normal(n, p, &mut Rng::new(2))),
            model("b", normal(n, 5, &mut Rng::new(3))),
        ]
    };
    let opts = quick(
        &["cka", "nbs", "rsa-correlation-pearson", "linreg"],
        23,
        17,
        4,
    );
    let alone = serde_json::to_string(&run(&x, &[n, p], &[], ys(), &opts)).unwrap();
    let t = Arc::new(Target::new(&x).unwrap());
    let mut job = Compare::new(t, &x, &[n, p], &[], ys(), &opts).unwrap();
    let spec: Resampling =
        serde_json::from_str(&serde_json::to_string(&job.resampling()).unwrap()).unwrap();
    let helper = Resampler::new(&spec).unwrap();
    let mut handed = 0;
    while !job.is_done() {
        // Hand out everything this phase has in batches of 5, then deliver newest first,
        // stepping the job itself in between (it must wait, not spin or move on).
        let mut out = Vec::new();
        while let Some(b) = job.checkout(5) {
            out.push(b);
        }
        if out.is_empty() {
            job.advance(&mut Budget::units(1)).unwrap();
            continue;
        }
        handed += out.len();
        assert!(job.is_waiting());
        let before = job.progress().done;
        job.advance(&mut Budget::units(3)).unwrap();
        assert_eq!(job.progress().done, before, "a waiting job does no unit");
        let stray = simscope::analysis::compare::SampleBatch {
            start: 1000,
            end: 1001,
            ..out[0].clone()
        };
        assert!(job.deliver(&stray, vec![]).is_err());
        assert!(job.deliver(&out[0], vec![]).is_err(), "wrong shape");
        for b in out.iter().rev() {
            job.deliver(b, helper.score(b)).unwrap();
        }
        assert!(!job.is_waiting());
    }
    assert_eq!(
        handed,
        5 + 4,
        "23 permutations and 17 bootstrap samples in batches of 5"
    );
    assert_eq!(
        alone,
        serde_json::to_string(&job.result().unwrap()).unwrap()
    );
}

/// Placement reads the same run `simscope calibrate` makes: the score at which each variable
/// becomes decodable equals the calibration report's value for that seed.
#[test]
fn placement_agrees_with_the_calibration_report() {
    let rec = simscope::data::datasets::builtin("toy2d").unwrap();
    let t = Arc::new(Target::new(&rec.data).unwrap());
    let copts = CalibrateOptions {
        seeds: 1,
        ..CalibrateOptions::default()
    };
    let report = calibrate(
        &t,
        &rec.data,
        rec.time_steps(),
        &rec.labels,
        &["cka".into()],
        &copts,
        |_| {},
    )
    .unwrap();
    let mut r = Rng::new(1);
    let y = &rec.data + normal(rec.data.nrows(), rec.data.ncols(), &mut r) * 0.3;
    let m = Model {
        name: "noisy".into(),
        dims: rec.dims.clone(),
        data: y,
    };
    let out = run(
        &rec.data,
        &rec.dims,
        &rec.labels,
        vec![m],
        &CompareOptions {
            measures: vec!["cka".into()],
            permutations: 0,
            bootstrap: 0,
            ..CompareOptions::default()
        },
    );
    let s = &out.models[0].scores[0].1;
    let cal = s.calibration.as_ref().unwrap();
    for row in report.rows.iter().filter(|r| r.quantity == "decodable") {
        let at = cal
            .decodable_at
            .iter()
            .find(|(v, _)| *v == row.variable)
            .unwrap()
            .1;
        let above = cal
            .x_decodes
            .iter()
            .find(|(v, _)| *v == row.variable)
            .unwrap()
            .1;
        if above {
            assert_eq!(at, row.values[0], "{}", row.variable);
        }
    }
    assert!(
        cal.verdict.contains("linear CKA"),
        "in words: {}",
        cal.verdict
    );
}

/// p-values of an unrelated model are uniform: over M = 200 independent pairs with N = 99
/// permutations, P(p ≤ 0.05) = 5/100 exactly, so the count is Binomial(200, 0.05) (mean 10,
/// sd 3.1). The test accepts 2..=20: a correct null fails it with probability
/// P(X ≤ 1) + P(X ≥ 21) ≈ 0.0004 + 0.0013 < 0.2 % per measure (seeded: it either passes or
/// fails for good), while a null that misses ties or is shifted by a few percent fails it.
#[test]
fn p_values_of_an_unrelated_model_are_uniform() {
    let ids = [
        "cka",
        "procrustes-angular-score",
        "linreg",
        "rsa-correlation-pearson",
        "cka-hsic_song",
    ];
    let mut low = vec![0usize; ids.len()];
    let mut below_half = vec![0usize; ids.len()];
    let m = 200;
    for s in 0..m {
        let mut rng = Rng::new(1000 + s as u64);
        let x = normal(16, 3, &mut rng);
        let y = normal(16, 4, &mut rng);
        let r = run(
            &x,
            &[16, 3],
            &[],
            vec![model("y", y)],
            &quick(&ids, 99, 0, s as u64),
        );
        for (k, (_, sc)) in r.models[0].scores.iter().enumerate() {
            let p = sc.p_value.unwrap();
            low[k] += usize::from(p <= 0.05);
            below_half[k] += usize::from(p <= 0.5);
        }
    }
    for (k, id) in ids.iter().enumerate() {
        assert!(
            (2..=20).contains(&low[k]),
            "{id}: {} of {m} p-values ≤ 0.05",
            low[k]
        );
        // P(p ≤ 0.5) = 50/100: Binomial(200, 0.5), sd 7.1; ±30 is > 4 sd.
        assert!(
            (70..=130).contains(&below_half[k]),
            "{id}: {} of {m} ≤ 0.5",
            below_half[k]
        );
    }
}

/// X + noise: significant (every permutation below the value), and the bootstrap interval
/// holds the value and the noise-averaged score (the noiseless score's neighbourhood).
#[test]
fn x_plus_noise_is_significant_with_an_interval_around_its_score() {
    let mut rng = Rng::new(3);
    let (n, p) = (60, 6);
    let x = normal(n, p, &mut rng)
        * DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![
            3.0, 2.0, 1.5, 1.0, 0.7, 0.5,
        ]));
    let ids = [
        "cka",
        "procrustes-angular-score",
        "linreg",
        "rsa-correlation-pearson",
    ];
    let noisy = |r: &mut Rng| &x + normal(n, p, r) * 0.5;
    let y = noisy(&mut rng);
    let rep = run(
        &x,
        &[n, p],
        &[],
        vec![model("y", y)],
        &quick(&ids, 199, 400, 2),
    );
    for (k, (id, s)) in rep.models[0].scores.iter().enumerate() {
        assert_eq!(s.p_value, Some(1.0 / 200.0), "{id}");
        let (lo, hi) = (s.ci_low.unwrap(), s.ci_high.unwrap());
        assert!(
            lo <= s.value && s.value <= hi,
            "{id}: {} not in [{lo}, {hi}]",
            s.value
        );
        // The score the same noise level gives on average over 20 fresh draws.
        let mean: f64 = (0..20)
            .map(|_| score(ids[k], &x, &noisy(&mut rng)))
            .sum::<f64>()
            / 20.0;
        assert!(
            lo <= mean && mean <= hi,
            "{id}: noise-averaged {mean} not in [{lo}, {hi}]"
        );
        assert!(
            hi - lo < 0.2,
            "{id}: interval [{lo}, {hi}] too wide for X + small noise"
        );
    }
}

/// More conditions, narrower intervals: the width falls roughly like 1/√n.
#[test]
fn intervals_shrink_as_conditions_grow() {
    let ids = ["cka", "procrustes-angular-score", "rsa-correlation-pearson"];
    let widths: Vec<Vec<f64>> = [20, 80, 320]
        .iter()
        .map(|&n| {
            let mut rng = Rng::new(n as u64);
            let latent = normal(n, 3, &mut rng);
            let x = &latent * normal(3, 8, &mut rng) + normal(n, 8, &mut rng);
            let y = &latent * normal(3, 5, &mut rng) + normal(n, 5, &mut rng);
            let r = run(
                &x,
                &[n, 8],
                &[],
                vec![model("y", y)],
                &quick(&ids, 0, 300, 1),
            );
            r.models[0]
                .scores
                .iter()
                .map(|(_, s)| s.ci_high.unwrap() - s.ci_low.unwrap())
                .collect()
        })
        .collect();
    for k in 0..ids.len() {
        assert!(
            widths[0][k] > widths[1][k] && widths[1][k] > widths[2][k],
            "{}: {:?}",
            ids[k],
            widths.iter().map(|w| w[k]).collect::<Vec<_>>()
        );
        assert!(
            widths[2][k] < 0.75 * widths[0][k],
            "{}: not shrinking enough",
            ids[k]
        );
    }
}

/// Biased CKA's permutation null mean is its exact conditional expectation. For centred
/// Grams K = X_cX_cᵀ and L = Y_cY_cᵀ (zero row sums) and a uniform random permutation P,
/// E[(PLPᵀ)_ii] = tr L / n and E[(PLPᵀ)_ij] = −tr L / (n(n − 1)) for i ≠ j, so
/// E tr(K PLPᵀ) = tr K tr L / (n − 1) and E[CKA] = tr K · tr L / ((n − 1)‖K‖_F‖L‖_F): a bias
/// ≈ p/(n − 1 + p) for independent Gaussians with p = q columns, large for small n. Unbiased
/// CKA (Song's HSIC) has null mean 0.
#[test]
fn permutation_null_means_match_their_expectations() {
    let mut means = Vec::new();
    for &n in &[10usize, 100] {
        let mut rng = Rng::new(n as u64 + 40);
        let (p, q) = (5, 5);
        let x = normal(n, p, &mut rng);
        let y = normal(n, q, &mut rng);
        let r = run(
            &x,
            &[n, p],
            &[],
            vec![model("y", y.clone())],
            &quick(&["cka", "cka-hsic_song"], 2000, 0, 4),
        );
        let (xc, yc) = (center_columns(&x), center_columns(&y));
        let (k, l) = (&xc * xc.transpose(), &yc * yc.transpose());
        let expect = k.trace() * l.trace() / ((n - 1) as f64 * k.norm() * l.norm());
        let s = &r.models[0].scores[0].1;
        let null_mean = s.null_mean.unwrap();
        // Monte Carlo error of the mean of 2000 draws, bounded by the null's range / √N.
        assert!(
            (null_mean - expect).abs() < 4.0 * 0.5 / (2000f64).sqrt() * expect.max(0.05),
            "n = {n}: null mean {null_mean} vs exact {expect}"
        );
        let approx = p as f64 / ((n - 1 + p) as f64);
        assert!(
            (expect - approx).abs() < 0.5 * approx,
            "n = {n}: {expect} vs ≈{approx}"
        );
        let u = &r.models[0].scores[1].1;
        assert!(
            u.null_mean.unwrap().abs() < 0.02,
            "unbiased null mean {}",
            u.null_mean.unwrap()
        );
        means.push(null_mean);
    }
    assert!(
        means[0] > 3.0 * means[1],
        "bias larger for small n: {means:?}"
    );
}

/// 3-D data: conditions are permuted alike at every time step; a model that shares only X's
/// time course (and nothing of its condition structure) is not significant, which it would be
/// if time were shuffled within conditions.
#[test]
fn time_is_never_permuted_within_conditions() {
    assert_eq!(condition_rows(3, &[1, 0]), vec![1, 0, 3, 2, 5, 4]);
    let (tt, c, p) = (8, 10, 4);
    let mut significant = 0;
    for s in 0..20 {
        let mut rng = Rng::new(500 + s);
        let course = normal(tt, p, &mut rng) * 3.0;
        let xcond = normal(c, p, &mut rng);
        let ycond = normal(c, p, &mut rng);
        let x = DMatrix::from_fn(tt * c, p, |r, j| {
            course[(r / c, j)] + xcond[(r % c, j)] + 0.3 * rng.normal()
        });
        let y = DMatrix::from_fn(tt * c, p, |r, j| {
            course[(r / c, j)] + ycond[(r % c, j)] + 0.3 * rng.normal()
        });
        let m = Model {
            name: "y".into(),
            dims: vec![tt, c, p],
            data: y,
        };
        let r = run(&x, &[tt, c, p], &[], vec![m], &quick(&["cka"], 99, 0, s));
        let sc = &r.models[0].scores[0].1;
        assert!(
            sc.value > 0.5,
            "the shared time course gives a high CKA ({})",
            sc.value
        );
        significant += usize::from(sc.p_value.unwrap() <= 0.05);
    }
    assert!(
        significant <= 4,
        "{significant} of 20 significant: time structure leaked into the null"
    );
}

#[test]
fn models_that_do_not_fit_get_specific_messages() {
    let m = |r: usize, c: usize| Model {
        name: "m".into(),
        dims: vec![r, c],
        data: DMatrix::zeros(r, c),
    };
    let e = check_model(&[552, 86], 552, &m(100, 86)).unwrap_err();
    assert!(
        e.contains("100 rows but X has 552") && e.contains("rows are conditions"),
        "{e}"
    );
    let e = check_model(&[552, 86], 552, &m(40, 552)).unwrap_err();
    assert!(e.contains("looks transposed"), "{e}");
    let e = check_model(&[552, 86], 552, &m(86, 552)).unwrap_err();
    assert!(e.contains("one of the two looks transposed"), "{e}");
    let e = check_model(
        &[10, 8, 141],
        80,
        &Model {
            name: "m".into(),
            dims: vec![8, 10, 3],
            data: DMatrix::zeros(80, 3),
        },
    )
    .unwrap_err();
    assert!(e.contains("time steps"), "{e}");
}

/// A task variable X itself decodes at chance gets no "score at which it becomes decodable" in
/// the calibration report (a threshold between chance and chance is noise), and the note says
/// why; a variable X decodes keeps its threshold.
#[test]
fn calibration_reports_no_threshold_where_x_is_at_chance() {
    let rec = simscope::data::datasets::builtin("toy2d").unwrap();
    let t = Arc::new(Target::new(&rec.data).unwrap());
    let mut labels = rec.labels.clone();
    let mut noise = labels[0].clone();
    noise.name = "noise".into();
    let mut r = Rng::new(7);
    for c in noise.class_of.iter_mut() {
        *c = (r.normal() > 0.0) as usize;
    }
    noise.classes = vec!["a".into(), "b".into()];
    labels.push(noise);
    let report = calibrate(
        &t,
        &rec.data,
        rec.time_steps(),
        &labels,
        &["cka".into()],
        &CalibrateOptions {
            seeds: 1,
            ..CalibrateOptions::default()
        },
        |_| {},
    )
    .unwrap();
    let row = |v: &str| {
        report
            .rows
            .iter()
            .find(|r| r.quantity == "decodable" && r.variable == v)
            .unwrap_or_else(|| panic!("no row for {v}"))
    };
    let noise = row("noise");
    assert_eq!(noise.values, vec![None], "{noise:?}");
    assert!(noise.note.contains("at chance"), "{}", noise.note);
    let real = row(&rec.labels[0].name);
    assert_eq!(real.reached, 1, "{real:?}");
    let v = verdicts(&report.rows);
    assert_eq!(v.len(), 1);
    assert!(
        v[0].1.starts_with("cka: a synthetic Y optimised for it "),
        "{}",
        v[0].1
    );
    assert!(
        v[0].1
            .contains("cannot make noise decodable, as X itself decodes it at chance"),
        "{}",
        v[0].1
    );
    let at = format!(
        "makes {} decodable at {:.2}",
        real.variable,
        real.mean.unwrap()
    );
    assert!(v[0].1.contains(&at), "{} lacks {at}", v[0].1);
}

/// On a recording with fewer samples than Y has columns (hatsopoulos2007: 80 × 141), every
/// PC's in-sample R² is 1 from the random Y₀ on, so no score is "needed to capture" a PC: the
/// calibration reports none, says why, and its verdict does not claim any PC as captured.
#[test]
fn calibration_reports_no_pc_capture_where_y_fits_every_pc_trivially() {
    let rec = simscope::data::datasets::builtin("hatsopoulos2007").unwrap();
    let t = Arc::new(Target::new(&rec.data).unwrap());
    let report = calibrate(
        &t,
        &rec.data,
        rec.time_steps(),
        &[],
        &["cka".into()],
        &CalibrateOptions {
            seeds: 1,
            max_steps: 5,
            ..CalibrateOptions::default()
        },
        |_| {},
    )
    .unwrap();
    for q in ["capture_pcs_10pct", "capture_pcs_1pct"] {
        let r = report.rows.iter().find(|r| r.quantity == q).unwrap();
        assert!(r.undefined && r.values == vec![None], "{r:?}");
        assert!(r.note.contains("trivially 1"), "{}", r.note);
    }
    assert!(report.trajectories.iter().all(|t| t.pc_saturated));
    let v = verdicts(&report.rows);
    assert!(
        v[0].1.contains("cannot show which PCs it captures") && !v[0].1.contains("captures PC"),
        "{}",
        v[0].1
    );
}
