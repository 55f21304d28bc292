//! The page: DOM wiring, the animation loop and drawing (wasm32 only).
//!
//! One small controller: `App` owns the session and the score history; buttons and the
//! animation frame call into it through a thread-local. Drawing goes through `crate::plot`,
//! the same functions the CLI renders to SVG.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use plotters::prelude::IntoDrawingArea;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlCanvasElement, HtmlElement};

use crate::data::{datasets, Recording};
use crate::measures::cka::Cka;
use crate::optim::session::{initial_y, Session};
use crate::plot::{self, Style};
use crate::target::Target;

/// The run's settings (later: the URL-hash state table).
#[derive(Clone, Debug)]
struct Settings {
    dataset: String,
    seed: u64,
    lr: f64,
    /// Pause automatically once the score exceeds this (the paper's 0.99).
    stop: f64,
    steps_per_frame: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dataset: "toy2d".into(),
            seed: 0,
            lr: 0.1,
            stop: 0.99,
            steps_per_frame: 1,
        }
    }
}

struct App {
    doc: Document,
    settings: Settings,
    recording: Recording,
    target: Arc<Target>,
    x_pcs: nalgebra::DMatrix<f64>,
    session: Session,
    history: Vec<(usize, f64)>,
    playing: bool,
}

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

fn with_app<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.with(|a| a.borrow_mut().as_mut().map(f))
}

/// JavaScript's `String(number)`: the shortest decimal that round-trips.
fn js_number_string(v: f64) -> String {
    js_sys::Number::from(v)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

impl App {
    fn new(doc: Document, settings: Settings) -> Result<App, String> {
        let recording = datasets::builtin(&settings.dataset)
            .ok_or_else(|| format!("unknown dataset `{}`", settings.dataset))?;
        let target = Arc::new(Target::new(&recording.data).map_err(|e| e.to_string())?);
        let x_pcs = target.project(&recording.data, 2);
        let session = Self::fresh_session(&target, &settings);
        let mut app = App {
            doc,
            settings,
            recording,
            target,
            x_pcs,
            session,
            history: Vec::new(),
            playing: false,
        };
        app.history.push((0, app.session.report().score));
        Ok(app)
    }

    fn fresh_session(target: &Arc<Target>, s: &Settings) -> Session {
        let y0 = initial_y(target.n, target.p, s.seed);
        Session::new(target.clone(), Box::new(Cka::new(target.clone())), y0, s.lr)
    }

    fn reset(&mut self) {
        self.session = Self::fresh_session(&self.target, &self.settings);
        self.history = vec![(0, self.session.report().score)];
        self.set_playing(false);
        self.render();
    }

    fn step(&mut self, n: usize) {
        for _ in 0..n {
            let r = self.session.step(1);
            self.history.push((r.step, r.score));
            if r.score > self.settings.stop && self.playing {
                self.set_playing(false);
                self.set_text(
                    "status-note",
                    &format!("passed {} at step {}", self.settings.stop, r.step),
                );
                break;
            }
        }
        self.render();
    }

    fn set_playing(&mut self, playing: bool) {
        self.playing = playing;
        if let Some(b) = self.doc.get_element_by_id("play") {
            b.set_text_content(Some(if playing { "Pause" } else { "Play" }));
            let _ = b.set_attribute("aria-pressed", if playing { "true" } else { "false" });
        }
        if playing {
            self.set_text("status-note", "optimising…");
        }
    }

    fn set_text(&self, id: &str, text: &str) {
        if let Some(e) = self.doc.get_element_by_id(id) {
            e.set_text_content(Some(text));
        }
    }

    fn render(&self) {
        let r = self.session.report();
        if let Some(e) = self.doc.get_element_by_id("step-count") {
            e.set_text_content(Some(&r.step.to_string()));
            let _ = e.set_attribute("data-value", &r.step.to_string());
        }
        if let Some(e) = self.doc.get_element_by_id("score-cka") {
            e.set_text_content(Some(&format!("{:.6}", r.score)));
            let _ = e.set_attribute("data-value", &js_number_string(r.score));
        }
        if let Err(e) = self.draw() {
            show_error(&self.doc, &e);
        }
    }

    fn draw(&self) -> Result<(), String> {
        let scale = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0)
            .max(1.0);
        let style = Style { scale };
        let score = canvas(&self.doc, "score-plot", scale)?;
        plot::score_trace(&score.into_drawing_area(), &[("cka", &self.history)], style)
            .map_err(|e| e.to_string())?;
        let pcs = canvas(&self.doc, "pc-plot", scale)?;
        let y_pcs = self.target.project(self.session.y(), 2);
        plot::pc_trajectories(
            &pcs.into_drawing_area(),
            &self.x_pcs,
            &y_pcs,
            self.recording.conditions(),
            style,
        )
        .map_err(|e| e.to_string())
    }
}

