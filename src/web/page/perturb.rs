//! The Perturb-PCs panel: draggable PC bars, angle and scale inputs, the closed-form
//! theory beside the measured scores, and the paper's sweep (run in worker slices).

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, KeyboardEvent};

use super::{with_page, Ctx, View};
use crate::measures::def::List;
use crate::measures::registry;
use crate::plot::{self, BarLayout, Style};
use crate::state::{format_pert, parse_pert, PertEntry, UiState, PERT_MAX_SCALE};
use crate::web::dom::{self, js_number_string};
use crate::web::protocol::{PerturbRequest, PerturbResponse, PerturbSettings, Request};

/// At most this many PC bars are drawn (and draggable).
const PERTURB_BARS: usize = 20;

/// The last perturbation result: (settings tag, ids, measured, theory, exact).
type Scored = (String, Vec<String>, Vec<f64>, Vec<Option<f64>>, bool);
/// The sweep so far: (ids, rows of (variance ratio, measured, theory), exact).
type Sweep = (Vec<String>, Vec<plot::SweepRow>, bool);

#[derive(Default)]
pub(super) struct PerturbView {
    /// Where the PC bars were drawn (CSS pixels), for pointer hit-testing.
    layout: Option<BarLayout>,
    /// The focused PC bar (0-based): arrow keys and the angle/scale inputs act on it.
    focus: usize,
    /// The bar being dragged, if a pointer is down on one.
    drag: Option<usize>,
    /// A score request is out; `stale` asks for another once it returns.
    inflight: bool,
    stale: bool,
    scored: Option<Scored>,
    sweep: Option<Sweep>,
    sweeping: bool,
    /// The layout of the bars last drawn (set while drawing, read once drawn on the canvas).
    drawing: std::cell::Cell<Option<BarLayout>>,
}

impl View for PerturbView {
    const PLOTS: &'static [&'static str] = &["pert-plot", "sweep-plot"];

    fn on_loaded(&mut self, ctx: &mut Ctx) {
        self.sweep = None;
        self.sweeping = false;
        dom::set_hidden(&ctx.doc, "sweep-plot", true);
        dom::set_text(&ctx.doc, "sweep-note", "");
        self.focus = self.focus.min(bar_count(ctx).saturating_sub(1));
        self.request(ctx);
        self.show_controls(ctx);
    }

    fn on_state(&mut self, ctx: &mut Ctx, before: &UiState) {
        let s = &ctx.state;
        let changed = before.pert != s.pert || before.measure != s.measure || before.seed != s.seed;
        if changed && before.dataset == s.dataset {
            self.request(ctx);
            self.show_controls(ctx);
        }
    }

    fn ready(&self, _ctx: &Ctx, id: &str) -> bool {
        id != "sweep-plot" || self.sweep.is_some()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        ctx: &Ctx,
        id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let e = |e: plot::PlotError| e.to_string();
        match id {
            "pert-plot" => {
                let ratios = ctx.dataset.as_ref().map_or(&[][..], |d| &d.explained);
                let m = bar_count(ctx);
                let (scales, angles): (Vec<f64>, Vec<f64>) =
                    (0..m).map(|k| pert_of(ctx, k)).unzip();
                let layout = plot::variance_bars(
                    root,
                    &ratios[..m.min(ratios.len())],
                    &scales,
                    &angles,
                    Some(self.focus),
                    style,
                )
                .map_err(e)?;
                self.drawing.set(Some(layout));
                Ok(())
            }
            "sweep-plot" => match &self.sweep {
                Some((ids, rows, _)) => {
                    // Legends in words, as the menus.
                    let names: Vec<String> = ids.iter().map(|id| registry::name(id)).collect();
                    plot::perturb_sweep(root, &names, rows, style).map_err(e)
                }
                None => Ok(()),
            },
            other => Err(format!("no plot named {other}")),
        }
    }

    /// The bars were drawn: keep their layout for pointer hit-testing (and for tests).
    fn drawn(&mut self, ctx: &mut Ctx, id: &str, scale: f64) {
        let (Some(layout), Some(el)) = (self.drawing.take(), dom::el(&ctx.doc, id)) else {
            return;
        };
        let layout = layout.scaled(scale);
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
        self.layout = Some(layout);
    }
}

/// Number of draggable PC bars for the loaded recording.
fn bar_count(ctx: &Ctx) -> usize {
    ctx.dataset
        .as_ref()
        .map_or(0, |d| d.rank.min(d.explained.len()).min(PERTURB_BARS))
}

fn entries(ctx: &Ctx) -> Vec<PertEntry> {
    parse_pert(&ctx.state.pert).unwrap_or_default()
}

/// (scale, angle in degrees) of PC `k` (0-based).
fn pert_of(ctx: &Ctx, k: usize) -> (f64, f64) {
    entries(ctx)
        .iter()
        .find(|e| e.pc == k + 1)
        .map_or((1.0, 0.0), |e| (e.scale, e.angle))
}

