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

/// Whether element `id` takes part in layout (not `display: none`, nor inside a hidden
/// ancestor): drawing a canvas nobody sees is wasted frame time.
pub fn is_shown(doc: &Document, id: &str) -> bool {
    el(doc, id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|e| e.offset_parent().is_some())
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

/// Append one option to `select` in the optgroup labelled `group` (created at the end if it is
/// not there yet).
pub fn add_option(
    doc: &Document,
    select: &HtmlSelectElement,
    group: &str,
    value: &str,
    label: &str,
    title: &str,
) {
    let existing = select
        .query_selector(&format!("optgroup[label=\"{group}\"]"))
        .ok()
        .flatten();
    let parent = match existing {
        Some(el) => el,
        None => match doc.create_element("optgroup") {
            Ok(el) => {
                let _ = el.set_attribute("label", group);
                let _ = select.append_child(&el);
                el
            }
            Err(_) => return,
        },
    };
    if let Ok(o) = doc.create_element("option") {
        let _ = o.set_attribute("value", value);
        let _ = o.set_attribute("title", title);
        o.set_text_content(Some(label));
        let _ = parent.append_child(&o);
    }
}

/// Fill a select with options in groups: (group label, value, label, title), in order; a new
/// `<optgroup>` starts whenever the group label changes.
pub fn fill_select_grouped(doc: &Document, id: &str, options: &[(String, String, String, String)]) {
    let Some(s) = select(doc, id) else { return };
    s.set_inner_html("");
    let mut group: Option<(String, web_sys::Element)> = None;
    for (g, value, label, title) in options {
        if group.as_ref().map(|(name, _)| name) != Some(g) {
            if let Some((_, el)) = group.take() {
                let _ = s.append_child(&el);
            }
            if let Ok(el) = doc.create_element("optgroup") {
                let _ = el.set_attribute("label", g);
                group = Some((g.clone(), el));
            }
        }
        if let (Ok(o), Some((_, parent))) = (doc.create_element("option"), group.as_ref()) {
            let _ = o.set_attribute("value", value);
            let _ = o.set_attribute("title", title);
            o.set_text_content(Some(label));
            let _ = parent.append_child(&o);
        }
    }
    if let Some((_, el)) = group {
        let _ = s.append_child(&el);
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

/// `t` safe inside HTML text and attribute values (names and messages from users' files).
pub fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JavaScript's `String(number)`: the shortest decimal that round-trips.
pub fn js_number_string(v: f64) -> String {
    js_sys::Number::from(v)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

/// Download `url` as `filename` (a temporary `<a download>` clicked and removed).
pub fn download_url(doc: &Document, url: &str, filename: &str) -> Result<(), JsValue> {
    let a: HtmlElement = doc.create_element("a")?.dyn_into()?;
    a.set_attribute("href", url)?;
    a.set_attribute("download", filename)?;
    a.set_hidden(true);
    let body = doc.body().ok_or("no body")?;
    body.append_child(&a)?;
    a.click();
    body.remove_child(&a)?;
    Ok(())
}

/// A same-origin `blob:` URL holding `bytes`.
pub fn object_url(bytes: &[u8]) -> Result<String, JsValue> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts)?;
    let url_api = js_sys::Reflect::get(&js_sys::global(), &"URL".into())?;
    let create: js_sys::Function =
        js_sys::Reflect::get(&url_api, &"createObjectURL".into())?.dyn_into()?;
    create
        .call1(&url_api, &blob)?
        .as_string()
        .ok_or_else(|| "no object URL".into())
}

/// Release a URL made by [`object_url`].
pub fn revoke_url(url: &str) {
    let revoke = js_sys::Reflect::get(&js_sys::global(), &"URL".into()).and_then(|api| {
        let f: js_sys::Function =
            js_sys::Reflect::get(&api, &"revokeObjectURL".into())?.dyn_into()?;
        f.call1(&api, &JsValue::from_str(url))
    });
    let _ = revoke;
}

/// Download `bytes` as `filename` through a Blob and a same-origin object URL (revoked a
/// minute later, once the browser has taken the file).
pub fn download_bytes(doc: &Document, bytes: &[u8], filename: &str) -> Result<(), JsValue> {
    let url = object_url(bytes)?;
    download_url(doc, &url, filename)?;
    let later = Closure::once_into_js(move || revoke_url(&url));
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 60_000);
    }
    Ok(())
}
