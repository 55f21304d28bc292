//! The page side: controls, URL state, drawing. It never runs numerics itself; it sends
//! requests to the worker and draws the answers, once per animation frame.
//!
//! One view per panel (`recording`, `run`, `decode`, `perturb`, `joint`, `calibrate`,
//! `compare`, `prune`, and the `lesson` card), each owning its fields and implementing the same few hooks ([`View`]); the
//! [`Page`] keeps the document, the worker, the settings and the views, and this module only
//! dispatches: a worker answer goes to the view of its panel, a settings change and a new
//! recording to every view, a frame to every view's `tick` and to the plots that changed.

mod calibrate;
mod compare;
mod controls;
mod decode;
mod export;
mod joint;
mod lesson;
mod perturb;
mod prune;
mod recording;
mod run;

use std::cell::RefCell;
use std::rc::Rc;

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, IntoDrawingArea};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlCanvasElement, MessageEvent, Worker};

use super::dom;
use super::protocol::{DatasetSummary, Request, Response, RunResponse, WorkerResponse};
use crate::plot::Style;
use crate::state::UiState;

/// What every view may use: the document, the worker, the settings, the loaded recording,
/// and the queue of plots to redraw.
pub(super) struct Ctx {
    pub doc: Document,
    worker: Worker,
    next_id: u32,
    pub state: UiState,
    /// The worker has started.
    pub ready: bool,
    /// The loaded recording.
    pub dataset: Option<DatasetSummary>,
    /// Whether Play is on (the Optimise view sets it; decoding yields to stepping by it).
    pub playing: bool,
    /// The Compare panel's last report as (model, [(measure id, score)]): the Optimise and
    /// Joint plots mark each model where it stands. Cleared with the recording.
    pub model_scores: Vec<(String, Vec<(String, f64)>)>,
    /// The name of the user's file loaded as the recording (None: the settings' built-in),
    /// which the dataset menu shows instead of the built-in the settings still name.
    pub file_loaded: Option<String>,
    /// Redraw every plot at the next frame.
    dirty: bool,
    /// Plots to redraw at the next frame when not everything is `dirty`: a step report redraws
    /// only the plots that follow the run, a joint slice only the joint plot (repainting
    /// every canvas at every message starved the main thread).
    redraw: Vec<&'static str>,
    /// The earliest time (page clock, ms) for the next redraw of `redraw` alone.
    render_not_before: f64,
}

impl Ctx {
    /// Send a request (with a file's bytes, transferred) to the worker.
    pub fn send(&mut self, req: Request, bytes: Option<js_sys::Uint8Array>) {
        self.next_id += 1;
        let msg = js_sys::Object::new();
        let body = serde_wasm_bindgen::to_value(&req).unwrap_or(JsValue::NULL);
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

    /// Redraw plot `id` at a coming frame.
    pub fn redraw(&mut self, id: &'static str) {
        if !self.redraw.contains(&id) {
            self.redraw.push(id);
        }
    }

    /// Redraw every plot at the next frame.
    pub fn redraw_all(&mut self) {
        self.dirty = true;
    }

    /// Each model's score on measure `id` (any alias), for the plots' model marks.
    pub fn model_marks(&self, id: &str) -> Vec<(&str, f64)> {
        let id = crate::measures::registry::entry(id).map_or(id.to_string(), |e| e.id);
        self.model_scores
            .iter()
            .filter_map(|(name, scores)| {
                let v = scores.iter().find(|(m, _)| *m == id)?.1;
                Some((name.as_str(), v))
            })
            .collect()
    }

    /// Show a message in the error banner (kept until dismissed or replaced).
    pub fn error(&self, msg: &str) {
        show_error(&self.doc, msg);
    }
}

/// The hooks every panel's view implements (the defaults do nothing).
pub(super) trait View {
    /// The canvases this view draws (each gets PNG and SVG export buttons).
    const PLOTS: &'static [&'static str] = &[];

    /// A new recording is loaded (`ctx.dataset` is set): drop what belonged to the old one.
    fn on_loaded(&mut self, _ctx: &mut Ctx) {}

    /// The settings changed from `before` to `ctx.state`.
    fn on_state(&mut self, _ctx: &mut Ctx, _before: &UiState) {}

    /// Every animation frame.
    fn tick(&mut self, _ctx: &mut Ctx) {}

    /// Whether plot `id` has something to draw now (a plot without data keeps its canvas).
    fn ready(&self, _ctx: &Ctx, _id: &str) -> bool {
        true
    }

