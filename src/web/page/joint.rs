//! The Joint panel: the perimeter sweep of the core's joint job, run in worker slices with
//! progress and Cancel, drawn as the allowed region of two scores.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use wasm_bindgen::prelude::*;
use web_sys::Document;

use super::{with_page, Ctx, View};
use crate::measures::registry;
use crate::plot::{self, Style};
use crate::web::dom;
use crate::web::protocol::{JointRequest, JointResponse, JointSpec, Request};

/// The job as the page sees it.
struct Job {
    a: String,
    b: String,
    targets: Vec<(f64, f64)>,
    rank_x: usize,
    rank_y: usize,
    /// Per target: trajectory of (A, B) so far and whether it is finished.
    runs: Vec<(Vec<(f64, f64)>, bool)>,
}

#[derive(Default)]
pub(super) struct JointView {
    job: Option<Job>,
    /// Slices are requested one at a time while running.
    running: bool,
}

impl View for JointView {
    const PLOTS: &'static [&'static str] = &["joint-plot"];

    fn on_loaded(&mut self, ctx: &mut Ctx) {
        self.job = None;
        self.set_running(ctx, false);
        self.show_progress(&ctx.doc);
    }

    fn ready(&self, _ctx: &Ctx, _id: &str) -> bool {
        self.job.is_some()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        ctx: &Ctx,
        _id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let Some(j) = &self.job else { return Ok(()) };
        let runs: Vec<plot::JointSeries> = j
            .targets
            .iter()
            .zip(&j.runs)
            .map(|(&target, (traj, done))| plot::JointSeries {
                target,
                trajectory: traj,
                done: *done,
            })
            .collect();
        let bounds = match (j.a.as_str(), j.b.as_str()) {
            ("cka", "nbs") | ("nbs", "cka") => Some(plot::CkaNbsBounds {
                rank_x: j.rank_x,
                rank_y: j.rank_y,
                cka_on_x: j.a == "cka",
            }),
            _ => None,
        };
        // The Compare panel's models scored on both measures, as markers.
        let on_b = ctx.model_marks(&j.b);
        let models: Vec<(&str, (f64, f64))> = ctx
            .model_marks(&j.a)
            .into_iter()
            .filter_map(|(name, a)| Some((name, (a, on_b.iter().find(|m| m.0 == name)?.1))))
            .collect();
        if let Some(c) = dom::el(&ctx.doc, "joint-plot") {
            let _ = c.set_attribute("data-models", &models.len().to_string());
        }
        // Axes in words, as the menus.
        let (a, b) = (registry::name(&j.a), registry::name(&j.b));
        plot::joint_region(root, (&a, &b), &runs, bounds, &models, style).map_err(|e| e.to_string())
    }
}

impl JointView {
    /// Run: start a joint job with the panel's settings (replacing any running one).
    fn run(&mut self, ctx: &mut Ctx) {
        if ctx.dataset.is_none() {
            return;
        }
        if self.running {
            ctx.send(Request::Joint(JointRequest::Cancel), None);
        }
        let s = &ctx.state;
        let spec = JointSpec {
            a: s.joint_a.clone(),
            b: s.joint_b.clone(),
            per_side: s.joint_n as usize,
            steps: s.joint_steps as usize,
            lr: s.lr,
            seed: s.seed,
        };
        self.job = None;
        self.set_running(ctx, true);
        ctx.send(Request::Joint(JointRequest::Start(spec)), None);
        self.show_progress(&ctx.doc);
        ctx.redraw_all();
    }

    /// Cancel: no further slice is asked for, and the worker drops the job.
    fn cancel(&mut self, ctx: &mut Ctx) {
        if self.running {
            self.set_running(ctx, false);
            ctx.send(Request::Joint(JointRequest::Cancel), None);
            self.show_progress(&ctx.doc);
        }
    }

    fn set_running(&mut self, ctx: &Ctx, running: bool) {
        self.running = running;
        if let Some(b) = dom::el(&ctx.doc, "joint-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
        if let Some(b) = dom::el(&ctx.doc, "joint-run") {
            let _ = b.set_attribute("aria-busy", if running { "true" } else { "false" });
        }
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, r: JointResponse) {
        match r {
            JointResponse::Started {
                a,
                b,
                targets,
                rank_x,
                rank_y,
            } => {
                if !self.running {
                    return;
                }
                self.job = Some(Job {
                    a,
                    b,
                    runs: vec![(Vec::new(), false); targets.len()],
                    targets,
                    rank_x,
                    rank_y,
                });
                self.show_progress(&ctx.doc);
                ctx.send(Request::Joint(JointRequest::Slice), None);
            }
            JointResponse::Progress {
                finished,
                current,
                all_done,
            } => {
                if !self.running {
                    return;
                }
                if let Some(j) = self.job.as_mut() {
                    for (i, traj) in finished {
                        if let Some(r) = j.runs.get_mut(i) {
                            *r = (traj, true);
                        }
                    }
                    if let Some((i, traj)) = current {
                        if let Some(r) = j.runs.get_mut(i) {
                            *r = (traj, false);
                        }
                    }
                }
                if all_done {
                    self.set_running(ctx, false);
                } else {
                    ctx.send(Request::Joint(JointRequest::Slice), None);
                }
                self.show_progress(&ctx.doc);
                ctx.redraw("joint-plot");
            }
            JointResponse::Cancelled => {}
            JointResponse::Failed { message } => {
                self.set_running(ctx, false);
                self.show_progress(&ctx.doc);
                ctx.error(&format!("joint: {message}"));
            }
        }
    }

    /// "target 5/12" while running; the state in data attributes for tests.
    fn show_progress(&self, doc: &Document) {
        let (done, total) = self.job.as_ref().map_or((0, 0), |j| {
            (j.runs.iter().filter(|r| r.1).count(), j.targets.len())
        });
        let state = match (&self.job, self.running) {
            (_, true) => "running",
            (Some(_), false) if done == total => "done",
            (Some(_), false) => "cancelled",
            (None, false) => "idle",
        };
        let text = match (state, &self.job) {
            ("running", None) => "starting…".to_string(),
            ("running", Some(_)) => format!("target {}/{total}", (done + 1).min(total)),
            ("done", _) => format!("done: {total} targets"),
            ("cancelled", _) => format!("cancelled after {done}/{total} targets"),
            _ => String::new(),
        };
        dom::set_text(doc, "joint-progress", &text);
        if let Some(e) = dom::el(doc, "joint-progress") {
            let _ = e.set_attribute("data-done", &done.to_string());
            let _ = e.set_attribute("data-total", &total.to_string());
            let _ = e.set_attribute("data-state", state);
        }
    }
}

pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    dom::on(doc, "joint-run", "click", |_: web_sys::Event| {
        with_page(|p| p.joint.run(&mut p.ctx));
    })?;
    dom::on(doc, "joint-cancel", "click", |_: web_sys::Event| {
        with_page(|p| p.joint.cancel(&mut p.ctx));
    })?;
    Ok(())
}
