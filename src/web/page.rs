//! The page side: controls, URL state, drawing. It never runs numerics itself; it sends
//! requests to the worker and draws the reports it gets back, once per animation frame.

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
use crate::state::{format_pert, parse_pert, PertEntry, UiState, FIELDS};

/// Measures the Perturb panel always scores (the paper's Fig 6), before the chosen one.
const PERTURB_IDS: &[&str] = &["cka", "nbs", "procrustes-angular-score"];
/// Every plot of the page, by canvas id (each can be exported as PNG and SVG).
const PLOTS: &[&str] = &[
    "score-plot",
    "pc-r2-plot",
    "pc-plot",
    "decode-plot",
    "pert-plot",
    "sweep-plot",
    "joint-plot",
];
/// Step requests queued at the worker while playing (one per frame, at most this many out).
const STEPS_IN_FLIGHT: u8 = 2;
/// At most this many PC bars are drawn (and draggable).
const PERTURB_BARS: usize = 20;

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
    /// Step requests out (back-pressure). Playing keeps up to `STEPS_IN_FLIGHT` queued so the worker never
    /// idles waiting for the next frame (a step that takes most of a frame would otherwise
    /// halve the rate); a single Step waits for none.
    stepping: u8,
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

    fn settings(&self) -> RunSettings {
        RunSettings {
            measure: self.state.measure.clone(),
            watch: self.state.watch.clone(),
            lr: self.state.lr,
            optimizer: self.state.optimizer.clone(),
            seed: self.state.seed,
            stop: self.state.stop,
        }
    }

    /// Start a fresh run with the current settings (Reset: same seed ⇒ same run).
    fn restart(&mut self) {
        self.set_playing(false);
        if self.dataset.is_some() {
            let req = Request::Start(self.settings());
            self.send(&req, None);
        }
    }

    fn load_builtin(&mut self) {
        self.set_playing(false);
        let req = Request::Builtin {
            name: self.state.dataset.clone(),
        };
        self.send(&req, None);
    }

    fn set_playing(&mut self, playing: bool) {
        self.playing = playing;
        if let Some(b) = dom::el(&self.doc, "play") {
            b.set_text_content(Some(if playing { "Pause" } else { "Play" }));
            let _ = b.set_attribute("aria-pressed", if playing { "true" } else { "false" });
        }
    }

    fn toggle_play(&mut self) {
        if !self.playing && self.last.as_ref().is_some_and(|r| r.stopped.is_some()) {
            dom::set_text(
                &self.doc,
                "status-note",
                "the run has stopped: press Reset, or raise the stop score to go further",
            );
            return;
        }
        let p = !self.playing;
        self.set_playing(p);
    }

    fn step_once(&mut self) {
        self.set_playing(false);
        if self.stepping == 0 && self.last.is_some() {
            self.stepping += 1;
            self.send(&Request::Step { n: 1, full: true }, None);
        }
    }

    /// Called every animation frame.
    fn tick(&mut self) {
        if self.playing && self.stepping < STEPS_IN_FLIGHT && self.last.is_some() {
            self.stepping += 1;
            let n = self.state.speed as usize;
            self.send(&Request::Step { n, full: false }, None);
        }
        // A decoding goes on slice by slice; while playing, at most a fifth of the time.
        if self.decode_pending
            && !self.decode_inflight
            && (!self.playing || now_ms() >= self.decode_not_before)
        {
            self.decode_pending = false;
            self.decode_inflight = true;
            self.decode_sent_at = now_ms();
            self.send(&Request::Decode, None);
        }
        // Redraws for step reports take at most about half of the main thread: where the
        // plots take longer than a frame to draw, frames (and step requests) keep coming and
        // the plots update every other frame or so. Anything else redraws at once.
        let now = now_ms();
        if self.dirty || (!self.redraw.is_empty() && now >= self.render_not_before) {
            let only = if self.dirty {
                None
            } else {
                Some(std::mem::take(&mut self.redraw))
            };
            self.dirty = false;
            self.redraw.clear();
            self.render(only.as_deref());
            let done = now_ms();
            self.render_not_before = done + (done - now);
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
            }
            Response::Loaded(summary) => {
                self.x_pcs = DMatrix::from_row_slice(summary.x_pcs.len() / 2, 2, &summary.x_pcs);
                self.show_dataset(&summary);
                for w in &summary.warnings {
                    show_error(&self.doc, &format!("note: {w}"));
                }
                self.dataset = Some(summary);
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
                if !self.redraw.contains(&"joint-plot") {
                    self.redraw.push("joint-plot");
                }
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

    fn push(&mut self, report: Report) {
        let scores = std::iter::once(report.score).chain(report.watched.iter().copied());
        for (h, s) in self.history.iter_mut().zip(scores) {
            if h.last().map(|p| p.0) != Some(report.step) {
                h.push((report.step, s));
            }
        }
        if let Some(r2) = &report.pc_r2 {
            self.pc_history.push((report.score, r2.clone()));
        }
        self.last = Some(report);
        for id in ["score-plot", "pc-plot", "pc-r2-plot"] {
            if !self.redraw.contains(&id) {
                self.redraw.push(id);
            }
        }
    }

    fn show_dataset(&self, s: &DatasetSummary) {
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
            .map(|(k, r)| format!("PC{} {:.1}%", k + 1, 100.0 * r))
            .collect();
        dom::set_text(&self.doc, "dataset-name", &s.name);
        dom::set_text(
            &self.doc,
            "dataset-summary",
            &format!(
                "{dims} ({axes}) · rank {} · {labels} · variance: {}",
                s.rank,
                top.join(", ")
            ),
        );
        if let Some(info) = datasets::info(&s.name) {
            dom::set_text(
                &self.doc,
                "dataset-about",
                &format!("{} {}", info.description, info.citation),
            );
        } else {
            dom::set_text(
                &self.doc,
                "dataset-about",
                "Your file (it stays in this browser).",
            );
        }
    }

    fn build_readouts(&self) {
        let Some(list) = dom::el(&self.doc, "readouts") else {
            return;
        };
        list.set_inner_html("");
        for (k, id) in self.ids.iter().enumerate() {
            let row = self.doc.create_element("div").ok();
            let dt = self.doc.create_element("dt").ok();
            let dd = self.doc.create_element("dd").ok();
            if let (Some(row), Some(dt), Some(dd)) = (row, dt, dd) {
                dt.set_text_content(Some(&format!(
                    "{id}{}",
                    if k == 0 { " (optimised)" } else { "" }
                )));
                let _ = dd.set_attribute("data-testid", &format!("score-{id}"));
                let _ = dd.set_attribute("data-value", "");
                let _ = row.append_child(&dt);
                let _ = row.append_child(&dd);
                let _ = list.append_child(&row);
            }
        }
    }

    fn show_measure_card(&self) {
        let Some(id) = self.ids.first() else { return };
        let Ok(e) = registry::entry(id) else { return };
        let range = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_else(|| "∞".into());
        dom::set_text(&self.doc, "card-id", &e.id);
        dom::set_text(&self.doc, "card-description", &e.description);
        dom::set_text(
            &self.doc,
            "card-facts",
            &format!(
                "range [{}, {}] · a {} ({}) · invariant to: {} · {}",
                e.range[0]
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "−∞".into()),
                range(e.range[1]),
                match e.direction {
                    crate::measures::Direction::Similarity => "similarity",
                    crate::measures::Direction::Distance => "distance",
                },
                match e.direction {
                    crate::measures::Direction::Similarity => "maximised",
                    crate::measures::Direction::Distance => "minimised",
                },
                if e.invariances.is_empty() {
                    "nothing listed".into()
                } else {
                    e.invariances.join(", ")
                },
                if e.differentiable {
                    "closed-form gradient"
                } else {
                    "not differentiable"
                },
            ),
        );
        dom::set_text(&self.doc, "card-citation", &e.citation);
    }

    /// Update the readouts and draw the plots (`only`: just these, else all).
    fn render(&mut self, only: Option<&[&str]>) {
        if let Some(r) = &self.last {
            if let Some(e) = dom::el(&self.doc, "step-count") {
                e.set_text_content(Some(&r.step.to_string()));
                let _ = e.set_attribute("data-value", &r.step.to_string());
            }
            let scores = std::iter::once(r.score).chain(r.watched.iter().copied());
            for (id, s) in self.ids.iter().zip(scores) {
                let sel = format!("[data-testid=\"score-{id}\"]");
                if let Ok(Some(e)) = self.doc.query_selector(&sel) {
                    e.set_text_content(Some(&format!("{s:.6}")));
                    let _ = e.set_attribute("data-value", &js_number_string(s));
                }
            }
        }
        if self.dataset.is_none() {
            return;
        }
        let scale = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0)
            .max(1.0);
        let style = Style { scale };
        for id in PLOTS {
            if only.is_some_and(|o| !o.contains(id))
                || (*id == "sweep-plot" && self.sweep.is_none())
                || (*id == "joint-plot" && self.joint.is_none())
                || (matches!(*id, "score-plot" | "pc-plot" | "pc-r2-plot") && self.last.is_none())
            {
                continue;
            }
            let drawn = canvas(&self.doc, id, scale)
                .and_then(|c| self.plot_to(id, &c.into_drawing_area(), style));
            match drawn {
                Ok(Some(layout)) => self.set_bar_layout(layout.scaled(scale)),
                Ok(None) => {}
                Err(e) => show_error(&self.doc, &e),
            }
        }
    }

    /// Draw the plot shown on canvas `id` on any backend (the canvas, or SVG for export).
    /// The PC bars return their layout for hit-testing.
    fn plot_to<DB: plotters::prelude::DrawingBackend>(
        &self,
        id: &str,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
        style: Style,
    ) -> Result<Option<BarLayout>, String> {
        let e = |e: plot::PlotError| e.to_string();
        let ratios = self
            .dataset
            .as_ref()
            .map(|d| d.explained.as_slice())
            .unwrap_or(&[]);
        match id {
            "score-plot" => {
                let series: Vec<(&str, &[(usize, f64)])> = self
                    .ids
                    .iter()
                    .zip(&self.history)
                    .map(|(id, h)| (id.as_str(), h.as_slice()))
                    .collect();
                plot::score_trace(root, &series, style).map_err(e)?;
            }
            "pc-plot" => {
                let conditions = self.dataset.as_ref().map(|d| d.conditions).unwrap_or(1);
                let y_pcs = match &self.last {
                    Some(r) => DMatrix::from_row_slice(r.y_pcs.len() / 2, 2, &r.y_pcs),
                    None => self.x_pcs.clone(),
                };
                plot::pc_trajectories(root, &self.x_pcs, &y_pcs, conditions, style).map_err(e)?;
            }
            "pc-r2-plot" => plot::pc_capture(root, &self.pc_history, ratios, style).map_err(e)?,
            "decode-plot" => {
                plot::decode_accuracy(root, &self.decode_series(), style).map_err(e)?
            }
            "pert-plot" => {
                let m = self.bar_count();
                let (scales, angles): (Vec<f64>, Vec<f64>) =
                    (0..m).map(|k| self.pert_of(k)).unzip();
                let layout = plot::variance_bars(
                    root,
                    &ratios[..m.min(ratios.len())],
                    &scales,
                    &angles,
                    Some(self.pert_focus),
                    style,
                )
                .map_err(e)?;
                return Ok(Some(layout));
            }
            "sweep-plot" => {
                if let Some((ids, rows, _)) = &self.sweep {
                    plot::perturb_sweep(root, ids, rows, style).map_err(e)?;
                }
            }
            "joint-plot" => {
                if let Some(j) = &self.joint {
                    let runs: Vec<plot::JointSeries> = j
                        .targets
                        .iter()
                        .zip(&j.runs)
                        .map(|(&target, (traj, done))| plot::JointSeries {
                            target,
                            trajectory: traj,
                            done: *done,
                        })
                        .collect();
                    let bounds = match (j.a.as_str(), j.b.as_str()) {
                        ("cka", "nbs") | ("nbs", "cka") => Some(plot::CkaNbsBounds {
                            rank_x: j.rank_x,
                            rank_y: j.rank_y,
                            cka_on_x: j.a == "cka",
                        }),
                        _ => None,
                    };
                    plot::joint_region(root, (&j.a, &j.b), &runs, bounds, style).map_err(e)?;
                }
            }
            other => return Err(format!("no plot named {other}")),
        }
        Ok(None)
    }

    /// Download plot `id` as PNG (the canvas as drawn) or SVG (the same plot function on
    /// plotters' SVG backend, at the canvas's CSS size).
    fn export_plot(&self, id: &str, svg: bool) -> Result<(), String> {
        let el: HtmlCanvasElement = dom::el(&self.doc, id)
            .ok_or_else(|| format!("missing #{id}"))?
            .dyn_into()
            .map_err(|_| format!("#{id} is not a canvas"))?;
        let stem = format!("simscope-{}-{id}", self.state.dataset);
        if !svg {
            let url = el.to_data_url().map_err(|e| format!("{e:?}"))?;
            return dom::download_url(&self.doc, &url, &format!("{stem}.png"))
                .map_err(|e| format!("{e:?}"));
        }
        let size = (
            el.client_width().max(200) as u32,
            el.client_height().max(150) as u32,
        );
        let mut text = String::new();
        {
            let root =
                plotters::prelude::SVGBackend::with_string(&mut text, size).into_drawing_area();
            self.plot_to(id, &root, Style { scale: 1.0 })?;
        }
        dom::download_bytes(&self.doc, text.as_bytes(), &format!("{stem}.svg"))
            .map_err(|e| format!("{e:?}"))
    }

    /// Y arrived from the worker: save it, and keep a link to it in case the browser wants a
    /// fresh click (the worker's answer comes after the button's user activation).
    fn offer_y(&mut self, bytes: &[u8], name: &str) {
        let Ok(url) = dom::object_url(bytes) else {
            show_error(&self.doc, "the browser could not hold Y for download");
            return;
        };
        if let Some(old) = self.y_url.replace(url.clone()) {
            dom::revoke_url(&old);
        }
        if let Some(a) = dom::el(&self.doc, "export-y-link") {
            let _ = a.set_attribute("href", &url);
            let _ = a.set_attribute("download", name);
            a.set_text_content(Some(&format!("save {name}")));
        }
        dom::set_hidden(&self.doc, "export-y-link", false);
        let _ = dom::download_url(&self.doc, &url, name);
    }

    /// Every score along the run, one row per step.
    fn export_csv(&self) -> Result<(), String> {
        let mut header = vec!["step"];
        header.extend(self.ids.iter().map(String::as_str));
        let rows: Vec<Vec<f64>> = self
            .history
            .first()
            .map(|h| {
                (0..h.len())
                    .map(|i| {
                        std::iter::once(h[i].0 as f64)
                            .chain(
                                self.history
                                    .iter()
                                    .map(|s| s.get(i).map_or(f64::NAN, |p| p.1)),
                            )
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let text = crate::data::write::csv(&header, &rows);
        let name = format!(
            "simscope-{}-{}-trajectory.csv",
            self.state.dataset, self.state.measure
        )
        .replace(['#', '/'], "_");
        dom::download_bytes(&self.doc, text.as_bytes(), &name).map_err(|e| format!("{e:?}"))
    }

    /// Ask for decoding accuracies every `decode_every` steps (and at a stop), one request at
    /// a time: the worker answers it between step requests, so stepping goes on.
    fn maybe_decode(&mut self, step: usize, force: bool) {
        let has_labels = self.dataset.as_ref().is_some_and(|d| !d.labels.is_empty());
        if !has_labels || self.decode_inflight || self.decode_pending {
            return;
        }
        let due = match self.decode_last_step {
            None => true,
            Some(last) => {
                step != last && (force || step >= last + self.state.decode_every as usize)
            }
        };
        if due && (force || now_ms() >= self.decode_not_before) {
            self.decode_sent_at = now_ms();
            self.decode_inflight = true;
            self.decode_last_step = Some(step);
            self.send(&Request::Decode, None);
        }
    }

    fn decode_series(&self) -> Vec<plot::DecodeSeries<'_>> {
        let (names, chance, reference) = &self.decode_meta;
        names
            .iter()
            .enumerate()
            .map(|(j, name)| plot::DecodeSeries {
                name,
                points: self
                    .decode_history
                    .iter()
                    .filter_map(|(_, s, a)| a.get(j).copied().flatten().map(|a| (*s, a)))
                    .collect(),
                chance: chance.get(j).copied().unwrap_or(f64::NAN),
                reference: reference.get(j).copied().flatten(),
            })
            .collect()
    }

    /// One row per task variable: accuracy now, reference, chance, score needed.
    fn show_decode_table(&self) {
        let Some(body) = dom::el(&self.doc, "decode-rows") else {
            return;
        };
        let last = self.decode_history.last();
        let cell = |kind: &str, name: &str, v: Option<f64>, digits: usize| match v {
            Some(v) if v.is_finite() => format!(
                "<td data-testid=\"decode-{kind}-{name}\" data-value=\"{}\">{v:.digits$}</td>",
                js_number_string(v)
            ),
            _ => format!("<td data-testid=\"decode-{kind}-{name}\" data-value=\"\">—</td>"),
        };
        let mut html = String::new();
        for (j, s) in self.decode_series().iter().enumerate() {
            let acc = last.and_then(|l| l.2.get(j).copied().flatten());
            html.push_str(&format!(
                "<tr><th scope=\"row\">{}</th>{}{}{}{}</tr>",
                s.name,
                cell("acc", s.name, acc, 3),
                cell("ref", s.name, s.reference, 3),
                cell("chance", s.name, Some(s.chance), 3),
                cell("needed", s.name, plot::score_needed(s), 4),
            ));
        }
        body.set_inner_html(&html);
        if let Some(c) = dom::el(&self.doc, "decode-plot") {
            let _ = c.set_attribute("data-points", &self.decode_history.len().to_string());
        }
        let has = !self.decode_meta.0.is_empty();
        dom::set_text(
            &self.doc,
            "decode-note",
            &if has {
                format!(
                    "decoded at step {} (every {} steps, less often if decoding would take over a fifth of the time)",
                    last.map(|l| l.0).unwrap_or(0),
                    self.state.decode_every
                )
            } else {
                "This recording has no task labels: open a labels file to decode.".into()
            },
        );
    }

    /// Number of draggable PC bars for the loaded recording.
    /// Run: start a joint job with the panel's settings (replacing any running one).
    fn joint_run(&mut self) {
        if self.dataset.is_none() {
            return;
        }
        if self.joint_running {
            self.send(&Request::JointCancel, None);
        }
        let s = &self.state;
        let req = Request::JointStart(JointSettings {
            a: s.joint_a.clone(),
            b: s.joint_b.clone(),
            per_side: s.joint_n as usize,
            steps: s.joint_steps as usize,
            lr: s.lr,
            seed: s.seed,
        });
        self.joint = None;
        self.set_joint_running(true);
        self.send(&req, None);
        self.show_joint_progress();
        self.dirty = true;
    }

    /// Cancel: no further slice is asked for, and the worker drops the job.
    fn joint_cancel(&mut self) {
        if self.joint_running {
            self.set_joint_running(false);
            self.send(&Request::JointCancel, None);
            self.show_joint_progress();
        }
    }

    fn set_joint_running(&mut self, running: bool) {
        self.joint_running = running;
        if let Some(b) = dom::el(&self.doc, "joint-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
        if let Some(b) = dom::el(&self.doc, "joint-run") {
            let _ = b.set_attribute("aria-busy", if running { "true" } else { "false" });
        }
    }

    /// "target 5/12" while running; the state in data attributes for tests.
    fn show_joint_progress(&self) {
        let (done, total) = self
            .joint
            .as_ref()
            .map(|j| (j.runs.iter().filter(|r| r.1).count(), j.targets.len()))
            .unwrap_or((0, 0));
        let text = match (&self.joint, self.joint_running) {
            (None, true) => "starting…".to_string(),
            (None, false) => String::new(),
            (Some(_), true) => format!("target {}/{total}", (done + 1).min(total)),
            (Some(_), false) if done == total => format!("done: {total} targets"),
            (Some(_), false) => format!("cancelled after {done}/{total} targets"),
        };
        dom::set_text(&self.doc, "joint-progress", &text);
        if let Some(e) = dom::el(&self.doc, "joint-progress") {
            let _ = e.set_attribute("data-done", &done.to_string());
            let _ = e.set_attribute("data-total", &total.to_string());
            let state = match (&self.joint, self.joint_running) {
                (_, true) => "running",
                (Some(_), false) if done == total => "done",
                (Some(_), false) => "cancelled",
                (None, false) => "idle",
            };
            let _ = e.set_attribute("data-state", state);
        }
    }

    fn cal_run(&mut self) {
        if self.dataset.is_none() {
            return;
        }
        if self.cal_running {
            self.send(&Request::CalibrateCancel, None);
        }
        let req = Request::CalibrateStart {
            measures: self.state.cal_measures.clone(),
            seeds: self.state.cal_seeds as usize,
            lr: self.state.lr,
        };
        self.cal_rows = None;
        self.cal_progress = (0, 0);
        self.set_cal_running(true);
        self.send(&req, None);
        self.show_calibration(None);
    }

    fn cal_cancel(&mut self) {
        if self.cal_running {
            self.set_cal_running(false);
            self.send(&Request::CalibrateCancel, None);
            self.show_calibration(None);
        }
    }

    fn set_cal_running(&mut self, running: bool) {
        self.cal_running = running;
        if let Some(b) = dom::el(&self.doc, "cal-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
    }

    /// Progress ("run 3/6: cka seed 0") and, once done, the report table.
    fn show_calibration(&self, last: Option<&str>) {
        let (done, total) = self.cal_progress;
        let state = if self.cal_running {
            "running"
        } else if self.cal_rows.is_some() {
            "done"
        } else if total > 0 || done > 0 {
            "cancelled"
        } else {
            "idle"
        };
        let text = match state {
            "running" => match last {
                Some(l) => format!("run {}/{total} (finished {l})", (done + 1).min(total)),
                None if total > 0 => format!("run {}/{total}", done + 1),
                None => "starting…".into(),
            },
            "done" => format!("done: {total} runs"),
            "cancelled" => format!("cancelled after {done}/{total} runs"),
            _ => String::new(),
        };
        dom::set_text(&self.doc, "cal-progress", &text);
        if let Some(e) = dom::el(&self.doc, "cal-progress") {
            let _ = e.set_attribute("data-state", state);
            let _ = e.set_attribute("data-done", &done.to_string());
            let _ = e.set_attribute("data-total", &total.to_string());
        }
        let Some(body) = dom::el(&self.doc, "cal-rows") else {
            return;
        };
        let mut html = String::new();
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let fmt = |v: Option<f64>, steps: bool| match v {
            Some(v) if steps => format!("{v:.0}"),
            Some(v) => format!("{v:.3}"),
            None => "—".into(),
        };
        for r in self.cal_rows.iter().flatten() {
            let steps = r.quantity == "steps_to_stop";
            let what = match r.quantity.as_str() {
                "decodable" => format!("score at which <em>{}</em> is decodable", esc(&r.variable)),
                "capture_pcs_10pct" => "score to capture PCs ≥ 10% of variance".into(),
                "capture_pcs_1pct" => "score to capture PCs ≥ 1% of variance".into(),
                "steps_to_stop" => "steps to 0.99".into(),
                other => esc(other),
            };
            let key = if r.variable.is_empty() {
                format!("cal-{}-{}", r.measure, r.quantity)
            } else {
                format!("cal-{}-{}-{}", r.measure, r.quantity, r.variable)
            };
            let spread = match (r.min, r.max, r.sd) {
                (Some(lo), Some(hi), Some(sd)) => {
                    format!(
                        "{} – {} (sd {})",
                        fmt(Some(lo), steps),
                        fmt(Some(hi), steps),
                        fmt(Some(sd), false)
                    )
                }
                (Some(lo), Some(hi), None) => {
                    format!("{} – {}", fmt(Some(lo), steps), fmt(Some(hi), steps))
                }
                _ => "—".into(),
            };
            html.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{what}</td><td data-testid=\"{}\" data-value=\"{}\">{}</td><td>{spread}</td><td>{}/{}</td><td class=\"hint\">{}</td></tr>",
                esc(&r.measure),
                esc(&key),
                r.mean.map(js_number_string).unwrap_or_default(),
                fmt(r.mean, steps),
                r.reached,
                r.seeds,
                esc(&r.note),
            ));
        }
        body.set_inner_html(&html);
        dom::set_hidden(&self.doc, "cal-table", self.cal_rows.is_none());
    }

    /// The report as CSV, in `simscope calibrate`'s columns: one row per (measure, quantity,
    /// variable), per-seed values joined by `;` (empty = not reached).
    fn export_cal_csv(&self) -> Result<(), String> {
        let rows = self.cal_rows.as_ref().ok_or("run the calibration first")?;
        let num = |v: Option<f64>| v.map(js_number_string).unwrap_or_default();
        let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
        let mut out =
            String::from("measure,quantity,variable,seeds,reached,mean,sd,min,max,values,note\n");
        for r in rows {
            let values: Vec<String> = r.values.iter().map(|v| num(*v)).collect();
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                r.measure,
                r.quantity,
                quote(&r.variable),
                r.seeds,
                r.reached,
                num(r.mean),
                num(r.sd),
                num(r.min),
                num(r.max),
                values.join(";"),
                quote(&r.note),
            ));
        }
        let name = format!("simscope-calibration-{}.csv", self.state.dataset);
        dom::download_bytes(&self.doc, out.as_bytes(), &name).map_err(|e| format!("{e:?}"))
    }

    fn bar_count(&self) -> usize {
        self.dataset
            .as_ref()
            .map(|d| d.rank.min(d.explained.len()).min(PERTURB_BARS))
            .unwrap_or(0)
    }

    fn pert_entries(&self) -> Vec<PertEntry> {
        parse_pert(&self.state.pert).unwrap_or_default()
    }

    /// (scale, angle in degrees) of PC `k` (0-based).
    fn pert_of(&self, k: usize) -> (f64, f64) {
        self.pert_entries()
            .iter()
            .find(|e| e.pc == k + 1)
            .map(|e| (e.scale, e.angle))
            .unwrap_or((1.0, 0.0))
    }

    /// Change PC `k`'s scale and/or angle (rounded so links stay short) via the state table.
    fn set_pert(&mut self, k: usize, scale: Option<f64>, angle: Option<f64>) {
        let (a0, t0) = self.pert_of(k);
        let a = scale
            .map(|a| (a.clamp(0.0, 3.0) * 1000.0).round() / 1000.0)
            .unwrap_or(a0);
        let t = angle.map(|t| t.clamp(0.0, 90.0).round()).unwrap_or(t0);
        let mut entries = self.pert_entries();
        entries.retain(|e| e.pc != k + 1);
        entries.push(PertEntry {
            pc: k + 1,
            scale: a,
            angle: t,
        });
        let text = format_pert(&entries);
        if text != self.state.pert {
            self.set_field("pert", &text);
        }
    }

    /// Ask the worker to score the current perturbation (one request in flight at a time).
    fn request_perturb(&mut self) {
        if self.dataset.is_none() {
            return;
        }
        if self.pert_inflight {
            self.pert_stale = true;
            return;
        }
        self.pert_stale = false;
        self.pert_inflight = true;
        let mut measures: Vec<String> = PERTURB_IDS.iter().map(|s| s.to_string()).collect();
        measures.push(self.state.measure.clone());
        let req = Request::Perturb(PerturbSettings {
            entries: self
                .pert_entries()
                .iter()
                .map(|e| (e.pc - 1, e.scale, e.angle))
                .collect(),
            measures,
            seed: self.state.seed,
            tag: self.state.pert.clone(),
        });
        self.send(&req, None);
    }

    fn request_sweep(&mut self) {
        if self.dataset.is_none() {
            return;
        }
        dom::set_text(&self.doc, "sweep-note", "sweeping…");
        let mut measures: Vec<String> = PERTURB_IDS.iter().map(|s| s.to_string()).collect();
        measures.push(self.state.measure.clone());
        let req = Request::Sweep {
            measures,
            max_pcs: PERTURB_BARS,
            seed: self.state.seed,
        };
        self.send(&req, None);
    }

    /// Measured next to closed-form scores, with full-precision `data-value`s for tests.
    fn show_perturb_table(&self) {
        let Some((tag, ids, measured, theory, exact)) = &self.pert_result else {
            return;
        };
        let Some(body) = dom::el(&self.doc, "pert-rows") else {
            return;
        };
        let mut html = String::new();
        for (j, id) in ids.iter().enumerate() {
            let m = measured[j];
            let t = theory[j];
            let cell = |kind: &str, v: Option<f64>| match v {
                Some(v) => format!(
                    "<td data-testid=\"pert-{kind}-{id}\" data-value=\"{}\">{v:.6}</td>",
                    js_number_string(v)
                ),
                None => format!(
                    "<td data-testid=\"pert-{kind}-{id}\" data-value=\"\">no closed form</td>"
                ),
            };
            let diff = t
                .map(|t| format!("{:.1e}", (m - t).abs()))
                .unwrap_or_default();
            html.push_str(&format!(
                "<tr><th scope=\"row\">{id}</th>{}{}<td>{diff}</td></tr>",
                cell("measured", Some(m)),
                cell("theory", t)
            ));
        }
        body.set_inner_html(&html);
        if let Some(table) = dom::el(&self.doc, "pert-table") {
            let _ = table.set_attribute("data-pert", tag);
            let _ = table.set_attribute("data-exact", if *exact { "1" } else { "0" });
        }
        dom::set_text(
            &self.doc,
            "pert-exact",
            if *exact {
                "The theory is exact for this recording (up to rounding)."
            } else {
                "X has too few conditions for a complement orthogonal to every PC: the theory is approximate here."
            },
        );
    }

    /// Mirror the focused PC's settings into the angle and scale inputs.
    fn show_pert_controls(&self) {
        let k = self.pert_focus;
        let (a, t) = self.pert_of(k);
        dom::set_text(&self.doc, "pert-focus", &format!("PC{}", k + 1));
        if let Some(e) = dom::input(&self.doc, "pert-angle") {
            e.set_value(&t.to_string());
        }
        if let Some(e) = dom::input(&self.doc, "pert-scale") {
            e.set_value(&a.to_string());
        }
        dom::set_text(&self.doc, "pert-angle-value", &format!("{t}°"));
        if let Some(c) = dom::el(&self.doc, "pert-plot") {
            let _ = c.set_attribute(
                "aria-label",
                &format!(
                    "Variance of each PC of X as bars. PC{} focused: scale {a}, decorrelation angle {t} degrees. Left and right arrows choose a PC, up and down rescale it.",
                    k + 1
                ),
            );
        }
    }

    fn set_bar_layout(&mut self, layout: BarLayout) {
        if let Some(el) = dom::el(&self.doc, "pert-plot") {
            for (k, v) in [
                ("data-left", layout.left),
                ("data-right", layout.right),
                ("data-top", layout.top),
                ("data-bottom", layout.bottom),
                ("data-lo", layout.lo),
                ("data-hi", layout.hi),
            ] {
                let _ = el.set_attribute(k, &js_number_string(v));
            }
            let _ = el.set_attribute("data-bars", &layout.bars.to_string());
        }
        self.pert_layout = Some(layout);
    }

    /// A pointer at CSS pixel (x, y) on the bars: start (`down`) or continue a drag.
    fn pert_pointer(&mut self, x: f64, y: f64, down: bool) {
        let Some(layout) = self.pert_layout else {
            return;
        };
        let k = if down {
            let Some(k) = layout.bar_at(x) else { return };
            self.drag_bar = Some(k);
            self.pert_focus = k;
            k
        } else {
            match self.drag_bar {
                Some(k) => k,
                None => return,
            }
        };
        let Some(r) = self
            .dataset
            .as_ref()
            .and_then(|d| d.explained.get(k).copied())
        else {
            return;
        };
        let v = layout.log_value_at(y);
        let a = if v <= layout.lo + 0.01 * (layout.hi - layout.lo) {
            0.0
        } else {
            (10f64.powf(v) / r).sqrt()
        };
        self.set_pert(k, Some(a), None);
        self.show_pert_controls();
        self.dirty = true;
    }

    fn pert_key(&mut self, key: &str) -> bool {
        let m = self.bar_count();
        if m == 0 {
            return false;
        }
        let k = self.pert_focus.min(m - 1);
        match key {
            "ArrowLeft" => self.pert_focus = k.saturating_sub(1),
            "ArrowRight" => self.pert_focus = (k + 1).min(m - 1),
            "Home" => self.pert_focus = 0,
            "End" => self.pert_focus = m - 1,
            "ArrowUp" | "ArrowDown" => {
                let (a, _) = self.pert_of(k);
                let a = if key == "ArrowUp" {
                    if a == 0.0 {
                        0.1
                    } else {
                        a * 1.25
                    }
                } else if a < 0.1 {
                    0.0
                } else {
                    a / 1.25
                };
                self.set_pert(k, Some(a), None);
            }
            _ => return false,
        }
        self.show_pert_controls();
        self.dirty = true;
        true
    }

    /// Mirror the settings into the controls, the URL hash and the classroom flag.
    fn apply_state_to_controls(&self) {
        let s = &self.state;
        if let Some(e) = dom::select(&self.doc, "dataset-select") {
            e.set_value(&s.dataset);
        }
        if let Some(e) = dom::select(&self.doc, "measure-select") {
            e.set_value(&s.measure);
        }
        if let Some(e) = dom::select(&self.doc, "optimizer-select") {
            e.set_value(&s.optimizer);
        }
        if let Some(e) = dom::select(&self.doc, "joint-a-select") {
            e.set_value(&s.joint_a);
        }
        if let Some(e) = dom::select(&self.doc, "joint-b-select") {
            e.set_value(&s.joint_b);
        }
        for (id, v) in [
            ("lr-input", s.lr.to_string()),
            ("seed-input", s.seed.to_string()),
            ("stop-input", s.stop.to_string()),
            ("speed-input", s.speed.to_string()),
            ("decode-every-input", s.decode_every.to_string()),
            ("joint-n-input", s.joint_n.to_string()),
            ("joint-steps-input", s.joint_steps.to_string()),
            ("cal-seeds-input", s.cal_seeds.to_string()),
        ] {
            if let Some(e) = dom::input(&self.doc, id) {
                e.set_value(&v);
            }
        }
        if let Ok(boxes) = self.doc.query_selector_all("[data-watch]") {
            for k in 0..boxes.length() {
                if let Some(b) = boxes
                    .get(k)
                    .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                {
                    let id = b.get_attribute("data-watch").unwrap_or_default();
                    b.set_checked(s.watch.contains(&id));
                }
            }
        }
        if let Ok(boxes) = self.doc.query_selector_all("[data-cal]") {
            for k in 0..boxes.length() {
                if let Some(b) = boxes
                    .get(k)
                    .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                {
                    let id = b.get_attribute("data-cal").unwrap_or_default();
                    b.set_checked(s.cal_measures.contains(&id));
                }
            }
        }
        if let Some(e) = dom::input(&self.doc, "classroom-toggle") {
            e.set_checked(s.classroom);
        }
        if let Some(body) = self.doc.body() {
            let _ = body
                .class_list()
                .toggle_with_force("classroom", s.classroom);
        }
        // Classroom mode hides the controls the state table marks as advanced.
        for f in FIELDS {
            if let Ok(nodes) = self
                .doc
                .query_selector_all(&format!("[data-field=\"{}\"]", f.key))
            {
                for k in 0..nodes.length() {
                    if let Some(h) = nodes
                        .get(k)
                        .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        h.set_hidden(s.classroom && f.classroom_hidden);
                    }
                }
            }
        }
        self.write_hash();
    }

    fn write_hash(&self) {
        let hash = self.state.to_hash();
        if let Some(w) = web_sys::window() {
            let url = if hash.is_empty() {
                w.location().pathname().unwrap_or_default()
                    + &w.location().search().unwrap_or_default()
            } else {
                format!("#{hash}")
            };
            if let Ok(h) = w.history() {
                let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
            }
        }
    }

    /// A control changed: check and apply the value.
    fn set_field(&mut self, key: &str, value: &str) {
        let mut next = self.state.clone();
        match next.set(key, value) {
            Ok(()) => self.change_state(next),
            Err(e) => {
                show_error(&self.doc, &format!("{key}: {e}"));
                self.apply_state_to_controls();
            }
        }
    }

    /// Adopt new settings: mirror them everywhere, then reload or restart only if needed.
    fn change_state(&mut self, next: UiState) {
        let before = std::mem::replace(&mut self.state, next);
        self.apply_state_to_controls();
        let s = &self.state;
        let pert_changed =
            before.pert != s.pert || before.measure != s.measure || before.seed != s.seed;
        if before.dataset != s.dataset {
            self.load_builtin();
        } else if self.ready
            && (before.measure != s.measure
                || before.watch != s.watch
                || before.lr != s.lr
                || before.optimizer != s.optimizer
                || before.seed != s.seed
                || before.stop != s.stop)
        {
            self.restart();
        }
        if pert_changed && before.dataset == self.state.dataset {
            self.request_perturb();
            self.show_pert_controls();
            self.dirty = true;
        }
    }

    /// The user edited or pasted a link in this tab.
    fn on_hash_change(&mut self) {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        let (next, problems) = UiState::from_hash(&hash);
        if !problems.is_empty() {
            show_error(&self.doc, &problems.join("; "));
        }
        if next != self.state {
            self.change_state(next);
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

/// Read a user's file and send it to the worker as a recording or as labels.
fn open_file(file: web_sys::File, as_labels: bool) {
    let name = file.name();
    let size = file.size();
    if size > MAX_FILE_BYTES as f64 {
        with_page(|p| {
            show_error(
                &p.doc,
                &format!(
                    "{name}: the file is {:.0} MiB; simscope reads files up to {} MiB. Reduce it (e.g. fewer neurons or PCs) and try again.",
                    size / 1048576.0,
                    MAX_FILE_BYTES / 1048576
                ),
            )
        });
        return;
    }
    let lower = name.to_lowercase();
    let as_labels = as_labels || lower.ends_with(".csv") || lower.ends_with(".json");
    wasm_bindgen_futures::spawn_local(async move {
        let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
        with_page(|p| match buf {
            Ok(buf) => {
                let bytes = js_sys::Uint8Array::new(&buf);
                p.set_playing(false);
                let req = if as_labels {
                    Request::Labels { name: name.clone() }
                } else {
                    Request::File { name: name.clone() }
                };
                dom::set_hidden(&p.doc, "error", true);
                p.send(&req, Some(bytes));
            }
            Err(_) => show_error(
                &p.doc,
                &format!("{name}: the browser could not read the file"),
            ),
        });
    });
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

    wire_controls(&doc)?;

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

fn wire_controls(doc: &Document) -> Result<(), JsValue> {
    dom::on(doc, "play", "click", |_: web_sys::Event| {
        with_page(|p| p.toggle_play());
    })?;
    dom::on(doc, "step", "click", |_: web_sys::Event| {
        with_page(|p| p.step_once());
    })?;
    dom::on(doc, "reset", "click", |_: web_sys::Event| {
        with_page(|p| p.restart());
    })?;
    dom::on(doc, "new-seed", "click", |_: web_sys::Event| {
        let seed = (js_sys::Math::random() * 1e9).floor() as u64;
        with_page(|p| p.set_field("seed", &seed.to_string()));
    })?;
    dom::on(doc, "defaults", "click", |_: web_sys::Event| {
        with_page(|p| {
            let dataset_changed = p.state.dataset != UiState::default().dataset;
            p.state = UiState::default();
            p.apply_state_to_controls();
            if dataset_changed {
                p.load_builtin()
            } else {
                p.restart();
                p.request_perturb();
            }
            p.show_pert_controls();
            p.dirty = true;
        });
    })?;
    dom::on(doc, "joint-run", "click", |_: web_sys::Event| {
        with_page(|p| p.joint_run());
    })?;
    dom::on(doc, "joint-cancel", "click", |_: web_sys::Event| {
        with_page(|p| p.joint_cancel());
    })?;
    dom::on(doc, "cal-run", "click", |_: web_sys::Event| {
        with_page(|p| p.cal_run());
    })?;
    dom::on(doc, "cal-cancel", "click", |_: web_sys::Event| {
        with_page(|p| p.cal_cancel());
    })?;
    dom::on(doc, "cal-csv", "click", |_: web_sys::Event| {
        with_page(|p| {
            if let Err(e) = p.export_cal_csv() {
                show_error(&p.doc, &format!("export: {e}"));
            }
        });
    })?;
    if let Ok(boxes) = doc.query_selector_all("[data-cal]") {
        for k in 0..boxes.length() {
            if let Some(b) = boxes.get(k) {
                dom::listen(&b, "change", |_: web_sys::Event| {
                    with_page(|p| {
                        let mut ids = Vec::new();
                        if let Ok(all) = p.doc.query_selector_all("[data-cal]") {
                            for j in 0..all.length() {
                                if let Some(i) = all
                                    .get(j)
                                    .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                                {
                                    if i.checked() {
                                        ids.push(i.get_attribute("data-cal").unwrap_or_default());
                                    }
                                }
                            }
                        }
                        p.set_field("cal", &ids.join(","));
                    });
                })?;
            }
        }
    }
    dom::on(doc, "error-close", "click", |_: web_sys::Event| {
        with_page(|p| dom::set_hidden(&p.doc, "error", true));
    })?;
    for (id, key) in [
        ("dataset-select", "dataset"),
        ("measure-select", "measure"),
        ("optimizer-select", "optimizer"),
        ("lr-input", "lr"),
        ("seed-input", "seed"),
        ("stop-input", "stop"),
        ("speed-input", "speed"),
        ("decode-every-input", "decode"),
        ("joint-a-select", "ja"),
        ("joint-b-select", "jb"),
        ("joint-n-input", "jn"),
        ("joint-steps-input", "jsteps"),
        ("cal-seeds-input", "calseeds"),
    ] {
        dom::on(doc, id, "change", move |ev: web_sys::Event| {
            let value = ev
                .target()
                .and_then(|t| js_sys::Reflect::get(&t, &"value".into()).ok())
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            with_page(|p| p.set_field(key, &value));
        })?;
    }
    dom::on(doc, "classroom-toggle", "change", |ev: web_sys::Event| {
        let on = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|i| i.checked())
            .unwrap_or(false);
        with_page(|p| p.set_field("classroom", if on { "1" } else { "0" }));
    })?;
    if let Ok(boxes) = doc.query_selector_all("[data-watch]") {
        for k in 0..boxes.length() {
            if let Some(b) = boxes.get(k) {
                dom::listen(&b, "change", |_: web_sys::Event| {
                    with_page(|p| {
                        let mut watch = Vec::new();
                        if let Ok(all) = p.doc.query_selector_all("[data-watch]") {
                            for j in 0..all.length() {
                                if let Some(i) = all
                                    .get(j)
                                    .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                                {
                                    if i.checked() {
                                        watch.push(
                                            i.get_attribute("data-watch").unwrap_or_default(),
                                        );
                                    }
                                }
                            }
                        }
                        p.set_field("watch", &watch.join(","));
                    });
                })?;
            }
        }
    }
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
    wire_perturb(doc)?;
    wire_exports(doc)?;
    // Drag and drop anywhere on the page.
    let body: web_sys::EventTarget = doc.clone().into();
    dom::listen(&body, "dragover", |ev: web_sys::DragEvent| {
        ev.prevent_default()
    })?;
    dom::listen(&body, "drop", |ev: web_sys::DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            open_file(file, false);
        }
    })?;
    // Keyboard: Space play/pause, S step, R reset. Keys typed into a field or list stay
    // there, and Space on a focused button or box keeps its native meaning.
    dom::listen(&body, "keydown", |ev: KeyboardEvent| {
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let tag = target.as_ref().map(|e| e.tag_name()).unwrap_or_default();
        let input_type = target
            .as_ref()
            .and_then(|e| e.get_attribute("type"))
            .unwrap_or_default();
        let typing = matches!(tag.as_str(), "SELECT" | "TEXTAREA")
            || (tag == "INPUT" && !matches!(input_type.as_str(), "checkbox" | "radio" | "file"));
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        match ev.key().as_str() {
            " " if !matches!(tag.as_str(), "BUTTON" | "INPUT") => {
                ev.prevent_default();
                with_page(|p| p.toggle_play());
            }
            "s" | "S" => {
                with_page(|p| p.step_once());
            }
            "r" | "R" => {
                with_page(|p| p.restart());
            }
            _ => {}
        }
    })?;
    let resize: web_sys::EventTarget = web_sys::window().ok_or("no window")?.into();
    dom::listen(&resize, "resize", |_: web_sys::Event| {
        with_page(|p| p.dirty = true);
    })?;
    dom::listen(&resize, "hashchange", |_: web_sys::Event| {
        with_page(|p| p.on_hash_change());
    })?;
    Ok(())
}

