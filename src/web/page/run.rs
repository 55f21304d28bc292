//! The Optimise panel: Play/Pause/Step/Reset, the score readouts, the measure card, the plots
//! that follow the run (scores, per-PC R², score to capture each PC, Y in X's PCs) and the
//! exports of the trajectory and of Y.

use nalgebra::DMatrix;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use wasm_bindgen::prelude::*;
use web_sys::Document;

use super::{with_page, Ctx, View};
use crate::analysis::captured::{scores_at_threshold, LinearChance, Threshold};
use crate::analysis::run::PLOT_POINTS;
use crate::measures::{registry, Direction};
use crate::optim::history::Decimated;
use crate::optim::session::StopReason;
use crate::plot::{self, Style};
use crate::state::UiState;
use crate::web::dom::{self, js_number_string};
use crate::web::protocol::{Report, Request, RunRequest, RunResponse, RunSettings};

/// Step requests queued at the worker while playing (one per frame, at most this many out),
/// so the worker never idles waiting for the next frame.
const STEPS_IN_FLIGHT: u8 = 2;

#[derive(Default)]
pub(super) struct RunView {
    /// Canonical ids of the optimised measure and the watched ones.
    ids: Vec<String>,
    /// Score history per id (thinned evenly on long runs).
    history: Vec<Decimated<f64>>,
    /// (optimised score, per-PC R²) along the run.
    pc_history: Decimated<(f64, Vec<f64>)>,
    last: Option<Report>,
    /// Step requests out (back-pressure); a single Step waits for none.
    stepping: u8,
    /// Steps owed to the run: `speed` is added each frame while playing and whole steps are
    /// requested, so a speed below 1 is slow motion (a step every 1/speed frames).
    step_credit: f64,
    /// X in its own top two PCs (the faint trajectories).
    x_pcs: DMatrix<f64>,
    /// Where the run stops (the "stop at" setting read by the measure), if anywhere.
    stop_at: Option<f64>,
    /// A random Y's R² on every PC for this run's Y (the dashed line).
    pc_chance: Option<LinearChance>,
    /// The object URL of the last exported Y (revoked when replaced).
    y_url: Option<String>,
    /// The Compare model that Y₀ is ("optimise from this model"), until the user goes back
    /// to a random Y₀, closes the model or loads another recording.
    y0_model: Option<String>,
}

