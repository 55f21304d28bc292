//! Valid files written by NumPy itself (`tests/fixtures/valid/`): shapes, dtypes, orders and
//! values match what NumPy reads back (`expected.json`, computed independently in Python).
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use std::path::PathBuf;

use serde_json::Value;
use simscope::data::npy::read_npy;
use simscope::data::{read_labels, read_recording, ArraySummary};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| f64::from_bits(u64::from_str_radix(x.as_str().unwrap(), 16).unwrap()))
        .collect()
}

#[test]
fn npy_files_match_numpy() {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let expected: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for (file, e) in &expected {
        if !file.ends_with(".npy") {
            continue;
        }
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        let a = read_npy(&bytes).unwrap_or_else(|err| panic!("{file}: {err}"));
        let shape: Vec<usize> = e["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(a.shape, shape, "{file}");
        assert_eq!(a.descr, e["dtype"].as_str().unwrap(), "{file}");
        assert_eq!(
            a.fortran_order,
            e["fortran_order"].as_bool().unwrap(),
            "{file}"
        );
        let want = floats(&e["values"]);
        assert_eq!(a.values.len(), want.len(), "{file}");
        for (i, (g, w)) in a.values.iter().zip(&want).enumerate() {
            assert!(g.to_bits() == w.to_bits(), "{file}[{i}]: {g} != {w}");
        }
        if e.get("warning").is_some() {
            assert!(!a.warnings.is_empty(), "{file}: expected a 2^53 warning");
        }
        // Every valid fixture with 2-3 dims is also a recording.
        if (2..=3).contains(&shape.len()) {
            let (rec, _) = read_recording(file, &bytes).unwrap();
            assert_eq!(rec.dims, shape);
            assert_eq!(rec.c_order_values(), a.values);
        }
        let s = ArraySummary::of(&a);
        assert_eq!(s.dtype, a.descr);
        checked += 1;
    }
    assert!(checked >= 80, "only {checked} files checked");
}

#[test]
fn npz_files_match_numpy() {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let expected: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    for file in [
        "rec_savez.npz",
        "rec_compressed.npz",
        "rec_single_unnamed.npz",
    ] {
        let e = &expected[file];
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        let (rec, _warnings) =
            read_recording(file, &bytes).unwrap_or_else(|err| panic!("{file}: {err}"));
        let shape: Vec<usize> = e["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(rec.dims, shape, "{file}");
        let got: Vec<u64> = rec.c_order_values().iter().map(|v| v.to_bits()).collect();
        let want: Vec<u64> = floats(&e["X"]).iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "{file}");
        let labels = e["labels"].as_object().unwrap();
        assert_eq!(rec.labels.len(), labels.len(), "{file}");
        for (name, classes) in labels {
            let var = rec
                .labels
                .iter()
                .find(|l| &l.name == name)
                .unwrap_or_else(|| panic!("{file}: no {name}"));
            let want: Vec<String> = classes
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            assert_eq!(var.classes, want, "{file}: {name}");
        }
    }
}

#[test]
fn label_files_of_every_kind() {
    let read = |f: &str| {
        let bytes = std::fs::read(fixtures().join(f)).unwrap();
        read_labels(f, &bytes, 8)
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .0
    };
    let d = read("label_direction_deg.npy");
    assert_eq!(d[0].name, "direction_deg");
    assert_eq!(d[0].classes, vec!["0", "45", "90", "135"]);
    assert_eq!(d[0].class_of, vec![0, 0, 1, 1, 2, 2, 3, 3]);
    let u = read("label_ctx_U.npy");
    assert_eq!(u[0].classes, vec!["motion", "colour", "m", "c", "ü"]);
    let s = read("label_choice_S.npy");
    assert_eq!(s[0].classes, vec!["L", "R"]);
    let i = read("label_int_be.npy");
    assert_eq!(i[0].classes, vec!["1", "2", "3"]);
    assert_eq!(i[0].class_of[0], 2);
    for f in ["labels.csv", "labels.json"] {
        let v = read(f);
        let dir = v.iter().find(|t| t.name == "direction").unwrap();
        assert_eq!(dir.classes, vec!["0", "45", "90", "135"], "{f}");
        let ctx = v.iter().find(|t| t.name == "context").unwrap();
        assert_eq!(ctx.class_of, vec![0, 1, 0, 1, 0, 1, 0, 1], "{f}");
    }
    // attaching to a recording checks the count
    let (mut rec, _) = read_recording(
        "r.npz",
        &std::fs::read(fixtures().join("rec_savez.npz")).unwrap(),
    )
    .unwrap();
    let bytes = std::fs::read(fixtures().join("labels.json")).unwrap();
    rec.attach_labels("labels.json", &bytes).unwrap();
    assert_eq!(rec.labels.len(), 3); // direction replaced, ctx kept, context added
    let (mut small, _) = read_recording(
        "s.npy",
        &std::fs::read(fixtures().join("f8_le_2d_C.npy")).unwrap(),
    )
    .unwrap();
    let err = small.attach_labels("labels.json", &bytes).unwrap_err();
    assert_eq!(err.kind(), "label_count");
    assert!(
        err.to_string()
            .contains("has 8 values but the recording has 3 conditions"),
        "{err}"
    );
}
