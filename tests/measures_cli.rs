//! `simscope score`, `measures` and `bench`: JSON shapes, gradient files, errors (exit 2).
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::simscope;

use std::path::Path;

fn case(name: &str, file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference/cases")
        .join(name)
        .join(file)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn score_prints_canonical_ids_and_writes_gradients() {
    let dir = std::env::temp_dir().join(format!("simscope-grad-{}", std::process::id()));
    let c = "tensor3d_15x6x8_vs_15x6x8";
    let (x, y) = (case(c, "X.npy"), case(c, "Y.npy"));
    let d = dir.to_string_lossy().to_string();
    let (code, out, err) = simscope(&[
        "score",
        &x,
        &y,
        "--measure",
        "nbs-angular-score",
        "--measure",
        "ridge-lambda100-r2#5folds_cv",
        "--grad-dir",
        &d,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["x_shape"], serde_json::json!([15, 6, 8]));
    assert_eq!(v["y_shape"], serde_json::json!([15, 6, 8]));
    let s = v["scores"]["procrustes-angular-score"].as_f64().unwrap();
    assert!((s - 0.1536040750285309).abs() < 1e-9);
    assert!(v["scores"]["ridge-lambda100-r2#5folds_cv"].is_f64());
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("nbs-angular-score")));
    let g = simscope::data::npy::read_npy(
        &std::fs::read(dir.join("ridge-lambda100-r2_5folds_cv.npy")).unwrap(),
    )
    .unwrap();
    let want = simscope::data::npy::read_npy(
        &std::fs::read(case(c, "grad_ridge-lambda100-r2_5folds_cv.npy")).unwrap(),
    )
    .unwrap();
    assert_eq!(g.shape, vec![15, 6, 8]);
    assert_eq!(g.descr, "<f8");
    let err2: f64 = g
        .values
        .iter()
        .zip(&want.values)
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    let nrm: f64 = want.values.iter().map(|b| b * b).sum();
    assert!((err2 / nrm).sqrt() < 1e-7);
    assert!(dir.join("procrustes-angular-score.npy").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn score_all_and_measures_json() {
    let c = "rand_20x10_vs_20x10";
    let (code, out, _) = simscope(&[
        "score",
        &case(c, "X.npy"),
        &case(c, "Y.npy"),
        "--measure",
        "all",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let scores = v["scores"].as_object().unwrap();
    assert_eq!(scores.len(), simscope::measures::registry::all_ids().len());
    assert!(scores.contains_key("ridge-lambda10000-r2#no_cv"));
    let (code, out, _) = simscope(&["measures", "--json"]);
    assert_eq!(code, 0);
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    for e in &list {
        for key in [
            "id",
            "aliases",
            "description",
            "range",
            "direction",
            "invariances",
            "differentiable",
            "citation",
        ] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        assert!(["similarity", "distance"].contains(&e["direction"].as_str().unwrap()));
        assert_eq!(e["range"].as_array().unwrap().len(), 2);
    }
}

#[test]
fn bench_json_shape() {
    let (code, out, err) = simscope(&[
        "bench",
        "--json",
        "--measure",
        "cka",
        "--size",
        "40x5",
        "--budget",
        "0.05",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 1);
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5);
    assert_eq!(rows[0]["measure"], "cka");
    assert_eq!(rows[0]["n"], 40);
    assert!(
        rows[0]["median_ms"].as_f64().unwrap() > 0.0 && rows[0]["steps"].as_u64().unwrap() >= 5
    );
}

#[test]
fn errors_exit_2_with_an_error_line() {
    let c = "rand_20x10_vs_20x10";
    let (x, y) = (case(c, "X.npy"), case(c, "Y.npy"));
    let other = case("wide_10x30", "Y.npy");
    for args in [
        vec!["score", x.as_str(), y.as_str(), "--measure", "no-such"],
        vec![
            "score",
            x.as_str(),
            y.as_str(),
            "--measure",
            "ridge-lambda-1-r2#5folds_cv",
        ],
        vec!["score", x.as_str(), y.as_str()],
        vec!["score", x.as_str(), "--measure", "cka"],
        vec!["score", x.as_str(), other.as_str(), "--measure", "cka"],
        vec!["score", x.as_str(), "/nonexistent.npy", "--measure", "cka"],
        vec!["bench", "--size", "axb"],
        vec!["measures", "--bogus"],
    ] {
        let (code, out, err) = simscope(&args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            err.lines().next().unwrap_or("").starts_with("error:"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn measures_lists_families_aliases_and_score_only_reasons() {
    let (code, out, _) = simscope(&["measures"]);
    assert_eq!(code, 0);
    for heading in [
        "== CKA family ==",
        "== Procrustes / Bures ==",
        "== CCA ==",
        "== RSA ==",
    ] {
        assert!(out.contains(heading), "{heading} missing:\n{out}");
    }
    // Each id under its family's heading: RBF CKA in the CKA family, SVCCA under CCA.
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("== CKA family ==") < at("cka-kernel=(rbf-sigma=1.0)-hsic=gretton-score"));
    assert!(at("cka-kernel=(rbf-sigma=1.0)-hsic=gretton-score") < at("== Procrustes / Bures =="));
    assert!(at("== CCA ==") < at("svcca-var=0.99-score"));
    assert!(out.contains("aliases: rsa-rdm=correlation-compare=tau_a"));
    assert!(out.contains("score-only: the PCs it keeps are recomputed from Y"));
    assert!(out.contains("cka-kernel=(rbf-threshold={t})-hsic=…-score for any σ, t > 0"));
}