/// The Perturb panel: drag bars with any pointer (mouse, pen, touch), arrow keys on the
/// focused bar, the angle slider and scale box for the focused PC, reset and sweep.
fn wire_perturb(doc: &Document) -> Result<(), JsValue> {
    let pos = |ev: &web_sys::MouseEvent| (ev.offset_x() as f64, ev.offset_y() as f64);
    dom::on(
        doc,
        "pert-plot",
        "pointerdown",
        move |ev: web_sys::MouseEvent| {
            ev.prevent_default();
            if let Some(t) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = t.focus();
                if let Some(id) = js_sys::Reflect::get(&ev, &"pointerId".into())
                    .ok()
                    .and_then(|v| v.as_f64())
                {
                    let _ = t.set_pointer_capture(id as i32);
                }
            }
            let (x, y) = pos(&ev);
            with_page(|p| p.pert_pointer(x, y, true));
        },
    )?;
    dom::on(
        doc,
        "pert-plot",
        "pointermove",
        move |ev: web_sys::MouseEvent| {
            let (x, y) = pos(&ev);
            with_page(|p| p.pert_pointer(x, y, false));
        },
    )?;
    for end in ["pointerup", "pointercancel", "lostpointercapture"] {
        dom::on(doc, "pert-plot", end, |_: web_sys::Event| {
            with_page(|p| p.drag_bar = None);
        })?;
    }
    dom::on(doc, "pert-plot", "keydown", |ev: KeyboardEvent| {
        if with_page(|p| p.pert_key(&ev.key())).unwrap_or(false) {
            ev.prevent_default();
        }
    })?;
    dom::on(doc, "pert-angle", "input", |ev: web_sys::Event| {
        let v = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|i| i.value_as_number())
            .unwrap_or(f64::NAN);
        if v.is_finite() {
            with_page(|p| {
                let k = p.pert_focus;
                p.set_pert(k, None, Some(v));
                p.show_pert_controls();
                p.dirty = true;
            });
        }
    })?;
    dom::on(doc, "pert-scale", "change", |ev: web_sys::Event| {
        let v = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|i| i.value_as_number())
            .unwrap_or(f64::NAN);
        with_page(|p| {
            if v.is_finite() && v >= 0.0 {
                let k = p.pert_focus;
                p.set_pert(k, Some(v), None);
            }
            p.show_pert_controls();
            p.dirty = true;
        });
    })?;
    dom::on(doc, "pert-reset", "click", |_: web_sys::Event| {
        with_page(|p| {
            p.set_field("pert", "");
            p.show_pert_controls();
        });
    })?;
    dom::on(doc, "sweep", "click", |_: web_sys::Event| {
        with_page(|p| p.request_sweep());
    })?;
    Ok(())
}

