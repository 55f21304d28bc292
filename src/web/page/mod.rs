//! The page side: controls, URL state, drawing. It never runs numerics itself; it sends
//! requests to the worker and draws the reports it gets back, once per animation frame.

mod calibrate;
mod controls;
mod dataset;
mod decode;
mod export;
mod joint;
mod perturb;
mod plots;
mod prune;
mod run;
mod url;

use std::cell::RefCell;
use std::rc::Rc;

use nalgebra::DMatrix;
use plotters::prelude::IntoDrawingArea;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlCanvasElement, KeyboardEvent, MessageEvent, Worker};

use super::dom::{self, js_number_string};
use super::protocol::{
    CalRow, DatasetSummary, JointSettings, PerturbSettings, Report, Request, Response, RunSettings,
};
use crate::data::{datasets, npy::MAX_FILE_BYTES};
use crate::measures::registry;
use crate::plot::{self, BarLayout, Style};
use crate::state::{format_pert, parse_pert, PertEntry, UiState, FIELDS, PANELS};

/// Every plot of the page, by canvas id (each can be exported as PNG and SVG).
const PLOTS: &[&str] = &[
    "score-plot",
    "pc-r2-plot",
    "capture-plot",
    "spectrum-plot",
    "pc-plot",
    "decode-plot",
    "pert-plot",
    "sweep-plot",
    "joint-plot",
    "prune-curve-plot",
    "prune-rdm-target",
    "prune-rdm-full",
    "prune-rdm-pruned",
];

/// Step requests queued at the worker while playing (one per frame, at most this many out).
const STEPS_IN_FLIGHT: u8 = 2;

/// The last perturbation result: (settings tag, ids, measured, theory, exact).
type PerturbResult = (String, Vec<String>, Vec<f64>, Vec<Option<f64>>, bool);
/// The last sweep: (ids, rows of (variance ratio, measured, theory), exact).
type SweepResult = (Vec<String>, Vec<plot::SweepRow>, bool);

/// The Joint panel's job as the page sees it.
struct JointView {
    a: String,
    b: String,
    targets: Vec<(f64, f64)>,
    rank_x: usize,
    rank_y: usize,
    /// Per target: trajectory of (A, B) so far and whether it is finished.
    runs: Vec<(Vec<(f64, f64)>, bool)>,
}

struct Page {
    doc: Document,
    worker: Worker,
    state: UiState,
    next_id: u32,
    /// Step requests out (back-pressure). Playing keeps up to `STEPS_IN_FLIGHT` queued so the
    /// worker never idles waiting for the next frame (a step that takes most of a frame would
    /// otherwise halve the rate); a single Step waits for none.
    stepping: u8,
    /// Steps owed to the run: `speed` is added each frame while playing and whole steps are
    /// requested, so a speed below 1 is slow motion (a step every 1/speed frames).
    step_credit: f64,
    ready: bool,
    dataset: Option<DatasetSummary>,
    x_pcs: DMatrix<f64>,
    /// Canonical ids of the optimised measure and the watched ones.
    ids: Vec<String>,
    /// Score history per id.
    history: Vec<Vec<(usize, f64)>>,
    /// (optimised score, per-PC R²) along the run.
    pc_history: Vec<(f64, Vec<f64>)>,
    last: Option<Report>,
    playing: bool,
    dirty: bool,
    /// Plots to redraw at the next frame when not everything is `dirty`: a step report
    /// redraws only the plots that follow the run, a joint slice only the joint plot
    /// (repainting every canvas at every message starved the main thread).
    redraw: Vec<&'static str>,
    /// The earliest time (page clock, ms) for the next redraw of `redraw` alone.
    render_not_before: f64,
    /// Where the PC bars were drawn (CSS pixels), for pointer hit-testing.
    pert_layout: Option<BarLayout>,
    /// The focused PC bar (0-based): arrow keys and the angle/scale inputs act on it.
    pert_focus: usize,
    /// The bar being dragged, if a pointer is down on one.
    drag_bar: Option<usize>,
    /// A perturbation request is out; `pert_stale` asks for another once it returns.
    pert_inflight: bool,
    pert_stale: bool,
    pert_result: Option<PerturbResult>,
    sweep: Option<SweepResult>,
    /// A decode request is out (at most one, so stepping is never starved).
    decode_inflight: bool,
    /// The worker answered a slice of a decoding; the next slice is asked for in `tick`.
    decode_pending: bool,
    decode_last_step: Option<usize>,
    /// Task-variable names, chance and reference (decoding from X) accuracies.
    decode_meta: (Vec<String>, Vec<f64>, Vec<Option<f64>>),
    /// (step, score, accuracy per variable) along the run.
    decode_history: Vec<(usize, f64, Vec<Option<f64>>)>,
    /// When the decode request went out, and the earliest time the next may go (ms, page
    /// clock): decoding gets at most a fifth of the worker's time, so stepping goes on.
    decode_sent_at: f64,
    decode_not_before: f64,
    /// The object URL of the last exported Y (revoked when replaced).
    y_url: Option<String>,
    /// The joint job: slices are requested one at a time while `joint_running`.
    joint: Option<JointView>,
    joint_running: bool,
    /// The calibration: (done, total) while running; its rows once finished.
    cal_running: bool,
    cal_progress: (usize, usize),
    cal_rows: Option<Vec<CalRow>>,
    /// The PCA spectrum needs drawing (a new recording, or a layout change).
    spectrum_stale: bool,
    /// The Prune panel (`prune.rs`).
    prune: prune::PruneView,
}

