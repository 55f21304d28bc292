//! The Decode panel: accuracy of decoding each task variable from Y against the optimised
//! score, with chance and the neural reference. The run (`analysis::run`) decides when Y is
//! decoded; this view asks the worker for the decoding work in slices, at most a fifth of the
//! time while playing, and shows the table and the plot.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use web_sys::Document;

use super::{now_ms, Ctx, View};
use crate::analysis::run::DecodeRow;
use crate::measures::registry;
use crate::optim::history::Decimated;
use crate::plot::{self, Style};
use crate::web::dom::{self, js_number_string};
use crate::web::protocol::{ReferenceRow, Report, Request, RunRequest, RunResponse};

#[derive(Default)]
pub(super) struct DecodeView {
    /// The run's task variables (empty: nothing to decode).
    names: Vec<String>,
    /// Accuracy from X and chance, once the worker has decoded X.
    reference: Option<Vec<ReferenceRow>>,
    /// (step, score, accuracy per variable) along the run (thinned evenly on long runs).
    rows: Decimated<DecodeRow>,
    /// A `Work` request is out (at most one, so stepping is never starved).
    inflight: bool,
    /// The worker has decoding work waiting.
    pending: bool,
    /// Progress of the work in hand, for the panel's note.
    progress: (usize, usize),
    /// When the last request went out, and the earliest time the next may go (ms).
    sent_at: f64,
    not_before: f64,
}

impl View for DecodeView {
    const PLOTS: &'static [&'static str] = &["decode-plot"];

    fn on_loaded(&mut self, ctx: &mut Ctx) {
        self.names.clear();
        self.reference = None;
        self.rows.clear();
        self.show(&ctx.doc, ctx.state.decode_every);
    }

    /// While decoding work waits, ask for the next slice: at once when the run rests, and
    /// while playing only once the last slice's time has been matched four times by stepping.
    fn tick(&mut self, ctx: &mut Ctx) {
        if self.pending && !self.inflight && (!ctx.playing || now_ms() >= self.not_before) {
            self.inflight = true;
            self.sent_at = now_ms();
            ctx.send(Request::Run(RunRequest::Work), None);
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        ctx: &Ctx,
        _id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let direction = registry::direction(&ctx.state.measure);
        plot::decode_accuracy(root, &self.series(), direction, style).map_err(|e| e.to_string())
    }
}

impl DecodeView {
    /// A run started: its variables, and the decoding of Y₀ waiting.
    pub fn on_started(&mut self, ctx: &mut Ctx, variables: &[String]) {
        self.names = variables.to_vec();
        self.rows.clear();
        self.inflight = false;
        self.pending = !variables.is_empty();
        self.show(&ctx.doc, ctx.state.decode_every);
    }

    /// A step report: the run may have queued a decoding.
    pub fn on_report(&mut self, report: &Report) {
        self.pending |= report.work;
    }

    /// The run's request failed: nothing is out any more.
    pub fn on_failed(&mut self) {
        self.inflight = false;
        self.pending = false;
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, r: RunResponse) {
        let RunResponse::Decoding {
            rows,
            reference,
            pending,
            done,
            total,
        } = r
        else {
            return;
        };
        let now = now_ms();
        if self.inflight {
            self.not_before = now + 4.0 * (now - self.sent_at);
        }
        self.inflight = false;
        self.pending = pending.is_some();
        self.progress = (done, total);
        for row in rows {
            self.rows.push(row.step, row);
        }
        if reference.is_some() {
            self.reference = reference;
        }
        if let Some(c) = dom::el(&ctx.doc, "decode-plot") {
            let _ = if self.pending {
                c.set_attribute("data-pending", &format!("{done}/{total}"))
            } else {
                c.remove_attribute("data-pending")
            };
        }
        self.show(&ctx.doc, ctx.state.decode_every);
        ctx.redraw("decode-plot");
    }

    fn series(&self) -> Vec<plot::DecodeSeries<'_>> {
        self.names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let reference = self.reference.as_ref().and_then(|r| r.get(j));
                plot::DecodeSeries {
                    name,
                    points: self
                        .rows
                        .items()
                        .iter()
                        .filter_map(|(_, r)| {
                            r.accuracy.get(j).copied().flatten().map(|a| (r.score, a))
                        })
                        .collect(),
                    chance: reference.map_or(f64::NAN, |r| r.chance),
                    reference: reference.and_then(|r| r.accuracy),
                    x_above_chance: reference.is_some_and(|r| r.above_chance),
                }
            })
            .collect()
    }

    /// One row per task variable: accuracy now, reference, chance, score needed.
    fn show(&self, doc: &Document, every: u64) {
        let Some(body) = dom::el(doc, "decode-rows") else {
            return;
        };
        let last = self.rows.last();
        let cell = |kind: &str, name: &str, v: Option<f64>, digits: usize| match v {
            Some(v) if v.is_finite() => format!(
                "<td data-testid=\"decode-{kind}-{name}\" data-value=\"{}\">{v:.digits$}</td>",
                js_number_string(v)
            ),
            _ => format!("<td data-testid=\"decode-{kind}-{name}\" data-value=\"\">—</td>"),
        };
        let mut html = String::new();
        for (j, s) in self.series().iter().enumerate() {
            let acc = last.and_then(|l| l.accuracy.get(j).copied().flatten());
            // Where X itself decodes at chance there is no threshold to reach: say so.
            let needed = if s.reference.is_some() && !s.x_above_chance {
                format!(
                    "<td data-testid=\"decode-needed-{}\" data-value=\"\" data-x-at-chance=\"true\" title=\"X itself does not decode this variable above chance (binomial test, 5%)\">X at chance</td>",
                    s.name
                )
            } else if let (None, Some((Some(lo), hi))) =
                (plot::score_needed(s), plot::needed_bracket(s))
            {
                // Too few decoded points around the crossing to name one score.
                format!(
                    "<td data-testid=\"decode-needed-{}\" data-value=\"\" data-between=\"{lo} {hi}\" title=\"Too few decoded points near the crossing to locate it: decode more often\">between {lo:.2} and {hi:.2}</td>",
                    s.name
                )
            } else {
                cell("needed", s.name, plot::score_needed(s), 4)
            };
            html.push_str(&format!(
                "<tr><th scope=\"row\">{}</th>{}{}{}{}</tr>",
                s.name,
                cell("acc", s.name, acc, 3),
                cell("ref", s.name, s.reference, 3),
                cell("chance", s.name, Some(s.chance), 3),
                needed,
            ));
        }
        body.set_inner_html(&html);
        if let Some(c) = dom::el(doc, "decode-plot") {
            let _ = c.set_attribute("data-points", &self.rows.len().to_string());
        }
        let Some(note) = dom::el(doc, "decode-note") else {
            return;
        };
        if self.names.is_empty() {
            note.set_text_content(Some(
                "This recording has no task labels: open a labels file to decode.",
            ));
            return;
        }
        let step = last.map_or(String::new(), |l| l.step.to_string());
        let waiting = if self.reference.is_none() {
            "decoding X itself (the reference) first… "
        } else {
            ""
        };
        note.set_inner_html(&format!(
            "{waiting}decoded at step <span data-testid=\"decode-step\" data-value=\"{step}\">{step}</span> (every {every} steps, less often if decoding would take over a fifth of the time)"
        ));
    }
}
