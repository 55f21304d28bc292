//! The Prune panel (issue 7, after Tarigopula et al. 2023): load model features F and a target
//! (a built-in demo, files, or the loaded recording), run the honest evaluation in worker
//! slices with progress and Cancel, plot train/test fit against features kept and the target /
//! full-model / pruned-model RDMs, and export what the CLI writes.

use super::*;
use crate::web::protocol::{PruneInputs, PruneResult, PruneSettings};

/// The Prune panel's canvases, drawn only when the panel changed and a piece per animation
/// frame (the curve, then each heatmap in bands of `HEATMAP_BANDS`; a 92 × 92 heatmap is
/// ~8,500 rectangles), so neither the optimisation's frames nor the page's responsiveness pay
/// for them.
pub(super) const PRUNE_PLOTS: &[&str] = &[
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
    pub inputs: PruneInputs,
    pub running: bool,
    /// (stage, stages, step, steps) of the last progress report.
    pub progress: Option<(usize, usize, usize, usize)>,
    pub result: Option<Box<PruneResult>>,
    /// Whether the last run was cancelled (for the status line).
    pub cancelled: bool,
    /// Canvas pieces still to draw (one per frame, popped from the end): (id, band of rows).
    pub pending: Vec<(&'static str, std::ops::Range<usize>)>,
}

/// Which file input holds what.
#[derive(Clone, Copy)]
pub(super) enum PruneFile {
    Features,
    TargetRdm,
    TargetX,
}

impl Page {
    /// The settings the run uses, from the state table.
    fn prune_settings(&self) -> PruneSettings {
        let s = &self.state;
        PruneSettings {
            folds: s.prune_folds as usize,
            seed: s.prune_seed,
            method: s.prune_method.clone(),
            distance: s.prune_distance.clone(),
            compare: s.prune_compare.clone(),
            fit: s.prune_fit.clone(),
        }
    }

    pub(super) fn prune_load_demo(&mut self) {
        let name = self.state.prune_demo.clone();
        self.send(&Request::PruneDemo { name }, None);
    }

    pub(super) fn prune_use_loaded(&mut self) {
        self.send(&Request::PruneTargetLoaded, None);
    }

    pub(super) fn prune_run(&mut self) {
        if self.prune.running {
            self.send(&Request::PruneCancel, None);
        }
        let req = Request::PruneStart(self.prune_settings());
        self.prune.progress = None;
        self.prune.cancelled = false;
        self.set_prune_running(true);
        self.send(&req, None);
        self.show_prune_progress();
    }

    /// Cancel: no further slice is asked for, and the worker drops the job.
    pub(super) fn prune_cancel(&mut self) {
        if self.prune.running {
            self.set_prune_running(false);
            self.prune.cancelled = true;
            self.send(&Request::PruneCancel, None);
            self.show_prune_progress();
        }
    }

    fn set_prune_running(&mut self, running: bool) {
        self.prune.running = running;
        if let Some(b) = dom::el(&self.doc, "prune-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
        if let Some(b) = dom::el(&self.doc, "prune-run") {
            let _ = b.set_attribute("aria-busy", if running { "true" } else { "false" });
        }
    }

    /// The worker's answer to a Prune request.
    pub(super) fn on_prune_response(&mut self, resp: Response) {
        match resp {
            Response::PruneInputs(inputs) => {
                self.prune.inputs = inputs;
                self.show_prune_inputs();
            }
            Response::PruneStarted { stages } => {
                if !self.prune.running {
                    return;
                }
                self.prune.progress = Some((0, stages, 0, 0));
                self.show_prune_progress();
                self.send(&Request::PruneSlice, None);
            }
            Response::PruneProgress {
                stage,
                stages,
                step,
                steps,
            } => {
                if !self.prune.running {
                    return;
                }
                self.prune.progress = Some((stage, stages, step, steps));
                self.show_prune_progress();
                self.send(&Request::PruneSlice, None);
            }
            Response::PruneDone(result) => {
                if !self.prune.running {
                    return;
                }
                self.set_prune_running(false);
                self.prune.result = Some(result);
                self.show_prune_result();
                self.show_prune_progress();
                self.prune_redraw();
            }
            Response::PruneCancelled => {}
            Response::PruneFailed { message } => {
                if self.prune.running {
                    self.set_prune_running(false);
                }
                show_error(&self.doc, &message);
                self.show_prune_progress();
            }
            _ => {}
        }
    }

    /// "F: prune-demo-mit (92 stimuli × 96 features) · target: … RDM (92 stimuli)".
    fn show_prune_inputs(&self) {
        let i = &self.prune.inputs;
        let f = match &i.features {
            Some((n, s, p)) => format!("F: {n} ({s} stimuli × {p} features)"),
            None => "F: none loaded".into(),
        };
        let t = match &i.target {
            Some((n, s, what)) if what == "rdm" => format!("target RDM: {n} ({s} stimuli)"),
            Some((n, s, _)) => format!("target recording X: {n} ({s} stimuli)"),
            None => "target: none loaded".into(),
        };
        dom::set_text(&self.doc, "prune-inputs", &format!("{f} · {t}"));
    }

    fn show_prune_progress(&self) {
        let v = &self.prune;
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
        dom::set_text(&self.doc, "prune-progress", &text);
        if let Some(e) = dom::el(&self.doc, "prune-progress") {
            let _ = e.set_attribute("data-state", state);
            let (stage, stages) = v.progress.map(|p| (p.0, p.1)).unwrap_or((0, 0));
            let _ = e.set_attribute("data-stage", &stage.to_string());
            let _ = e.set_attribute("data-stages", &stages.to_string());
        }
    }

    fn show_prune_result(&self) {
        let Some(r) = &self.prune.result else {
            return;
        };
        for (id, v) in [
            ("prune-test-pruned", r.test_fit_pruned),
            ("prune-test-full", r.test_fit_full),
            ("prune-test-reweighted", r.test_fit_reweighted),
        ] {
            if let Some(e) = dom::el(&self.doc, id) {
                e.set_text_content(Some(&format!("{v:.4}")));
                let _ = e.set_attribute("data-value", &js_number_string(v));
            }
        }
        if let Some(e) = dom::el(&self.doc, "prune-kept-count") {
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
        dom::set_text(&self.doc, "prune-kept-list", &kept.join(", "));
        dom::set_hidden(&self.doc, "prune-results", false);
    }

    /// Queue every Prune canvas for drawing (a piece per frame, from `prune_tick`).
    pub(super) fn prune_redraw(&mut self) {
        self.prune_queue(|_| true);
    }

    /// The window was resized: redraw only the Prune canvases whose pixel size changes, so a
    /// resize that leaves them alone (e.g. a taller window) does not blank and refill them.
    pub(super) fn prune_resized(&mut self) {
        let scale = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0)
            .max(1.0);
        let doc = self.doc.clone();
        self.prune_queue(|id| {
            dom::el(&doc, id)
                .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
                .is_some_and(|c| {
                    let w = (c.client_width().max(200) as f64 * scale).round() as u32;
                    let h = (c.client_height().max(150) as f64 * scale).round() as u32;
                    (w, h) != (c.width(), c.height())
                })
        });
    }

    fn prune_queue(&mut self, which: impl Fn(&str) -> bool) {
        let Some(r) = &self.prune.result else {
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
            std::mem::take(&mut self.prune.pending)
                .into_iter()
                .filter(|q| !redrawn.contains(&q.0)),
        );
        self.prune.pending = queue;
        if let Some(panel) = dom::el(&self.doc, "prune-panel") {
            let _ = panel.set_attribute("data-drawn", "0");
        }
    }

    /// Draw at most one queued Prune canvas.
    pub(super) fn prune_tick(&mut self) {
        // A closed tab's canvases have no size yet: they are drawn once it opens.
        if !dom::is_shown(&self.doc, "prune-panel") {
            return;
        }
        let Some((id, rows)) = self.prune.pending.pop() else {
            return;
        };
        let scale = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0)
            .max(1.0);
        // A canvas whose size changed since its first band (the layout moved) was cleared by
        // the resize: start the whole queue again.
        let size = |doc: &Document| {
            dom::el(doc, id)
                .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
                .map(|c| (c.width(), c.height()))
        };
        let before = size(&self.doc);
        let later_band = rows.start > 0;
        let drawn = canvas(&self.doc, id, scale)
            .and_then(|c| self.prune_plot_to(id, &c.into_drawing_area(), rows, Style { scale }));
        if let Err(e) = drawn {
            show_error(&self.doc, &e);
        }
        if later_band && size(&self.doc) != before {
            self.prune_redraw();
            return;
        }
        if let Some(panel) = dom::el(&self.doc, "prune-panel") {
            let drawn = if self.prune.pending.is_empty() {
                "1"
            } else {
                "0"
            };
            let _ = panel.set_attribute("data-drawn", drawn);
        }
    }

    /// Draw Prune plot `id` on any backend (the canvas, or SVG for export).
    pub(super) fn prune_plot_to<DB: plotters::prelude::DrawingBackend>(
        &self,
        id: &str,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
        rows: std::ops::Range<usize>,
        style: Style,
    ) -> Result<(), String> {
        let e = |e: plot::PlotError| e.to_string();
        let Some(r) = &self.prune.result else {
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
    pub(super) fn export_prune(&self, what: &str) -> Result<(), String> {
        let r = self.prune.result.as_ref().ok_or("run the pruning first")?;
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
        dom::download_bytes(&self.doc, text.as_bytes(), name).map_err(|e| format!("{e:?}"))
    }
}

/// Read a Prune panel file and send it to the worker.
pub(super) fn open_prune_file(file: web_sys::File, kind: PruneFile) {
    let name = file.name();
    if file.size() > MAX_FILE_BYTES as f64 {
        with_page(|p| {
            show_error(
                &p.doc,
                &format!(
                    "{name}: the file is larger than {} MiB, the most simscope reads",
                    MAX_FILE_BYTES / 1048576
                ),
            )
        });
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
        with_page(|p| match buf {
            Ok(buf) => {
                let bytes = js_sys::Uint8Array::new(&buf);
                let req = match kind {
                    PruneFile::Features => Request::PruneFeatures { name: name.clone() },
                    PruneFile::TargetRdm => Request::PruneTarget {
                        name: name.clone(),
                        rdm: true,
                    },
                    PruneFile::TargetX => Request::PruneTarget {
                        name: name.clone(),
                        rdm: false,
                    },
                };
                p.send(&req, Some(bytes));
            }
            Err(_) => show_error(
                &p.doc,
                &format!("{name}: the browser could not read the file"),
            ),
        });
    });
}

/// Wire the panel's buttons and file inputs.
pub(super) fn wire_prune(doc: &Document) -> Result<(), JsValue> {
    dom::on(doc, "prune-run", "click", |_: web_sys::Event| {
        with_page(|p| p.prune_run());
    })?;
    dom::on(doc, "prune-cancel", "click", |_: web_sys::Event| {
        with_page(|p| p.prune_cancel());
    })?;
    dom::on(doc, "prune-use-loaded", "click", |_: web_sys::Event| {
        with_page(|p| p.prune_use_loaded());
    })?;
    dom::on(doc, "prune-demo-load", "click", |_: web_sys::Event| {
        with_page(|p| p.prune_load_demo());
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
                    open_prune_file(file, kind);
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
                    if let Err(e) = p.export_prune(what) {
                        show_error(&p.doc, &format!("export: {e}"));
                    }
                });
            },
        )?;
    }
    Ok(())
}