thread_local! {
    static PAGE: RefCell<Option<Page>> = const { RefCell::new(None) };
}

fn with_page<R>(f: impl FnOnce(&mut Page) -> R) -> Option<R> {
    PAGE.with(|p| p.borrow_mut().as_mut().map(f))
}

/// Show a message in the error banner (kept until dismissed or replaced).
pub fn show_error(doc: &Document, msg: &str) {
    dom::set_text(doc, "error-text", msg);
    dom::set_hidden(doc, "error", false);
}

impl Page {
    fn send(&mut self, req: &Request, bytes: Option<js_sys::Uint8Array>) {
        self.next_id += 1;
        let msg = js_sys::Object::new();
        let body = serde_wasm_bindgen::to_value(req).unwrap_or(JsValue::NULL);
        let _ = js_sys::Reflect::set(&msg, &"id".into(), &self.next_id.into());
        let _ = js_sys::Reflect::set(&msg, &"body".into(), &body);
        let result = match bytes {
            Some(b) => {
                let _ = js_sys::Reflect::set(&msg, &"bytes".into(), &b);
                let transfer = js_sys::Array::of1(&b.buffer());
                self.worker.post_message_with_transfer(&msg, &transfer)
            }
            None => self.worker.post_message(&msg),
        };
        if result.is_err() {
            show_error(&self.doc, "could not reach the worker");
        }
    }

