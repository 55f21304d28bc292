//! The Prune panel (issue 7, after Tarigopula et al. 2023): load model features F and a target
//! (a built-in demo, files, or the loaded recording), run the honest evaluation in worker
//! slices with progress and Cancel, plot train/test fit against features kept and the target /
//! full-model / pruned-model RDMs, and export what the CLI writes.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, IntoDrawingArea};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlCanvasElement};

use super::{canvas, device_scale, read_user_file, with_page, Ctx, View};
use crate::plot::{self, Style};
use crate::state::UiState;
use crate::web::dom::{self, js_number_string};
use crate::web::protocol::{
    PruneInputs, PruneRequest, PruneResponse, PruneResult, PruneSettings, Request,
};

/// The Prune panel's canvases, drawn only when the panel changed and a piece per animation
/// frame (the curve, then each heatmap in bands of `HEATMAP_BANDS`; a 92 × 92 heatmap is
/// ~8,500 rectangles), so neither the optimisation's frames nor the page's responsiveness pay
/// for them: the page's render loop leaves them alone (`ready` is false) and `tick` draws.
const PRUNE_PLOTS: &[&str] = &[
    "prune-curve-plot",
    "prune-rdm-target",
    "prune-rdm-full",
    "prune-rdm-pruned",
];

/// Bands of rows per heatmap, one band per animation frame.
const HEATMAP_BANDS: usize = 8;

/// The panel's state as the page sees it.
#[derive(Default)]
pub(super) struct PruneView {
    inputs: PruneInputs,
    running: bool,
    /// (stage, stages, step, steps) of the last progress report.
    progress: Option<(usize, usize, usize, usize)>,
    result: Option<Box<PruneResult>>,
    /// Whether the last run was cancelled (for the status line).
    cancelled: bool,
    /// Canvas pieces still to draw (one per frame, popped from the end): (id, band of rows).
    pending: Vec<(&'static str, Range<usize>)>,
}

impl View for PruneView {
    const PLOTS: &'static [&'static str] = PRUNE_PLOTS;

    fn on_state(&mut self, ctx: &mut Ctx, before: &UiState) {
        if before.prune_demo != ctx.state.prune_demo && ctx.ready {
            self.load_demo(ctx);
        }
        if before.panel != ctx.state.panel {
            // Canvases of the tab just opened get their size now.
            self.resized(ctx);
        }
    }

    /// Draw at most one queued piece of a canvas.
    fn tick(&mut self, ctx: &mut Ctx) {
        self.draw_piece(ctx);
    }

    /// Drawn a piece per frame by `tick`, never by the page's render loop.
    fn ready(&self, _ctx: &Ctx, _id: &str) -> bool {
        false
    }

    /// The whole plot (for the SVG export).
    fn draw<DB: DrawingBackend>(
        &self,
        _ctx: &Ctx,
        id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let n = self.result.as_ref().map_or(0, |r| r.n_stimuli);
        self.plot_to(id, root, 0..n, style)
    }
}

/// Which file input holds what.
#[derive(Clone, Copy)]
enum PruneFile {
    Features,
    TargetRdm,
    TargetX,
}

impl PruneView {
    /// The settings the run uses, from the state table.
    fn settings(s: &UiState) -> PruneSettings {
        PruneSettings {
            folds: s.prune_folds as usize,
            seed: s.prune_seed,
            method: s.prune_method.clone(),
            distance: s.prune_distance.clone(),
            compare: s.prune_compare.clone(),
            fit: s.prune_fit.clone(),
        }
    }

    pub fn load_demo(&mut self, ctx: &mut Ctx) {
        let name = ctx.state.prune_demo.clone();
        ctx.send(Request::Prune(PruneRequest::Demo { name }), None);
    }

    fn run(&mut self, ctx: &mut Ctx) {
        if self.running {
            ctx.send(Request::Prune(PruneRequest::Cancel), None);
        }
        let req = PruneRequest::Start(Self::settings(&ctx.state));
        self.progress = None;
        self.cancelled = false;
        self.set_running(ctx, true);
        ctx.send(Request::Prune(req), None);
        self.show_progress(&ctx.doc);
    }