    /// Draw plot `id` on any backend (the canvas, or SVG for export).
    fn draw<DB: DrawingBackend>(
        &self,
        _ctx: &Ctx,
        id: &str,
        _root: &DrawingArea<DB, Shift>,
        _style: Style,
    ) -> Result<(), String> {
        Err(format!("no plot named {id}"))
    }

    /// Plot `id` was drawn on its canvas, at `scale` device pixels per CSS pixel.
    fn drawn(&mut self, _ctx: &mut Ctx, _id: &str, _scale: f64) {}
}

struct Page {
    ctx: Ctx,
    recording: recording::RecordingView,
    run: run::RunView,
    decode: decode::DecodeView,
    perturb: perturb::PerturbView,
    joint: joint::JointView,
    calibrate: calibrate::CalibrateView,
    compare: compare::CompareView,
    prune: prune::PruneView,
    lesson: lesson::LessonView,
}

/// `$body` for each view of `$page` as `$v` (with `$ctx` the page's context): the views are
/// concrete types (their `draw` is generic over the plotting backend), so the loop is spelled
/// out by this macro.
macro_rules! each_view {
    ($page:expr, |$v:ident, $ctx:ident| $body:expr) => {{
        let p = &mut *$page;
        let $ctx = &mut p.ctx;
        {
            let $v = &mut p.recording;
            $body;
        }
        {
            let $v = &mut p.run;
            $body;
        }
        {
            let $v = &mut p.decode;
            $body;
        }
        {
            let $v = &mut p.perturb;
            $body;
        }
        {
            let $v = &mut p.joint;
            $body;
        }
        {
            let $v = &mut p.calibrate;
            $body;
        }
        {
            let $v = &mut p.compare;
            $body;
        }
        {
            let $v = &mut p.prune;
            $body;
        }
        {
            let $v = &mut p.lesson;
            $body;
        }
    }};
}

/// `$body` with `$v` the view of `$page` that owns plot `$id` (`mut`: mutably), if one does.
macro_rules! view_of {
    ($page:expr, $id:expr, |$v:ident| $body:expr) => {
        view_of!(@ref $page, $id, $v, $body, recording run decode perturb joint calibrate compare prune)
    };
    (mut $page:expr, $id:expr, |$v:ident| $body:expr) => {
        view_of!(@mut $page, $id, $v, $body, recording run decode perturb joint calibrate compare prune)
    };
    (@ref $page:expr, $id:expr, $v:ident, $body:expr, $($f:ident)*) => {{
        let id: &str = $id;
        let mut out = None;
        $(
            if out.is_none() && plots_of(&$page.$f).contains(&id) {
                let $v = &$page.$f;
                out = Some($body);
            }
        )*
        out
    }};
    (@mut $page:expr, $id:expr, $v:ident, $body:expr, $($f:ident)*) => {{
        let id: &str = $id;
        let mut out = None;
        $(
            if out.is_none() && plots_of(&$page.$f).contains(&id) {
                let $v = &mut $page.$f;
                out = Some($body);
            }
        )*
        out
    }};
}

/// Every plot of the page, by canvas id, in drawing order.
fn all_plots() -> Vec<&'static str> {
    [
        recording::RecordingView::PLOTS,
        run::RunView::PLOTS,
        decode::DecodeView::PLOTS,
        perturb::PerturbView::PLOTS,
        joint::JointView::PLOTS,
        calibrate::CalibrateView::PLOTS,
        compare::CompareView::PLOTS,
        prune::PruneView::PLOTS,
    ]
    .concat()
}

thread_local! {
    static PAGE: RefCell<Option<Page>> = const { RefCell::new(None) };
}

fn with_page<R>(f: impl FnOnce(&mut Page) -> R) -> Option<R> {
    PAGE.with(|p| p.borrow_mut().as_mut().map(f))
}

/// Read a user's file (refused above the readers' size limit, before reading) and hand its
/// name and bytes to `send` on the page: every file input (recording, labels, model, prune).
fn read_user_file(
    file: web_sys::File,
    send: impl FnOnce(&mut Page, String, js_sys::Uint8Array) + 'static,
) {
    let name = file.name();
    let max = crate::data::MAX_FILE_BYTES;
    if file.size() > max as f64 {
        with_page(|p| {
            p.ctx.error(&format!(
                "{name}: the file is {:.0} MiB; simscope reads files up to {} MiB. Reduce it (e.g. fewer neurons or PCs) and try again.",
                file.size() / 1048576.0,
                max / 1048576
            ))
        });
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
        with_page(|p| match buf {
            Ok(buf) => send(p, name, js_sys::Uint8Array::new(&buf)),
            Err(_) => p
                .ctx
                .error(&format!("{name}: the browser could not read the file")),
        });
    });
}

