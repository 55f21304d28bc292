//! The analysis commands of the CLI: outputs exactly as issue 5 specifies, errors exit 2.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

mod common;
use common::simscope;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "simscope-analysis-cli-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    (
        header,
        lines
            .map(|l| l.split(',').map(String::from).collect())
            .collect(),
    )
}

#[test]
fn optimize_writes_every_output() {
    let dir = tmp("opt");
    let d = dir.to_str().unwrap();
    let (code, out, err) = simscope(&[
        "optimize",
        "ultrametric",
        "--measure",
        "cka",
        "--watch",
        "nbs",
        "linreg",
        "--snapshot-every",
        "10",
        "--out",
        d,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let steps = v["steps"].as_u64().unwrap() as usize;
    assert_eq!(v["stopped_by"], "stop");
    assert!(v["final_score"].as_f64().unwrap() > 0.99);
    assert_eq!(v.as_object().unwrap().len(), 3);
    let (h, rows) = csv(&dir.join("trajectory.csv"));
    assert_eq!(h, ["step", "objective", "nbs", "linreg"]);
    assert_eq!(rows.len(), steps + 1);
    assert_eq!(
        rows.last().unwrap()[1].parse::<f64>().unwrap(),
        v["final_score"].as_f64().unwrap()
    );
    let (h, rows) = csv(&dir.join("pc_r2.csv"));
    assert_eq!(&h[..3], ["step", "score", "r2_pc1"]);
    assert_eq!(h.len(), 2 + 50);
    assert_eq!(rows.len(), steps + 1);
    let (h, rows) = csv(&dir.join("decoding.csv"));
    assert_eq!(h, ["step", "score", "category"]);
    assert_eq!(rows.last().unwrap()[0], steps.to_string());
    let y = std::fs::read(dir.join("Y.npy")).unwrap();
    assert!(y.starts_with(b"\x93NUMPY"));
    assert!(dir.join("Y_step000000.npy").exists() && dir.join("Y_step000010.npy").exists());
    // no --out: only the summary; max_steps when the stop is not reached
    let (code, out, _) = simscope(&[
        "optimize",
        "ultrametric",
        "--measure",
        "nbs",
        "--steps",
        "3",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["steps"].as_u64(), v["stopped_by"].as_str()),
        (Some(3), Some("max_steps"))
    );
}

#[test]
fn optimize_minimises_a_distance_and_stops_below() {
    let (code, out, err) = simscope(&[
        "optimize",
        "toy2d",
        "--measure",
        "procrustes-euclidean",
        "--stop",
        "0.5",
        "--optimizer",
        "sgd",
        "--lr",
        "0.05",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stopped_by"], "stop");
    assert!(v["final_score"].as_f64().unwrap() < 0.5);
}

/// `--svg` draws the page's plots of the run with the same plot functions.
#[test]
fn optimize_draws_the_page_plots_as_svg() {
    let dir = tmp("svg");
    let (code, _, err) = simscope(&[
        "optimize",
        "toy2d",
        "--measure",
        "cka",
        "--watch",
        "nbs",
        "--svg",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for (name, mark, at_least) in [
        ("scores.svg", "<polyline", 2),
        ("pc_r2.svg", "<polyline", 2),
        ("capture.svg", "<circle", 2),
        ("spectrum.svg", "<rect", 2),
        ("pcs.svg", "<polyline", 12),
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.starts_with("<svg"), "{name}");
        let n = text.matches(mark).count();
        assert!(n >= at_least, "{name}: {n} × {mark}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_are_clear_errors() {
    for args in [
        &["optimize", "ultrametric", "--measure", "nope"][..],
        &["optimize", "no-such-data", "--measure", "cka"],
        &["optimize", "ultrametric", "--lr", "-1"],
        &["optimize", "ultrametric", "--optimizer", "rmsprop"],
        &["perturb", "ultrametric", "--pc", "0"],
        &["perturb", "ultrametric", "--pc", "51"],
        &["perturb", "ultrametric", "--sweep"],
        &["joint", "ultrametric", "--a", "cka", "--out", "/tmp/x"],
        &["calibrate", "ultrametric", "--out", "/tmp/x"],
        &["optimize", "ultrametric", "--svg"],
    ] {
        let (code, out, err) = simscope(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
}

#[test]
fn perturb_prints_measured_and_theory() {
    let (code, out, err) = simscope(&[
        "perturb",
        "ultrametric",
        "--pc",
        "2",
        "--angle",
        "60",
        "--scale",
        "1.5",
        "--measure",
        "cka",
        "nbs",
        "procrustes-angular-score",
        "--seed",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for id in ["cka", "nbs", "procrustes-angular-score"] {
        let (m, t) = (
            v["measured"][id].as_f64().unwrap(),
            v["theory"][id].as_f64().unwrap(),
        );
        assert!((m - t).abs() < 1e-10, "{id}: {m} vs {t}");
    }
    let file = tmp("sweep.csv");
    let (code, _, err) = simscope(&[
        "perturb",
        "ultrametric",
        "--sweep",
        "--measure",
        "cka",
        "nbs",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (h, rows) = csv(&file);
    assert_eq!(
        h,
        [
            "pc",
            "variance",
            "variance_ratio",
            "measured_cka",
            "measured_nbs",
            "theory_cka",
            "theory_nbs"
        ]
    );
    assert_eq!(rows.len(), 50);
    for r in rows {
        let f: Vec<f64> = r.iter().map(|s| s.parse().unwrap()).collect();
        assert!((f[3] - f[5]).abs() < 1e-10 && (f[4] - f[6]).abs() < 1e-10);
    }
}

#[test]
fn joint_writes_boundary_and_trajectories() {
    let dir = tmp("joint");
    let (code, _, err) = simscope(&[
        "joint",
        "toy2d",
        "--a",
        "cka",
        "--b",
        "nbs",
        "--per-side",
        "3",
        "--steps",
        "5",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (h, rows) = csv(&dir.join("boundary.csv"));
    assert_eq!(h, ["target_a", "target_b", "final_a", "final_b"]);
    let targets: Vec<(String, String)> =
        rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let want = [
        ("0", "0"),
        ("0.5", "0"),
        ("1", "0"),
        ("1", "0.5"),
        ("1", "1"),
        ("0.5", "1"),
        ("0", "1"),
        ("0", "0.5"),
    ];
    assert_eq!(
        targets,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let (h, rows) = csv(&dir.join("trajectories.csv"));
    assert_eq!(h, ["target", "step", "a", "b"]);
    assert_eq!(rows.len(), 8 * 6);
}

#[test]
fn calibrate_writes_the_report_and_prints_it() {
    let dir = tmp("cal");
    let (code, out, err) = simscope(&[
        "calibrate",
        "ultrametric",
        "--measure",
        "nbs",
        "--seeds",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    let quantities: Vec<&str> = rows
        .iter()
        .map(|r| r["quantity"].as_str().unwrap())
        .collect();
    assert_eq!(
        quantities,
        [
            "decodable",
            "capture_pcs_10pct",
            "capture_pcs_1pct",
            "steps_to_stop"
        ]
    );
    assert_eq!(rows[3]["reached"], 2);
    let (h, table) = csv(&dir.join("report.csv"));
    assert_eq!(
        &h[..6],
        ["measure", "quantity", "variable", "seeds", "reached", "mean"]
    );
    assert_eq!(table.len(), 4);
    // The thresholds plot beside the table, as in the page.
    let svg = std::fs::read_to_string(dir.join("thresholds.svg")).unwrap();
    assert!(
        svg.contains("PCs ≥ 10% captured"),
        "thresholds.svg draws the bands"
    );
}

/// `--threads` spreads the runs; the report, the notes and the files are the same for any N.
#[test]
fn calibrate_prints_the_same_report_on_any_number_of_threads() {
    let run = |threads: &str| {
        let dir = tmp(&format!("cal-threads-{threads}"));
        let (code, out, err) = simscope(&[
            "calibrate",
            "ultrametric",
            "--measure",
            "nbs",
            "cka",
            "--seeds",
            "3",
            "--steps",
            "40",
            "--threads",
            threads,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let csv = std::fs::read_to_string(dir.join("report.csv")).unwrap();
        (out, err, csv)
    };
    let one = run("1");
    assert_eq!(
        one.1.matches(" seed ").count(),
        6,
        "every run is told of: {}",
        one.1
    );
    for threads in ["2", "5"] {
        assert_eq!(run(threads), one, "--threads {threads}");
    }
}