    fn on_response(&mut self, resp: Response) {
        match resp {
            Response::Ready { simd } => {
                // Which wasm build the worker runs, for tests and the curious.
                if let Some(root) = self.doc.document_element() {
                    let _ = root.set_attribute("data-wasm", if simd { "simd" } else { "fallback" });
                }
                self.ready = true;
                self.load_builtin();
                self.prune_load_demo();
            }
            Response::Loaded(summary) => {
                self.x_pcs = DMatrix::from_row_slice(summary.x_pcs.len() / 2, 2, &summary.x_pcs);
                self.show_dataset(&summary);
                for w in &summary.warnings {
                    show_error(&self.doc, &format!("note: {w}"));
                }
                self.dataset = Some(summary);
                self.spectrum_stale = true;
                self.dirty = true;
                self.last = None;
                self.sweep = None;
                self.joint = None;
                self.set_joint_running(false);
                self.show_joint_progress();
                self.cal_rows = None;
                self.cal_progress = (0, 0);
                self.set_cal_running(false);
                self.show_calibration(None);
                self.decode_meta = (Vec::new(), Vec::new(), Vec::new());
                self.decode_history.clear();
                self.show_decode_table();
                dom::set_hidden(&self.doc, "sweep-plot", true);
                dom::set_text(&self.doc, "sweep-note", "");
                self.pert_focus = self.pert_focus.min(self.bar_count().saturating_sub(1));
                self.restart();
                self.request_perturb();
                self.show_pert_controls();
            }
            Response::Started {
                measure,
                watch,
                warnings,
                report,
            } => {
                self.stepping = 0;
                self.ids = std::iter::once(measure).chain(watch).collect();
                self.history = vec![Vec::new(); self.ids.len()];
                self.pc_history.clear();
                self.build_readouts();
                self.show_measure_card();
                if !warnings.is_empty() {
                    dom::set_text(&self.doc, "warnings", &warnings.join(" "));
                } else {
                    dom::set_text(&self.doc, "warnings", "");
                }
                self.decode_history.clear();
                self.decode_last_step = None;
                let step = report.step;
                self.push(report);
                self.maybe_decode(step, true);
                dom::set_text(&self.doc, "status-note", "ready: press Play");
            }
            Response::Report(report) => {
                self.stepping = self.stepping.saturating_sub(1);
                if let Some(why) = &report.stopped {
                    if self.playing {
                        self.set_playing(false);
                    }
                    let note = match why.as_str() {
                        "stop" => format!(
                            "passed the stop score {} at step {}",
                            self.state.stop, report.step
                        ),
                        "non_finite" => {
                            "stopped: the score or gradient became non-finite".to_string()
                        }
                        other => format!("stopped ({other})"),
                    };
                    dom::set_text(&self.doc, "status-note", &note);
                } else if self.playing {
                    dom::set_text(&self.doc, "status-note", "optimising…");
                }
                let (step, stopped) = (report.step, report.stopped.is_some());
                self.push(report);
                self.maybe_decode(step, stopped);
            }
            Response::Perturbed {
                tag,
                ids,
                measured,
                theory,
                exact,
            } => {
                self.pert_inflight = false;
                self.pert_result = Some((tag, ids, measured, theory, exact));
                self.show_perturb_table();
                if self.pert_stale {
                    self.request_perturb();
                }
            }
            Response::Swept { ids, rows, exact } => {
                dom::set_text(
                    &self.doc,
                    "sweep-note",
                    &format!(
                        "{} PCs decorrelated one at a time (θ = 90°){}",
                        rows.len(),
                        if exact {
                            "; the closed forms are exact here"
                        } else {
                            "; X has too few conditions for an exact complement, so the lines are approximate"
                        }
                    ),
                );
                if let Some(c) = dom::el(&self.doc, "sweep-plot") {
                    let _ = c.set_attribute("data-rows", &rows.len().to_string());
                }
                dom::set_hidden(&self.doc, "sweep-plot", false);
                self.sweep = Some((ids, rows, exact));
                self.dirty = true;
            }
            Response::Decoded {
                step,
                score,
                names,
                accuracy,
                chance,
                reference,
            } => {
                self.decode_inflight = false;
                self.decode_pending = false;
                let now = now_ms();
                self.decode_not_before = now + 4.0 * (now - self.decode_sent_at);
                if let Some(c) = dom::el(&self.doc, "decode-plot") {
                    let _ = c.remove_attribute("data-pending");
                }
                if self.decode_history.last().map(|h| h.0) != Some(step) {
                    self.decode_history.push((step, score, accuracy));
                }
                self.decode_meta = (names, chance, reference);
                self.show_decode_table();
                self.dirty = true;
            }
            Response::DecodePending { done, total } => {
                self.decode_inflight = false;
                self.decode_pending = true;
                let now = now_ms();
                self.decode_not_before = now + 4.0 * (now - self.decode_sent_at);
                if let Some(c) = dom::el(&self.doc, "decode-plot") {
                    let _ = c.set_attribute("data-pending", &format!("{done}/{total}"));
                }
            }
            Response::YNpy { .. } | Response::Benched { .. } => {}
            Response::JointStarted {
                a,
                b,
                targets,
                rank_x,
                rank_y,
            } => {
                if !self.joint_running {
                    return;
                }
                self.joint = Some(JointView {
                    a,
                    b,
                    runs: vec![(Vec::new(), false); targets.len()],
                    targets,
                    rank_x,
                    rank_y,
                });
                self.show_joint_progress();
                self.send(&Request::JointSlice, None);
            }
            Response::JointProgress {
                index,
                trajectory,
                target_done,
                all_done,
            } => {
                if !self.joint_running {
                    return;
                }
                if let Some(j) = self.joint.as_mut() {
                    if let Some(r) = j.runs.get_mut(index) {
                        *r = (trajectory, target_done);
                    }
                }
                if all_done {
                    self.set_joint_running(false);
                } else {
                    self.send(&Request::JointSlice, None);
                }
                self.show_joint_progress();
                self.redraw_later("joint-plot");
            }
            Response::JointCancelled => {}
            Response::CalibrateStarted { total, .. } => {
                if !self.cal_running {
                    return;
                }
                self.cal_progress = (0, total);
                self.show_calibration(None);
                self.send(&Request::CalibrateSlice, None);
            }
            Response::CalibrateProgress {
                done,
                total,
                last,
                rows,
            } => {
                if !self.cal_running {
                    return;
                }
                self.cal_progress = (done, total);
                if let Some(rows) = rows {
                    self.cal_rows = Some(rows);
                    self.set_cal_running(false);
                } else {
                    self.send(&Request::CalibrateSlice, None);
                }
                self.show_calibration((!last.is_empty()).then_some(last.as_str()));
            }
            Response::CalibrateCancelled => {}
            r @ (Response::PruneInputs(_)
            | Response::PruneStarted { .. }
            | Response::PruneProgress { .. }
            | Response::PruneDone(_)
            | Response::PruneCancelled
            | Response::PruneFailed { .. }) => self.on_prune_response(r),
            Response::Error { message } => {
                if self.cal_running {
                    self.set_cal_running(false);
                    self.show_calibration(None);
                }
                if self.joint_running {
                    self.set_joint_running(false);
                    self.show_joint_progress();
                }
                self.stepping = 0;
                self.pert_inflight = false;
                self.decode_inflight = false;
                self.decode_pending = false;
                self.set_playing(false);
                show_error(&self.doc, &message);
            }
        }
    }
}