/// The measures scored: the paper's Fig 6 ones (the registry's Perturb list) and the
/// optimised one.
fn measures(ctx: &Ctx) -> Vec<String> {
    let mut m = registry::listed_ids(List::Perturb);
    m.push(ctx.state.measure.clone());
    m
}

impl PerturbView {
    /// Ask the worker to score the current perturbation (one request in flight at a time).
    fn request(&mut self, ctx: &mut Ctx) {
        if ctx.dataset.is_none() {
            return;
        }
        if self.inflight {
            self.stale = true;
            return;
        }
        self.stale = false;
        self.inflight = true;
        let req = PerturbRequest::Score(PerturbSettings {
            entries: entries(ctx)
                .iter()
                .map(|e| (e.pc - 1, e.scale, e.angle))
                .collect(),
            measures: measures(ctx),
            seed: ctx.state.seed,
            tag: ctx.state.pert.clone(),
        });
        ctx.send(Request::Perturb(req), None);
    }

    fn request_sweep(&mut self, ctx: &mut Ctx) {
        if ctx.dataset.is_none() {
            return;
        }
        dom::set_text(&ctx.doc, "sweep-note", "sweeping…");
        self.sweeping = true;
        let req = PerturbRequest::SweepStart {
            measures: measures(ctx),
            max_pcs: PERTURB_BARS,
            seed: ctx.state.seed,
        };
        ctx.send(Request::Perturb(req), None);
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, r: PerturbResponse) {
        match r {
            PerturbResponse::Scored {
                tag,
                ids,
                measured,
                theory,
                exact,
            } => {
                self.inflight = false;
                self.scored = Some((tag, ids, measured, theory, exact));
                self.show_table(&ctx.doc);
                if self.stale {
                    self.request(ctx);
                }
            }
            PerturbResponse::Sweep {
                ids,
                rows,
                exact,
                done,
                total,
            } => {
                if !self.sweeping {
                    return;
                }
                let note = if done < total {
                    format!("sweeping… PC {done}/{total}")
                } else {
                    self.sweeping = false;
                    format!(
                        "{} PCs decorrelated one at a time (θ = 90°){}",
                        rows.len(),
                        if exact {
                            "; the closed forms are exact here"
                        } else {
                            "; X has too few conditions for an exact complement, so the lines are approximate"
                        }
                    )
                };
                dom::set_text(&ctx.doc, "sweep-note", &note);
                if let Some(c) = dom::el(&ctx.doc, "sweep-plot") {
                    let _ = c.set_attribute("data-rows", &rows.len().to_string());
                }
                dom::set_hidden(&ctx.doc, "sweep-plot", false);
                self.sweep = Some((ids, rows, exact));
                if self.sweeping {
                    ctx.send(Request::Perturb(PerturbRequest::SweepSlice), None);
                }
                ctx.redraw("sweep-plot");
            }
            PerturbResponse::SweepCancelled => self.sweeping = false,
            PerturbResponse::Failed { message } => {
                self.inflight = false;
                self.sweeping = false;
                ctx.error(&message);
            }
        }
    }