impl View for RunView {
    const PLOTS: &'static [&'static str] = &["score-plot", "pc-r2-plot", "capture-plot", "pc-plot"];

    fn on_loaded(&mut self, ctx: &mut Ctx) {
        self.last = None;
        if let Some(s) = &ctx.dataset {
            self.x_pcs = DMatrix::from_row_slice(s.x_pcs.len() / 2, 2, &s.x_pcs);
        }
        self.y0_model = None;
        self.show_y0(&ctx.doc);
        self.restart(ctx);
    }

    fn on_state(&mut self, ctx: &mut Ctx, before: &UiState) {
        let s = &ctx.state;
        let run_changed = before.measure != s.measure
            || before.watch != s.watch
            || before.lr != s.lr
            || before.optimizer != s.optimizer
            || before.seed != s.seed
            || before.stop != s.stop
            || before.decode_every != s.decode_every;
        let dataset_changed = before.dataset != s.dataset;
        if ctx.ready && !dataset_changed && run_changed {
            self.restart(ctx);
        }
        if dataset_changed {
            // Another recording is on its way: no more steps for this run (the worker drops
            // it with the old recording, so a step or a pause sent now would find no run).
            self.last = None;
            self.set_playing(ctx, false);
        }
    }

    /// Called every animation frame: while playing, ask for the steps owed.
    fn tick(&mut self, ctx: &mut Ctx) {
        if !(ctx.playing && self.last.is_some()) {
            return;
        }
        let speed = ctx.state.speed;
        // Credit never piles up past one frame's worth while the worker is behind.
        self.step_credit = (self.step_credit + speed).min(speed.max(1.0));
        if self.stepping < STEPS_IN_FLIGHT && self.step_credit >= 1.0 {
            let n = self.step_credit.floor();
            self.step_credit -= n;
            self.stepping += 1;
            mark_in_flight(ctx, self.stepping);
            // In slow motion there is time for the per-PC R² at every step.
            let full = speed < 1.0;
            ctx.send(
                Request::Run(RunRequest::Step {
                    n: n as usize,
                    full,
                }),
                None,
            );
        }
    }

    fn ready(&self, _ctx: &Ctx, _id: &str) -> bool {
        self.last.is_some()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        ctx: &Ctx,
        id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let e = |e: plot::PlotError| e.to_string();
        let ratios = ctx.dataset.as_ref().map_or(&[][..], |d| &d.explained);
        match id {
            "score-plot" => {
                let points: Vec<Vec<(usize, f64)>> =
                    self.history.iter().map(|h| h.items().to_vec()).collect();
                // Legends in words, as the menus; a distance says which way is better.
                let names: Vec<String> = self
                    .ids
                    .iter()
                    .map(|id| match registry::entry(id) {
                        Ok(e) if e.direction == Direction::Distance => {
                            format!("{} (lower is better)", e.name)
                        }
                        Ok(e) => e.name,
                        Err(_) => id.clone(),
                    })
                    .collect();
                let series: Vec<(&str, &[(usize, f64)])> = names
                    .iter()
                    .zip(&points)
                    .map(|(name, h)| (name.as_str(), h.as_slice()))
                    .collect();
                // The Compare panel's models on the optimised measure: where the curve
                // crosses one, the synthetic Y reached that model's score.
                let scored = self.ids.first().map_or(Vec::new(), |m| ctx.model_marks(m));
                let marks: Vec<plot::ModelMark> = scored
                    .iter()
                    .map(|&(name, value)| plot::ModelMark { name, value })
                    .collect();
                if let Some(c) = dom::el(&ctx.doc, id) {
                    let _ = c.set_attribute("data-marks", &marks.len().to_string());
                }
                plot::score_trace(root, &series, &marks, style).map_err(e)
            }
            "pc-plot" => {
                let conditions = ctx.dataset.as_ref().map_or(1, |d| d.conditions);
                let y_pcs = match &self.last {
                    Some(r) => DMatrix::from_row_slice(r.y_pcs.len() / 2, 2, &r.y_pcs),
                    None => self.x_pcs.clone(),
                };
                let colour_by = ctx
                    .dataset
                    .as_ref()
                    .and_then(|d| d.first_variable.as_ref())
                    .map(|v| plot::Colouring {
                        name: &v.name,
                        class_of: &v.class_of,
                        classes: &v.classes,
                    });
                plot::pc_trajectories(root, &self.x_pcs, &y_pcs, conditions, colour_by, style)
                    .map_err(e)
            }
            "pc-r2-plot" => {
                let direction = registry::direction(self.ids.first().map_or("", String::as_str));
                let chance = self.pc_chance.map(|c| c.level);
                if let (Some(c), Some(el)) = (chance, dom::el(&ctx.doc, id)) {
                    let _ = el.set_attribute("data-chance", &js_number_string(c));
                }
                plot::pc_capture(root, &self.pc_points(), ratios, chance, direction, style)
                    .map_err(e)
            }
            "capture-plot" => {
                let scores = self.capture_scores();
                if let Some(c) = dom::el(&ctx.doc, id) {
                    let n = scores.iter().flatten().count();
                    let _ = c.set_attribute("data-captured", &n.to_string());
                }
                // The legend in words, as the menus.
                let measure = registry::name(self.ids.first().map_or("", String::as_str));
                let series = [plot::CaptureSeries {
                    measure: &measure,
                    scores: &scores,
                }];
                let k = scores.len().min(ratios.len());
                let why = self
                    .pc_chance
                    .is_some_and(|c| c.saturated())
                    .then_some(plot::SATURATED_NOTE);
                plot::capture_scores(root, &ratios[..k], &series, why, style).map_err(e)
            }
            other => Err(format!("no plot named {other}")),
        }
    }
}

impl RunView {
    fn settings(&self, s: &UiState) -> RunSettings {
        RunSettings {
            y0_model: self.y0_model.clone(),
            measure: s.measure.clone(),
            watch: s.watch.clone(),
            lr: s.lr,
            optimizer: s
                .optimizer
                .parse()
                .unwrap_or(crate::optim::OptimizerKind::Adam),
            seed: s.seed,
            stop: Some(s.stop),
            decode_every: s.decode_every as usize,
        }
    }

    /// Start a fresh run with the current settings (Reset: same seed ⇒ same run).
    pub fn restart(&mut self, ctx: &mut Ctx) {
        self.set_playing(ctx, false);
        if ctx.dataset.is_some() {
            ctx.send(
                Request::Run(RunRequest::Start(self.settings(&ctx.state))),
                None,
            );
        }
    }

    /// Y₀ = the Compare model `name` (None: the seed's random Y₀), and a fresh run from it.
    pub fn start_from(&mut self, ctx: &mut Ctx, name: Option<String>) {
        self.y0_model = name;
        self.show_y0(&ctx.doc);
        self.restart(ctx);
    }

