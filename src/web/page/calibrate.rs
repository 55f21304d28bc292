//! The calibration report: the core's calibration job in worker slices, a table and CSV.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use wasm_bindgen::prelude::*;
use web_sys::Document;

use super::{with_page, Ctx, View};
use crate::analysis::calibrate::{report_csv, verdicts};
use crate::measures::registry;
use crate::plot::{self, Style};
use crate::web::dom::{self, js_number_string};
use crate::web::protocol::{CalRow, CalibrateRequest, CalibrateResponse, Request};

#[derive(Default)]
pub(super) struct CalibrateView {
    running: bool,
    /// (done, total) runs.
    progress: (usize, usize),
    /// The last finished run, e.g. "cka seed 1".
    last: String,
    rows: Option<Vec<CalRow>>,
    /// This worker and the helpers that ran a run so far.
    threads: usize,
    /// Every run left is with a helper: ask for the next slice at the next frame, not at
    /// once (a message loop would take a core from the helpers).
    poll: bool,
}

impl View for CalibrateView {
    const PLOTS: &'static [&'static str] = &["cal-plot"];

    fn ready(&self, _ctx: &Ctx, _id: &str) -> bool {
        self.rows.is_some()
    }

    /// The thresholds, one row per measure, before the table.
    fn draw<DB: DrawingBackend>(
        &self,
        _ctx: &Ctx,
        _id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let rows = self.rows.as_deref().unwrap_or(&[]);
        plot::calibration_thresholds(root, rows, style).map_err(|e| e.to_string())
    }

    fn tick(&mut self, ctx: &mut Ctx) {
        if std::mem::take(&mut self.poll) && self.running {
            ctx.send(Request::Calibrate(CalibrateRequest::Slice), None);
        }
    }

    fn on_loaded(&mut self, ctx: &mut Ctx) {
        self.rows = None;
        self.progress = (0, 0);
        self.last.clear();
        self.set_running(ctx, false);
        self.show(&ctx.doc);
    }
}

impl CalibrateView {
    fn run(&mut self, ctx: &mut Ctx) {
        if ctx.dataset.is_none() {
            return;
        }
        if self.running {
            ctx.send(Request::Calibrate(CalibrateRequest::Cancel), None);
        }
        let req = CalibrateRequest::Start {
            measures: ctx.state.cal_measures.clone(),
            seeds: ctx.state.cal_seeds as usize,
            lr: ctx.state.lr,
        };
        self.rows = None;
        self.progress = (0, 0);
        self.last.clear();
        self.threads = 1;
        self.set_running(ctx, true);
        ctx.send(Request::Calibrate(req), None);
        self.show(&ctx.doc);
    }

    fn cancel(&mut self, ctx: &mut Ctx) {
        if self.running {
            self.set_running(ctx, false);
            ctx.send(Request::Calibrate(CalibrateRequest::Cancel), None);
            self.show(&ctx.doc);
        }
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, r: CalibrateResponse) {
        match r {
            CalibrateResponse::Started { total, .. } => {
                if !self.running {
                    return;
                }
                self.progress = (0, total);
                self.show(&ctx.doc);
                ctx.send(Request::Calibrate(CalibrateRequest::Slice), None);
            }
            CalibrateResponse::Progress {
                done,
                total,
                last,
                rows,
                threads,
                waiting,
            } => {
                if !self.running {
                    return;
                }
                self.progress = (done, total);
                self.last = last;
                self.threads = threads;
                if let Some(rows) = rows {
                    self.rows = Some(rows);
                    self.set_running(ctx, false);
                    ctx.redraw("cal-plot");
                } else if waiting {
                    self.poll = true;
                } else {
                    ctx.send(Request::Calibrate(CalibrateRequest::Slice), None);
                }
                self.show(&ctx.doc);
            }
            CalibrateResponse::Cancelled => {}
            CalibrateResponse::Failed { message } => {
                self.set_running(ctx, false);
                self.show(&ctx.doc);
                ctx.error(&message);
            }
        }
    }