/// The page clock in milliseconds.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// A plotters backend on the canvas `id`, sized to its CSS box times the device pixel ratio.
fn canvas(doc: &Document, id: &str, scale: f64) -> Result<CanvasBackend, String> {
    let el: HtmlCanvasElement = dom::el(doc, id)
        .ok_or_else(|| format!("missing #{id}"))?
        .dyn_into()
        .map_err(|_| format!("#{id} is not a canvas"))?;
    let (w, h) = (
        el.client_width().max(200) as f64,
        el.client_height().max(150) as f64,
    );
    let (pw, ph) = ((w * scale).round() as u32, (h * scale).round() as u32);
    if el.width() != pw || el.height() != ph {
        el.set_width(pw);
        el.set_height(ph);
    }
    CanvasBackend::with_canvas_object(el).ok_or_else(|| format!("no 2-D context on #{id}"))
}

fn request_frame(f: &Closure<dyn FnMut()>) {
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(f.as_ref().unchecked_ref());
    }
}

/// The animation-frame callback, kept alive for the page's lifetime.
type FrameCallback = Closure<dyn FnMut()>;

/// Build the page: fill the pickers, read the link's settings, start the worker.
pub fn start(doc: Document) -> Result<(), JsValue> {
    let datasets: Vec<(String, String)> = datasets::catalogue()
        .into_iter()
        .map(|d| {
            let shape = d
                .shape
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("×");
            let tag = if d.synthetic { "synthetic" } else { "real" };
            (d.name.to_string(), format!("{} ({shape}, {tag})", d.name))
        })
        .collect();
    dom::fill_select(&doc, "dataset-select", &datasets);
    let measures: Vec<(String, String)> = registry::entries()
        .into_iter()
        .filter(|e| e.differentiable)
        .map(|e| (e.id.clone(), e.id))
        .collect();
    dom::fill_select(&doc, "measure-select", &measures);
    dom::fill_select(&doc, "joint-a-select", &measures);
    dom::fill_select(&doc, "joint-b-select", &measures);
    // Prune panel fits: RSA, or any registered similarity (needs a target recording X).
    let fits: Vec<(String, String)> = std::iter::once((
        "rsa".to_string(),
        "RSA (model RDM vs target RDM)".to_string(),
    ))
    .chain(
        registry::entries()
            .into_iter()
            .filter(|e| e.direction == crate::measures::Direction::Similarity)
            .map(|e| (e.id.clone(), format!("{} (needs a target X)", e.id))),
    )
    .collect();
    dom::fill_select(&doc, "prune-fit-select", &fits);

    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let (state, problems) = UiState::from_hash(&hash);
    if !problems.is_empty() {
        show_error(&doc, &problems.join("; "));
    }
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    // The page's query (e.g. `?wasm=fallback`, see www/wasm-select.js) goes on to the worker.
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let worker = Worker::new_with_options(&format!("./worker.js{search}"), &opts)?;
    let page = Page {
        doc: doc.clone(),
        worker: worker.clone(),
        state,
        next_id: 0,
        stepping: 0,
        step_credit: 0.0,
        ready: false,
        dataset: None,
        x_pcs: DMatrix::zeros(0, 2),
        ids: Vec::new(),
        history: Vec::new(),
        pc_history: Vec::new(),
        last: None,
        playing: false,
        dirty: false,
        redraw: Vec::new(),
        render_not_before: 0.0,
        pert_layout: None,
        pert_focus: 0,
        drag_bar: None,
        pert_inflight: false,
        pert_stale: false,
        pert_result: None,
        sweep: None,
        decode_inflight: false,
        decode_pending: false,
        decode_last_step: None,
        decode_meta: (Vec::new(), Vec::new(), Vec::new()),
        decode_history: Vec::new(),
        y_url: None,
        decode_sent_at: 0.0,
        decode_not_before: 0.0,
        joint: None,
        joint_running: false,
        cal_running: false,
        cal_progress: (0, 0),
        cal_rows: None,
        spectrum_stale: false,
        prune: prune::PruneView::default(),
    };
    page.apply_state_to_controls();
    PAGE.with(|p| *p.borrow_mut() = Some(page));

    let on_message = Closure::<dyn Fn(MessageEvent)>::new(|ev: MessageEvent| {
        let body = js_sys::Reflect::get(&ev.data(), &"body".into()).unwrap_or(JsValue::NULL);
        match serde_wasm_bindgen::from_value::<Response>(body) {
            Ok(Response::YNpy { name }) => {
                let bytes = js_sys::Reflect::get(&ev.data(), &"bytes".into())
                    .ok()
                    .and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok())
                    .map(|a| a.to_vec())
                    .unwrap_or_default();
                with_page(|p| p.offer_y(&bytes, &name));
            }
            Ok(resp) => {
                with_page(|p| p.on_response(resp));
            }
            Err(e) => {
                with_page(|p| {
                    show_error(&p.doc, &format!("unexpected message from the worker: {e}"))
                });
            }
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(|ev: web_sys::ErrorEvent| {
        with_page(|p| show_error(&p.doc, &format!("the worker failed: {}", ev.message())));
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();

    controls::wire_controls(&doc)?;

    // The animation loop: draw what changed; keep one step request in flight while playing.
    let frame: Rc<RefCell<Option<FrameCallback>>> = Rc::new(RefCell::new(None));
    let frame2 = frame.clone();
    *frame.borrow_mut() = Some(Closure::new(move || {
        with_page(|p| p.tick());
        if let Some(f) = frame2.borrow().as_ref() {
            request_frame(f);
        }
    }));
    if let Some(f) = frame.borrow().as_ref() {
        request_frame(f);
    }
    std::mem::forget(frame);
    Ok(())
}
