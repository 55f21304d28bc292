//! The Compare panel's worker side: the model's activations and the core's [`Compare`] job
//! (what `simscope compare` loops) in slices, its permutation and bootstrap batches spread
//! over the helper workers ([`super::pool`]) while the worker scores its own share.

use super::pool::{HelperEvent, Pool};
use super::{loaded, slice, Loaded, WORKER};
use crate::analysis::compare::{check_model, Compare, CompareOptions, Model, SampleBatch};
use crate::analysis::job::Job;
use crate::data;
use crate::web::protocol::{
    CompareRequest, CompareResponse, CompareSettings, HelperRequest, HelperResponse,
};

/// Samples per batch sent to a helper (≈ 0.1 s of work for the paper's seven measures on
/// golub2018), and batches queued per helper, so a helper never waits for the worker, which
/// reads their answers only between its own ~30 ms slices.
const HELPER_BATCH: usize = 4;
const IN_FLIGHT: usize = 2;

#[derive(Default)]
pub(super) struct ComparePanel {
    /// The open models' activations, kept across recordings (checked again at each start).
    models: Vec<Model>,
    job: Option<Compare>,
    /// Numbers the jobs, so a helper's answer for an earlier one is recognised and dropped.
    job_id: u64,
    pool: Pool,
    /// Batches each helper holds, with the job they belong to.
    held: Vec<Vec<(u64, SampleBatch)>>,
    /// A helper's answer the job refused: reported at the next slice.
    failed: Option<String>,
    /// Helpers that scored a batch of this job.
    scored: Vec<bool>,
}

/// Helper `i`'s message events, to this panel.
fn route(i: usize, event: HelperEvent) {
    WORKER.with(|w| w.borrow_mut().compare.on_helper(i, event));
}

impl ComparePanel {
    pub fn on_loaded(&mut self) {
        self.job = None;
    }

    /// Top every live helper up to [`IN_FLIGHT`] batches of the job's resampling.
    fn feed(&mut self) {
        let Some(job) = self.job.as_mut() else {
            return;
        };
        self.held.resize(self.pool.helpers.len(), Vec::new());
        for (h, held) in self.pool.helpers.iter_mut().zip(&mut self.held) {
            if !(h.ready && h.alive) {
                continue;
            }
            if h.job != Some(self.job_id) {
                h.post(HelperRequest::Init {
                    job: self.job_id,
                    resampling: job.resampling(),
                });
                h.job = Some(self.job_id);
            }
            while held.len() < IN_FLIGHT {
                let Some(batch) = job.checkout(HELPER_BATCH) else {
                    break;
                };
                h.post(HelperRequest::Score {
                    job: self.job_id,
                    batch: batch.clone(),
                });
                held.push((self.job_id, batch));
            }
        }
    }

    fn on_helper(&mut self, i: usize, event: HelperEvent) {
        self.held.resize(self.pool.helpers.len(), Vec::new());
        match event {
            HelperEvent::Ready => self.pool.helpers[i].ready = true,
            HelperEvent::Said(HelperResponse::Initialised { .. } | HelperResponse::Ran { .. }) => {}
            HelperEvent::Said(HelperResponse::Scored { job, batch, scores }) => {
                self.held[i].retain(|(j, b)| !(*j == job && *b == batch));
                if let (true, Some(c)) = (job == self.job_id, self.job.as_mut()) {
                    if let Err(e) = c.deliver(&batch, scores) {
                        self.failed = Some(e);
                    }
                    self.scored.resize(self.pool.helpers.len(), false);
                    self.scored[i] = true;
                }
            }
            HelperEvent::Said(HelperResponse::Failed { job, .. }) if job != self.job_id => {
                self.held[i].retain(|(j, _)| *j != job);
            }
            HelperEvent::Said(HelperResponse::Failed { message, .. })
            | HelperEvent::Died(message) => {
                // Its batches are scored here instead: the report is the same either way.
                web_sys::console::warn_1(&format!("compare helper {i} dropped: {message}").into());
                self.pool.helpers[i].alive = false;
                for (job, batch) in std::mem::take(&mut self.held[i]) {
                    if let (true, Some(c)) = (job == self.job_id, self.job.as_mut()) {
                        let scores = c.score_here(&batch);
                        if let Err(e) = c.deliver(&batch, scores) {
                            self.failed = Some(e);
                        }
                    }
                }
            }
        }
        self.feed();
    }

