//! Small DOM helpers: look-ups by id, text and attribute updates, event wiring.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

pub fn el(doc: &Document, id: &str) -> Option<Element> {
    doc.get_element_by_id(id)
}

pub fn set_text(doc: &Document, id: &str, text: &str) {
    if let Some(e) = el(doc, id) {
        e.set_text_content(Some(text));
    }
}

pub fn set_hidden(doc: &Document, id: &str, hidden: bool) {
    if let Some(h) = el(doc, id).and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
        h.set_hidden(hidden);
    }
}

pub fn input(doc: &Document, id: &str) -> Option<HtmlInputElement> {
    el(doc, id).and_then(|e| e.dyn_into().ok())
}

pub fn select(doc: &Document, id: &str) -> Option<HtmlSelectElement> {
    el(doc, id).and_then(|e| e.dyn_into().ok())
}

/// Replace a `<select>`'s options with (value, label) pairs.
pub fn fill_select(doc: &Document, id: &str, options: &[(String, String)]) {
    if let Some(s) = select(doc, id) {
        s.set_inner_html("");
        for (value, label) in options {
            if let Ok(o) = doc.create_element("option") {
                let _ = o.set_attribute("value", value);
                o.set_text_content(Some(label));
                let _ = s.append_child(&o);
            }
        }
    }
}

/// Call `f` on every `event` at the element `id` (the closure lives as long as the page).
pub fn on<E: JsCast + 'static>(
    doc: &Document,
    id: &str,
    event: &str,
    f: impl Fn(E) + 'static,
) -> Result<(), JsValue> {
    let target = el(doc, id).ok_or_else(|| JsValue::from_str(&format!("missing #{id}")))?;
    listen(&target, event, f)
}

/// Call `f` on every `event` at `target`.
pub fn listen<E: JsCast + 'static>(
    target: &web_sys::EventTarget,
    event: &str,
    f: impl Fn(E) + 'static,
) -> Result<(), JsValue> {
    let cb = Closure::<dyn Fn(JsValue)>::new(move |ev: JsValue| f(ev.unchecked_into()));
    target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

/// JavaScript's `String(number)`: the shortest decimal that round-trips.
pub fn js_number_string(v: f64) -> String {
    js_sys::Number::from(v)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}
