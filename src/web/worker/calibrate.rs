//! The Calibration panel's worker side: the core's [`Calibration`] (what `simscope calibrate`
//! loops) in slices, its (measure, seed) runs spread over the helper workers
//! ([`super::pool`]) while the worker runs its own share, as `--threads` does natively.

use super::pool::{HelperEvent, Pool};
use super::{loaded, slice, Loaded, WORKER};
use crate::analysis::calibrate::{CalibrateOptions, Calibration};
use crate::analysis::compare::Matrix;
use crate::analysis::job::Job;
use crate::measures::registry;
use crate::web::protocol::{CalibrateRequest, CalibrateResponse, HelperRequest, HelperResponse};

#[derive(Default)]
pub(super) struct CalibratePanel {
    job: Option<Calibration>,
    /// Numbers the jobs, so a helper's answer for an earlier one is recognised and dropped.
    job_id: u64,
    /// X as the helpers get it (they prepare it as the worker did).
    x: Option<Matrix>,
    pool: Pool,
    /// The run each helper holds, with the job it belongs to (one at a time: a run is long).
    held: Vec<Option<(u64, usize)>>,
    /// A helper's answer the job refused: reported at the next slice.
    failed: Option<String>,
    /// Helpers that ran a run of this job.
    ran: Vec<bool>,
}

/// Helper `i`'s message events, to this panel.
fn route(i: usize, event: HelperEvent) {
    WORKER.with(|w| w.borrow_mut().calibrate.on_helper(i, event));
}

impl CalibratePanel {
    pub fn on_loaded(&mut self) {
        self.job = None;
    }

    /// Give every idle live helper the next run (once X's variables are decoded).
    fn feed(&mut self) {
        let (Some(job), Some(x)) = (self.job.as_mut(), self.x.as_ref()) else {
            return;
        };
        let Some(spec) = job.run_spec() else {
            return;
        };
        self.held.resize(self.pool.helpers.len(), None);
        for (h, held) in self.pool.helpers.iter_mut().zip(&mut self.held) {
            if !(h.ready && h.alive) || held.is_some() {
                continue;
            }
            let Some(run) = job.checkout() else {
                break;
            };
            if h.job != Some(self.job_id) {
                h.post(HelperRequest::Runs {
                    job: self.job_id,
                    x: x.clone(),
                    spec: spec.clone(),
                });
                h.job = Some(self.job_id);
            }
            h.post(HelperRequest::Run {
                job: self.job_id,
                run,
            });
            *held = Some((self.job_id, run));
        }
    }

    fn on_helper(&mut self, i: usize, event: HelperEvent) {
        self.held.resize(self.pool.helpers.len(), None);
        self.ran.resize(self.pool.helpers.len(), false);
        match event {
            HelperEvent::Ready => self.pool.helpers[i].ready = true,
            HelperEvent::Said(HelperResponse::Ran { job, outcome }) => {
                self.held[i] = None;
                if let (true, Some(c)) = (job == self.job_id, self.job.as_mut()) {
                    if let Err(e) = c.deliver(outcome) {
                        self.failed = Some(e);
                    }
                    self.ran[i] = true;
                }
            }
            HelperEvent::Said(HelperResponse::Failed { job, .. }) if job != self.job_id => {
                self.held[i] = None;
            }
            HelperEvent::Said(HelperResponse::Failed { message, .. })
            | HelperEvent::Died(message) => {
                // Its run is run here instead: the report is the same either way (and a run
                // that cannot run fails here with its own message).
                web_sys::console::warn_1(
                    &format!("calibration helper {i} dropped: {message}").into(),
                );
                self.pool.helpers[i].alive = false;
                if let (Some((job, run)), Some(c)) = (self.held[i].take(), self.job.as_mut()) {
                    if job == self.job_id {
                        c.release(run);
                    }
                }
            }
            HelperEvent::Said(_) => {}
        }
        self.feed();
    }

    pub fn handle(&mut self, l: Option<&Loaded>, req: CalibrateRequest) -> CalibrateResponse {
        self.try_handle(l, req).unwrap_or_else(|message| {
            self.job = None;
            CalibrateResponse::Failed { message }
        })
    }

    fn try_handle(
        &mut self,
        l: Option<&Loaded>,
        req: CalibrateRequest,
    ) -> Result<CalibrateResponse, String> {
        match req {
            CalibrateRequest::Start {
                measures,
                seeds,
                lr,
            } => {
                let l = loaded(l)?;
                let target = l.target.clone();
                let mut ids = Vec::new();
                for id in &measures {
                    let (c, _) = registry::resolve(id).map_err(|e| e.to_string())?;
                    registry::prepare(&c, target.clone(), target.p).map_err(|e| e.to_string())?;
                    if !ids.contains(&c) {
                        ids.push(c);
                    }
                }
                if ids.is_empty() || !(1..=10).contains(&seeds) {
                    return Err("calibration needs a measure and 1 to 10 seeds".into());
                }
                let rec = &l.recording;
                let opts = CalibrateOptions {
                    seeds,
                    lr,
                    ..CalibrateOptions::default()
                };
                let job = Calibration::new(
                    target,
                    &rec.data,
                    rec.time_steps(),
                    &rec.labels,
                    &ids,
                    &opts,
                );
                let total = job.total_runs();
                self.job = Some(job);
                self.job_id += 1;
                self.x = Some(Matrix::of(&rec.data));
                self.failed = None;
                self.ran.clear();
                self.pool.ensure(route);
                Ok(CalibrateResponse::Started {
                    measures: ids,
                    total,
                })
            }
            CalibrateRequest::Slice => {
                if let Some(e) = self.failed.take() {
                    return Err(e);
                }
                self.feed();
                let Some(job) = self.job.as_mut() else {
                    return Ok(CalibrateResponse::Cancelled);
                };
                job.advance(&mut slice())
                    .map_err(|e| format!("calibration: {e}"))?;
                let p = job.progress();
                let waiting = job.is_waiting();
                let rows = job.is_done().then(|| job.rows().to_vec());
                if rows.is_some() {
                    self.job = None;
                } else {
                    // X's variables may have been decoded in this slice: the helpers start.
                    self.feed();
                }
                Ok(CalibrateResponse::Progress {
                    done: p.done,
                    total: p.total,
                    last: p.what,
                    rows,
                    threads: 1 + self.ran.iter().filter(|&&r| r).count(),
                    waiting,
                })
            }
            CalibrateRequest::Cancel => {
                self.job = None;
                Ok(CalibrateResponse::Cancelled)
            }
        }
    }
}
