//! The Joint panel's worker side: the core's [`JointJob`] (what `simscope joint` loops) in
//! slices, reporting the targets finished in each slice and the one in progress.

use super::{loaded, slice, Loaded};
use crate::analysis::job::Job;
use crate::analysis::joint::{JointJob, Point};
use crate::web::protocol::{JointRequest, JointResponse};

/// At most this many (A, B) points of a trajectory go to the page: the plot shows its path
/// (and its end, always kept), and drawing or sending 5000 points per target at every slice
/// would cost the main thread frames.
const DRAWN_POINTS: usize = 256;

/// (A, B) of `t`, evenly thinned to at most `max` points, keeping the first and the last.
fn thin(t: &[Point], max: usize) -> Vec<(f64, f64)> {
    let n = t.len();
    if n <= max {
        return t.iter().map(|&(_, a, b)| (a, b)).collect();
    }
    (0..max)
        .map(|i| {
            let (_, a, b) = t[i * (n - 1) / (max - 1)];
            (a, b)
        })
        .collect()
}

#[derive(Default)]
pub(super) struct JointPanel {
    job: Option<JointJob>,
    /// Targets already reported to the page.
    sent: usize,
}

impl JointPanel {
    pub fn on_loaded(&mut self) {
        self.job = None;
    }

    pub fn handle(&mut self, l: Option<&Loaded>, req: JointRequest) -> JointResponse {
        self.try_handle(l, req).unwrap_or_else(|message| {
            self.job = None;
            JointResponse::Failed { message }
        })
    }

    fn try_handle(
        &mut self,
        l: Option<&Loaded>,
        req: JointRequest,
    ) -> Result<JointResponse, String> {
        match req {
            JointRequest::Start(spec) => {
                let job = JointJob::new(loaded(l)?.target.clone(), &spec)?;
                let (rank_x, rank_y) = job.ranks();
                let started = JointResponse::Started {
                    a: job.spec().a.clone(),
                    b: job.spec().b.clone(),
                    targets: job.targets().to_vec(),
                    rank_x,
                    rank_y,
                };
                self.job = Some(job);
                self.sent = 0;
                Ok(started)
            }
            JointRequest::Slice => {
                // A slice that crosses a cancel (or a new recording) finds no job.
                let Some(job) = self.job.as_mut() else {
                    return Ok(JointResponse::Cancelled);
                };
                job.advance(&mut slice())?;
                let ab = |t: &[Point]| thin(t, DRAWN_POINTS);
                let finished = job.runs()[self.sent..]
                    .iter()
                    .enumerate()
                    .map(|(k, r)| (self.sent + k, ab(&r.trajectory)))
                    .collect();
                self.sent = job.runs().len();
                let current = job.current().map(|(i, t)| (i, ab(t)));
                let all_done = job.is_done();
                if all_done {
                    self.job = None;
                }
                Ok(JointResponse::Progress {
                    finished,
                    current,
                    all_done,
                })
            }
            JointRequest::Cancel => {
                self.job = None;
                Ok(JointResponse::Cancelled)
            }
        }
    }
}
