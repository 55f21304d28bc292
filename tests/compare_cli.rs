//! `simscope compare`: the JSON schema of the issue, `value` equal to `simscope score` for the
//! same pair to the last bit (2-D and 3-D), the CSV files of `--out`, choosing one array of a
//! file, and specific errors (exit 2).
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::simscope;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(p)
        .to_string_lossy()
        .into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("simscope-compare-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = simscope(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

const IDS: &[&str] = &[
    "cka",
    "cka-angular-score",
    "nbs",
    "procrustes-angular-score",
    "linreg",
    "ridge-lambda100-r2#5folds_cv",
    "rsa-correlation-pearson",
    "cka-hsic_song",
    "cca-angular-score",
    "procrustes-euclidean",
];

/// The number text after `key` at or after `from` in a JSON document (compared as text:
/// serde_json's default float parsing may be one ulp off, so parsed values prove nothing).
fn number_after(doc: &str, from: usize, key: &str) -> String {
    let at = from
        + doc[from..]
            .find(key)
            .unwrap_or_else(|| panic!("{key} not in {doc}"))
        + key.len();
    doc[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || "-+.eE".contains(*c))
        .collect()
}

/// `value` is `simscope score`'s number, bit for bit, for every measure.
fn values_equal_score(x: &str, y: &str) {
    let mut args = vec![
        "compare",
        x,
        y,
        "--no-calibrate",
        "--permutations",
        "5",
        "--bootstrap",
        "5",
    ];
    let mut sargs = vec!["score", x, y];
    for id in IDS {
        args.extend(["--measure", id]);
        sargs.extend(["--measure", id]);
    }
    let (code, c, err) = simscope(&args);
    assert_eq!(code, 0, "{err}");
    let (code, s, err) = simscope(&sargs);
    assert_eq!(code, 0, "{err}");
    let scores_at = s.find("\"scores\":{").unwrap();
    for id in IDS {
        let key = format!("\"{id}\":");
        let from = c.find(&format!("{key}{{\"bootstrap_valid\"")).unwrap();
        let a = number_after(&c, from, "\"value\":");
        let b = number_after(&s, scores_at, &key);
        assert!(!a.is_empty() && a == b, "{id}: compare {a} vs score {b}");
    }
}

#[test]
fn values_are_simscope_score_to_the_last_bit() {
    values_equal_score("golub2018", &root("datasets/golub2018_after_counts.npy"));
    let c = "tests/fixtures/reference/cases/tensor3d_15x6x8_vs_15x6x8";
    values_equal_score(&root(&format!("{c}/X.npy")), &root(&format!("{c}/Y.npy")));
}

#[test]
fn the_document_has_the_issue_schema_and_out_writes_the_same_as_csv() {
    // toy2d with a noisy copy of itself as the model: labels, 3-D, calibration.
    let dir = tmp("schema");
    let rec = simscope::data::datasets::builtin("toy2d").unwrap();
    let mut rng = simscope::rng::Rng::new(1);
    let y: Vec<f64> = rec
        .c_order_values()
        .iter()
        .map(|v| v + 0.2 * rng.normal())
        .collect();
    let yf = dir.join("model.npy");
    std::fs::write(&yf, simscope::data::npy::write_npy_f64(&rec.dims, &y)).unwrap();
    let out = dir.join("out");
    let v = json(&[
        "compare",
        "toy2d",
        yf.to_str().unwrap(),
        "--measure",
        "cka",
        "--measure",
        "procrustes-euclidean",
        "--permutations",
        "50",
        "--bootstrap",
        "50",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(v["x_shape"], serde_json::json!([10, 6, 2]));
    assert!(v["warnings"].is_array());
    let m = &v["models"][0];
    assert_eq!(m["name"], "model");
    assert!(m["pc_r2"].as_array().unwrap().iter().all(|r| r.is_f64()));
    for id in ["cka", "procrustes-euclidean"] {
        let s = &m["scores"][id];
        for k in [
            "value",
            "ci_low",
            "ci_high",
            "null_mean",
            "null_p95",
            "p_value",
        ] {
            assert!(s[k].is_f64(), "{id}.{k}: {s}");
        }
        let c = &s["calibration"];
        assert!(
            c["steps_to_reach"].is_u64() || c["steps_to_reach"].is_null(),
            "{c}"
        );
        assert!(c["pcs_captured"].is_array());
        assert!(c["variance_captured"].is_f64());
        let d = c["decodable"].as_object().unwrap();
        assert!(d.contains_key("choice") && d["choice"].is_boolean(), "{c}");
        assert!(c["verdict"].as_str().unwrap().len() > 40);
    }
    assert!(
        m["scores"]["procrustes-euclidean"]["calibration"]["verdict"]
            .as_str()
            .unwrap()
            .contains("placed by steps only")
    );
    let scores = std::fs::read_to_string(out.join("scores.csv")).unwrap();
    let lines: Vec<&str> = scores.lines().collect();
    assert!(lines[0].starts_with("model,measure,value,ci_low,ci_high,null_mean,null_p95,p_value"));
    assert_eq!(lines.len(), 3, "{scores}");
    let text = serde_json::to_string(&m["scores"]["cka"]["value"]).unwrap();
    let _ = text; // serde_json reparses floats lossily: compare the CSV with the stdout text
    let (_, stdout, _) = simscope(&[
        "compare",
        "toy2d",
        yf.to_str().unwrap(),
        "--measure",
        "cka",
        "--measure",
        "procrustes-euclidean",
        "--permutations",
        "50",
        "--bootstrap",
        "50",
        "--seed",
        "3",
    ]);
    let from = stdout.find("\"cka\":{").unwrap();
    let cka_value = number_after(&stdout, from, "\"value\":");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("model,cka,{cka_value},"))),
        "{cka_value}: {scores}"
    );
    assert!(std::fs::read_to_string(out.join("pc_r2.csv"))
        .unwrap()
        .starts_with("model,pc,x_explained_variance,cv_r2\n"));
    assert!(std::fs::read_to_string(out.join("decoding.csv"))
        .unwrap()
        .contains("model,choice,"));
    // The page's profile plot, drawn by the same plot function.
    let svg = std::fs::read_to_string(out.join("profile.svg")).unwrap();
    assert!(svg.contains("R² from model") && svg.contains("X: share of variance"));
}

