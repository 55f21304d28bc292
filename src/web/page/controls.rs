//! The settings' controls, driven by the state table (`crate::state::FIELDS`): filling the
//! menus, mirroring the settings into the controls, the classroom flag and the link, and
//! wiring every control, the keyboard, the tab bar, the window and the link itself.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, KeyboardEvent};

use super::{with_page, Ctx};
use crate::data::datasets;
use crate::measures::def::List;
use crate::measures::{registry, Direction};
use crate::state::{Control, UiState, FIELDS, PANELS};
use crate::web::dom;

/// Fill every control from the table: fixed choices, the dataset and measure menus, the
/// checklists, and the limits of number inputs (the HTML holds none of these).
pub(super) fn fill_controls(doc: &Document) {
    let own = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let datasets: Vec<(String, String)> = datasets::catalogue()
        .into_iter()
        .map(|d| {
            let shape: Vec<String> = d.shape.iter().map(|v| v.to_string()).collect();
            let tag = if d.synthetic { "synthetic" } else { "real" };
            (
                d.name.to_string(),
                format!("{} ({}, {tag})", d.name, shape.join("×")),
            )
        })
        .collect();
    // Measure menus: human names in the registry's families, the id on hover.
    let mut optimisable: Vec<_> = registry::entries()
        .into_iter()
        .filter(|e| e.differentiable)
        .collect();
    optimisable.sort_by_key(|e| e.group as u8);
    let optimisable: Vec<(String, String, String, String)> = optimisable
        .into_iter()
        .map(|e| (e.group.label().to_string(), e.id.clone(), e.name, e.id))
        .collect();
    // Prune panel fits: RSA, or any registered similarity (needs a target recording X).
    let fits: Vec<(String, String)> = std::iter::once((
        "rsa".to_string(),
        "RSA (model RDM vs target RDM)".to_string(),
    ))
    .chain(
        registry::entries()
            .into_iter()
            .filter(|e| e.direction == Direction::Similarity)
            .map(|e| (e.id.clone(), format!("{} (needs a target X)", e.id))),
    )
    .collect();
    for f in FIELDS {
        match f.control {
            Control::Select { id, choices } => match (f.key, choices.is_empty()) {
                (_, false) => dom::fill_select(doc, id, &own(choices)),
                ("dataset", _) => dom::fill_select(doc, id, &datasets),
                ("pfit", _) => dom::fill_select(doc, id, &fits),
                _ => dom::fill_select_grouped(doc, id, &optimisable),
            },
            Control::Number { id, min, max, step } => {
                if let Some(e) = dom::input(doc, id) {
                    e.set_min(&min.to_string());
                    e.set_max(&max.to_string());
                    e.set_step(&if step > 0.0 {
                        step.to_string()
                    } else {
                        "any".into()
                    });
                }
            }
            Control::Checklist { id } => fill_checklist(doc, id, f.key),
            Control::Checkbox { .. } | Control::None => {}
        }
    }
}

/// The registry's list of measures a checklist offers.
fn checklist(key: &str) -> List {
    match key {
        "cal" => List::Calibrate,
        "cmp" => List::Compare,
        _ => List::Watch,
    }
}

/// A checkbox per measure of the registry's list in the fieldset `id`, each marked
/// `data-{key}="{measure id}"` and labelled with the measure's name.
fn fill_checklist(doc: &Document, id: &str, key: &str) {
    let Some(set) = dom::el(doc, id) else { return };
    for e in registry::listed(checklist(key)) {
        let (measure, label) = (&e.id, &e.name);
        let (Ok(l), Ok(b)) = (doc.create_element("label"), doc.create_element("input")) else {
            continue;
        };
        let _ = b.set_attribute("type", "checkbox");
        let _ = b.set_attribute(&format!("data-{key}"), measure);
        let _ = l.append_child(&b);
        let _ = l.append_with_str_1(&format!(" {label}"));
        let _ = set.append_child(&l);
    }
}

/// The boxes of checklist `key`.
fn checklist_boxes(doc: &Document, key: &str) -> Vec<web_sys::HtmlInputElement> {
    let Ok(nodes) = doc.query_selector_all(&format!("[data-{key}]")) else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|k| nodes.get(k)?.dyn_into().ok())
        .collect()
}

