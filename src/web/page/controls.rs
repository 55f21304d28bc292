//! Event wiring for the page's buttons, inputs and keyboard shortcuts.

use super::dataset::open_file;
use super::export::wire_exports;
use super::perturb::wire_perturb;
use super::prune::wire_prune;
use super::*;

pub(super) fn wire_controls(doc: &Document) -> Result<(), JsValue> {
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
        ("prune-demo-select", "pdemo"),
        ("prune-method-select", "pmethod"),
        ("prune-folds-input", "pfolds"),
        ("prune-seed-input", "pseed"),
        ("prune-distance-select", "pdist"),
        ("prune-compare-select", "pcompare"),
        ("prune-fit-select", "pfit"),
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
    wire_prune(doc)?;
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
    wire_tabs(doc)?;
    let resize: web_sys::EventTarget = web_sys::window().ok_or("no window")?.into();
    dom::listen(&resize, "resize", |_: web_sys::Event| {
        with_page(|p| {
            p.dirty = true;
            p.spectrum_stale = true;
            p.prune_resized();
        });
    })?;
    dom::listen(&resize, "hashchange", |_: web_sys::Event| {
        with_page(|p| p.on_hash_change());
    })?;
    Ok(())
}

/// The tab bar (WAI-ARIA tabs pattern): click a tab, or move along the bar with ←/→,
/// Home and End; the open panel is the state table's `panel` key, so links keep it.
fn wire_tabs(doc: &Document) -> Result<(), JsValue> {
    for &tab in PANELS {
        dom::on(
            doc,
            &format!("tab-{tab}"),
            "click",
            move |_: web_sys::Event| {
                with_page(|p| p.set_field("panel", tab));
            },
        )?;
        dom::on(
            doc,
            &format!("tab-{tab}"),
            "keydown",
            move |ev: KeyboardEvent| {
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
                    if let Some(b) = dom::el(&p.doc, &format!("tab-{}", PANELS[next]))
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        let _ = b.focus();
                    }
                });
            },
        )?;
    }
    Ok(())
}