/// A plotters backend on the canvas `id`, sized to its CSS box times the device pixel ratio.
fn canvas(doc: &Document, id: &str, scale: f64) -> Result<CanvasBackend, String> {
    let el: HtmlCanvasElement = doc
        .get_element_by_id(id)
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

fn show_error(doc: &Document, msg: &str) {
    if let Some(e) = doc.get_element_by_id("error") {
        e.set_text_content(Some(msg));
        if let Ok(h) = e.dyn_into::<HtmlElement>() {
            h.set_hidden(false);
        }
    }
}

fn on_click(doc: &Document, id: &str, f: impl Fn() + 'static) -> Result<(), JsValue> {
    let el = doc
        .get_element_by_id(id)
        .ok_or_else(|| JsValue::from_str(&format!("missing #{id}")))?;
    let cb = Closure::<dyn Fn()>::new(f);
    el.add_event_listener_with_callback("click", cb.as_ref().unchecked_ref())?;
    cb.forget(); // lives as long as the page
    Ok(())
}

/// The animation-frame callback, kept alive for the page's lifetime.
type FrameCallback = Closure<dyn FnMut()>;

fn request_frame(f: &FrameCallback) {
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(f.as_ref().unchecked_ref());
    }
}

/// Entry point: build the app on the default dataset and wire the controls.
#[wasm_bindgen(start)]
pub fn start() -> Result<(), JsValue> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let app = App::new(doc.clone(), Settings::default()).map_err(|e| {
        show_error(&doc, &e);
        JsValue::from_str(&e)
    })?;
    if let Some(e) = doc.get_element_by_id("dataset-name") {
        e.set_text_content(Some(&format!(
            "{} · shape ({}) · {} PCs",
            app.recording.name,
            app.recording
                .dims
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            app.target.rank()
        )));
    }
    APP.with(|a| *a.borrow_mut() = Some(app));

    // The animation loop: while playing, take `steps_per_frame` steps per frame.
    let frame: Rc<RefCell<Option<FrameCallback>>> = Rc::new(RefCell::new(None));
    let frame2 = frame.clone();
    *frame.borrow_mut() = Some(Closure::new(move || {
        let playing = with_app(|app| {
            if app.playing {
                app.step(app.settings.steps_per_frame);
            }
            app.playing
        });
        if playing == Some(true) {
            if let Some(f) = frame2.borrow().as_ref() {
                request_frame(f);
            }
        }
    }));
    let start_loop = {
        let frame = frame.clone();
        move || {
            if let Some(f) = frame.borrow().as_ref() {
                request_frame(f);
            }
        }
    };

    on_click(&doc, "play", move || {
        let now = with_app(|app| {
            let p = !app.playing;
            app.set_playing(p);
            p
        });
        if now == Some(true) {
            start_loop();
        }
    })?;
    on_click(&doc, "step", || {
        with_app(|app| {
            app.set_playing(false);
            app.step(1);
        });
    })?;
    on_click(&doc, "reset", || {
        with_app(|app| app.reset());
    })?;
    // Redraw on resize so canvases stay sharp.
    let resize = Closure::<dyn Fn()>::new(|| {
        with_app(|app| app.render());
    });
    if let Some(w) = web_sys::window() {
        w.add_event_listener_with_callback("resize", resize.as_ref().unchecked_ref())?;
    }
    resize.forget();
    with_app(|app| {
        app.render();
        app.set_text("status-note", "ready: press Play");
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::js_number_string;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// Readouts hold what JavaScript's `String(number)` prints, which round-trips exactly.
    #[wasm_bindgen_test]
    fn readout_strings_round_trip() {
        assert_eq!(js_number_string(0.1), "0.1");
        assert_eq!(js_number_string(1.0), "1");
        for v in [0.047872489371448584, 0.9947907799936062, 1e-300, -2.5e21] {
            assert_eq!(js_number_string(v).parse::<f64>().unwrap(), v);
        }
    }
}
