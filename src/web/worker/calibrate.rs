//! The Calibration panel's worker side: the core's [`Calibration`] (what `simscope calibrate`
//! loops) in slices.

use super::{loaded, slice, Loaded};
use crate::analysis::calibrate::{CalibrateOptions, Calibration};
use crate::analysis::job::Job;
use crate::measures::registry;
use crate::web::protocol::{CalibrateRequest, CalibrateResponse};

#[derive(Default)]
pub(super) struct CalibratePanel {
    job: Option<Calibration>,
}

impl CalibratePanel {
    pub fn on_loaded(&mut self) {
        self.job = None;
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
                Ok(CalibrateResponse::Started {
                    measures: ids,
                    total,
                })
            }
            CalibrateRequest::Slice => {
                let Some(job) = self.job.as_mut() else {
                    return Ok(CalibrateResponse::Cancelled);
                };
                job.advance(&mut slice())
                    .map_err(|e| format!("calibration: {e}"))?;
                let p = job.progress();
                let rows = job.is_done().then(|| job.rows().to_vec());
                if rows.is_some() {
                    self.job = None;
                }
                Ok(CalibrateResponse::Progress {
                    done: p.done,
                    total: p.total,
                    last: p.what,
                    rows,
                })
            }
            CalibrateRequest::Cancel => {
                self.job = None;
                Ok(CalibrateResponse::Cancelled)
            }
        }
    }
}