/// Mirror the settings into the controls, the tabs, the classroom flag and the URL hash.
pub(super) fn apply_state(ctx: &Ctx) {
    let (s, doc) = (&ctx.state, &ctx.doc);
    for f in FIELDS {
        let value = s.get(f.key).unwrap_or_default();
        match f.control {
            Control::Select { id, choices } => {
                if let Some(e) = dom::select(doc, id) {
                    e.set_value(&value);
                    // A measure the menu does not list (a family instance from a link, e.g.
                    // `nbs-distance=angular`): offer it under its name rather than show another.
                    if e.value() != value && choices.is_empty() && f.key != "dataset" {
                        if let Ok(spec) = registry::entry(&value) {
                            e.set_value(&spec.id);
                            if e.value() != spec.id {
                                dom::add_option(
                                    doc,
                                    &e,
                                    "from the link",
                                    &spec.id,
                                    &spec.name,
                                    &spec.id,
                                );
                                e.set_value(&spec.id);
                            }
                        }
                    }
                }
                if f.key == "dataset" {
                    show_file_choice(ctx);
                }
            }
            Control::Number { id, .. } => {
                if let Some(e) = dom::input(doc, id) {
                    e.set_value(&value);
                }
            }
            Control::Checkbox { id } => {
                if let Some(e) = dom::input(doc, id) {
                    e.set_checked(value == "1");
                }
            }
            Control::Checklist { .. } => {
                let on: Vec<&str> = value.split(',').collect();
                // "Also watch" never offers the optimised measure itself.
                let optimised = (f.key == "watch")
                    .then(|| registry::resolve(&s.measure).ok().map(|(c, _)| c))
                    .flatten();
                for b in checklist_boxes(doc, f.key) {
                    let id = b
                        .get_attribute(&format!("data-{}", f.key))
                        .unwrap_or_default();
                    b.set_checked(on.contains(&id.as_str()));
                    if let Some(label) = b
                        .parent_element()
                        .and_then(|l| l.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        label.set_hidden(optimised.as_deref() == Some(id.as_str()));
                    }
                }
            }
            Control::None => {}
        }
        // Classroom mode hides the controls the table marks as advanced.
        if let Ok(nodes) = doc.query_selector_all(&format!("[data-field=\"{}\"]", f.key)) {
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
    for &tab in PANELS {
        let open = s.panel == tab;
        if let Some(b) = dom::el(doc, &format!("tab-{tab}")) {
            let _ = b.set_attribute("aria-selected", if open { "true" } else { "false" });
            let _ = b.set_attribute("tabindex", if open { "0" } else { "-1" });
        }
        dom::set_hidden(doc, &format!("tabpanel-{tab}"), !open);
    }
    if let Some(body) = doc.body() {
        let _ = body
            .class_list()
            .toggle_with_force("classroom", s.classroom);
    }
    write_hash(s);
}

/// The settings that differ from the defaults, as the link's hash (history replaced, not
/// pushed: every change would otherwise be a Back step).
fn write_hash(s: &UiState) {
    let hash = s.to_hash();
    let Some(w) = web_sys::window() else { return };
    let url = if hash.is_empty() {
        w.location().pathname().unwrap_or_default() + &w.location().search().unwrap_or_default()
    } else {
        format!("#{hash}")
    };
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// The value of the control that fired `ev`.
fn event_value(ev: &web_sys::Event) -> String {
    ev.target()
        .and_then(|t| js_sys::Reflect::get(&t, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Every control of the table, Defaults, the error banner, the keyboard, the tabs, window
/// resizes and edits of the link.
pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    for f in FIELDS {
        let key = f.key;
        match f.control {
            Control::Select { id, .. } | Control::Number { id, .. } => {
                dom::on(doc, id, "change", move |ev: web_sys::Event| {
                    let v = event_value(&ev);
                    with_page(|p| p.set_field(key, &v));
                })?;
            }
            Control::Checkbox { id } => {
                dom::on(doc, id, "change", move |ev: web_sys::Event| {
                    let on = ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .is_some_and(|i| i.checked());
                    with_page(|p| p.set_field(key, if on { "1" } else { "0" }));
                })?;
            }
            Control::Checklist { .. } => {
                for b in checklist_boxes(doc, key) {
                    dom::listen(&b, "change", move |_: web_sys::Event| {
                        with_page(|p| {
                            let on: Vec<String> = checklist_boxes(&p.ctx.doc, key)
                                .into_iter()
                                .filter(|b| b.checked())
                                .filter_map(|b| b.get_attribute(&format!("data-{key}")))
                                .collect();
                            p.set_field(key, &on.join(","));
                        });
                    })?;
                }
            }
            Control::None => {}
        }
    }
    dom::on(doc, "defaults", "click", |_: web_sys::Event| {
        with_page(|p| p.change_state(UiState::default()));
    })?;
    dom::on(doc, "error-close", "click", |_: web_sys::Event| {
        with_page(|p| dom::set_hidden(&p.ctx.doc, "error", true));
    })?;
    wire_keys(doc)?;
    wire_tabs(doc)?;
    let window: web_sys::EventTarget = web_sys::window().ok_or("no window")?.into();
    dom::listen(&window, "resize", |_: web_sys::Event| {
        with_page(|p| {
            p.ctx.redraw_all();
            p.recording.resized();
            p.prune.resized(&p.ctx);
        });
    })?;
    dom::listen(&window, "hashchange", |_: web_sys::Event| {
        with_page(on_hash_change);
    })?;
    Ok(())
}

/// The dataset menu names the user's file while one is loaded (an extra entry, selected; it
/// goes when a built-in is loaded again).
pub(super) fn show_file_choice(ctx: &Ctx) {
    const ID: &str = "dataset-file-option";
    let Some(select) = dom::select(&ctx.doc, "dataset-select") else {
        return;
    };
    let existing = ctx.doc.get_element_by_id(ID);
    match &ctx.file_loaded {
        Some(name) => {
            let option = existing.or_else(|| {
                let o = ctx.doc.create_element("option").ok()?;
                o.set_id(ID);
                let _ = o.set_attribute("value", "");
                let _ = o.set_attribute("data-testid", ID);
                let _ = select.prepend_with_node_1(&o);
                Some(o)
            });
            if let Some(o) = option {
                o.set_text_content(Some(&format!("{name} (your file)")));
            }
            select.set_value("");
        }
        None => {
            if let Some(o) = existing {
                o.remove();
            }
            select.set_value(&ctx.state.dataset);
        }
    }
}

/// The user edited or pasted a link in this tab: every bad setting is named in the banner
/// and keeps its default, the rest is applied.
fn on_hash_change(p: &mut super::Page) {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let (next, problems) = UiState::from_hash(&hash);
    if !problems.is_empty() {
        p.ctx.error(&problems.join("; "));
    }
    // A link that names a dataset (a demonstration) loads it even while a user's file is
    // loaded in its place, also when the settings already name that dataset.
    let reload = p.ctx.file_loaded.is_some()
        && next.dataset == p.ctx.state.dataset
        && hash
            .trim_start_matches('#')
            .split('&')
            .any(|kv| kv.starts_with("dataset="));
    if next != p.ctx.state {
        p.change_state(next);
    }
    if reload {
        p.recording.load_builtin(&mut p.ctx);
    }
}

/// Space play/pause, S step, R reset. Keys typed into a field or list stay there, and Space
/// on a focused button or box keeps its native meaning.
fn wire_keys(doc: &Document) -> Result<(), JsValue> {
    let body: web_sys::EventTarget = doc.clone().into();
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
                with_page(|p| p.run.toggle_play(&mut p.ctx));
            }
            "s" | "S" => {
                with_page(|p| p.run.step_once(&mut p.ctx));
            }
            "r" | "R" => {
                with_page(|p| p.run.restart(&mut p.ctx));
            }
            _ => {}
        }
    })
}

/// The tab bar (WAI-ARIA tabs pattern): click a tab, or move along the bar with ←/→,
/// Home and End; the open panel is the state table's `panel` key, so links keep it.
fn wire_tabs(doc: &Document) -> Result<(), JsValue> {
    for &tab in PANELS {
        let id = format!("tab-{tab}");
        dom::on(doc, &id, "click", move |_: web_sys::Event| {
            with_page(|p| p.set_field("panel", tab));
        })?;
        dom::on(doc, &id, "keydown", move |ev: KeyboardEvent| {
            let k = PANELS.iter().position(|t| *t == tab).unwrap_or(0);
            let next = match ev.key().as_str() {
                "ArrowRight" => (k + 1) % PANELS.len(),
                "ArrowLeft" => (k + PANELS.len() - 1) % PANELS.len(),
                "Home" => 0,
                "End" => PANELS.len() - 1,
                _ => return,
            };
            ev.prevent_default();
            with_page(|p| {
                p.set_field("panel", PANELS[next]);
                if let Some(b) = dom::el(&p.ctx.doc, &format!("tab-{}", PANELS[next]))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = b.focus();
                }
            });
        })?;
    }
    Ok(())
}
