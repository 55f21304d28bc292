//! The Recording panel: the built-in dataset menu, opening a user's file or labels (picker or
//! drag and drop), the dataset summary and the PCA spectrum.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Document;

use super::{read_user_file, Ctx, View};
use crate::data::datasets;
use crate::plot::{self, Style};
use crate::state::UiState;
use crate::web::dom;
use crate::web::protocol::{DatasetSummary, RecordingRequest, RecordingResponse, Request};

#[derive(Default)]
pub(super) struct RecordingView {
    /// The spectrum needs drawing (a new recording, or a layout change).
    spectrum_stale: bool,
    /// What the recording request in flight opens: a user's file (true), a built-in (false),
    /// or labels for the loaded recording (None).
    next_is_file: Option<bool>,
}

impl View for RecordingView {
    const PLOTS: &'static [&'static str] = &["spectrum-plot"];

    fn on_loaded(&mut self, ctx: &mut Ctx) {
        self.spectrum_stale = true;
        if let Some(s) = &ctx.dataset {
            show_dataset(&ctx.doc, s);
        }
    }

    fn on_state(&mut self, ctx: &mut Ctx, before: &UiState) {
        // The spectrum only changes with the recording or the layout (classroom, tabs).
        self.spectrum_stale = true;
        if before.dataset != ctx.state.dataset {
            self.load_builtin(ctx);
        }
    }

    fn ready(&self, _ctx: &Ctx, _id: &str) -> bool {
        self.spectrum_stale
    }

    fn draw<DB: DrawingBackend>(
        &self,
        ctx: &Ctx,
        _id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let ratios = ctx.dataset.as_ref().map_or(&[][..], |d| &d.explained);
        plot::pca_spectrum(root, ratios, style).map_err(|e| e.to_string())
    }

    fn drawn(&mut self, _ctx: &mut Ctx, _id: &str, _scale: f64) {
        self.spectrum_stale = false;
    }
}

impl RecordingView {
    /// Load the built-in dataset the settings name.
    pub fn load_builtin(&mut self, ctx: &mut Ctx) {
        let name = ctx.state.dataset.clone();
        self.next_is_file = Some(false);
        busy(&ctx.doc, Some(&format!("loading {name}…")));
        ctx.send(Request::Recording(RecordingRequest::Builtin { name }), None);
    }

    /// The worker's answer: the summary of a recording now loaded.
    pub fn on_response(&mut self, ctx: &mut Ctx, r: RecordingResponse) -> Option<DatasetSummary> {
        match r {
            RecordingResponse::Loaded(summary) => {
                busy(&ctx.doc, None);
                if let Some(file) = self.next_is_file.take() {
                    ctx.file_loaded = file.then(|| summary.name.clone());
                    super::controls::show_file_choice(ctx);
                }
                for w in &summary.warnings {
                    ctx.error(&format!("note: {w}"));
                }
                Some(summary)
            }
            RecordingResponse::Failed { message } => {
                busy(&ctx.doc, None);
                self.next_is_file = None;
                ctx.error(&message);
                None
            }
        }
    }

    /// The window was resized.
    pub fn resized(&mut self) {
        self.spectrum_stale = true;
    }
}

/// The toolbar's busy note: what is loading, so a large file never looks like nothing happens.
fn busy(doc: &Document, what: Option<&str>) {
    dom::set_text(doc, "busy", what.unwrap_or(""));
    dom::set_hidden(doc, "busy", what.is_none());
}