#[test]
fn several_arrays_are_chosen_by_name_and_bad_models_are_refused() {
    let dir = tmp("arrays");
    let x = simscope::data::datasets::builtin("kriegeskorte2008-mit").unwrap();
    let hit = simscope::data::datasets::builtin("kriegeskorte2008-hit").unwrap();
    let npz = simscope::data::npz::write_npz(&[
        ("layer1", simscope::data::write::recording_npy(&hit)),
        ("layer2", simscope::data::write::recording_npy(&x)),
    ]);
    let f = dir.join("layers.npz");
    std::fs::write(&f, npz).unwrap();
    let fs = f.to_str().unwrap();
    let (code, _, err) = simscope(&["compare", "kriegeskorte2008-mit", fs, "--no-calibrate"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("layer1 [92, 91]") && err.contains("layers.npz:layer1"),
        "{err}"
    );
    let spec = format!("{fs}:layer2");
    let v = json(&[
        "compare",
        "kriegeskorte2008-mit",
        &spec,
        "--measure",
        "cka",
        "--no-calibrate",
        "--permutations",
        "10",
        "--bootstrap",
        "10",
    ]);
    let one = v["models"][0]["scores"]["cka"]["value"].as_f64().unwrap();
    assert!((one - 1.0).abs() < 1e-12, "{one}");
    // Rows that do not match, and a transposed model.
    let (code, _, err) = simscope(&[
        "compare",
        "golub2018",
        "kriegeskorte2008-mit",
        "--no-calibrate",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("92 rows but X has 552"), "{err}");
    let rec = simscope::data::datasets::builtin("golub2018").unwrap();
    let t = rec.data.transpose();
    let vals: Vec<f64> = (0..t.nrows())
        .flat_map(|i| (0..t.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| t[(i, j)])
        .collect();
    let tf = dir.join("transposed.npy");
    std::fs::write(&tf, simscope::data::npy::write_npy_f64(&[86, 552], &vals)).unwrap();
    let (code, _, err) = simscope(&[
        "compare",
        "golub2018",
        tf.to_str().unwrap(),
        "--no-calibrate",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("transposed"), "{err}");
    let (code, _, err) = simscope(&["compare", "golub2018"]);
    assert_eq!(code, 2);
    assert!(err.contains("at least one model"), "{err}");
    // A v7.3 model gets the re-save line.
    let (code, _, err) = simscope(&["compare", "golub2018", &root("tests/fixtures/mat/v73.mat")]);
    assert_eq!(code, 2);
    assert!(err.contains("save('v73.mat', 'X', '-v7')"), "{err}");
}
