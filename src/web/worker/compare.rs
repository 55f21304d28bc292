//! The Compare panel's worker side: the model's activations and the core's [`Compare`] job
//! (what `simscope compare` loops) in slices.

use super::{loaded, slice, Loaded};
use crate::analysis::compare::{check_model, Compare, CompareOptions, Model};
use crate::analysis::job::Job;
use crate::data;
use crate::web::protocol::{CompareRequest, CompareResponse, CompareSettings};

#[derive(Default)]
pub(super) struct ComparePanel {
    /// The open models' activations, kept across recordings (checked again at each start).
    models: Vec<Model>,
    job: Option<Compare>,
}

impl ComparePanel {
    pub fn on_loaded(&mut self) {
        self.job = None;
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
        Ok(CompareResponse::Started { total })
    }
}