    pub fn handle(
        &mut self,
        l: Option<&Loaded>,
        req: CompareRequest,
        bytes: Option<Vec<u8>>,
    ) -> CompareResponse {
        self.try_handle(l, req, bytes).unwrap_or_else(|message| {
            self.job = None;
            CompareResponse::Failed { message }
        })
    }

    fn try_handle(
        &mut self,
        l: Option<&Loaded>,
        req: CompareRequest,
        bytes: Option<Vec<u8>>,
    ) -> Result<CompareResponse, String> {
        match req {
            CompareRequest::Model { name } => {
                let l = loaded(l)?;
                let bytes = bytes.ok_or("the file's bytes are missing")?;
                let (y, mut warnings) =
                    data::read_recording(&name, &bytes).map_err(|e| format!("{name}: {e}"))?;
                let model = Model {
                    name: y.name,
                    dims: y.dims,
                    data: y.data,
                };
                // A model that does not fit X is refused now, and the open ones stay.
                let rec = &l.recording;
                warnings.extend(check_model(&rec.dims, rec.data.nrows(), &model)?);
                self.job = None;
                match self.models.iter_mut().find(|m| m.name == model.name) {
                    Some(m) => *m = model,
                    None => self.models.push(model),
                }
                Ok(self.listing(warnings))
            }
            CompareRequest::Remove { name } => {
                self.job = None;
                self.models.retain(|m| m.name != name);
                Ok(self.listing(Vec::new()))
            }
            CompareRequest::Start(s) => self.start(loaded(l)?, s),
            CompareRequest::Slice => {
                if let Some(e) = self.failed.take() {
                    return Err(e);
                }
                self.feed();
                let Some(job) = self.job.as_mut() else {
                    return Ok(CompareResponse::Cancelled);
                };
                job.advance(&mut slice())
                    .map_err(|e| format!("compare: {e}"))?;
                let p = job.progress();
                let report = if job.is_done() {
                    let job = self.job.take().expect("checked above");
                    let r = job
                        .result()
                        .ok_or("compare: the job ended without a result")?;
                    // The document `simscope compare` prints, byte for byte.
                    let doc = serde_json::to_value(&r).map_err(|e| e.to_string())?;
                    Some(doc.to_string())
                } else {
                    None
                };
                Ok(CompareResponse::Progress {
                    done: p.done,
                    total: p.total,
                    what: p.what,
                    report,
                    threads: 1 + self.scored.iter().filter(|&&s| s).count(),
                })
            }
            CompareRequest::Cancel => {
                self.job = None;
                Ok(CompareResponse::Cancelled)
            }
        }
    }

    /// The open model of this name (Optimise's "from this model").
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    fn listing(&self, warnings: Vec<String>) -> CompareResponse {
        CompareResponse::Models {
            models: self
                .models
                .iter()
                .map(|m| (m.name.clone(), m.dims.clone()))
                .collect(),
            warnings,
        }
    }

    fn start(&mut self, l: &Loaded, s: CompareSettings) -> Result<CompareResponse, String> {
        if self.models.is_empty() {
            return Err("open a model's activations first (Model Y…)".into());
        }
        let opts = CompareOptions {
            measures: s.measures,
            bootstrap: s.bootstrap,
            permutations: s.permutations,
            seed: s.seed,
            calibrate: s.calibrate,
            // One thread in a worker; the results do not depend on it.
            threads: 1,
            ..CompareOptions::default()
        };
        let rec = &l.recording;
        let job = Compare::new(
            l.target.clone(),
            &rec.data,
            &rec.dims,
            &rec.labels,
            self.models.clone(),
            &opts,
        )?;
        let total = job.progress().total;
        self.job = Some(job);
        self.job_id += 1;
        self.failed = None;
        self.scored.clear();
        self.pool.ensure(route);
        self.feed();
        Ok(CompareResponse::Started { total })
    }
}
