//! The Decode panel: throttled decode requests, the accuracy table and plot series.

use super::*;

impl Page {
    /// Ask for decoding accuracies every `decode_every` steps (and at a stop), one request at
    /// a time: the worker answers it between step requests, so stepping goes on.
    pub(super) fn maybe_decode(&mut self, step: usize, force: bool) {
        let has_labels = self.dataset.as_ref().is_some_and(|d| !d.labels.is_empty());
        if !has_labels || self.decode_inflight || self.decode_pending {
            return;
        }
        let due = match self.decode_last_step {
            None => true,
            Some(last) => {
                step != last && (force || step >= last + self.state.decode_every as usize)
            }
        };
        if due && (force || now_ms() >= self.decode_not_before) {
            self.decode_sent_at = now_ms();
            self.decode_inflight = true;
            self.decode_last_step = Some(step);
            self.send(&Request::Decode, None);
        }
    }

    pub(super) fn decode_series(&self) -> Vec<plot::DecodeSeries<'_>> {
        let (names, chance, reference) = &self.decode_meta;
        names
            .iter()
            .enumerate()
            .map(|(j, name)| plot::DecodeSeries {
                name,
                points: self
                    .decode_history
                    .iter()
                    .filter_map(|(_, s, a)| a.get(j).copied().flatten().map(|a| (*s, a)))
                    .collect(),
                chance: chance.get(j).copied().unwrap_or(f64::NAN),
                reference: reference.get(j).copied().flatten(),
            })
            .collect()
    }

    /// One row per task variable: accuracy now, reference, chance, score needed.
    pub(super) fn show_decode_table(&self) {
        let Some(body) = dom::el(&self.doc, "decode-rows") else {
            return;
        };
        let last = self.decode_history.last();
        let cell = |kind: &str, name: &str, v: Option<f64>, digits: usize| match v {
            Some(v) if v.is_finite() => format!(
                "<td data-testid=\"decode-{kind}-{name}\" data-value=\"{}\">{v:.digits$}</td>",
                js_number_string(v)
            ),
            _ => format!("<td data-testid=\"decode-{kind}-{name}\" data-value=\"\">—</td>"),
        };
        let mut html = String::new();
        for (j, s) in self.decode_series().iter().enumerate() {
            let acc = last.and_then(|l| l.2.get(j).copied().flatten());
            html.push_str(&format!(
                "<tr><th scope=\"row\">{}</th>{}{}{}{}</tr>",
                s.name,
                cell("acc", s.name, acc, 3),
                cell("ref", s.name, s.reference, 3),
                cell("chance", s.name, Some(s.chance), 3),
                cell("needed", s.name, plot::score_needed(s), 4),
            ));
        }
        body.set_inner_html(&html);
        if let Some(c) = dom::el(&self.doc, "decode-plot") {
            let _ = c.set_attribute("data-points", &self.decode_history.len().to_string());
        }
        let has = !self.decode_meta.0.is_empty();
        dom::set_text(
            &self.doc,
            "decode-note",
            &if has {
                format!(
                    "decoded at step {} (every {} steps, less often if decoding would take over a fifth of the time)",
                    last.map(|l| l.0).unwrap_or(0),
                    self.state.decode_every
                )
            } else {
                "This recording has no task labels: open a labels file to decode.".into()
            },
        );
    }
}
