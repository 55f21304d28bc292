//! MATLAB `.mat` and CSV/TSV recordings (`tests/fixtures/mat/`, made by scipy, h5py and
//! numpy with `make_mat_fixtures.py`): every readable file gives what `scipy.io.loadmat` /
//! `numpy.loadtxt` read back, bit for bit; every refused file gets its specific error; no
//! prefix or byte flip of any fixture makes a reader panic.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files

use std::path::PathBuf;

use serde_json::Value;
use simscope::data::{read_labels, read_recording, read_recording_array};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mat")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| f64::from_bits(u64::from_str_radix(x.as_str().unwrap(), 16).unwrap()))
        .collect()
}

#[test]
fn every_fixture_reads_as_scipy_reads_it_or_is_refused_with_its_kind() {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    let expected: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, e) in &expected {
        if file.starts_with('_') {
            continue;
        }
        checked += 1;
        let bytes = read(file);
        match (read_recording(file, &bytes), e.get("error")) {
            (Ok((rec, _)), None) => {
                let shape: Vec<usize> = e["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as usize)
                    .collect();
                if rec.dims != shape {
                    failures.push(format!("{file}: shape {:?}, scipy {shape:?}", rec.dims));
                    continue;
                }
                let want = floats(&e["values"]);
                let got = rec.c_order_values();
                if got
                    .iter()
                    .zip(&want)
                    .any(|(g, w)| g.to_bits() != w.to_bits())
                {
                    failures.push(format!("{file}: values differ from scipy's"));
                }
            }
            (Ok(_), Some(k)) => failures.push(format!("{file}: accepted, expected {k}")),
            (Err(err), None) => failures.push(format!("{file}: refused ({err})")),
            (Err(err), Some(k)) => {
                if err.kind() != k.as_str().unwrap() {
                    failures.push(format!("{file}: kind {} ({err}), expected {k}", err.kind()));
                }
                assert!(err.to_string().len() > 40, "{file}: terse message {err}");
            }
        }
    }
    assert!(checked >= 35, "only {checked} fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn messages_say_what_was_found_and_what_to_do() {
    let msg = |f: &str| read_recording(f, &read(f)).unwrap_err().to_string();
    let v73 = msg("v73.mat");
    assert!(v73.contains("save('v73.mat', 'X', '-v7')"), "{v73}");
    let several = msg("several.mat");
    assert!(
        several.contains("A 6×4 double") && several.contains("B 6×3 double"),
        "{several}"
    );
    assert!(several.contains("several.mat:A"), "{several}");
    assert!(msg("cell.mat").contains("cell2mat"));
    assert!(msg("struct.mat").contains("X.data"));
    assert!(msg("sparse.mat").contains("full(X)"));
    assert!(msg("complex.mat").contains("real(X)"));
    assert!(msg("v4.mat").contains("-v7"));
    assert!(msg("ragged.csv").contains("line 2 has 2 fields but line 1 has 3"));
    assert!(msg("text_cell.csv").starts_with("line 3, column 2 (`b`): `oops` is not a number"));
    assert!(
        msg("row_names.csv").contains("delete the column"),
        "{}",
        msg("row_names.csv")
    );
    assert!(msg("missing.csv").contains("line 2, column 2"));
    // JSON is labels, never a recording.
    let e = read_recording("l.json", br#"{"a": [1, 2]}"#).unwrap_err();
    assert_eq!(e.kind(), "json_recording");
}

#[test]
fn several_arrays_are_listed_and_one_can_be_chosen() {
    let b = read("several.mat");
    let (rec, _) = read_recording_array("several.mat", &b, Some("B")).unwrap();
    assert_eq!(rec.dims, vec![6, 3]);
    let e = read_recording_array("several.mat", &b, Some("C")).unwrap_err();
    assert_eq!(e.kind(), "no_such_array");
    assert!(e.to_string().contains("A [6, 4]"), "{e}");
    // X beside another matrix: X is used and the other one is named in a warning.
    let (rec, w) = read_recording("x_and_other.mat", &read("x_and_other.mat")).unwrap();
    assert_eq!(rec.dims, vec![6, 4]);
    assert!(
        w.iter()
            .any(|w| w.contains("`W`") && w.contains("x_and_other.mat:W")),
        "{w:?}"
    );
    // A refused variable beside X is a warning, not an error.
    let (_, w) = read_recording("x_and_cell.mat", &read("x_and_cell.mat")).unwrap();
    assert!(w.iter().any(|w| w.contains("cell array")), "{w:?}");
    // label_<name> variables become task variables, as in .npz.
    let (rec, _) = read_recording("d.mat", &read("double_compressed.mat")).unwrap();
    assert_eq!(rec.labels.len(), 1);
    assert_eq!(rec.labels[0].name, "direction");
    assert_eq!(rec.labels[0].classes, vec!["0", "45", "90"]);
    // A header row of names is reported.
    let (_, w) = read_recording("header.csv", &read("header.csv")).unwrap();
    assert!(
        w[0].contains("header of 4 column names (n1, n2, n3, n4)"),
        "{w:?}"
    );
    // .mat vectors can be labels files too.
    let (vars, _) = read_labels("only_matrix.mat", &read("only_matrix.mat"), 6).unwrap();
    assert!(vars.iter().any(|v| v.name == "direction"));
}

/// Every prefix and a set of single-byte corruptions of every fixture: the readers return,
/// never panic (what the npy/npz corpus test does for NumPy files).
#[test]
fn prefixes_and_byte_flips_never_panic() {
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".py") || name.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for cut in 0..bytes.len() {
            let _ = read_recording(&name, &bytes[..cut]);
        }
        let step = (bytes.len() / 256).max(1);
        for pos in (0..bytes.len()).step_by(step) {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[pos] ^= flip;
                let _ = read_recording(&name, &b);
                let _ = read_labels(&name, &b, 6);
            }
        }
    }
}