/// Show a message in the error banner (kept until dismissed or replaced).
pub fn show_error(doc: &Document, msg: &str) {
    dom::set_text(doc, "error-text", msg);
    dom::set_hidden(doc, "error", false);
}

impl Page {
    fn on_response(&mut self, resp: Response) {
        let ctx = &mut self.ctx;
        match resp {
            Response::Worker(WorkerResponse::Ready { simd }) => {
                // Which wasm build the worker runs, for tests and the curious.
                if let Some(root) = ctx.doc.document_element() {
                    let _ = root.set_attribute("data-wasm", if simd { "simd" } else { "fallback" });
                }
                ctx.ready = true;
                self.recording.load_builtin(ctx);
                self.prune.load_demo(ctx);
            }
            Response::Worker(WorkerResponse::Failed { message }) => ctx.error(&message),
            Response::Recording(r) => {
                if let Some(summary) = self.recording.on_response(ctx, r) {
                    ctx.dataset = Some(summary);
                    ctx.redraw_all();
                    each_view!(self, |v, ctx| v.on_loaded(ctx));
                }
            }
            Response::Run(r) => match r {
                RunResponse::Decoding { .. } => self.decode.on_response(ctx, r),
                RunResponse::Started { ref variables, .. } => {
                    self.decode.on_started(ctx, variables);
                    self.run.on_response(ctx, r);
                }
                RunResponse::Report(ref report) => {
                    self.decode.on_report(report);
                    self.run.on_response(ctx, r);
                }
                RunResponse::Failed { .. } => {
                    self.decode.on_failed();
                    self.run.on_response(ctx, r);
                }
                // The new recording's run starts next (Started resets the step count).
                RunResponse::Stale => self.decode.on_failed(),
                RunResponse::Download { .. } => {}
            },
            Response::Perturb(r) => self.perturb.on_response(ctx, r),
            Response::Joint(r) => self.joint.on_response(ctx, r),
            Response::Calibrate(r) => self.calibrate.on_response(ctx, r),
            Response::Compare(r) => self.compare.on_response(ctx, r),
            Response::Prune(r) => self.prune.on_response(ctx, r),
            Response::Bench(_) | Response::Helper(_) => {}
        }
    }

    /// Adopt new settings: mirror them into the controls and the link, then let every view
    /// react to what changed.
    fn change_state(&mut self, next: UiState) {
        let before = std::mem::replace(&mut self.ctx.state, next);
        self.ctx.redraw_all();
        controls::apply_state(&self.ctx);
        each_view!(self, |v, ctx| v.on_state(ctx, &before));
    }

    /// A control changed: check and apply the value (a refused value is named in the banner
    /// and the control shows the setting again).
    fn set_field(&mut self, key: &str, value: &str) {
        // Choosing a built-in while a user's file is loaded loads it, even the one the
        // settings already name (the file replaced it without changing the settings).
        if key == "dataset" && self.ctx.file_loaded.is_some() {
            if value.is_empty() {
                // The file's own entry: it is already loaded.
                return;
            }
            self.ctx.file_loaded = None;
            if value == self.ctx.state.dataset {
                controls::show_file_choice(&self.ctx);
                self.recording.load_builtin(&mut self.ctx);
                return;
            }
        }
        let mut next = self.ctx.state.clone();
        match next.set(key, value) {
            Ok(()) => self.change_state(next),
            Err(e) => {
                self.ctx.error(&format!("{key}: {e}"));
                controls::apply_state(&self.ctx);
            }
        }
    }

    /// Called every animation frame: each view's work, then the plots that changed. Redraws
    /// for step reports take at most about half of the main thread: where the plots take
    /// longer than a frame to draw, frames (and step requests) keep coming and the plots
    /// update every other frame or so. Anything else redraws at once.
    fn tick(&mut self) {
        each_view!(self, |v, ctx| v.tick(ctx));
        lesson::tick(self);
        let now = now_ms();
        let c = &mut self.ctx;
        if c.dirty || (!c.redraw.is_empty() && now >= c.render_not_before) {
            let only = (!c.dirty).then(|| std::mem::take(&mut c.redraw));
            c.dirty = false;
            c.redraw.clear();
            self.render(only.as_deref());
            let done = now_ms();
            self.ctx.render_not_before = done + (done - now);
        }
    }

