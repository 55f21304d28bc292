//! The lesson card: the step's text, Previous/Next (each step is a link, `crate::lessons`),
//! a link to the step and End. A step's settings arrive as any link does (the hash); this
//! view shows its text and, once the step's recording is loaded, does its action (Play, or
//! press a panel's Run) through the page.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Document;

use super::{with_page, Ctx, Page, View};
use crate::lessons::{self, Action, Lesson};
use crate::state::UiState;
use crate::web::dom::{self, escape};

#[derive(Default)]
pub(super) struct LessonView {
    /// The step's action, waiting for its recording.
    pending: Option<Action>,
}

impl View for LessonView {
    fn on_state(&mut self, ctx: &mut Ctx, before: &UiState) {
        let s = &ctx.state;
        if (before.lesson.as_str(), before.lesson_step) == (s.lesson.as_str(), s.lesson_step) {
            return;
        }
        self.pending = current(ctx).map(|(l, k)| l.steps[k - 1].action);
        show(ctx);
        // The step is read on its panel's top: the plots, not wherever the link was clicked.
        if self.pending.is_some() {
            if let Ok(Some(main)) = ctx.doc.query_selector("main") {
                main.set_scroll_top(0);
            }
        }
    }
}

impl LessonView {
    /// At page start: the link may open a lesson step.
    pub fn start(&mut self, ctx: &Ctx) {
        self.pending = current(ctx).map(|(l, k)| l.steps[k - 1].action);
        show(ctx);
    }
}

/// The lesson and step (1-based, clamped to its steps) the settings name.
fn current(ctx: &Ctx) -> Option<(&'static Lesson, usize)> {
    let l = lessons::find(&ctx.state.lesson)?;
    let k = (ctx.state.lesson_step as usize).clamp(1, l.steps.len());
    Some((l, k))
}

/// Every frame: once the step's recording is the loaded one, do its action.
pub(super) fn tick(p: &mut Page) {
    let ready = p.ctx.file_loaded.is_none()
        && p.ctx
            .dataset
            .as_ref()
            .is_some_and(|d| d.name == p.ctx.state.dataset);
    if !ready {
        return;
    }
    match p.lesson.pending.take() {
        Some(Action::Play) => {
            p.run.restart(&mut p.ctx);
            p.run.set_playing(&mut p.ctx, true);
        }
        Some(Action::Click(id)) => {
            // After this frame: a click dispatches its handler at once, and the handler needs
            // the page this frame is holding.
            let doc = p.ctx.doc.clone();
            let press = Closure::once_into_js(move || {
                if let Some(b) =
                    dom::el(&doc, id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    b.click();
                }
            });
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback(press.unchecked_ref());
            }
        }
        Some(Action::None) | None => {}
    }
}

fn show(ctx: &Ctx) {
    let doc = &ctx.doc;
    let Some((l, k)) = current(ctx) else {
        dom::set_hidden(doc, "lesson", true);
        return;
    };
    if ctx.state.lesson_step as usize != k {
        ctx.error(&format!(
            "lesson `{}` has {} steps: showing step {k}",
            l.id,
            l.steps.len()
        ));
    }
    dom::set_text(doc, "lesson-title", l.title);
    dom::set_text(
        doc,
        "lesson-count",
        &format!("step {k} of {}", l.steps.len()),
    );
    dom::set_text(doc, "lesson-text", l.steps[k - 1].text);
    if let Some(a) = dom::el(doc, "lesson-link") {
        let _ = a.set_attribute("href", &format!("#{}", l.link(k)));
    }
    for (id, off) in [("lesson-prev", k == 1), ("lesson-next", k == l.steps.len())] {
        if let Some(b) = dom::el(doc, id) {
            let _ = if off {
                b.set_attribute("disabled", "")
            } else {
                b.remove_attribute("disabled")
            };
        }
    }
    dom::set_hidden(doc, "lesson", false);
}

/// Go `by` steps from the lesson's step on screen: its link, as if followed.
fn go(p: &Page, by: isize) {
    let Some((l, k)) = current(&p.ctx) else {
        return;
    };
    let k = k as isize + by;
    if (1..=l.steps.len() as isize).contains(&k) {
        let k = k as usize;
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&l.link(k));
        }
    }
}

/// The lesson list in the Demonstrations drawer and the card's buttons.
pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    if let Some(list) = dom::el(doc, "lesson-list") {
        let items: Vec<String> = lessons::LESSONS
            .iter()
            .map(|l| {
                format!(
                    "<li><a data-testid=\"lesson-{id}\" href=\"#{}\">{}</a> ({} step{})</li>",
                    escape(&l.link(1)),
                    escape(l.title),
                    l.steps.len(),
                    if l.steps.len() == 1 { "" } else { "s" },
                    id = l.id,
                )
            })
            .collect();
        list.set_inner_html(&items.concat());
    }
    dom::on(doc, "lesson-next", "click", |_: web_sys::Event| {
        with_page(|p| go(p, 1));
    })?;
    dom::on(doc, "lesson-prev", "click", |_: web_sys::Event| {
        with_page(|p| go(p, -1));
    })?;
    dom::on(doc, "lesson-end", "click", |_: web_sys::Event| {
        with_page(|p| p.set_field("lesson", ""));
    })?;
    Ok(())
}
