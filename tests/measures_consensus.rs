//! Every measure simscope shares with similarity-repository, held to the value that project
//! publishes for it on its own test pair (tests/fixtures/consensus, see PROVENANCE.md), by the
//! similarity-repository name: the name must resolve, and the score must agree to 1e-10
//! relative (1e-14 absolute).
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nalgebra::DMatrix;
use simscope::data::npy::read_npy;
use simscope::measures::registry;
use simscope::target::Target;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/consensus")
}

fn load(name: &str) -> DMatrix<f64> {
    let a = read_npy(&std::fs::read(dir().join(name)).unwrap()).unwrap();
    assert_eq!(a.shape, [30, 25]);
    DMatrix::from_row_slice(30, 25, &a.values)
}

#[test]
fn every_shared_measure_gives_similarity_repositorys_published_value() {
    let (x, y) = (load("X.npy"), load("Y.npy"));
    let target = Arc::new(Target::new(&x).unwrap());
    let csv = std::fs::read_to_string(dir().join("consensus.csv")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        // The names contain no commas; the last two columns are free text.
        let f: Vec<&str> = line.splitn(6, ',').collect();
        let (name, value, ours, how) = (f[0], f[1].parse::<f64>().unwrap(), f[2], f[3]);
        let canon = match registry::resolve(name) {
            Ok((c, _)) => c,
            Err(e) => {
                failures.push(format!("{name}: does not resolve ({e})"));
                continue;
            }
        };
        if canon != ours {
            failures.push(format!("{name} resolves to {canon}, expected {ours}"));
            continue;
        }
        assert_eq!(how, "score", "{name}: unknown comparison");
        let want = value;
        let (m, _) = registry::prepare(ours, target.clone(), y.ncols()).unwrap();
        let got = m.score(&y);
        let err = (got - want).abs();
        checked += 1;
        if err > 1e-10 * want.abs() && err > 1e-14 {
            failures.push(format!(
                "{name} ({ours}): {got:.17} vs published {want:.17} (rel {:.1e})",
                err / want.abs()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, csv.lines().count() - 1);
}

fn load_at(path: &Path) -> DMatrix<f64> {
    let a = read_npy(&std::fs::read(path).unwrap()).unwrap();
    let cols = *a.shape.last().unwrap();
    DMatrix::from_row_slice(a.values.len() / cols, cols, &a.values)
}

/// Parse one CSV line whose last field may be quoted.
fn fields(line: &str) -> Vec<String> {
    let (head, last) = match line.find(",\"") {
        Some(i) => (&line[..i], Some(line[i + 2..].trim_end_matches('"'))),
        None => (line, None),
    };
    let mut f: Vec<String> = head.split(',').map(String::from).collect();
    f.extend(last.map(String::from));
    f
}

#[test]
fn kornblith_demo_notebook_values() {
    let d = dir().join("kornblith2019");
    let (x, y) = (load_at(&d.join("X.npy")), load_at(&d.join("Y.npy")));
    assert_eq!(x.shape(), (100, 10));
    let target = Arc::new(Target::new(&x).unwrap());
    let csv = std::fs::read_to_string(d.join("values.csv")).unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let f = fields(line);
        let (want, id, tol): (f64, &str, f64) =
            (f[1].parse().unwrap(), &f[2], f[4].parse().unwrap());
        let (m, _) = registry::prepare(id, target.clone(), y.ncols()).unwrap();
        let got = m.score(&y);
        assert!(
            (got - want).abs() <= tol,
            "{}: {id} = {got} vs {want} ± {tol}",
            f[0]
        );
        rows += 1;
    }
    assert_eq!(rows, 4);
}

#[test]
fn shape_metrics_follow_netreps_partial_whitening_for_every_alpha() {
    let (x, y) = (load("X.npy"), load("Y.npy"));
    let target = Arc::new(Target::new(&x).unwrap());
    let csv = std::fs::read_to_string(dir().join("shape_metric.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let (a, want) = line.split_once(',').unwrap();
        let want: f64 = want.parse().unwrap();
        let id = format!("shape_metric-alpha={a}-score");
        let (m, _) = registry::prepare(&id, target.clone(), 25).unwrap();
        let got = m.score(&y);
        assert!((got - want).abs() <= 1e-10 * want, "{id}: {got} vs {want}");
    }
    // The two ends are the measures they generalise.
    let at = |id: &str| {
        registry::prepare(id, target.clone(), 25)
            .unwrap()
            .0
            .score(&y)
    };
    assert!((at("shape_metric-alpha=1.0-score") - at("nbs")).abs() < 1e-12);
    assert!((at("shape_metric-alpha=0.0-score") - at("cca-score")).abs() < 1e-12);
}

/// Mutual k-NN against a numpy re-implementation of platonic-rep's `mutual_knn`
/// (`mutual_knn.csv`, PROVENANCE.md), exactly: the score is a ratio of counts.
#[test]
fn mutual_knn_follows_platonic_rep() {
    let (x, y) = (load("X.npy"), load("Y.npy"));
    let target = Arc::new(Target::new(&x).unwrap());
    let csv = std::fs::read_to_string(dir().join("mutual_knn.csv")).unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let (k, value) = line.split_once(',').unwrap();
        let (m, _) =
            registry::prepare(&format!("mutual_knn-topk={k}"), target.clone(), 25).unwrap();
        let want: f64 = value.parse().unwrap();
        assert!((m.score(&y) - want).abs() < 1e-12, "topk = {k}");
        rows += 1;
    }
    assert_eq!(rows, 3);
}

/// The regression scores and their `pearsonr` variant against a numpy re-implementation of the
/// authors' definition (`regression.csv`, PROVENANCE.md): in-sample, 3 and 5 folds, λ = 0
/// (minimum-norm, q ≥ the training folds here), 1, 10 and 100, one way and both ways (`-sym`).
#[test]
fn regression_scores_follow_the_definition() {
    let (x, y) = (load("X.npy"), load("Y.npy"));
    let target = Arc::new(Target::new(&x).unwrap());
    let csv = std::fs::read_to_string(dir().join("regression.csv")).unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let (id, value) = line.split_once(',').unwrap();
        let (canon, _) = registry::resolve(id).unwrap();
        assert_eq!(canon, id);
        let (m, _) = registry::prepare(id, target.clone(), 25).unwrap();
        let (got, want) = (m.score(&y), value.parse::<f64>().unwrap());
        assert!(
            (got - want).abs() <= 1e-10 * want.abs(),
            "{id}: {got} vs {want}"
        );
        rows += 1;
    }
    assert_eq!(rows, 14);
}
