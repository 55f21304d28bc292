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
use super::protocol::{DatasetSummary, Report, Request, Response, RunSettings};
use crate::data::{datasets, npy::MAX_FILE_BYTES};
use crate::measures::registry;
use crate::plot::{self, Style};
use crate::state::{UiState, FIELDS};

struct Page {
    doc: Document,
    worker: Worker,
    state: UiState,
    next_id: u32,
    /// A step request is out; the next one waits for its report (back-pressure).
    stepping: bool,
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
        if !self.stepping && self.last.is_some() {
            self.stepping = true;
            self.send(&Request::Step { n: 1 }, None);
        }
    }

    /// Called every animation frame.
    fn tick(&mut self) {
        if self.playing && !self.stepping && self.last.is_some() {
            self.stepping = true;
            let n = self.state.speed as usize;
            self.send(&Request::Step { n }, None);
        }
        if self.dirty {
            self.dirty = false;
            self.render();
        }
    }

    fn on_response(&mut self, resp: Response) {
        match resp {
            Response::Ready => {
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
                self.restart();
            }
            Response::Started {
                measure,
                watch,
                warnings,
                report,
            } => {
                self.stepping = false;
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
                self.push(report);
                dom::set_text(&self.doc, "status-note", "ready: press Play");
            }
            Response::Report(report) => {
                self.stepping = false;
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
                self.push(report);
            }
            Response::Error { message } => {
                self.stepping = false;
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
        self.dirty = true;
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

    fn render(&self) {
        let Some(r) = &self.last else { return };
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
        if let Err(e) = self.draw(r) {
            show_error(&self.doc, &e);
        }
    }

    fn draw(&self, r: &Report) -> Result<(), String> {
        let scale = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0)
            .max(1.0);
        let style = Style { scale };
        let series: Vec<(&str, &[(usize, f64)])> = self
            .ids
            .iter()
            .zip(&self.history)
            .map(|(id, h)| (id.as_str(), h.as_slice()))
            .collect();
        let score = canvas(&self.doc, "score-plot", scale)?;
        plot::score_trace(&score.into_drawing_area(), &series, style).map_err(|e| e.to_string())?;
        let conditions = self.dataset.as_ref().map(|d| d.conditions).unwrap_or(1);
        let y_pcs = DMatrix::from_row_slice(r.y_pcs.len() / 2, 2, &r.y_pcs);
        let pcs = canvas(&self.doc, "pc-plot", scale)?;
        plot::pc_trajectories(
            &pcs.into_drawing_area(),
            &self.x_pcs,
            &y_pcs,
            conditions,
            style,
        )
        .map_err(|e| e.to_string())?;
        let ratios = self
            .dataset
            .as_ref()
            .map(|d| d.explained.as_slice())
            .unwrap_or(&[]);
        let captured = canvas(&self.doc, "pc-r2-plot", scale)?;
        plot::pc_capture(
            &captured.into_drawing_area(),
            &self.pc_history,
            ratios,
            style,
        )
        .map_err(|e| e.to_string())
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
        for (id, v) in [
            ("lr-input", s.lr.to_string()),
            ("seed-input", s.seed.to_string()),
            ("stop-input", s.stop.to_string()),
            ("speed-input", s.speed.to_string()),
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

    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let (state, problems) = UiState::from_hash(&hash);
    if !problems.is_empty() {
        show_error(&doc, &problems.join("; "));
    }
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = Worker::new_with_options("./worker.js", &opts)?;
    let page = Page {
        doc: doc.clone(),
        worker: worker.clone(),
        state,
        next_id: 0,
        stepping: false,
        ready: false,
        dataset: None,
        x_pcs: DMatrix::zeros(0, 2),
        ids: Vec::new(),
        history: Vec::new(),
        pc_history: Vec::new(),
        last: None,
        playing: false,
        dirty: false,
    };
    page.apply_state_to_controls();
    PAGE.with(|p| *p.borrow_mut() = Some(page));

    let on_message = Closure::<dyn Fn(MessageEvent)>::new(|ev: MessageEvent| {
        let body = js_sys::Reflect::get(&ev.data(), &"body".into()).unwrap_or(JsValue::NULL);
        match serde_wasm_bindgen::from_value::<Response>(body) {
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
                p.restart()
            }
        });
    })?;
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
