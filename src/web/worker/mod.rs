//! The worker side: owns the recording, its prepared target and every panel's job, and answers
//! requests. Runs in a dedicated Web Worker so the page never blocks on numerics.
//!
//! This module loads recordings and dispatches; each panel's requests go to its own module,
//! which holds its job and advances it in slices of [`SLICE_MS`] on one clock ([`now_ms`]).
//! A panel's error comes back as that panel's `Failed` response, so only that panel reacts.

mod calibrate;
mod compare;
mod decode;
mod joint;
mod perturb;
mod pool;
mod prune;
mod run;

use std::cell::RefCell;
use std::sync::Arc;

use nalgebra::DMatrix;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::protocol::{
    BenchRequest, BenchResponse, DatasetSummary, HelperRequest, HelperResponse, RecordingRequest,
    RecordingResponse, Request, Response, WorkerResponse,
};
use crate::analysis::calibrate::{CalRun, RunSpec};
use crate::analysis::compare::Resampler;
use crate::analysis::job::Budget;
use crate::data::{self, datasets, Recording};
use crate::target::Target;

/// A slice of a job runs until this much time has passed (ms), so a cancel, a step request or
/// another panel's request waits at most about this long.
const SLICE_MS: f64 = 30.0;

/// The worker's clock (ms, `performance.now()`; 0 where there is none).
fn now_ms() -> f64 {
    js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .ok()
        .and_then(|g| g.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The budget of one slice.
fn slice() -> Budget<'static> {
    Budget::millis(&now_ms, SLICE_MS)
}

/// The loaded recording and its prepared target, shared by every panel.
pub(super) struct Loaded {
    pub recording: Recording,
    pub target: Arc<Target>,
}

/// The loaded recording, or the error every panel gives without one.
fn loaded(l: Option<&Loaded>) -> Result<&Loaded, String> {
    l.ok_or_else(|| "load a recording first".to_string())
}

#[derive(Default)]
struct Worker {
    loaded: Option<Loaded>,
    run: run::RunPanel,
    perturb: perturb::PerturbPanel,
    joint: joint::JointPanel,
    calibrate: calibrate::CalibratePanel,
    compare: compare::ComparePanel,
    prune: prune::PrunePanel,
    /// As a helper of another worker ([`pool`]): its current job.
    helper: Option<(u64, HelperJob)>,
}

/// What a helper holds for its job: Compare's scorer, or a calibration's prepared X and what
/// its runs share.
enum HelperJob {
    Resample(Resampler),
    Runs(Arc<Target>, Arc<RunSpec>),
}

thread_local! {
    static WORKER: RefCell<Worker> = RefCell::new(Worker::default());
    /// Bytes to send beside the next response (transferred, not copied).
    static OUTBOX: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Send `bytes` beside the response being built.
fn attach(bytes: Vec<u8>) {
    OUTBOX.with(|o| *o.borrow_mut() = Some(bytes));
}

/// Row-major n × 2 of the first two columns of `m` (zeros where it has fewer).
fn row_major_2(m: &DMatrix<f64>) -> Vec<f64> {
    (0..m.nrows())
        .flat_map(|i| (0..2).map(move |j| if j < m.ncols() { m[(i, j)] } else { 0.0 }))
        .collect()
}

impl Worker {
    fn handle(&mut self, req: Request, bytes: Option<Vec<u8>>) -> Response {
        let l = self.loaded.as_ref();
        match req {
            Request::Recording(r) => Response::Recording(
                self.recording(r, bytes)
                    .unwrap_or_else(|message| RecordingResponse::Failed { message }),
            ),
            Request::Run(r) => {
                let compare = &self.compare;
                Response::Run(self.run.handle(l, r, |name| compare.model(name)))
            }
            Request::Perturb(r) => Response::Perturb(self.perturb.handle(l, r)),
            Request::Joint(r) => Response::Joint(self.joint.handle(l, r)),
            Request::Calibrate(r) => Response::Calibrate(self.calibrate.handle(l, r)),
            Request::Compare(r) => Response::Compare(self.compare.handle(l, r, bytes)),
            Request::Prune(r) => Response::Prune(self.prune.handle(l, r, bytes)),
            Request::Bench(r) => Response::Bench(
                bench(r).unwrap_or_else(|message| BenchResponse::Failed { message }),
            ),
            Request::Helper(r) => Response::Helper(self.as_helper(r)),
        }
    }

    /// A helper's side of [`pool`]: build the job's scorer (or prepare its X), then score its
    /// batches (run its runs).
    fn as_helper(&mut self, req: HelperRequest) -> HelperResponse {
        let unknown = |job| HelperResponse::Failed {
            job,
            message: "no scorer for this job".into(),
        };
        match req {
            HelperRequest::Init { job, resampling } => match Resampler::new(&resampling) {
                Ok(r) => {
                    self.helper = Some((job, HelperJob::Resample(r)));
                    HelperResponse::Initialised { job }
                }
                Err(message) => HelperResponse::Failed { job, message },
            },
            HelperRequest::Score { job, batch } => match &self.helper {
                Some((j, HelperJob::Resample(r))) if *j == job => HelperResponse::Scored {
                    job,
                    scores: r.score(&batch),
                    batch,
                },
                _ => unknown(job),
            },
            HelperRequest::Runs { job, x, spec } => {
                // X prepared here exactly as the worker prepared it (`load`).
                match x
                    .to_dmatrix()
                    .and_then(|x| Target::new(&x).map_err(|e| e.to_string()))
                {
                    Ok(t) => {
                        self.helper = Some((job, HelperJob::Runs(Arc::new(t), Arc::new(spec))));
                        HelperResponse::Initialised { job }
                    }
                    Err(message) => HelperResponse::Failed { job, message },
                }
            }
            HelperRequest::Run { job, run } => match &self.helper {
                Some((j, HelperJob::Runs(t, spec))) if *j == job => {
                    match CalRun::new(t.clone(), spec.clone(), run)
                        .and_then(|r| crate::analysis::job::run_to_end(r, |_| {}))
                    {
                        Ok(outcome) => HelperResponse::Ran { job, outcome },
                        Err(message) => HelperResponse::Failed { job, message },
                    }
                }
                _ => unknown(job),
            },
        }
    }

    fn recording(
        &mut self,
        req: RecordingRequest,
        bytes: Option<Vec<u8>>,
    ) -> Result<RecordingResponse, String> {
        let bytes = || bytes.ok_or("the file's bytes are missing");
        let (rec, warnings) = match req {
            RecordingRequest::Builtin { name } => {
                let rec = datasets::builtin(&name)
                    .ok_or_else(|| format!("no built-in dataset named `{name}`"))?;
                (rec, Vec::new())
            }
            RecordingRequest::File { name } => {
                data::read_recording(&name, &bytes()?).map_err(|e| format!("{name}: {e}"))?
            }
            RecordingRequest::Labels { name } => {
                let l = loaded(self.loaded.as_ref())?;
                let (vars, warnings) =
                    data::labels::read_labels(&name, &bytes()?, l.recording.conditions())
                        .map_err(|e| format!("{name}: {e}"))?;
                let mut rec = l.recording.clone();
                rec.set_labels(vars).map_err(|e| format!("{name}: {e}"))?;
                (rec, warnings)
            }
        };
        self.load(rec, warnings)
    }

    /// Replace the recording only once the new one is valid: a bad file leaves the previous
    /// dataset and every panel's state intact. A new recording drops every panel's job.
    fn load(
        &mut self,
        recording: Recording,
        warnings: Vec<String>,
    ) -> Result<RecordingResponse, String> {
        let target = match self.loaded.as_ref() {
            // New labels for the same data: X's preparation is kept.
            Some(l) if l.recording.data == recording.data && l.recording.dims == recording.dims => {
                l.target.clone()
            }
            _ => Arc::new(
                Target::new(&recording.data).map_err(|e| format!("{}: {e}", recording.name))?,
            ),
        };
        let l = Loaded { recording, target };
        let summary = summary(&l, warnings);
        self.run.on_loaded();
        self.perturb.on_loaded();
        self.joint.on_loaded();
        self.calibrate.on_loaded();
        self.compare.on_loaded();
        self.loaded = Some(l);
        Ok(RecordingResponse::Loaded(summary))
    }
}

/// At most this many explained-variance ratios go to the page (spectrum plot, 90% count).
const MAX_SPECTRUM: usize = 200;

fn summary(loaded: &Loaded, warnings: Vec<String>) -> DatasetSummary {
    let rec = &loaded.recording;
    let ratios = loaded.target.explained_variance_ratio();
    DatasetSummary {
        name: rec.name.clone(),
        dims: rec.dims.clone(),
        conditions: rec.conditions(),
        labels: rec
            .labels
            .iter()
            .map(|v| (v.name.clone(), v.classes.len()))
            .collect(),
        explained: ratios.iter().take(MAX_SPECTRUM).copied().collect(),
        rank: loaded.target.rank(),
        x_pcs: row_major_2(&loaded.target.project(&rec.data, 2)),
        first_variable: rec.labels.first().cloned(),
        warnings,
    }
}

/// Time steps of a measure in the worker exactly as `simscope bench` does natively.
fn bench(req: BenchRequest) -> Result<BenchResponse, String> {
    let BenchRequest::Steps {
        measure,
        n,
        p,
        budget_s,
    } = req;
    if !(10..=4000).contains(&n) || !(1..=1000).contains(&p) || budget_s.is_nan() || budget_s <= 0.0
    {
        return Err("bench wants 10 ≤ n ≤ 4000, 1 ≤ p ≤ 1000, budget > 0".into());
    }
    let row = crate::bench::time_steps_with(&measure, n, p, 2, 5, 200, budget_s.min(30.0), now_ms)?;
    Ok(BenchResponse::Steps {
        measure: row.measure,
        n: row.n,
        p: row.p,
        median_ms: row.median_ms,
        steps: row.steps,
    })
}

/// Install the message handler in this worker and tell the page we are ready.
pub fn start(scope: DedicatedWorkerGlobalScope) -> Result<(), JsValue> {
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let msg = ev.data();
        let id = js_sys::Reflect::get(&msg, &"id".into()).unwrap_or(JsValue::NULL);
        let body = js_sys::Reflect::get(&msg, &"body".into()).unwrap_or(JsValue::NULL);
        let bytes = js_sys::Reflect::get(&msg, &"bytes".into())
            .ok()
            .and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok())
            .map(|a| a.to_vec());
        let response = match serde_wasm_bindgen::from_value::<Request>(body) {
            Ok(req) => WORKER.with(|w| w.borrow_mut().handle(req, bytes)),
            Err(e) => Response::Worker(WorkerResponse::Failed {
                message: format!("bad request: {e}"),
            }),
        };
        post(&reply_scope, id, &response);
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let simd = cfg!(target_feature = "simd128");
    post(
        &scope,
        JsValue::NULL,
        &Response::Worker(WorkerResponse::Ready { simd }),
    );
    Ok(())
}

fn post(scope: &DedicatedWorkerGlobalScope, id: JsValue, response: &Response) {
    let msg = js_sys::Object::new();
    let body = serde_wasm_bindgen::to_value(response).unwrap_or(JsValue::NULL);
    let _ = js_sys::Reflect::set(&msg, &"id".into(), &id);
    let _ = js_sys::Reflect::set(&msg, &"body".into(), &body);
    match OUTBOX.with(|o| o.borrow_mut().take()) {
        Some(bytes) => {
            let arr = js_sys::Uint8Array::from(bytes.as_slice());
            let _ = js_sys::Reflect::set(&msg, &"bytes".into(), &arr);
            let _ = scope.post_message_with_transfer(&msg, &js_sys::Array::of1(&arr.buffer()));
        }
        None => {
            let _ = scope.post_message(&msg);
        }
    }
}