    fn set_running(&mut self, ctx: &Ctx, running: bool) {
        self.running = running;
        if let Some(b) = dom::el(&ctx.doc, "cal-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
    }

    /// Progress ("run 3/6: cka seed 0") and, once done, the report table.
    fn show(&self, doc: &Document) {
        let (done, total) = self.progress;
        let last = (!self.last.is_empty()).then_some(self.last.as_str());
        let state = if self.running {
            "running"
        } else if self.rows.is_some() {
            "done"
        } else if total > 0 || done > 0 {
            "cancelled"
        } else {
            "idle"
        };
        let on = match self.threads {
            0 | 1 => String::new(),
            t => format!(" on {t} threads"),
        };
        let text = match state {
            "running" => match last {
                Some(l) => format!("run {}/{total}{on} (finished {l})", (done + 1).min(total)),
                None if total > 0 => format!("run {}/{total}{on}", done + 1),
                None => "starting…".into(),
            },
            "done" => format!("done: {total} runs{on}"),
            "cancelled" => format!("cancelled after {done}/{total} runs"),
            _ => String::new(),
        };
        dom::set_text(doc, "cal-progress", &text);
        if let Some(e) = dom::el(doc, "cal-progress") {
            let _ = e.set_attribute("data-state", state);
            let _ = e.set_attribute("data-done", &done.to_string());
            let _ = e.set_attribute("data-total", &total.to_string());
            let _ = e.set_attribute("data-threads", &self.threads.to_string());
        }
        let Some(body) = dom::el(doc, "cal-rows") else {
            return;
        };
        let mut html = String::new();
        let esc = dom::escape;
        let fmt = |v: Option<f64>, steps: bool| match v {
            Some(v) if steps => format!("{v:.0}"),
            Some(v) => format!("{v:.3}"),
            None => "—".into(),
        };
        for r in self.rows.iter().flatten() {
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
        dom::set_hidden(doc, "cal-table", self.rows.is_none());
        dom::set_hidden(doc, "cal-plot", self.rows.is_none());
        // A row per measure: the canvas grows with them (legend band + axis + 44 px a row).
        if let (Some(c), Some(rows)) = (dom::el(doc, "cal-plot"), &self.rows) {
            let mut measures: Vec<&str> = rows.iter().map(|r| r.measure.as_str()).collect();
            measures.dedup();
            let h = 110 + 44 * measures.len();
            let _ = c.set_attribute("style", &format!("height: {h}px"));
            let _ = c.set_attribute("data-rows", &measures.len().to_string());
        }
        // The verdicts lead: what a score means on this recording, one sentence per measure.
        if let Some(list) = dom::el(doc, "cal-verdicts") {
            let items: String = verdicts(self.rows.as_deref().unwrap_or(&[]))
                .iter()
                .map(|(m, v)| {
                    // The measure in words, as the menus; the id on hover.
                    let name = registry::name(m);
                    let text = v.strip_prefix(&format!("{m}: ")).unwrap_or(v);
                    format!(
                        "<li data-testid=\"cal-verdict-{}\" title=\"{}\"><strong>{}</strong>: {}</li>",
                        esc(m),
                        esc(m),
                        esc(&name),
                        esc(text)
                    )
                })
                .collect();
            list.set_inner_html(&items);
        }
    }

    /// The report as CSV, byte for byte `simscope calibrate`'s `report.csv`.
    fn export_csv(&self, ctx: &Ctx) -> Result<(), String> {
        let rows = self.rows.as_ref().ok_or("run the calibration first")?;
        let out = report_csv(rows);
        let name = format!("simscope-calibration-{}.csv", ctx.state.dataset);
        dom::download_bytes(&ctx.doc, out.as_bytes(), &name).map_err(|e| format!("{e:?}"))
    }
}

pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    dom::on(doc, "cal-run", "click", |_: web_sys::Event| {
        with_page(|p| p.calibrate.run(&mut p.ctx));
    })?;
    dom::on(doc, "cal-cancel", "click", |_: web_sys::Event| {
        with_page(|p| p.calibrate.cancel(&mut p.ctx));
    })?;
    dom::on(doc, "cal-csv", "click", |_: web_sys::Event| {
        with_page(|p| {
            if let Err(e) = p.calibrate.export_csv(&p.ctx) {
                p.ctx.error(&format!("export: {e}"));
            }
        });
    })?;
    Ok(())
}