    /// Measured next to closed-form scores, with full-precision `data-value`s for tests.
    fn show_table(&self, doc: &Document) {
        let Some((tag, ids, measured, theory, exact)) = &self.scored else {
            return;
        };
        let Some(body) = dom::el(doc, "pert-rows") else {
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
        if let Some(table) = dom::el(doc, "pert-table") {
            let _ = table.set_attribute("data-pert", tag);
            let _ = table.set_attribute("data-exact", if *exact { "1" } else { "0" });
        }
        dom::set_text(
            doc,
            "pert-exact",
            if *exact {
                "The theory is exact for this recording (up to rounding)."
            } else {
                "X has too few conditions for a complement orthogonal to every PC: the theory is approximate here."
            },
        );
    }

    /// Mirror the focused PC's settings into the angle and scale inputs.
    fn show_controls(&self, ctx: &Ctx) {
        let (k, doc) = (self.focus, &ctx.doc);
        let (a, t) = pert_of(ctx, k);
        dom::set_text(doc, "pert-focus", &format!("PC{}", k + 1));
        if let Some(e) = dom::input(doc, "pert-angle") {
            e.set_value(&t.to_string());
        }
        if let Some(e) = dom::input(doc, "pert-scale") {
            e.set_value(&a.to_string());
            e.set_max(&PERT_MAX_SCALE.to_string());
        }
        dom::set_text(doc, "pert-angle-value", &format!("{t}°"));
        if let Some(c) = dom::el(doc, "pert-plot") {
            let _ = c.set_attribute(
                "aria-label",
                &format!(
                    "Variance of each PC of X as bars. PC{} focused: scale {a}, decorrelation angle {t} degrees. Left and right arrows choose a PC, up and down rescale it.",
                    k + 1
                ),
            );
        }
    }

    /// A pointer at CSS pixel (x, y) on the bars: start (`down`) or continue a drag. Returns
    /// the PC and scale to set.
    fn pointer(&mut self, ctx: &Ctx, x: f64, y: f64, down: bool) -> Option<(usize, f64)> {
        let layout = self.layout?;
        let k = if down {
            let k = layout.bar_at(x)?;
            self.drag = Some(k);
            self.focus = k;
            k
        } else {
            self.drag?
        };
        let r = ctx.dataset.as_ref()?.explained.get(k).copied()?;
        let v = layout.log_value_at(y);
        let a = if v <= layout.lo + 0.01 * (layout.hi - layout.lo) {
            0.0
        } else {
            (10f64.powf(v) / r).sqrt()
        };
        Some((k, a))
    }

    /// A key on the focused bar: the PC and scale to set, or None; `handled` if it was ours.
    fn key(&mut self, ctx: &Ctx, key: &str) -> (bool, Option<(usize, f64)>) {
        let m = bar_count(ctx);
        if m == 0 {
            return (false, None);
        }
        let k = self.focus.min(m - 1);
        match key {
            "ArrowLeft" => self.focus = k.saturating_sub(1),
            "ArrowRight" => self.focus = (k + 1).min(m - 1),
            "Home" => self.focus = 0,
            "End" => self.focus = m - 1,
            "ArrowUp" | "ArrowDown" => {
                let (a, _) = pert_of(ctx, k);
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
                return (true, Some((k, a)));
            }
            _ => return (false, None),
        }
        (true, None)
    }
}

/// Change PC `k`'s scale and/or angle (rounded so links stay short) through the state table,
/// then mirror the focused PC into the inputs.
fn set_pert(k: usize, scale: Option<f64>, angle: Option<f64>) {
    with_page(|p| {
        let ctx = &p.ctx;
        let (a0, t0) = pert_of(ctx, k);
        let a = scale
            .map(|a| (a.clamp(0.0, PERT_MAX_SCALE) * 1000.0).round() / 1000.0)
            .unwrap_or(a0);
        let t = angle.map(|t| t.clamp(0.0, 90.0).round()).unwrap_or(t0);
        let mut list = entries(ctx);
        list.retain(|e| e.pc != k + 1);
        list.push(PertEntry {
            pc: k + 1,
            scale: a,
            angle: t,
        });
        let text = format_pert(&list);
        if text != p.ctx.state.pert {
            p.set_field("pert", &text);
        }
        p.perturb.show_controls(&p.ctx);
        p.ctx.redraw_all();
    });
}

/// The Perturb panel: drag bars with any pointer (mouse, pen, touch), arrow keys on the
/// focused bar, the angle slider and scale box for the focused PC, reset and sweep.
pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    let pos = |ev: &web_sys::MouseEvent| (ev.offset_x() as f64, ev.offset_y() as f64);
    let drag = move |ev: web_sys::MouseEvent, down: bool| {
        let (x, y) = pos(&ev);
        let hit = with_page(|p| p.perturb.pointer(&p.ctx, x, y, down)).flatten();
        if let Some((k, a)) = hit {
            set_pert(k, Some(a), None);
        }
    };
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
            drag(ev, true);
        },
    )?;
    dom::on(
        doc,
        "pert-plot",
        "pointermove",
        move |ev: web_sys::MouseEvent| drag(ev, false),
    )?;
    for end in ["pointerup", "pointercancel", "lostpointercapture"] {
        dom::on(doc, "pert-plot", end, |_: web_sys::Event| {
            with_page(|p| p.perturb.drag = None);
        })?;
    }
    dom::on(doc, "pert-plot", "keydown", |ev: KeyboardEvent| {
        let (handled, set) =
            with_page(|p| p.perturb.key(&p.ctx, &ev.key())).unwrap_or((false, None));
        if handled {
            ev.prevent_default();
            match set {
                Some((k, a)) => set_pert(k, Some(a), None),
                None => {
                    with_page(|p| {
                        p.perturb.show_controls(&p.ctx);
                        p.ctx.redraw_all();
                    });
                }
            }
        }
    })?;
    let value = |ev: &web_sys::Event| {
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map_or(f64::NAN, |i| i.value_as_number())
    };
    dom::on(doc, "pert-angle", "input", move |ev: web_sys::Event| {
        let v = value(&ev);
        if let (true, Some(k)) = (v.is_finite(), with_page(|p| p.perturb.focus)) {
            set_pert(k, None, Some(v));
        }
    })?;
    dom::on(doc, "pert-scale", "change", move |ev: web_sys::Event| {
        let v = value(&ev);
        if let Some(k) = with_page(|p| p.perturb.focus) {
            let scale = (v.is_finite() && v >= 0.0).then_some(v);
            set_pert(k, scale, None);
        }
    })?;
    dom::on(doc, "pert-reset", "click", |_: web_sys::Event| {
        with_page(|p| {
            p.set_field("pert", "");
            p.perturb.show_controls(&p.ctx);
        });
    })?;
    dom::on(doc, "sweep", "click", |_: web_sys::Event| {
        with_page(|p| p.perturb.request_sweep(&mut p.ctx));
    })?;
    Ok(())
}