    /// Cancel: no further slice is asked for, and the worker drops the job.
    fn cancel(&mut self, ctx: &mut Ctx) {
        if self.running {
            self.set_running(ctx, false);
            self.cancelled = true;
            ctx.send(Request::Prune(PruneRequest::Cancel), None);
            self.show_progress(&ctx.doc);
        }
    }

    fn set_running(&mut self, ctx: &Ctx, running: bool) {
        self.running = running;
        if let Some(b) = dom::el(&ctx.doc, "prune-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
        if let Some(b) = dom::el(&ctx.doc, "prune-run") {
            let _ = b.set_attribute("aria-busy", if running { "true" } else { "false" });
        }
    }

    /// The worker's answer to a Prune request.
    pub fn on_response(&mut self, ctx: &mut Ctx, r: PruneResponse) {
        match r {
            PruneResponse::Inputs(inputs) => {
                self.inputs = inputs;
                self.show_inputs(&ctx.doc);
            }
            PruneResponse::Started { stages } => {
                if !self.running {
                    return;
                }
                self.progress = Some((0, stages, 0, 0));
                self.show_progress(&ctx.doc);
                ctx.send(Request::Prune(PruneRequest::Slice), None);
            }
            PruneResponse::Progress {
                stage,
                stages,
                step,
                steps,
            } => {
                if !self.running {
                    return;
                }
                self.progress = Some((stage, stages, step, steps));
                self.show_progress(&ctx.doc);
                ctx.send(Request::Prune(PruneRequest::Slice), None);
            }
            PruneResponse::Done(result) => {
                if !self.running {
                    return;
                }
                self.set_running(ctx, false);
                self.result = Some(result);
                self.show_result(&ctx.doc);
                self.show_progress(&ctx.doc);
                self.redraw(ctx);
            }
            PruneResponse::Cancelled => {}
            PruneResponse::Failed { message } => {
                if self.running {
                    self.set_running(ctx, false);
                }
                ctx.error(&message);
                self.show_progress(&ctx.doc);
            }
        }
    }

    /// "F: prune-demo-mit (92 stimuli × 96 features) · target: … RDM (92 stimuli)".
    fn show_inputs(&self, doc: &Document) {
        let i = &self.inputs;
        let f = match &i.features {
            Some((n, s, p)) => format!("F: {n} ({s} stimuli × {p} features)"),
            None => "F: none loaded".into(),
        };
        let t = match &i.target {
            Some((n, s, what)) if what == "rdm" => format!("target RDM: {n} ({s} stimuli)"),
            Some((n, s, _)) => format!("target recording X: {n} ({s} stimuli)"),
            None => "target: none loaded".into(),
        };
        dom::set_text(doc, "prune-inputs", &format!("{f} · {t}"));
    }

    fn show_progress(&self, doc: &Document) {
        let v = self;
        let state = if v.running {
            "running"
        } else if v.cancelled {
            "cancelled"
        } else if v.result.is_some() {
            "done"
        } else {
            "idle"
        };
        let text = match (state, v.progress) {
            ("running", Some((stage, stages, step, steps))) if stages > 0 => {
                let what = if stage + 1 >= stages {
                    "final selection on all stimuli".to_string()
                } else {
                    format!("fold {}/{}", stage + 1, stages - 1)
                };
                format!("{what}, step {step}/{steps}")
            }
            ("running", _) => "starting…".into(),
            ("cancelled", _) => "cancelled".into(),
            ("done", _) => "done".into(),
            _ => String::new(),
        };
        dom::set_text(doc, "prune-progress", &text);
        if let Some(e) = dom::el(doc, "prune-progress") {
            let _ = e.set_attribute("data-state", state);
            let (stage, stages) = v.progress.map(|p| (p.0, p.1)).unwrap_or((0, 0));
            let _ = e.set_attribute("data-stage", &stage.to_string());
            let _ = e.set_attribute("data-stages", &stages.to_string());
        }
    }

    fn show_result(&self, doc: &Document) {
        let Some(r) = &self.result else {
            return;
        };
        for (id, v) in [
            ("prune-test-pruned", r.test_fit_pruned),
            ("prune-test-full", r.test_fit_full),
            ("prune-test-reweighted", r.test_fit_reweighted),
        ] {
            if let Some(e) = dom::el(doc, id) {
                e.set_text_content(Some(&format!("{v:.4}")));
                let _ = e.set_attribute("data-value", &js_number_string(v));
            }
        }
        if let Some(e) = dom::el(doc, "prune-kept-count") {
            e.set_text_content(Some(&format!(
                "{} of {} (per fold: {})",
                r.kept.len(),
                r.n_features,
                r.fold_sizes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
            let _ = e.set_attribute("data-value", &r.kept.len().to_string());
        }
        let kept: Vec<String> = r.kept.iter().map(|k| k.to_string()).collect();
        dom::set_text(doc, "prune-kept-list", &kept.join(", "));
        dom::set_hidden(doc, "prune-results", false);
    }

    /// Queue every Prune canvas for drawing (a piece per frame, from `tick`).
    fn redraw(&mut self, ctx: &Ctx) {
        self.queue(ctx, |_| true);
    }

    /// The window was resized: redraw only the Prune canvases whose pixel size changes, so a
    /// resize that leaves them alone (e.g. a taller window) does not blank and refill them.
    pub fn resized(&mut self, ctx: &Ctx) {
        let scale = device_scale();
        let doc = ctx.doc.clone();
        self.queue(ctx, |id| {
            dom::el(&doc, id)
                .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
                .is_some_and(|c| {
                    let w = (c.client_width().max(200) as f64 * scale).round() as u32;
                    let h = (c.client_height().max(150) as f64 * scale).round() as u32;
                    (w, h) != (c.width(), c.height())
                })
        });
    }

    fn queue(&mut self, ctx: &Ctx, which: impl Fn(&str) -> bool) {
        let Some(r) = &self.result else {
            return;
        };
        let n = r.n_stimuli;
        let band = n.div_ceil(HEATMAP_BANDS).max(1);
        let mut queue = Vec::new();
        for &id in PRUNE_PLOTS.iter().filter(|id| which(id)) {
            if id == "prune-curve-plot" {
                queue.push((id, 0..n));
            } else {
                queue.extend((0..n).step_by(band).map(|a| (id, a..(a + band).min(n))));
            }
        }
        if queue.is_empty() {
            return;
        }
        queue.reverse();
        // Canvases not queued again keep their remaining bands, drawn first (popped last).
        let redrawn: Vec<&str> = queue.iter().map(|q| q.0).collect();
        queue.extend(
            std::mem::take(&mut self.pending)
                .into_iter()
                .filter(|q| !redrawn.contains(&q.0)),
        );
        self.pending = queue;
        if let Some(panel) = dom::el(&ctx.doc, "prune-panel") {
            let _ = panel.set_attribute("data-drawn", "0");
        }
    }

    /// Draw at most one queued piece of a Prune canvas.
    fn draw_piece(&mut self, ctx: &Ctx) {
        // A closed tab's canvases have no size yet: they are drawn once it opens.
        if !dom::is_shown(&ctx.doc, "prune-panel") {
            return;
        }
        let Some((id, rows)) = self.pending.pop() else {
            return;
        };
        let scale = device_scale();
        // A canvas whose size changed since its first band (the layout moved) was cleared by
        // the resize: start the whole queue again.
        let size = |doc: &Document| {
            dom::el(doc, id)
                .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
                .map(|c| (c.width(), c.height()))
        };
        let before = size(&ctx.doc);
        let later_band = rows.start > 0;
        let drawn = canvas(&ctx.doc, id, scale)
            .and_then(|c| self.plot_to(id, &c.into_drawing_area(), rows, Style { scale }));
        if let Err(e) = drawn {
            ctx.error(&e);
        }
        if later_band && size(&ctx.doc) != before {
            self.redraw(ctx);
            return;
        }
        if let Some(panel) = dom::el(&ctx.doc, "prune-panel") {
            let drawn = if self.pending.is_empty() { "1" } else { "0" };
            let _ = panel.set_attribute("data-drawn", drawn);
        }
    }

    /// Draw Prune plot `id` on any backend (the canvas, or SVG for export).
    fn plot_to<DB: DrawingBackend>(
        &self,
        id: &str,
        root: &DrawingArea<DB, Shift>,
        rows: Range<usize>,
        style: Style,
    ) -> Result<(), String> {
        let e = |e: plot::PlotError| e.to_string();
        let Some(r) = &self.result else {
            return Ok(());
        };
        let n = r.n_stimuli;
        let image =
            |k: usize| -> Vec<f64> { r.rdms[k].chars().map(|c| c as u32 as f64 / 255.0).collect() };
        match id {
            "prune-curve-plot" => {
                let refs = plot::PruneReference {
                    test_full: r.test_fit_full,
                    test_reweighted: r.test_fit_reweighted,
                    chosen: r.kept.len(),
                };
                plot::prune_curve(root, &r.curve, refs, style).map_err(e)
            }
            "prune-rdm-target" => {
                plot::rdm_heatmap(root, n, &image(0), "target", rows, style).map_err(e)
            }
            "prune-rdm-full" => plot::rdm_heatmap(
                root,
                n,
                &image(1),
                &format!("all {} features", r.n_features),
                rows,
                style,
            )
            .map_err(e),
            "prune-rdm-pruned" => plot::rdm_heatmap(
                root,
                n,
                &image(2),
                &format!("pruned: {} kept", r.kept.len()),
                rows,
                style,
            )
            .map_err(e),
            other => Err(format!("no plot named {other}")),
        }
    }

    /// Exports: the kept indices as CSV (`feature` column, 0-based) or as the CLI's JSON
    /// summary, and the curve as the CLI's `curve.csv`.
    fn export(&self, ctx: &Ctx, what: &str) -> Result<(), String> {
        let r = self.result.as_ref().ok_or("run the pruning first")?;
        let (text, name) = match what {
            "kept-csv" => {
                let mut t = String::from("feature\n");
                for k in &r.kept {
                    t.push_str(&format!("{k}\n"));
                }
                (t, "simscope-prune-kept.csv")
            }
            "kept-json" => (
                format!("{}\n", r.summary_json),
                "simscope-prune-summary.json",
            ),
            "curve-csv" => (r.curve_csv.clone(), "simscope-prune-curve.csv"),
            other => return Err(format!("no export named {other}")),
        };
        dom::download_bytes(&ctx.doc, text.as_bytes(), name).map_err(|e| format!("{e:?}"))
    }
}

/// Read a Prune panel file and send it to the worker.
fn open_file(file: web_sys::File, kind: PruneFile) {
    read_user_file(file, move |p, name, bytes| {
        let req = match kind {
            PruneFile::Features => PruneRequest::Features { name },
            PruneFile::TargetRdm => PruneRequest::Target { name, rdm: true },
            PruneFile::TargetX => PruneRequest::Target { name, rdm: false },
        };
        p.ctx.send(Request::Prune(req), Some(bytes));
    });
}

/// Wire the panel's buttons and file inputs.
pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    dom::on(doc, "prune-run", "click", |_: web_sys::Event| {
        with_page(|p| p.prune.run(&mut p.ctx));
    })?;
    dom::on(doc, "prune-cancel", "click", |_: web_sys::Event| {
        with_page(|p| p.prune.cancel(&mut p.ctx));
    })?;
    dom::on(doc, "prune-use-loaded", "click", |_: web_sys::Event| {
        with_page(|p| p.ctx.send(Request::Prune(PruneRequest::TargetLoaded), None));
    })?;
    dom::on(doc, "prune-demo-load", "click", |_: web_sys::Event| {
        with_page(|p| p.prune.load_demo(&mut p.ctx));
    })?;
    for (id, kind) in [
        ("prune-features-input", PruneFile::Features),
        ("prune-target-rdm-input", PruneFile::TargetRdm),
        ("prune-target-x-input", PruneFile::TargetX),
    ] {
        dom::on(doc, id, "change", move |ev: web_sys::Event| {
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            if let Some(input) = input {
                if let Some(file) = input.files().and_then(|f| f.get(0)) {
                    open_file(file, kind);
                }
                input.set_value("");
            }
        })?;
    }
    for what in ["kept-csv", "kept-json", "curve-csv"] {
        dom::on(
            doc,
            &format!("prune-{what}"),
            "click",
            move |_: web_sys::Event| {
                with_page(|p| {
                    if let Err(e) = p.prune.export(&p.ctx, what) {
                        p.ctx.error(&format!("export: {e}"));
                    }
                });
            },
        )?;
    }
    Ok(())
}