fn show_dataset(doc: &Document, s: &DatasetSummary) {
    let dims = s
        .dims
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" × ");
    let axes = if s.dims.len() == 3 {
        "time × conditions × neurons"
    } else {
        "conditions × neurons"
    };
    let labels = if s.labels.is_empty() {
        "no task labels".to_string()
    } else {
        s.labels
            .iter()
            .map(|(n, k)| format!("{n} ({k} classes)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let top: Vec<String> = s
        .explained
        .iter()
        .take(5)
        .enumerate()
        .map(|(k, r)| format!("PC{} {}", k + 1, crate::analysis::percent(*r)))
        .collect();
    let ninety = match plot::pcs_for_share(&s.explained, 0.9) {
        Some(k) => format!(
            "90% of the variance in {k} PC{}",
            if k == 1 { "" } else { "s" }
        ),
        None => format!("the first {} PCs hold under 90%", s.explained.len()),
    };
    dom::set_text(doc, "dataset-name", &s.name);
    dom::set_text(
        doc,
        "dataset-summary",
        &format!(
            "{dims} ({axes}) · rank {} · {labels} · variance: {} · {ninety}",
            s.rank,
            top.join(", ")
        ),
    );
    let about = match datasets::info(&s.name) {
        Some(info) => format!("{} {}", info.description, info.citation),
        None => "Your file (it stays in this browser).".into(),
    };
    dom::set_text(doc, "dataset-about", &about);
}

/// Read a user's file and send it to the worker as a recording or as labels.
fn open_file(file: web_sys::File, as_labels: bool) {
    let lower = file.name().to_lowercase();
    let as_labels = as_labels || lower.ends_with(".csv") || lower.ends_with(".json");
    read_user_file(file, move |p, name, bytes| {
        p.run.set_playing(&mut p.ctx, false);
        let mb = f64::from(bytes.length()) / 1e6;
        busy(&p.ctx.doc, Some(&format!("opening {name} ({mb:.1} MB)…")));
        let req = if as_labels {
            p.recording.next_is_file = None;
            RecordingRequest::Labels { name }
        } else {
            p.recording.next_is_file = Some(true);
            RecordingRequest::File { name }
        };
        dom::set_hidden(&p.ctx.doc, "error", true);
        p.ctx.send(Request::Recording(req), Some(bytes));
    });
}

/// The file and labels pickers, and drag and drop anywhere on the page.
pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    for (id, as_labels) in [("file-input", false), ("labels-input", true)] {
        dom::on(doc, id, "change", move |ev: web_sys::Event| {
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            if let Some(input) = input {
                if let Some(file) = input.files().and_then(|f| f.get(0)) {
                    open_file(file, as_labels);
                }
                input.set_value("");
            }
        })?;
    }
    // Files dropped on the Compare panel are models; anywhere else, the first is a recording.
    // The panel under the pointer is outlined so the user sees which it will be.
    let body: web_sys::EventTarget = doc.clone().into();
    dom::listen(&body, "dragover", |ev: web_sys::DragEvent| {
        ev.prevent_default();
        mark_drop_target(&ev);
    })?;
    dom::listen(&body, "dragleave", |ev: web_sys::DragEvent| {
        // Leaving the window (no element entered): nothing is outlined.
        if ev.related_target().is_none() {
            clear_drop_target();
        }
    })?;
    dom::listen(&body, "drop", |ev: web_sys::DragEvent| {
        ev.prevent_default();
        clear_drop_target();
        let Some(files) = ev.data_transfer().and_then(|d| d.files()) else {
            return;
        };
        if on_compare_panel(&ev) {
            super::compare::open_files(files);
        } else if let Some(file) = files.get(0) {
            open_file(file, false);
        }
    })?;
    Ok(())
}

/// Whether a drag event is over the Compare panel (a drop there opens models).
fn on_compare_panel(ev: &web_sys::DragEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.closest("#cmp-panel").ok().flatten())
        .is_some()
}

/// Outline what a drop would open: the Compare panel (models) or the page (a recording).
fn mark_drop_target(ev: &web_sys::DragEvent) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let compare = on_compare_panel(ev);
    if let Some(p) = doc.get_element_by_id("cmp-panel") {
        let _ = p.class_list().toggle_with_force("drop-target", compare);
    }
    if let Some(b) = doc.body() {
        let _ = b.class_list().toggle_with_force("drop-target", !compare);
    }
}

fn clear_drop_target() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    for e in [
        doc.get_element_by_id("cmp-panel"),
        doc.body().map(Into::into),
    ]
    .into_iter()
    .flatten()
    {
        let _ = e.class_list().remove_1("drop-target");
    }
}