    /// The Compare model `name` was closed: a run from it goes back to a random Y₀.
    pub fn model_closed(&mut self, ctx: &mut Ctx, name: &str) {
        if self.y0_model.as_deref() == Some(name) {
            self.start_from(ctx, None);
        }
    }

    fn show_y0(&self, doc: &Document) {
        if let Some(name) = &self.y0_model {
            dom::set_text(
                doc,
                "y0-text",
                &format!("Y₀ is model {name} (Compare panel): Reset starts from it again."),
            );
        }
        dom::set_hidden(doc, "y0-note", self.y0_model.is_none());
    }

    pub fn set_playing(&mut self, ctx: &mut Ctx, playing: bool) {
        let was = ctx.playing;
        ctx.playing = playing;
        if let Some(b) = dom::el(&ctx.doc, "play") {
            b.set_text_content(Some(if playing { "Pause" } else { "Play" }));
            let _ = b.set_attribute("aria-pressed", if playing { "true" } else { "false" });
        }
        // The decoding always describes the Y on screen when the run rests.
        if was && !playing && self.last.is_some() {
            ctx.send(Request::Run(RunRequest::Pause), None);
        }
    }

    pub fn toggle_play(&mut self, ctx: &mut Ctx) {
        if !ctx.playing && self.last.as_ref().is_some_and(|r| r.run.stopped.is_some()) {
            dom::set_text(
                &ctx.doc,
                "status-note",
                "the run has stopped: press Reset, or raise the stop score to go further",
            );
            return;
        }
        self.set_playing(ctx, !ctx.playing);
    }

    pub fn step_once(&mut self, ctx: &mut Ctx) {
        self.set_playing(ctx, false);
        if self.stepping == 0 && self.last.is_some() {
            self.stepping += 1;
            mark_in_flight(ctx, self.stepping);
            ctx.send(Request::Run(RunRequest::Step { n: 1, full: true }), None);
        }
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, r: RunResponse) {
        match r {
            RunResponse::Started {
                ids,
                warnings,
                pc_chance,
                stop_at,
                report,
                ..
            } => {
                self.stepping = 0;
                self.stop_at = stop_at;
                self.pc_chance = Some(pc_chance);
                show_pc_warning(&ctx.doc, &pc_chance);
                self.history = ids.iter().map(|_| Decimated::new(PLOT_POINTS)).collect();
                self.ids = ids;
                self.pc_history.clear();
                self.build_readouts(&ctx.doc);
                self.show_measure_card(&ctx.doc);
                show_warnings(&ctx.doc, &warnings);
                self.push(ctx, report);
                let ready = match self.stop_at {
                    Some(s) => format!("ready: press Play (stops at {s:.4})"),
                    None => "ready: press Play (this score has no best value: Play runs until you pause)".into(),
                };
                dom::set_text(&ctx.doc, "status-note", &ready);
            }
            RunResponse::Report(report) => {
                self.stepping = self.stepping.saturating_sub(1);
                if let Some(why) = report.run.stopped {
                    if ctx.playing {
                        self.set_playing(ctx, false);
                    }
                    let note = match why {
                        StopReason::Stop => format!(
                            "passed the stop score {} at step {}",
                            self.stop_at.map_or_else(String::new, |s| format!("{s:.4}")),
                            report.run.step
                        ),
                        StopReason::NonFinite => {
                            "stopped: the score or gradient became non-finite".to_string()
                        }
                        StopReason::MaxSteps => "stopped at the step limit".to_string(),
                    };
                    dom::set_text(&ctx.doc, "status-note", &note);
                } else if ctx.playing {
                    dom::set_text(&ctx.doc, "status-note", "optimising…");
                }
                self.push(ctx, report);
            }
            RunResponse::Failed { message } => {
                self.stepping = 0;
                self.set_playing(ctx, false);
                ctx.error(&message);
            }
            RunResponse::Decoding { .. } | RunResponse::Download { .. } | RunResponse::Stale => {}
        }
    }

    fn push(&mut self, ctx: &mut Ctx, report: Report) {
        let r = &report.run;
        let scores = std::iter::once(r.score).chain(r.watched.iter().copied());
        for (h, s) in self.history.iter_mut().zip(scores) {
            if h.items().last().map(|p| p.0) != Some(r.step) {
                h.push(r.step, s);
            }
        }
        if let Some(r2) = &r.pc_r2 {
            self.pc_history.push(r.step, (r.score, r2.clone()));
        }
        self.last = Some(report);
        for id in Self::PLOTS {
            ctx.redraw(id);
        }
    }

