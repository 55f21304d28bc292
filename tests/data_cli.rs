//! The CLI face of the data layer: `info`, `datasets`, `export-dataset`, and DATA arguments.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

mod common;
use common::simscope;

use std::path::PathBuf;

fn fixture(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
        .to_string_lossy()
        .into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simscope-data-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn info_on_npy_and_npz() {
    let (code, out, _) = simscope(&["info", &fixture("valid/i4_be_3d_F.npy")]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["shape"], serde_json::json!([2, 3, 4]));
    assert_eq!(v["dtype"], ">i4");
    assert_eq!(v["fortran_order"], true);
    for k in ["min", "max", "mean"] {
        assert!(v[k].is_number(), "{k}");
    }
    let (code, out, _) = simscope(&["info", &fixture("valid/rec_savez.npz")]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["arrays"]["X"]["shape"], serde_json::json!([5, 8, 3]));
    assert_eq!(v["arrays"]["label_direction"]["dtype"], "<f8");
}

#[test]
fn info_refuses_with_exit_2() {
    for f in [
        "bad/one_d.npy",
        "bad/nan.npy",
        "bad/object.npy",
        "bad/zip_bad_crc.npz",
        "bad/truncated_data.npy",
    ] {
        let (code, out, err) = simscope(&["info", &fixture(f)]);
        assert_eq!(code, 2, "{f}");
        assert!(out.is_empty(), "{f}");
        assert!(err.starts_with("error:"), "{f}: {err}");
    }
    let (code, _, err) = simscope(&["info", "no-such-file.npy"]);
    assert_eq!(code, 2);
    assert!(err.contains("neither a file nor a built-in dataset"));
}

#[test]
fn a_2gb_file_is_refused_before_reading() {
    let path = tmp("huge.npy");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(2 << 30).unwrap(); // sparse: takes no disk space
    drop(f);
    let (code, _, err) = simscope(&["info", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 2);
    assert!(
        err.contains("limit of 268435456 bytes (256.0 MiB)"),
        "{err}"
    );
}

#[test]
fn datasets_json_and_export_round_trip() {
    let (code, out, _) = simscope(&["datasets", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"hatsopoulos2007") && names.contains(&"golub2018"));
    assert_eq!(v[3]["shape"], serde_json::json!([10, 8, 141]));

    let out_path = tmp("hats.npz");
    let (code, _, err) = simscope(&[
        "export-dataset",
        "hatsopoulos2007",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&out_path).unwrap();
    let (rec, _) = simscope::data::read_recording("hats.npz", &bytes).unwrap();
    let orig = simscope::data::datasets::builtin("hatsopoulos2007").unwrap();
    assert_eq!(rec.data, orig.data);
    assert_eq!(rec.labels, orig.labels);
    // the exported file is itself a DATA argument
    let (code, out, _) = simscope(&["info", out_path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("label_direction"));
    let _ = std::fs::remove_file(&out_path);
}
