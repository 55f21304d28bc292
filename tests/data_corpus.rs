//! The malformed corpus (`tests/fixtures/bad/`, made by
//! `tests/fixtures/valid/make_fixtures.py`): every file is refused with its expected error
//! kind and a message, and no prefix of any fixture makes the readers panic.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use std::collections::BTreeMap;
use std::path::PathBuf;

use simscope::data::{read_labels, read_recording};

fn fixtures(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

#[test]
fn every_bad_file_maps_to_its_error_kind() {
    let text = std::fs::read_to_string(fixtures("bad/EXPECTED.json")).unwrap();
    let expected: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    assert!(expected.len() >= 50, "corpus has {} files", expected.len());
    let mut failures = Vec::new();
    for (file, kind) in &expected {
        let bytes = std::fs::read(fixtures("bad").join(file)).unwrap();
        match read_recording(file, &bytes) {
            Ok(_) => failures.push(format!("{file}: accepted, expected {kind}")),
            Err(e) => {
                let msg = e.to_string();
                if e.kind() != kind {
                    failures.push(format!(
                        "{file}: kind {} ({msg}), expected {kind}",
                        e.kind()
                    ));
                }
                assert!(msg.len() > 30, "{file}: message too terse: {msg}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn messages_say_how_to_fix() {
    let read = |f: &str| {
        let bytes = std::fs::read(fixtures("bad").join(f)).unwrap();
        read_recording(f, &bytes).unwrap_err().to_string()
    };
    assert!(read("object.npy").contains("allow_pickle=False"));
    assert!(read("nan.npy").contains("[2, 1]"), "{}", read("nan.npy"));
    assert!(read("neg_inf_f4.npy").contains("-Inf at index [1, 2, 3]"));
    assert!(read("huge_shape.npy").contains("16777216 values"));
    assert!(read("zip_bomb_size.npz").contains("256.0 MiB"));
    assert!(read("one_d.npy").contains("reshape(-1, 1)"));
    assert!(read("npz_ambiguous.npz").contains("name the recording X"));
}

/// Every prefix and a set of single-byte corruptions of every fixture: readers must return,
/// never panic (the fuzz target does this at scale).
#[test]
fn prefixes_and_bit_flips_never_panic() {
    for dir in ["valid", "bad"] {
        for entry in std::fs::read_dir(fixtures(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !(name.ends_with(".npy") || name.ends_with(".npz")) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let step = (bytes.len() / 64).max(1);
            for cut in (0..bytes.len()).step_by(step) {
                let _ = read_recording(&name, &bytes[..cut]);
                let _ = read_labels(&name, &bytes[..cut], 8);
            }
            for pos in (0..bytes.len()).step_by(step.max(7)) {
                let mut b = bytes.clone();
                b[pos] ^= 0xA5;
                let _ = read_recording(&name, &b);
            }
        }
    }
}
