//! Declared invariances of every registry entry, the CKA–NBS bounds (spec §7.4), self-scores
//! and guards against degenerate input.
#![cfg(not(target_arch = "wasm32"))]

use std::sync::Arc;

use nalgebra::DMatrix;
use simscope::measures::{registry, Measure};
use simscope::rng::Rng;
use simscope::target::Target;

fn random(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    let mut r = Rng::new(seed);
    DMatrix::from_fn(n, p, |_, _| r.normal())
}

fn transform(kind: &str, y: &DMatrix<f64>, seed: u64) -> DMatrix<f64> {
    let (n, q) = y.shape();
    let mut rng = Rng::new(seed);
    match kind {
        "orthogonal" => y * random(q, q, seed).qr().q(),
        "isotropic-scaling" => y * 3.7,
        "translation" => {
            let b: Vec<f64> = (0..q).map(|_| 5.0 * rng.normal()).collect();
            DMatrix::from_fn(n, q, |i, j| y[(i, j)] + b[j])
        }
        "invertible-linear" => y * (random(q, q, seed) + DMatrix::identity(q, q) * 3.0),
        "permutation" => DMatrix::from_fn(n, q, |i, j| y[(i, (j + 1) % q)]),
        "row-shift" => {
            let c: Vec<f64> = (0..n).map(|_| 2.0 * rng.normal()).collect();
            DMatrix::from_fn(n, q, |i, j| y[(i, j)] + c[i])
        }
        "row-positive-scaling" => {
            let d: Vec<f64> = (0..n).map(|_| 0.5 + rng.normal().abs()).collect();
            DMatrix::from_fn(n, q, |i, j| y[(i, j)] * d[i])
        }
        other => panic!("untested invariance {other}"),
    }
}

/// Instances of the open families that are not listed, checked with the listed ones.
const UNLISTED: &[&str] = &[
    "rsa-rdm=cosine-compare=cosine",
    "rsa-rdm=cosine-compare=spearman",
    "rsa-rdm=euclidean-compare=cosine_cov",
    "rsa-rdm=squared_euclidean-compare=corr_cov",
    "rsa-rdm=cosine-compare=corr_cov",
    "cka-distance=angular",
    "nbs-distance=one_minus_score",
    "svcca-var=0.99-distance=angular",
    "shape_metric-alpha=0.5-distance=euclidean",
    "permutation-distance=squared_euclidean",
];

