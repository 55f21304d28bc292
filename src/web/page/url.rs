//! Settings ⇄ controls ⇄ URL hash: the state table (`crate::state`) is the one source;
//! classroom mode hides the fields it marks as advanced.

use super::*;

impl Page {
    /// Mirror the settings into the controls, the URL hash and the classroom flag.
    pub(super) fn apply_state_to_controls(&self) {
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
        if let Some(e) = dom::select(&self.doc, "joint-a-select") {
            e.set_value(&s.joint_a);
        }
        if let Some(e) = dom::select(&self.doc, "joint-b-select") {
            e.set_value(&s.joint_b);
        }
        for (id, v) in [
            ("prune-demo-select", &s.prune_demo),
            ("prune-method-select", &s.prune_method),
            ("prune-distance-select", &s.prune_distance),
            ("prune-compare-select", &s.prune_compare),
            ("prune-fit-select", &s.prune_fit),
        ] {
            if let Some(e) = dom::select(&self.doc, id) {
                e.set_value(v);
            }
        }
        for (id, v) in [
            ("prune-folds-input", s.prune_folds.to_string()),
            ("prune-seed-input", s.prune_seed.to_string()),
            ("lr-input", s.lr.to_string()),
            ("seed-input", s.seed.to_string()),
            ("stop-input", s.stop.to_string()),
            ("speed-input", s.speed.to_string()),
            ("decode-every-input", s.decode_every.to_string()),
            ("joint-n-input", s.joint_n.to_string()),
            ("joint-steps-input", s.joint_steps.to_string()),
            ("cal-seeds-input", s.cal_seeds.to_string()),
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
        if let Ok(boxes) = self.doc.query_selector_all("[data-cal]") {
            for k in 0..boxes.length() {
                if let Some(b) = boxes
                    .get(k)
                    .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                {
                    let id = b.get_attribute("data-cal").unwrap_or_default();
                    b.set_checked(s.cal_measures.contains(&id));
                }
            }
        }
        for &tab in PANELS {
            let open = s.panel == tab;
            if let Some(b) = dom::el(&self.doc, &format!("tab-{tab}")) {
                let _ = b.set_attribute("aria-selected", if open { "true" } else { "false" });
                let _ = b.set_attribute("tabindex", if open { "0" } else { "-1" });
            }
            dom::set_hidden(&self.doc, &format!("tabpanel-{tab}"), !open);
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

    pub(super) fn write_hash(&self) {
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
    pub(super) fn set_field(&mut self, key: &str, value: &str) {
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
    pub(super) fn change_state(&mut self, next: UiState) {
        let before = std::mem::replace(&mut self.state, next);
        self.spectrum_stale = true;
        self.dirty = true;
        self.apply_state_to_controls();
        let s = &self.state;
        let pert_changed =
            before.pert != s.pert || before.measure != s.measure || before.seed != s.seed;
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
        if before.prune_demo != self.state.prune_demo && self.ready {
            self.prune_load_demo();
        }
        if before.panel != self.state.panel {
            // Canvases of the tab just opened get their size now.
            self.prune_resized();
        }
        if pert_changed && before.dataset == self.state.dataset {
            self.request_perturb();
            self.show_pert_controls();
            self.dirty = true;
        }
    }

    /// The user edited or pasted a link in this tab.
    pub(super) fn on_hash_change(&mut self) {
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
