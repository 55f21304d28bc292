//! The Perturb-PCs panel: draggable PC bars, angle and scale inputs, the closed-form
//! theory beside the measured scores, and the paper's sweep.

use super::*;

/// Measures the Perturb panel always scores (the paper's Fig 6), before the chosen one.
const PERTURB_IDS: &[&str] = &["cka", "nbs", "procrustes-angular-score"];
/// At most this many PC bars are drawn (and draggable).
const PERTURB_BARS: usize = 20;

impl Page {
    /// Number of draggable PC bars for the loaded recording.
    pub(super) fn bar_count(&self) -> usize {
        self.dataset
            .as_ref()
            .map(|d| d.rank.min(d.explained.len()).min(PERTURB_BARS))
            .unwrap_or(0)
    }

    pub(super) fn pert_entries(&self) -> Vec<PertEntry> {
        parse_pert(&self.state.pert).unwrap_or_default()
    }

    /// (scale, angle in degrees) of PC `k` (0-based).
    pub(super) fn pert_of(&self, k: usize) -> (f64, f64) {
        self.pert_entries()
            .iter()
            .find(|e| e.pc == k + 1)
            .map(|e| (e.scale, e.angle))
            .unwrap_or((1.0, 0.0))
    }

    /// Change PC `k`'s scale and/or angle (rounded so links stay short) via the state table.
    pub(super) fn set_pert(&mut self, k: usize, scale: Option<f64>, angle: Option<f64>) {
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
    pub(super) fn request_perturb(&mut self) {
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

    pub(super) fn request_sweep(&mut self) {
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
    pub(super) fn show_perturb_table(&self) {
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
    pub(super) fn show_pert_controls(&self) {
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

    pub(super) fn set_bar_layout(&mut self, layout: BarLayout) {
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
    pub(super) fn pert_pointer(&mut self, x: f64, y: f64, down: bool) {
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

    pub(super) fn pert_key(&mut self, key: &str) -> bool {
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
}

/// The Perturb panel: drag bars with any pointer (mouse, pen, touch), arrow keys on the
/// focused bar, the angle slider and scale box for the focused PC, reset and sweep.
pub(super) fn wire_perturb(doc: &Document) -> Result<(), JsValue> {
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