/// A PNG and an SVG button under every plot, plus the trajectory CSV and Y `.npy` buttons.
fn wire_exports(doc: &Document) -> Result<(), JsValue> {
    for id in PLOTS {
        let Some(c) = dom::el(doc, id) else { continue };
        let bar = doc.create_element("div")?;
        bar.set_class_name("exports");
        let what = c.get_attribute("aria-label").unwrap_or_default();
        for (fmt, svg) in [("png", false), ("svg", true)] {
            let b = doc.create_element("button")?;
            b.set_attribute("type", "button")?;
            b.set_attribute("data-testid", &format!("export-{id}-{fmt}"))?;
            b.set_attribute(
                "title",
                &format!("Download as {}: {what}", fmt.to_uppercase()),
            )?;
            b.set_text_content(Some(&fmt.to_uppercase()));
            let id = id.to_string();
            dom::listen(&b, "click", move |_: web_sys::Event| {
                with_page(|p| {
                    if let Err(e) = p.export_plot(&id, svg) {
                        show_error(&p.doc, &format!("export: {e}"));
                    }
                });
            })?;
            bar.append_child(&b)?;
        }
        c.insert_adjacent_element("afterend", &bar)?;
    }
    dom::on(doc, "export-csv", "click", |_: web_sys::Event| {
        with_page(|p| {
            if let Err(e) = p.export_csv() {
                show_error(&p.doc, &format!("export: {e}"));
            }
        });
    })?;
    dom::on(doc, "export-y", "click", |_: web_sys::Event| {
        with_page(|p| {
            if p.last.is_some() {
                p.send(&Request::ExportY, None);
            }
        });
    })?;
    Ok(())
}
