//! Every built-in dataset loads with its documented shape, labels and metadata; spot values
//! of the real recordings match NumPy's reading of the source files (datasets/make_datasets.py).
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use simscope::data::datasets::{self, builtin, catalogue, info, names, DATASETS};

#[test]
fn each_builtin_matches_its_metadata() {
    for name in [
        "toy2d",
        "ultrametric",
        "context-integration",
        "hatsopoulos2007",
        "golub2018",
        "kriegeskorte2008-mit",
        "kriegeskorte2008-hit",
    ] {
        assert!(names().contains(&name), "{name} is missing");
    }
    assert_eq!(catalogue().len(), DATASETS.len());
    let mut unique = names();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), DATASETS.len(), "a name is declared twice");
    for name in &names() {
        let rec = builtin(name).unwrap_or_else(|| panic!("{name} does not load"));
        let meta = info(name).unwrap();
        assert_eq!(rec.name, *name);
        assert_eq!(rec.dims, meta.shape, "{name}");
        let rows = rec.time_steps() * rec.conditions();
        assert_eq!(rec.data.shape(), (rows, rec.neurons()), "{name}");
        assert!(rec.data.iter().all(|v| v.is_finite()), "{name}");
        let labels: Vec<&str> = rec.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(labels, meta.labels, "{name}");
        for l in &rec.labels {
            assert_eq!(l.class_of.len(), rec.conditions(), "{name}.{}", l.name);
            assert!(l.class_of.iter().all(|&k| k < l.classes.len()));
            assert!(l.classes.len() >= 2, "{name}.{}", l.name);
        }
        assert!(
            !meta.description.is_empty() && !meta.citation.is_empty() && !meta.licence.is_empty()
        );
        let json = serde_json::to_value(&meta).unwrap();
        for key in [
            "name",
            "shape",
            "labels",
            "description",
            "citation",
            "synthetic",
        ] {
            assert!(json.get(key).is_some(), "{name}: {key}");
        }
    }
    assert!(builtin("nope").is_none());
    assert!(info("context-integration").unwrap().synthetic);
    assert!(!info("hatsopoulos2007").unwrap().synthetic);
}

#[test]
fn hatsopoulos_is_the_50ms_window_average() {
    let r = builtin("hatsopoulos2007").unwrap();
    assert_eq!(r.dims, vec![10, 8, 141]);
    // (t, c, n) -> row t·8 + c
    assert_eq!(r.data[(0, 0)], 11.84042893511334);
    assert_eq!(r.data[(3, 10)], 0.9611014929779916); // mean of source samples 70..74
    assert_eq!(r.data[(9 * 8 + 5, 100)], 16.648805484776993); // samples 115..119
    assert_eq!(r.data[(9 * 8 + 7, 140)], 3.0338407778296514);
    assert!((r.data.sum() - 45929.93026796408).abs() < 1e-8);
    assert_eq!(
        r.labels[0].classes,
        (0..8).map(|d| d.to_string()).collect::<Vec<_>>()
    );
}

#[test]
fn golub_counts_and_directions() {
    let r = builtin("golub2018").unwrap();
    assert_eq!(r.dims, vec![552, 86]);
    assert_eq!(r.data.sum(), 95835.0);
    assert_eq!(r.data[(0, 2)], 3.0);
    assert_eq!(r.data[(551, 83)], 1.0);
    let d = &r.labels[0];
    assert_eq!(
        d.classes,
        vec!["0", "45", "90", "135", "180", "225", "270", "315"]
    );
    assert_eq!(d.class_of[68], 0);
    assert_eq!(d.class_of[69], 1);
    assert_eq!(d.class_of[551], 7);
}

#[test]
fn kriegeskorte_embeddings_and_categories() {
    let m = builtin("kriegeskorte2008-mit").unwrap();
    let h = builtin("kriegeskorte2008-hit").unwrap();
    assert_eq!(m.data[(0, 0)], -0.017455023966063327);
    assert_eq!(m.data[(91, 90)], 0.021980830115543904);
    assert_eq!(h.data[(0, 0)], 0.08260646073697805);
    let cat = &m.labels[1];
    let mut counts = vec![0; 6];
    for &k in &cat.class_of {
        counts[k] += 1;
    }
    assert_eq!(counts, vec![12, 12, 12, 12, 23, 21]);
    assert_eq!(cat.classes[0], datasets::KRIEGESKORTE_CATEGORIES[0]);
    let anim = &m.labels[0];
    assert_eq!(anim.class_of.iter().filter(|&&k| k == 0).count(), 48);
}

#[test]
fn synthetic_sets_are_seeded() {
    let a = datasets::ultrametric(3);
    assert_eq!(a.data, datasets::ultrametric(3).data);
    assert_ne!(a.data, datasets::ultrametric(4).data);
    assert!(a.data.iter().all(|&v| v == 0.0 || v == 1.0));
    assert_eq!(
        a.labels[0].class_of[..21].to_vec(),
        [vec![0; 10], vec![1; 10], vec![2]].concat()
    );
    // leaves of one level-2 branch are closer than leaves of different level-1 branches
    let dist = |i: usize, j: usize| (a.data.row(i) - a.data.row(j)).norm_squared();
    let within: f64 = (1..10).map(|j| dist(0, j)).sum::<f64>() / 9.0;
    let across: f64 = (50..60).map(|j| dist(0, j)).sum::<f64>() / 10.0;
    assert!(within < across, "{within} vs {across}");

    let c = datasets::context_integration(0);
    assert_eq!(c.dims, vec![15, 72, 100]);
    assert_eq!(c.data, datasets::context_integration(0).data);
    let ctx = &c.labels[3];
    assert_eq!(ctx.class_of[35], 0);
    assert_eq!(ctx.class_of[36], 1);
    // choice follows motion in context 0 and colour in context 1
    let choice = &c.labels[0];
    assert_eq!(choice.class_of[0], 0); // motion -0.5, colour -0.5
    assert_eq!(choice.class_of[5], 0); // motion -0.5, colour +0.5, motion context
    assert_eq!(choice.class_of[36 + 5], 1); // same stimuli, colour context
}