    /// Draw the plots (`only`: just these, else all) on their canvases.
    fn render(&mut self, only: Option<&[&str]>) {
        self.run.show_readouts(&self.ctx);
        if self.ctx.dataset.is_none() {
            return;
        }
        let scale = device_scale();
        // Classroom mode enlarges the plots' type and lines too, for the back of the room.
        let style = Style {
            scale: scale * if self.ctx.state.classroom { 1.4 } else { 1.0 },
        };
        for id in all_plots() {
            // Canvases in a closed tab are drawn when it opens (a state change marks dirty).
            if only.is_some_and(|o| !o.contains(&id)) || !dom::is_shown(&self.ctx.doc, id) {
                continue;
            }
            if !self.ready(id) {
                continue;
            }
            let drawn = canvas(&self.ctx.doc, id, scale)
                .and_then(|c| self.draw(id, &c.into_drawing_area(), style));
            match drawn {
                Ok(()) => self.drawn(id, scale),
                Err(e) => self.ctx.error(&e),
            }
        }
    }

    fn ready(&self, id: &str) -> bool {
        view_of!(self, id, |v| v.ready(&self.ctx, id)).unwrap_or(false)
    }

    /// Draw plot `id` on any backend: the view that owns it draws.
    fn draw<DB: DrawingBackend>(
        &self,
        id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        view_of!(self, id, |v| v.draw(&self.ctx, id, root, style))
            .unwrap_or_else(|| Err(format!("no plot named {id}")))
    }

    fn drawn(&mut self, id: &str, scale: f64) {
        view_of!(mut self, id, |v| v.drawn(&mut self.ctx, id, scale));
    }
}

/// The plots a view draws (its `PLOTS`, through a value).
fn plots_of<V: View>(_: &V) -> &'static [&'static str] {
    V::PLOTS
}

/// The page clock in milliseconds.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Device pixels per CSS pixel (at least 1).
fn device_scale() -> f64 {
    web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .max(1.0)
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
    controls::fill_controls(&doc);
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
    let ctx = Ctx {
        doc: doc.clone(),
        worker: worker.clone(),
        next_id: 0,
        state,
        ready: false,
        dataset: None,
        playing: false,
        model_scores: Vec::new(),
        file_loaded: None,
        dirty: false,
        redraw: Vec::new(),
        render_not_before: 0.0,
    };
    controls::apply_state(&ctx);
    let page = Page {
        ctx,
        recording: Default::default(),
        run: Default::default(),
        decode: Default::default(),
        perturb: Default::default(),
        joint: Default::default(),
        calibrate: Default::default(),
        compare: Default::default(),
        prune: Default::default(),
        lesson: Default::default(),
    };
    PAGE.with(|p| *p.borrow_mut() = Some(page));
    with_page(|p| p.lesson.start(&p.ctx));

    let on_message = Closure::<dyn Fn(MessageEvent)>::new(|ev: MessageEvent| {
        let body = js_sys::Reflect::get(&ev.data(), &"body".into()).unwrap_or(JsValue::NULL);
        match serde_wasm_bindgen::from_value::<Response>(body) {
            Ok(Response::Run(RunResponse::Download { name })) => {
                let bytes = js_sys::Reflect::get(&ev.data(), &"bytes".into())
                    .ok()
                    .and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok())
                    .map(|a| a.to_vec())
                    .unwrap_or_default();
                with_page(|p| p.run.offer_download(&p.ctx, &bytes, &name));
            }
            Ok(resp) => {
                with_page(|p| p.on_response(resp));
            }
            Err(e) => {
                with_page(|p| {
                    p.ctx
                        .error(&format!("unexpected message from the worker: {e}"))
                });
            }
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(|ev: web_sys::ErrorEvent| {
        with_page(|p| p.ctx.error(&format!("the worker failed: {}", ev.message())));
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();

    controls::wire(&doc)?;
    recording::wire(&doc)?;
    run::wire(&doc)?;
    perturb::wire(&doc)?;
    joint::wire(&doc)?;
    calibrate::wire(&doc)?;
    compare::wire(&doc)?;
    prune::wire(&doc)?;
    lesson::wire(&doc)?;
    export::wire(&doc, &all_plots())?;

    // The animation loop: each view's work, then draw what changed.
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
