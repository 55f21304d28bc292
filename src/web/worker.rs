//! The worker side: owns the recording, its prepared target and the session, and answers
//! requests. Runs in a dedicated Web Worker so the page never blocks on numerics.

use std::cell::RefCell;
use std::sync::Arc;

use nalgebra::DMatrix;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::protocol::{DatasetSummary, PerturbSettings, Report, Request, Response, RunSettings};
use crate::analysis::captured;
use crate::analysis::decode::{self, DecodeOptions};
use crate::analysis::perturb::{self, Perturbation};
use crate::data::{self, datasets, Recording};
use crate::measures::registry;
use crate::optim::session::{initial_y, Objective, Session, SessionOptions};
use crate::target::Target;

struct Loaded {
    recording: Recording,
    target: Arc<Target>,
    /// Decoding accuracy from X and chance per task variable, computed on first use.
    reference: Option<(Vec<Option<f64>>, Vec<f64>)>,
}

#[derive(Default)]
struct Worker {
    loaded: Option<Loaded>,
    session: Option<Session>,
}

thread_local! {
    static WORKER: RefCell<Worker> = RefCell::new(Worker::default());
    /// Bytes to send beside the next response (transferred, not copied).
    static OUTBOX: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

fn row_major_2(m: &DMatrix<f64>) -> Vec<f64> {
    (0..m.nrows())
        .flat_map(|i| (0..2).map(move |j| if j < m.ncols() { m[(i, j)] } else { 0.0 }))
        .collect()
}

impl Worker {
    fn handle(&mut self, req: Request, bytes: Option<Vec<u8>>) -> Result<Response, String> {
        match req {
            Request::Builtin { name } => {
                let rec = datasets::builtin(&name)
                    .ok_or_else(|| format!("no built-in dataset named `{name}`"))?;
                self.load(rec, Vec::new())
            }
            Request::File { name } => {
                let bytes = bytes.ok_or("the file's bytes are missing")?;
                let (rec, warnings) =
                    data::read_recording(&name, &bytes).map_err(|e| format!("{name}: {e}"))?;
                self.load(rec, warnings)
            }
            Request::Labels { name } => {
                let bytes = bytes.ok_or("the file's bytes are missing")?;
                let loaded = self.loaded.as_mut().ok_or("load a recording first")?;
                let conditions = loaded.recording.conditions();
                let (vars, warnings) = data::labels::read_labels(&name, &bytes, conditions)
                    .map_err(|e| format!("{name}: {e}"))?;
                let mut rec = loaded.recording.clone();
                rec.set_labels(vars).map_err(|e| format!("{name}: {e}"))?;
                loaded.recording = rec;
                loaded.reference = None;
                Ok(Response::Loaded(summary(loaded, warnings)))
            }
            Request::Start(settings) => self.start(&settings),
            Request::Step { n } => {
                let session = self.session.as_mut().ok_or("no session: press Reset")?;
                let r = session.step(n);
                Ok(Response::Report(report_of(session, &r)))
            }
            Request::Perturb(p) => self.perturb(p),
            Request::Decode => self.decode(),
            Request::ExportY => {
                let loaded = self.loaded.as_ref().ok_or("load a recording first")?;
                let session = self.session.as_ref().ok_or("no session: press Reset")?;
                let y = session.y();
                let mut dims = loaded.recording.dims.clone();
                if let Some(last) = dims.last_mut() {
                    *last = y.ncols();
                }
                let rec = Recording {
                    name: "Y".into(),
                    dims,
                    data: y.clone(),
                    labels: Vec::new(),
                };
                OUTBOX.with(|o| *o.borrow_mut() = Some(data::write::recording_npy(&rec)));
                Ok(Response::YNpy {
                    name: format!(
                        "simscope-Y-{}-step{}.npy",
                        loaded.recording.name,
                        session.report().step
                    ),
                })
            }
            Request::Sweep {
                measures,
                max_pcs,
                seed,
            } => {
                let loaded = self.loaded.as_ref().ok_or("load a recording first")?;
                let target = loaded.target.clone();
                let (ids, ms) = prepare_all(&target, &measures);
                let rows = perturb::sweep(&target, &ids, &ms, max_pcs, seed, |_, _| {});
                Ok(Response::Swept {
                    ids,
                    exact: rows.iter().all(|r| r.exact),
                    rows: rows
                        .into_iter()
                        .map(|r| (r.variance_ratio, r.measured, r.theory))
                        .collect(),
                })
            }
        }
    }

    fn decode(&mut self) -> Result<Response, String> {
        let loaded = self.loaded.as_mut().ok_or("load a recording first")?;
        let session = self.session.as_ref().ok_or("no session: press Reset")?;
        let rec = &loaded.recording;
        let t_steps = rec.time_steps();
        let opts = DecodeOptions::default();
        if loaded.reference.is_none() {
            let (mut refs, mut chance) = (Vec::new(), Vec::new());
            for v in &rec.labels {
                let d = decode::decode(&rec.data, t_steps, &v.name, &v.class_of, &opts).ok();
                refs.push(d.as_ref().map(|d| d.accuracy));
                chance.push(d.map(|d| d.chance).unwrap_or(f64::NAN));
            }
            loaded.reference = Some((refs, chance));
        }
        let accuracy = rec
            .labels
            .iter()
            .map(|v| {
                decode::decode(session.y(), t_steps, &v.name, &v.class_of, &opts)
                    .ok()
                    .map(|d| d.accuracy)
            })
            .collect();
        let (reference, chance) = loaded.reference.clone().unwrap_or_default();
        let r = session.report();
        Ok(Response::Decoded {
            step: r.step,
            score: r.score,
            names: rec.labels.iter().map(|v| v.name.clone()).collect(),
            accuracy,
            chance,
            reference,
        })
    }

    fn perturb(&self, p: PerturbSettings) -> Result<Response, String> {
        let loaded = self.loaded.as_ref().ok_or("load a recording first")?;
        let target = loaded.target.clone();
        let r = target.rank();
        let mut pert = Perturbation::identity(r);
        for &(k, a, deg) in &p.entries {
            if k < r {
                pert.scales[k] = a;
                pert.angles[k] = deg.to_radians();
            }
        }
        let y = perturb::perturb(&target, &pert, p.seed);
        let (ids, ms) = prepare_all(&target, &p.measures);
        Ok(Response::Perturbed {
            tag: p.tag,
            measured: ms.iter().map(|m| m.score(&y.y)).collect(),
            theory: ids
                .iter()
                .map(|id| perturb::theory(&target, &pert, id))
                .collect(),
            ids,
            exact: y.exact,
        })
    }

    /// Replace the recording only once the new one is valid: a bad file leaves the
    /// previous dataset and session intact.
    fn load(&mut self, recording: Recording, warnings: Vec<String>) -> Result<Response, String> {
        let target =
            Arc::new(Target::new(&recording.data).map_err(|e| format!("{}: {e}", recording.name))?);
        let loaded = Loaded {
            recording,
            target,
            reference: None,
        };
        let s = summary(&loaded, warnings);
        self.loaded = Some(loaded);
        self.session = None;
        Ok(Response::Loaded(s))
    }

    fn start(&mut self, s: &RunSettings) -> Result<Response, String> {
        let loaded = self.loaded.as_ref().ok_or("load a recording first")?;
        let target = loaded.target.clone();
        let q = target.p;
        let (measure, mut warnings) =
            registry::prepare(&s.measure, target.clone(), q).map_err(|e| e.to_string())?;
        let (canonical, _) = registry::resolve(&s.measure).map_err(|e| e.to_string())?;
        let options = SessionOptions {
            optimizer: s.optimizer.parse()?,
            lr: s.lr,
            stop: Some(s.stop),
            ..SessionOptions::default()
        };
        let y0 = initial_y(target.n, q, s.seed);
        let mut session =
            Session::with_options(target.clone(), Objective::Measure(measure), y0, options);
        let mut watch = Vec::new();
        for id in &s.watch {
            let (canon, _) = registry::resolve(id).map_err(|e| e.to_string())?;
            if canon == canonical || watch.contains(&canon) {
                continue;
            }
            let (m, w) = registry::prepare(&canon, target.clone(), q).map_err(|e| e.to_string())?;
            warnings.extend(w);
            session.watch(&canon, m);
            watch.push(canon);
        }
        let report = report_of(&session, &session.report());
        self.session = Some(session);
        Ok(Response::Started {
            measure: canonical,
            watch,
            warnings,
            report,
        })
    }
}

/// The measures among `ids` that apply to Y of X's width, with their canonical ids (the
/// others are left out: the panel shows what can be scored).
fn prepare_all(
    target: &Arc<Target>,
    ids: &[String],
) -> (Vec<String>, Vec<Box<dyn crate::measures::Measure>>) {
    let (mut canon, mut ms) = (Vec::new(), Vec::new());
    for id in ids {
        let Ok((c, _)) = registry::resolve(id) else {
            continue;
        };
        if canon.contains(&c) {
            continue;
        }
        if let Ok((m, _)) = registry::prepare(&c, target.clone(), target.p) {
            canon.push(c);
            ms.push(m);
        }
    }
    (canon, ms)
}

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
        explained: ratios.iter().take(50).copied().collect(),
        rank: loaded.target.rank(),
        x_pcs: row_major_2(&loaded.target.project(&rec.data, 2)),
        warnings,
    }
}

/// At most this many PCs are tracked by the captured-variance plot.
pub const TRACKED_PCS: usize = 20;

fn report_of(session: &Session, r: &crate::optim::session::StepReport) -> Report {
    let target = &session.target;
    // Per-PC R² costs a q × q eigendecomposition: on large recordings, only every 10th step.
    let (n, q) = session.y().shape();
    let due = r.step.is_multiple_of(10) || r.stopped.is_some() || (n * q * q) < 20_000_000;
    let pc_r2 = due.then(|| {
        captured::pc_r2(
            target,
            session.y(),
            TRACKED_PCS,
            captured::Alignment::Linear,
        )
    });
    Report {
        step: r.step,
        score: r.score,
        watched: r.watched.clone(),
        y_pcs: row_major_2(&target.project(session.y(), 2)),
        stopped: r.stopped.map(|s| s.as_str().to_string()),
        pc_r2,
    }
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
            Err(e) => Err(format!("bad request: {e}")),
        }
        .unwrap_or_else(|message| Response::Error { message });
        post(&reply_scope, id, &response);
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&scope, JsValue::NULL, &Response::Ready);
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