#[test]
fn every_declared_invariance_holds() {
    let mut failures = Vec::new();
    for (n, p, q, seed) in [(23, 4, 4, 1u64), (30, 5, 3, 2), (17, 3, 6, 3)] {
        let x = random(n, p, seed)
            * DMatrix::from_diagonal(&nalgebra::DVector::from_fn(p, |i, _| 2.0 / (i + 1) as f64));
        let y = random(n, q, seed + 10);
        let target = Arc::new(Target::new(&x).unwrap());
        for e in registry::entries()
            .into_iter()
            .chain(UNLISTED.iter().map(|id| registry::entry(id).unwrap()))
        {
            let (m, _) = registry::prepare(&e.id, target.clone(), q).unwrap();
            let s0 = m.score(&y);
            for inv in &e.invariances {
                let s1 = m.score(&transform(inv, &y, seed + 20));
                if (s1 - s0).abs() > 1e-9 * s0.abs().max(1e-3) {
                    failures.push(format!("{} ({n}x{p} vs {q}): {inv}: {s0} → {s1}", e.id));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ridge_is_not_scale_invariant_but_cka_is() {
    let x = random(20, 4, 5);
    let y = random(20, 4, 6);
    let t = Arc::new(Target::new(&x).unwrap());
    let (ridge, _) = registry::prepare("ridge-lambda100-r2#5folds_cv", t.clone(), 4).unwrap();
    assert!((ridge.score(&y) - ridge.score(&(&y * 10.0))).abs() > 1e-3);
}

#[test]
fn similarities_of_x_with_itself_are_maximal() {
    let x = random(25, 5, 7);
    let t = Arc::new(Target::new(&x).unwrap());
    for id in [
        "cka",
        "cka-angular-score",
        "cka-hsic_song",
        "cka-lange",
        "nbs",
        "procrustes-angular-score",
        "cca-angular-score",
        "linreg",
        "rsa-correlation-pearson",
        "rsa-correlation-cosine",
        "rsa-euclidean-corr",
        "rsa-euclidean-cosine",
        "rsa-correlation-tau_a",
        "rsa-euclidean-tau_a",
        "cca-score",
        "cca-squared_score",
        "svcca-var=0.99-score",
        "svcca-var=0.9-squared_score",
        "svcca-dim=3-score",
        "cka-kernel=(rbf-sigma=1.0)-hsic=gretton-score",
        "cka-kernel=(rbf-threshold=0.5)-hsic=song-score",
        "cka-kernel=(rbf-threshold=2.0)-hsic=lange-score",
        "rsa-rdm=cosine-compare=pearson",
        "rsa-rdm=euclidean-compare=pearson",
        "rsa-rdm=correlation-compare=cosine_cov",
        "rsa-rdm=cosine-compare=corr_cov",
        "rsa-rdm=euclidean-compare=spearman",
        "mutual_knn",
    ] {
        let (m, _) = registry::prepare(id, t.clone(), 5).unwrap();
        let s = m.score(&x);
        assert!((s - 1.0).abs() < 1e-9, "{id}(X, X) = {s}");
    }
    for id in [
        "cka-distance=angular",
        "nbs-distance=one_minus_score",
        "svcca-dim=3-distance=angular",
    ] {
        let (m, _) = registry::prepare(id, t.clone(), 5).unwrap();
        assert!(m.score(&x).abs() < 1e-6, "{id}(X, X) = {}", m.score(&x));
    }
    let (d, _) = registry::prepare("procrustes-euclidean", t, 5).unwrap();
    assert!(d.score(&x) < 1e-9);
}

/// CKA/√(r_x r_y) ≤ NBS² ≤ min(r_x, r_y)·CKA (spec §7.4).
#[test]
fn cka_nbs_bounds_hold() {
    for (k, (n, p, q, rank)) in [
        (30, 5, 5, 5),
        (40, 8, 3, 8),
        (12, 20, 20, 20),
        (50, 10, 10, 2),
        (9, 4, 6, 4),
    ]
    .into_iter()
    .enumerate()
    {
        let seed = 100 + k as u64;
        let x = random(n, rank.min(p), seed) * random(rank.min(p), p, seed + 1);
        let t = Arc::new(Target::new(&x).unwrap());
        let (cka, _) = registry::prepare("cka", t.clone(), q).unwrap();
        let (nbs, _) = registry::prepare("nbs", t.clone(), q).unwrap();
        for s in 0..5 {
            let y = random(n, q, seed * 10 + s);
            let ry = q.min(n - 1) as f64;
            let rx = t.rank() as f64;
            let (c, b) = (cka.score(&y), nbs.score(&y));
            assert!(
                c / (rx * ry).sqrt() <= b * b + 1e-12,
                "lower bound: {c} {b}"
            );
            assert!(b * b <= rx.min(ry) * c + 1e-12, "upper bound: {c} {b}");
        }
    }
}

#[test]
fn constant_y_gives_finite_scores_and_gradients() {
    let x = random(20, 4, 9);
    let t = Arc::new(Target::new(&x).unwrap());
    let y = DMatrix::from_element(20, 4, 1.5);
    for id in registry::all_ids() {
        let (m, _) = registry::prepare(&id, t.clone(), 4).unwrap();
        let mut g = DMatrix::zeros(0, 0);
        let s = m.score_and_grad(&y, &mut g);
        assert!(
            s.is_finite() && g.iter().all(|v| v.is_finite()),
            "{id}: {s}"
        );
    }
}

#[test]
fn bad_ids_and_shapes_are_errors_not_panics() {
    let x = random(6, 3, 11);
    let t = Arc::new(Target::new(&x).unwrap());
    assert!(registry::prepare("ridge-lambda1-r2#7folds_cv", t.clone(), 3).is_err()); // n < k
    assert!(registry::prepare("no-such-measure", t.clone(), 3).is_err());
    assert!(registry::prepare("cka", t.clone(), 0).is_err());
    let small = Arc::new(Target::new(&random(3, 2, 12)).unwrap());
    assert!(registry::prepare("cka-hsic_song", small, 2).is_err());
    let (_, w) = registry::prepare("linreg", t.clone(), 5).unwrap();
    assert!(w.iter().any(|w| w.contains("trivially 1")));
    let (_, w) = registry::prepare("cca-angular-score", t, 3).unwrap();
    assert!(w.iter().any(|w| w.contains("trivially 1")));
}

#[allow(dead_code)]
fn _object_safe(_: &dyn Measure) {}

/// `bench::authors_baseline_ms` holds the fastest 1-thread rows of the fixture copy of
/// perf_baseline.json (`procrustes-angular-score` rows by that id).
#[test]
fn authors_baseline_table_matches_the_fixture() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference/perf_baseline.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for id in ["cka", "nbs", "procrustes-angular-score", "linreg"] {
        for (n, p) in [(100, 20), (500, 100), (1080, 200), (2000, 500)] {
            let best = v["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| {
                    r["measure"] == id
                        && r["n_samples"] == n
                        && r["n_neurons"] == p
                        && r["torch_threads"] == 1
                })
                .map(|r| r["median_ms"].as_f64().unwrap())
                .fold(f64::INFINITY, f64::min);
            let ours = simscope::bench::authors_baseline_ms(id, n, p).unwrap();
            assert!((ours - best).abs() < 1e-3, "{id} {n}x{p}: {ours} vs {best}");
            checked += 1;
        }
    }
    assert_eq!(checked, 16);
}

#[test]
fn non_finite_y_never_panics() {
    let x = random(20, 4, 13);
    let t = Arc::new(Target::new(&x).unwrap());
    let mut y = random(20, 4, 14);
    y[(3, 2)] = f64::NAN;
    for id in registry::all_ids() {
        let (m, _) = registry::prepare(&id, t.clone(), 4).unwrap();
        let mut g = DMatrix::zeros(0, 0);
        let _ = m.score_and_grad(&y, &mut g);
        let _ = m.score(&y);
    }
}

#[test]
fn degenerate_correlation_rdms_are_said_out_loud() {
    // toy2d's case: 2 neurons, so every centred condition pattern is ±(1, −1).
    let x = random(12, 2, 3);
    let (_, w) = registry::prepare(
        "rsa-correlation-pearson",
        Arc::new(Target::new(&x).unwrap()),
        2,
    )
    .unwrap();
    assert!(w.iter().any(|w| w.contains("2 neurons")), "{w:?}");
    // A condition constant across neurons: its correlation distances are undefined.
    let mut x = random(12, 5, 4);
    for j in 0..5 {
        x[(3, j)] = 1.5;
    }
    let (_, w) = registry::prepare(
        "rsa-correlation-pearson",
        Arc::new(Target::new(&x).unwrap()),
        5,
    )
    .unwrap();
    assert!(
        w.iter()
            .any(|w| w.contains("1 of X's 12 conditions (flattened rows 3)")),
        "{w:?}"
    );
    // The same of Y on the one-off score path (`simscope score`, Python's `score`), for the
    // correlation-RDM measures only.
    let (good, flat_y) = (random(12, 5, 8), x.clone());
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (_, w) = simscope::measures::pair::score_pair(
        &good,
        &[12, 5],
        &flat_y,
        &[12, 5],
        &ids(&["cka", "rsa-correlation-tau_a"]),
        false,
    )
    .unwrap();
    assert!(
        w.iter()
            .any(|w| w.contains("1 of Y's 12 conditions (flattened rows 3)")),
        "{w:?}"
    );
    let (_, w) = simscope::measures::pair::score_pair(
        &good,
        &[12, 5],
        &flat_y,
        &[12, 5],
        &ids(&["cka", "rsa-euclidean-corr"]),
        false,
    )
    .unwrap();
    assert!(w.is_empty(), "{w:?}");
    // Euclidean RDMs are defined there: no warning.
    let (_, w) =
        registry::prepare("rsa-euclidean-corr", Arc::new(Target::new(&x).unwrap()), 5).unwrap();
    assert!(w.is_empty(), "{w:?}");
    // A cosine RDM is defined on a flat row but not on an all-zero one, in X and in Y.
    let (_, w) = registry::prepare(
        "rsa-rdm=cosine-compare=pearson",
        Arc::new(Target::new(&x).unwrap()),
        5,
    )
    .unwrap();
    assert!(w.is_empty(), "{w:?}");
    let mut zero = random(12, 5, 9);
    zero.row_mut(7).fill(0.0);
    let (_, w) = registry::prepare(
        "rsa-rdm=cosine-compare=cosine_cov",
        Arc::new(Target::new(&zero).unwrap()),
        5,
    )
    .unwrap();
    assert!(
        w.iter()
            .any(|w| w.contains("1 of X's 12 conditions (flattened rows 7) are zero")),
        "{w:?}"
    );
    let (_, w) = simscope::measures::pair::score_pair(
        &good,
        &[12, 5],
        &zero,
        &[12, 5],
        &ids(&["rsa-rdm=cosine-compare=pearson", "mutual_knn-topk=3"]),
        false,
    )
    .unwrap();
    assert_eq!(
        w.iter()
            .filter(|w| w.contains("1 of Y's 12 conditions (flattened rows 7) are zero"))
            .count(),
        1,
        "{w:?}"
    );
}

/// Mutual k-NN says when it cannot mean anything: k ≥ n is refused, k = n − 1 scores 1 for
/// any Y, k above half the other conditions has a high chance level, and ties at the k-th
/// neighbour are named.
#[test]
fn mutual_knn_degenerate_settings_are_said_out_loud() {
    let x = random(12, 4, 21);
    let t = Arc::new(Target::new(&x).unwrap());
    let err = registry::prepare("mutual_knn-topk=12", t.clone(), 4)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("at least k + 1 = 13 conditions, got n = 12"),
        "{err}"
    );
    let (m, w) = registry::prepare("mutual_knn-topk=11", t.clone(), 4).unwrap();
    assert!(
        w.iter().any(|w| w.contains("the score is 1 whatever Y is")),
        "{w:?}"
    );
    assert_eq!(m.score(&random(12, 3, 22)), 1.0);
    let (_, w) = registry::prepare("mutual_knn-topk=8", t.clone(), 4).unwrap();
    assert!(w.iter().any(|w| w.contains("already scores 0.73")), "{w:?}");
    let (_, w) = registry::prepare("mutual_knn-topk=3", t.clone(), 4).unwrap();
    assert!(w.is_empty(), "{w:?}");
    // Two copies of a condition and a scaled third: each is tied between the other two.
    let mut dup = x.clone();
    let r = dup.row(0).into_owned();
    dup.row_mut(1).copy_from(&r);
    dup.row_mut(2).copy_from(&(&r * 1.5));
    let (_, w) =
        registry::prepare("mutual_knn-topk=1", Arc::new(Target::new(&dup).unwrap()), 4).unwrap();
    assert!(
        w.iter()
            .any(|w| w.contains("of X's 12 conditions have tied neighbours at the cut (k = 1)")),
        "{w:?}"
    );
    assert!(registry::optimisable("mutual_knn")
        .unwrap_err()
        .contains("piecewise constant"));
}

/// Spearman RSA against a re-implementation from the definitions: the RDM entries computed
/// pair by pair (1 − Pearson r of two condition patterns; squared Euclidean distance), the
/// upper triangles ranked with ties averaged by counting, and the Pearson r of the ranks. On
/// data with tied distances (repeated conditions) too. Score-only: a run refuses to optimise
/// it and says why.
#[test]
fn spearman_rsa_equals_its_definition_and_cannot_be_optimised() {
    fn pearson(a: &[f64], b: &[f64]) -> f64 {
        let (ma, mb) = (
            a.iter().sum::<f64>() / a.len() as f64,
            b.iter().sum::<f64>() / b.len() as f64,
        );
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for (x, y) in a.iter().zip(b) {
            ab += (x - ma) * (y - mb);
            aa += (x - ma) * (x - ma);
            bb += (y - mb) * (y - mb);
        }
        ab / (aa * bb).sqrt()
    }
    // Rank = 1 + #smaller + (#equal − 1)/2: ties averaged, O(m²) by counting.
    fn ranks(v: &[f64]) -> Vec<f64> {
        v.iter()
            .map(|x| {
                let less = v.iter().filter(|y| *y < x).count() as f64;
                let equal = v.iter().filter(|y| *y == x).count() as f64;
                1.0 + less + (equal - 1.0) / 2.0
            })
            .collect()
    }
    fn upper(m: &DMatrix<f64>, d: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let n = m.nrows();
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| d(i, j))
            .collect()
    }
    let corr_rdm = |m: &DMatrix<f64>| {
        upper(m, |i, j| {
            let (a, b): (Vec<f64>, Vec<f64>) = (
                m.row(i).iter().copied().collect(),
                m.row(j).iter().copied().collect(),
            );
            1.0 - pearson(&a, &b)
        })
    };
    let euclid_rdm = |m: &DMatrix<f64>| upper(m, |i, j| (m.row(i) - m.row(j)).norm_squared());
    let x = random(14, 5, 31);
    let mut y = &x * random(5, 6, 32) + random(14, 6, 33);
    // Condition 3 repeats condition 0 in Y: its distances tie with condition 0's.
    let row0 = y.row(0).into_owned();
    y.set_row(3, &row0);
    let t = Arc::new(Target::new(&x).unwrap());
    for (id, rdm) in [
        (
            "rsa-correlation-spearman",
            &corr_rdm as &dyn Fn(&DMatrix<f64>) -> Vec<f64>,
        ),
        ("rsa-euclidean-spearman", &euclid_rdm),
    ] {
        let want = pearson(&ranks(&rdm(&x)), &ranks(&rdm(&y)));
        let (m, _) = registry::prepare(id, t.clone(), y.ncols()).unwrap();
        let got = m.score(&y);
        assert!((got - want).abs() < 1e-12, "{id}: {got} vs {want}");
        assert!(
            (m.score(&x) - 1.0).abs() < 1e-12 && m.score(&x) <= 1.0,
            "{id} of X itself"
        );
        // The similarity-repository spelling resolves to it.
        let e = registry::entry(id).unwrap();
        assert!(!e.differentiable && e.aliases.iter().any(|a| a.ends_with("compare=spearman")));
        let err = registry::optimisable(id).unwrap_err();
        assert!(
            err.contains("cannot be optimised") && err.contains("rank-based"),
            "{err}"
        );
    }
    let rec = simscope::data::datasets::builtin("golub2018").unwrap();
    let spec = simscope::analysis::run::RunSpec {
        measure: "rsa-correlation-spearman".into(),
        ..simscope::analysis::run::RunSpec::default()
    };
    let target = Arc::new(Target::new(&rec.data).unwrap());
    let err = simscope::analysis::run::Run::new(&rec, target, &spec)
        .err()
        .unwrap();
    assert!(err.contains("cannot be optimised"), "{err}");
}

/// The shape metrics' declared invariances at the ends and in between (the listed α = 0.5 is
/// covered by `every_declared_invariance_holds`), and that α in between is truly not scale
/// invariant.
#[test]
fn shape_metric_invariances_at_every_alpha() {
    let x = random(25, 5, 31);
    let y = random(25, 4, 32);
    let t = Arc::new(Target::new(&x).unwrap());
    for a in ["0.0", "1.0", "0.3"] {
        let id = format!("shape_metric-alpha={a}-score");
        let e = registry::entry(&id).unwrap();
        let (m, _) = registry::prepare(&id, t.clone(), 4).unwrap();
        let s0 = m.score(&y);
        for inv in &e.invariances {
            let s1 = m.score(&transform(inv, &y, 40));
            assert!(
                (s1 - s0).abs() <= 1e-9 * s0.abs().max(1e-3),
                "{id}: {inv}: {s0} → {s1}"
            );
        }
    }
    let (m, _) = registry::prepare("shape_metric-alpha=0.3-score", t, 4).unwrap();
    assert!((m.score(&y) - m.score(&(&y * 3.7))).abs() > 1e-4);
}

/// `{score}-distance=angular` is arccos of the score and `-distance=one_minus_score` is 1 − s,
/// for every listed score ranging in [−1, 1] outside regression; each is a distance, keeps
/// its score's invariances and differentiability, and its canonical id resolves to itself.
#[test]
fn distances_of_scores_are_their_angle_and_complement() {
    let (x, y) = (random(21, 4, 31), random(21, 5, 32));
    let t = Arc::new(Target::new(&x).unwrap());
    let mut checked = 0;
    for e in registry::entries() {
        let bounded = matches!(e.range, [Some(lo), Some(hi)] if lo >= -1.0 && hi <= 1.0);
        if e.direction != simscope::measures::Direction::Similarity
            || !bounded
            || e.id.contains("angular")
            || e.group == registry::Group::Regression
        {
            continue;
        }
        let (m, _) = registry::prepare(&e.id, t.clone(), 5).unwrap();
        let s = m.score(&y);
        let stem = e.id.strip_suffix("-score").unwrap_or(&e.id);
        for (form, want) in [
            ("angular", s.clamp(-1.0, 1.0).acos()),
            ("one_minus_score", 1.0 - s),
        ] {
            let id = format!("{stem}-distance={form}");
            let (canon, _) = registry::resolve(&id).unwrap_or_else(|err| panic!("{id}: {err}"));
            assert_eq!(canon, id);
            let d = registry::entry(&id).unwrap();
            assert_eq!(d.direction, simscope::measures::Direction::Distance, "{id}");
            assert_eq!(d.invariances, e.invariances, "{id}");
            assert_eq!(d.differentiable, e.differentiable, "{id}");
            let (dm, _) = registry::prepare(&id, t.clone(), 5).unwrap();
            assert_eq!(dm.direction(), simscope::measures::Direction::Distance);
            let got = dm.score(&y);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{id}: {got} vs {want}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} distances checked");
    // The shape metrics' Euclidean distances: d² = ‖X_c‖² + ‖Y_c‖² − 2‖X_c‖‖Y_c‖·s, and only
    // theirs (they are not scale invariant).
    let (a, b) = (
        simscope::linalg::frob2(&simscope::linalg::center_columns(&x)),
        simscope::linalg::frob2(&simscope::linalg::center_columns(&y)),
    );
    for score in [
        "nbs",
        "cca-score",
        "permutation-score",
        "shape_metric-alpha=0.3-score",
    ] {
        let (m, _) = registry::prepare(score, t.clone(), 5).unwrap();
        let s = m.score(&y);
        let stem = score.strip_suffix("-score").unwrap_or(score);
        let want = a + b - 2.0 * (a * b).sqrt() * s;
        for (form, want) in [("squared_euclidean", want), ("euclidean", want.sqrt())] {
            let id = format!("{stem}-distance={form}");
            let (dm, _) = registry::prepare(&id, t.clone(), 5).unwrap();
            let got = dm.score(&y);
            assert!((got - want).abs() <= 1e-12 * want, "{id}: {got} vs {want}");
            assert!(!registry::entry(&id)
                .unwrap()
                .invariances
                .contains(&"isotropic-scaling".to_string()));
        }
    }
    let err = registry::resolve("cka-distance=euclidean")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a shape metric"), "{err}");
    for (id, why) in [
        ("linreg-distance=angular", "variance explained"),
        (
            "procrustes-euclidean-distance=angular",
            "already a distance",
        ),
        ("cka-angular-distance=angular", "already an angular score"),
        (
            "pwcca-distance=angular",
            "neither `pwcca-score` nor `pwcca`",
        ),
    ] {
        let err = registry::resolve(id).unwrap_err().to_string();
        assert!(err.contains(why), "{id}: {err}");
    }
}
