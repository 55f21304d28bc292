//! The calibration report: one (measure, seed) run per worker slice, a table and CSV.

use super::*;

impl Page {
    pub(super) fn cal_run(&mut self) {
        if self.dataset.is_none() {
            return;
        }
        if self.cal_running {
            self.send(&Request::CalibrateCancel, None);
        }
        let req = Request::CalibrateStart {
            measures: self.state.cal_measures.clone(),
            seeds: self.state.cal_seeds as usize,
            lr: self.state.lr,
        };
        self.cal_rows = None;
        self.cal_progress = (0, 0);
        self.set_cal_running(true);
        self.send(&req, None);
        self.show_calibration(None);
    }

    pub(super) fn cal_cancel(&mut self) {
        if self.cal_running {
            self.set_cal_running(false);
            self.send(&Request::CalibrateCancel, None);
            self.show_calibration(None);
        }
    }

    pub(super) fn set_cal_running(&mut self, running: bool) {
        self.cal_running = running;
        if let Some(b) = dom::el(&self.doc, "cal-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
    }

    /// Progress ("run 3/6: cka seed 0") and, once done, the report table.
    pub(super) fn show_calibration(&self, last: Option<&str>) {
        let (done, total) = self.cal_progress;
        let state = if self.cal_running {
            "running"
        } else if self.cal_rows.is_some() {
            "done"
        } else if total > 0 || done > 0 {
            "cancelled"
        } else {
            "idle"
        };
        let text = match state {
            "running" => match last {
                Some(l) => format!("run {}/{total} (finished {l})", (done + 1).min(total)),
                None if total > 0 => format!("run {}/{total}", done + 1),
                None => "starting…".into(),
            },
            "done" => format!("done: {total} runs"),
            "cancelled" => format!("cancelled after {done}/{total} runs"),
            _ => String::new(),
        };
        dom::set_text(&self.doc, "cal-progress", &text);
        if let Some(e) = dom::el(&self.doc, "cal-progress") {
            let _ = e.set_attribute("data-state", state);
            let _ = e.set_attribute("data-done", &done.to_string());
            let _ = e.set_attribute("data-total", &total.to_string());
        }
        let Some(body) = dom::el(&self.doc, "cal-rows") else {
            return;
        };
        let mut html = String::new();
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let fmt = |v: Option<f64>, steps: bool| match v {
            Some(v) if steps => format!("{v:.0}"),
            Some(v) => format!("{v:.3}"),
            None => "—".into(),
        };
        for r in self.cal_rows.iter().flatten() {
            let steps = r.quantity == "steps_to_stop";
            let what = match r.quantity.as_str() {
                "decodable" => format!("score at which <em>{}</em> is decodable", esc(&r.variable)),
                "capture_pcs_10pct" => "score to capture PCs ≥ 10% of variance".into(),
                "capture_pcs_1pct" => "score to capture PCs ≥ 1% of variance".into(),
                "steps_to_stop" => "steps to 0.99".into(),
                other => esc(other),
            };
            let key = if r.variable.is_empty() {
                format!("cal-{}-{}", r.measure, r.quantity)
            } else {
                format!("cal-{}-{}-{}", r.measure, r.quantity, r.variable)
            };
            let spread = match (r.min, r.max, r.sd) {
                (Some(lo), Some(hi), Some(sd)) => {
                    format!(
                        "{} – {} (sd {})",
                        fmt(Some(lo), steps),
                        fmt(Some(hi), steps),
                        fmt(Some(sd), false)
                    )
                }
                (Some(lo), Some(hi), None) => {
                    format!("{} – {}", fmt(Some(lo), steps), fmt(Some(hi), steps))
                }
                _ => "—".into(),
            };
            html.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{what}</td><td data-testid=\"{}\" data-value=\"{}\">{}</td><td>{spread}</td><td>{}/{}</td><td class=\"hint\">{}</td></tr>",
                esc(&r.measure),
                esc(&key),
                r.mean.map(js_number_string).unwrap_or_default(),
                fmt(r.mean, steps),
                r.reached,
                r.seeds,
                esc(&r.note),
            ));
        }
        body.set_inner_html(&html);
        dom::set_hidden(&self.doc, "cal-table", self.cal_rows.is_none());
    }

    /// The report as CSV, in `simscope calibrate`'s columns: one row per (measure, quantity,
    /// variable), per-seed values joined by `;` (empty = not reached).
    pub(super) fn export_cal_csv(&self) -> Result<(), String> {
        let rows = self.cal_rows.as_ref().ok_or("run the calibration first")?;
        let num = |v: Option<f64>| v.map(js_number_string).unwrap_or_default();
        let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
        let mut out =
            String::from("measure,quantity,variable,seeds,reached,mean,sd,min,max,values,note\n");
        for r in rows {
            let values: Vec<String> = r.values.iter().map(|v| num(*v)).collect();
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                r.measure,
                r.quantity,
                quote(&r.variable),
                r.seeds,
                r.reached,
                num(r.mean),
                num(r.sd),
                num(r.min),
                num(r.max),
                values.join(";"),
                quote(&r.note),
            ));
        }
        let name = format!("simscope-calibration-{}.csv", self.state.dataset);
        dom::download_bytes(&self.doc, out.as_bytes(), &name).map_err(|e| format!("{e:?}"))
    }
}
