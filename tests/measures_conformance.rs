//! Conformance against the authors' values (tests/fixtures/reference, see PROVENANCE.md):
//! every score to 1e-9 relative (1e-12 absolute near 0) or the case's `tolerance`, every
//! shipped gradient to 1e-7 relative Frobenius error.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nalgebra::DMatrix;
use simscope::data::npy::read_npy;
use simscope::measures::registry;
use simscope::target::Target;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference/cases")
}

/// (shape, n × last-dim matrix flattened in C order).
fn load(path: &Path) -> (Vec<usize>, DMatrix<f64>) {
    let a = read_npy(&std::fs::read(path).unwrap()).unwrap();
    let cols = *a.shape.last().unwrap();
    let rows = a.values.len() / cols;
    (
        a.shape.clone(),
        DMatrix::from_row_slice(rows, cols, &a.values),
    )
}

#[test]
fn every_fixture_case_matches_the_authors() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 9, "fixture cases missing");
    let (mut n_scores, mut n_grads) = (0, 0);
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let exp: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let (_, x) = load(&dir.join("X.npy"));
        let (_, y) = load(&dir.join("Y.npy"));
        let target = Arc::new(Target::new(&x).unwrap());
        for (id, m) in exp["measures"].as_object().unwrap() {
            let want = m["score"].as_f64().unwrap();
            let (measure, _warn) = registry::prepare(id, target.clone(), y.ncols()).unwrap();
            let mut g = DMatrix::zeros(0, 0);
            let got = measure.score_and_grad(&y, &mut g);
            let got_plain = measure.score(&y);
            let tol = m.get("tolerance").and_then(|t| t.as_f64()).unwrap_or(1e-9);
            let err = (got - want).abs();
            let ok = err <= tol * want.abs() || err <= 1e-12;
            n_scores += 1;
            if !ok {
                failures.push(format!(
                    "{name} {id}: score {got:.17} want {want:.17} (rel {:.2e})",
                    err / want.abs()
                ));
            }
            if (got - got_plain).abs() > 1e-12 * (1.0 + got.abs()) {
                failures.push(format!(
                    "{name} {id}: score() {got_plain} ≠ score_and_grad() {got}"
                ));
            }
            if let Some(file) = m.get("grad_file").and_then(|f| f.as_str()) {
                let (_, want_g) = load(&dir.join(file));
                let rel = (&g - &want_g).norm() / want_g.norm().max(1e-300);
                n_grads += 1;
                if rel.is_nan() || rel > 1e-7 {
                    failures.push(format!("{name} {id}: gradient relative error {rel:.2e}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        n_scores > 120 && n_grads > 100,
        "{n_scores} scores, {n_grads} gradients"
    );
}
