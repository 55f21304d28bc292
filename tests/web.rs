//! Browser tests: the core compiled to wasm32 and run in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown --lib --tests`). They pin what must agree
//! between the page and the native CLI, and check drawing on a real canvas.
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use plotters::prelude::IntoDrawingArea;
use simscope::data::datasets::toy2d;
use simscope::measures::cka::Cka;
use simscope::optim::session::{initial_y, Session};
use simscope::plot::{score_trace, Style};
use simscope::target::Target;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Y₀ must be bit-identical to the native CLI's (values recorded from a native run).
#[wasm_bindgen_test]
fn initial_y_is_bit_identical_to_native() {
    let y = initial_y(60, 2, 0);
    let native: [u64; 4] = [
        0xbff8a8af17f2fe67,
        0xbff08da2bc24f66e,
        0xbf708d7cb6a3955d,
        0xbfda373ec4a72f01,
    ];
    for (k, bits) in native.iter().enumerate() {
        assert_eq!(y[(k / 2, k % 2)].to_bits(), *bits, "entry {k}");
    }
}

/// The same run gives the native scores (recorded natively) to 1e-12 at step 0 and 1e-9 at 50.
#[wasm_bindgen_test]
fn cka_session_matches_native() {
    let x = toy2d(0.5);
    let target = Arc::new(Target::new(&x.data).unwrap());
    let mut s = Session::new(
        target.clone(),
        Box::new(Cka::new(target)),
        initial_y(60, 2, 0),
        0.1,
    );
    assert!((s.report().score - 0.047872489371448584).abs() < 1e-12);
    assert!((s.step(50).score - 0.9947907799936062).abs() < 1e-9);
}

/// The plotters canvas backend draws non-blank pixels into a real canvas.
#[wasm_bindgen_test]
fn score_plot_draws_on_a_canvas() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement =
        doc.create_element("canvas").unwrap().dyn_into().unwrap();
    canvas.set_width(300);
    canvas.set_height(200);
    doc.body().unwrap().append_child(&canvas).unwrap();
    let backend = plotters_canvas::CanvasBackend::with_canvas_object(canvas.clone()).unwrap();
    let pts: Vec<(usize, f64)> = (0..30).map(|i| (i, 1.0 - 1.0 / (i + 1) as f64)).collect();
    score_trace(
        &backend.into_drawing_area(),
        &[("cka", &pts)],
        &[],
        Style::default(),
    )
    .unwrap();
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let data = ctx.get_image_data(0.0, 0.0, 300.0, 200.0).unwrap().data();
    let dark = data.chunks(4).filter(|p| p[0] < 128 && p[3] > 0).count();
    assert!(dark > 100, "only {dark} dark pixels: nothing drawn");
}

/// In wasm, a perturbed ultrametric scores what the closed forms say (the Perturb panel's
/// promise), and the PC bars draw on a real canvas with a layout inside it.
#[wasm_bindgen_test]
fn perturbation_matches_theory_and_bars_draw() {
    use simscope::analysis::perturb::{perturb, theory, Perturbation};
    use simscope::measures::registry;
    let rec = simscope::data::datasets::builtin("ultrametric").unwrap();
    let target = Arc::new(Target::new(&rec.data).unwrap());
    let mut pert = Perturbation::identity(target.rank());
    pert.scales[1] = 0.4;
    pert.angles[3] = 1.0;
    let y = perturb(&target, &pert, 0);
    assert!(y.exact);
    for id in ["cka", "nbs", "procrustes-angular-score"] {
        let (m, _) = registry::prepare(id, target.clone(), target.p).unwrap();
        let t = theory(&target, &pert, id).unwrap();
        assert!((m.score(&y.y) - t).abs() < 1e-9, "{id}");
    }
    let doc = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement =
        doc.create_element("canvas").unwrap().dyn_into().unwrap();
    canvas.set_width(400);
    canvas.set_height(300);
    let backend = plotters_canvas::CanvasBackend::with_canvas_object(canvas).unwrap();
    let ratios: Vec<f64> = target
        .explained_variance_ratio()
        .iter()
        .take(20)
        .copied()
        .collect();
    let layout = simscope::plot::variance_bars(
        &backend.into_drawing_area(),
        &ratios,
        &[1.0, 0.4],
        &[0.0, 0.0, 0.0, 57.3],
        Some(1),
        Style::default(),
    )
    .unwrap();
    assert_eq!(layout.bars, 20);
    assert!(
        layout.left > 0.0 && layout.right <= 400.0 && layout.top >= 0.0 && layout.bottom <= 300.0
    );
}