    /// (optimised score, per-PC R²) at the steps the R² was computed.
    fn pc_points(&self) -> Vec<(f64, Vec<f64>)> {
        self.pc_history
            .items()
            .iter()
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Per PC of X: the optimised score at which its R² first passed halfway from its start
    /// to 1 (spec §4.2), from the R² points received so far.
    fn capture_scores(&self) -> Vec<Option<f64>> {
        let (scores, r2): (Vec<f64>, Vec<Vec<f64>>) = self.pc_points().into_iter().unzip();
        let captured = scores_at_threshold(&r2, &scores, Threshold::Half);
        if self.pc_chance.is_some_and(|c| c.saturated()) {
            // Every R² starts at 1: no score captures a PC (the plot says why).
            return vec![None; captured.len()];
        }
        captured
    }

    /// The step count and score readouts.
    pub fn show_readouts(&self, ctx: &Ctx) {
        let Some(r) = &self.last else { return };
        let r = &r.run;
        if let Some(e) = dom::el(&ctx.doc, "step-count") {
            e.set_text_content(Some(&r.step.to_string()));
            let _ = e.set_attribute("data-value", &r.step.to_string());
        }
        mark_in_flight(ctx, self.stepping);
        if let Some(e) = dom::el(&ctx.doc, "live-score") {
            e.set_text_content(Some(&format!("{:.4}", r.score)));
            let _ = e.set_attribute("data-value", &js_number_string(r.score));
        }
        let scores = std::iter::once(r.score).chain(r.watched.iter().copied());
        for (id, s) in self.ids.iter().zip(scores) {
            let sel = format!("[data-testid=\"score-{id}\"]");
            if let Ok(Some(e)) = ctx.doc.query_selector(&sel) {
                e.set_text_content(Some(&format!("{s:.6}")));
                let _ = e.set_attribute("data-value", &js_number_string(s));
            }
        }
    }

    fn build_readouts(&self, doc: &Document) {
        let Some(list) = dom::el(doc, "readouts") else {
            return;
        };
        list.set_inner_html("");
        // Human names, the id on hover (the id is what links, the CLI and Python take).
        let name = |id: &str| registry::entry(id).map_or_else(|_| id.to_string(), |e| e.name);
        if let Some(id) = self.ids.first() {
            dom::set_text(doc, "live-name", &name(id));
            if let Some(e) = dom::el(doc, "live-name") {
                let _ = e.set_attribute("title", id);
            }
        }
        for (k, id) in self.ids.iter().enumerate() {
            let row = doc.create_element("div").ok();
            let dt = doc.create_element("dt").ok();
            let dd = doc.create_element("dd").ok();
            if let (Some(row), Some(dt), Some(dd)) = (row, dt, dd) {
                dt.set_text_content(Some(&format!(
                    "{}{}",
                    name(id),
                    if k == 0 { " (optimised)" } else { "" }
                )));
                let _ = dt.set_attribute("title", id);
                let _ = dd.set_attribute("data-testid", &format!("score-{id}"));
                let _ = dd.set_attribute("data-value", "");
                let _ = row.append_child(&dt);
                let _ = row.append_child(&dd);
                let _ = list.append_child(&row);
            }
        }
    }

    fn show_measure_card(&self, doc: &Document) {
        let Some(id) = self.ids.first() else { return };
        let Ok(e) = registry::entry(id) else { return };
        let end = |v: Option<f64>, inf: &str| v.map_or_else(|| inf.to_string(), |x| x.to_string());
        let (kind, goal) = match e.direction {
            Direction::Similarity => ("similarity", "maximised"),
            Direction::Distance => ("distance", "minimised"),
        };
        dom::set_text(doc, "card-id", &e.id);
        dom::set_text(doc, "card-description", &e.description);
        dom::set_text(
            doc,
            "card-facts",
            &format!(
                "range [{}, {}] · a {kind} ({goal}) · invariant to: {} · {}",
                end(e.range[0], "−∞"),
                end(e.range[1], "∞"),
                if e.invariances.is_empty() {
                    "nothing listed".into()
                } else {
                    e.invariances.join(", ")
                },
                if e.differentiable {
                    "closed-form gradient"
                } else {
                    "not differentiable"
                },
            ),
        );
        dom::set_text(doc, "card-citation", &e.citation);
    }

    /// A file the worker made: Y (kept as a link too, in case the browser wants a fresh
    /// click: the answer comes after the button's user activation) or the trajectory.
    pub fn offer_download(&mut self, ctx: &Ctx, bytes: &[u8], name: &str) {
        if !name.ends_with(".npy") {
            if let Err(e) = dom::download_bytes(&ctx.doc, bytes, name) {
                ctx.error(&format!("export: {e:?}"));
            }
            return;
        }
        let Ok(url) = dom::object_url(bytes) else {
            ctx.error("the browser could not hold Y for download");
            return;
        };
        if let Some(old) = self.y_url.replace(url.clone()) {
            dom::revoke_url(&old);
        }
        if let Some(a) = dom::el(&ctx.doc, "export-y-link") {
            let _ = a.set_attribute("href", &url);
            let _ = a.set_attribute("download", name);
            a.set_text_content(Some(&format!("save {name}")));
        }
        dom::set_hidden(&ctx.doc, "export-y-link", false);
        let _ = dom::download_url(&ctx.doc, &url, name);
    }
}

/// Play/Pause, Step, Reset, New seed and the two exports (made by the worker).
pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    dom::on(doc, "play", "click", |_: web_sys::Event| {
        with_page(|p| p.run.toggle_play(&mut p.ctx));
    })?;
    dom::on(doc, "step", "click", |_: web_sys::Event| {
        with_page(|p| p.run.step_once(&mut p.ctx));
    })?;
    dom::on(doc, "reset", "click", |_: web_sys::Event| {
        with_page(|p| p.run.restart(&mut p.ctx));
    })?;
    dom::on(doc, "y0-clear", "click", |_: web_sys::Event| {
        with_page(|p| p.run.start_from(&mut p.ctx, None));
    })?;
    dom::on(doc, "new-seed", "click", |_: web_sys::Event| {
        let seed = (js_sys::Math::random() * 1e9).floor() as u64;
        with_page(|p| p.set_field("seed", &seed.to_string()));
    })?;
    for (id, req) in [
        ("export-csv", RunRequest::ExportTrajectory),
        ("export-y", RunRequest::ExportY),
    ] {
        dom::on(doc, id, "click", move |_: web_sys::Event| {
            with_page(|p| {
                if p.run.last.is_some() {
                    p.ctx.send(Request::Run(req.clone()), None);
                }
            });
        })?;
    }
    Ok(())
}

/// The per-PC R²'s caveat in the R² plot's title and, when every R² is trivially 1, in the
/// capture plot's too (its "score needed" is then the starting score for every PC).
fn show_pc_warning(doc: &Document, chance: &LinearChance) {
    let text = chance.warning();
    for (id, short) in [
        (
            "r2-warning",
            if chance.saturated() {
                "⚠ trivially 1 · "
            } else {
                "⚠ inflated · "
            },
        ),
        ("capture-warning", "⚠ uninformative · "),
    ] {
        let shown = text.is_some() && (id == "r2-warning" || chance.saturated());
        if let Some(badge) = dom::el(doc, id) {
            badge.set_text_content(Some(short));
            let _ = badge.set_attribute("title", text.as_deref().unwrap_or(""));
        }
        dom::set_hidden(doc, id, !shown);
    }
    dom::set_text(doc, "r2-warning-text", text.as_deref().unwrap_or(""));
    dom::set_hidden(doc, "r2-warning-text", text.is_none());
}

/// Steps asked of the worker and not yet shown, on the step count: raised as a step is asked
/// for, lowered only when the count that includes it is drawn, so with Play off and this at 0
/// the count on screen is final (what a test waits for before it compares).
fn mark_in_flight(ctx: &Ctx, stepping: u8) {
    if let Some(e) = dom::el(&ctx.doc, "step-count") {
        let _ = e.set_attribute("data-in-flight", &stepping.to_string());
    }
}

/// The run's warnings under the readouts they concern, one element each (`warning-<k>`), and
/// counted in the score plot's title (the full texts on hover), so a degenerate measure is
/// said where the user is looking.
fn show_warnings(doc: &Document, warnings: &[String]) {
    if let Some(badge) = dom::el(doc, "score-warning") {
        let n = warnings.len();
        let s = if n == 1 { "" } else { "s" };
        badge.set_text_content(Some(&format!("⚠ {n} warning{s} · ")));
        let _ = badge.set_attribute("title", &warnings.join("\n"));
        dom::set_hidden(doc, "score-warning", n == 0);
    }
    let Some(list) = dom::el(doc, "warnings") else {
        return;
    };
    let html: String = warnings
        .iter()
        .enumerate()
        .map(|(k, w)| {
            format!(
                "<span data-testid=\"warning-{k}\">{}</span> ",
                dom::escape(w)
            )
        })
        .collect();
    list.set_inner_html(&html);
}
