//! The worker side: owns the recording, its prepared target and the session, and answers
//! requests. Runs in a dedicated Web Worker so the page never blocks on numerics.

use std::cell::RefCell;
use std::sync::Arc;

use nalgebra::DMatrix;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::protocol::{
    DatasetSummary, JointSettings, PerturbSettings, Report, Request, Response, RunSettings,
};
use crate::analysis::calibrate::{CalibrateOptions, Calibration};
use crate::analysis::captured;
use crate::analysis::decode::{DecodeOptions, StagedDecode};
use crate::analysis::job::{Budget, Job};
use crate::analysis::joint;
use crate::analysis::perturb::{self, Perturbation};
use crate::data::{self, datasets, Recording};
use crate::measures::registry;
use crate::optim::session::{initial_y, Objective, Session, SessionOptions};
use crate::target::Target;

struct Loaded {
    recording: Recording,
    target: Arc<Target>,
    /// Decoding accuracy from X and chance per task variable, in label order, as far as
    /// decoded: the reference pass runs in the first decode's slices, once per recording.
    reference: Vec<(Option<f64>, f64)>,
}

/// A decoding in progress. Y is copied at the request, so stepping goes on between slices.
struct DecodeJob {
    step: usize,
    score: f64,
    y: DMatrix<f64>,
    /// Accuracy from Y per variable decoded so far, in label order.
    accuracy: Vec<Option<f64>>,
    /// The variable being decoded (from X while the reference is incomplete, else from Y).
    stage: Option<StagedDecode>,
}

/// A joint job in progress: one target at a time, its session kept between slices.
struct JointJob {
    settings: JointSettings,
    target: Arc<Target>,
    y0: DMatrix<f64>,
    targets: Vec<(f64, f64)>,
    index: usize,
    session: Option<Session>,
}

/// A slice runs steps until this much time has passed (ms), so a cancel or a step request
/// waits at most this long.
const SLICE_MS: f64 = 30.0;

/// The per-PC R² (a q × q eigendecomposition) takes at most this fraction of the worker's
/// stepping time: it is computed again once the steps since the last one took
/// `(1 / R2_SHARE − 1)` times its cost. Explicit steps, starts and stops always get it.
const R2_SHARE: f64 = 0.2;

#[derive(Default)]
struct Worker {
    loaded: Option<Loaded>,
    session: Option<Session>,
    joint: Option<JointJob>,
    calibration: Option<Calibration>,
    decoding: Option<DecodeJob>,
    /// Stepping time since the last per-PC R² and that R²'s cost (ms).
    r2_steps_ms: f64,
    r2_cost_ms: f64,
    /// The Prune panel's inputs and job (`worker_prune`).
    prune: super::worker_prune::PruneWorker,
}

/// The worker's clock (ms, `performance.now()`; 0 where there is none).
fn now_ms() -> f64 {
    js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .ok()
        .and_then(|g| g.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
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
                loaded.reference.clear();
                self.decoding = None;
                self.calibration = None;
                Ok(Response::Loaded(summary(loaded, warnings)))
            }
            Request::Start(settings) => self.start(&settings),
            Request::Step { n, full } => {
                let session = self.session.as_mut().ok_or("no session: press Reset")?;
                let t0 = now_ms();
                let r = session.step(n);
                self.r2_steps_ms += now_ms() - t0;
                let report = self.report(&r, full);
                Ok(Response::Report(report))
            }
            Request::Bench {
                measure,
                n,
                p,
                budget_s,
            } => {
                if !(10..=4000).contains(&n)
                    || !(1..=1000).contains(&p)
                    || budget_s.is_nan()
                    || budget_s <= 0.0
                {
                    return Err("bench wants 10 ≤ n ≤ 4000, 1 ≤ p ≤ 1000, budget > 0".into());
                }
                let row = crate::bench::time_steps_with(
                    &measure,
                    n,
                    p,
                    2,
                    5,
                    200,
                    budget_s.min(30.0),
                    now_ms,
                )?;
                Ok(Response::Benched {
                    measure: row.measure,
                    n: row.n,
                    p: row.p,
                    median_ms: row.median_ms,
                    steps: row.steps,
                })
            }
            Request::Perturb(p) => self.perturb(p),
            Request::JointStart(js) => self.joint_start(js),
            Request::JointSlice => self.joint_slice(),
            Request::JointCancel => {
                self.joint = None;
                Ok(Response::JointCancelled)
            }
            Request::CalibrateStart {
                measures,
                seeds,
                lr,
            } => {
                let loaded = self.loaded.as_ref().ok_or("load a recording first")?;
                let target = loaded.target.clone();
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
                let rec = &loaded.recording;
                let opts = CalibrateOptions {
                    seeds,
                    lr,
                    ..CalibrateOptions::default()
                };
                let cal = Calibration::new(
                    target,
                    &rec.data,
                    rec.time_steps(),
                    &rec.labels,
                    &ids,
                    &opts,
                );
                let total = cal.total_runs();
                self.calibration = Some(cal);
                Ok(Response::CalibrateStarted {
                    measures: ids,
                    total,
                })
            }
            Request::CalibrateSlice => self.calibrate_slice(),
            Request::CalibrateCancel => {
                self.calibration = None;
                Ok(Response::CalibrateCancelled)
            }
            Request::PruneFeatures { name } => Ok(self.prune.features(&name, bytes)),
            Request::PruneTarget { name, rdm } => Ok(self.prune.target(&name, bytes, rdm)),
            Request::PruneTargetLoaded => Ok(self
                .prune
                .target_recording(self.loaded.as_ref().map(|l| &l.recording))),
            Request::PruneDemo { name } => Ok(self.prune.demo(&name)),
            Request::PruneStart(s) => Ok(self.prune.start(&s)),
            Request::PruneSlice => Ok(self.prune.slice()),
            Request::PruneCancel => Ok(self.prune.cancel()),
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

    fn joint_start(&mut self, js: JointSettings) -> Result<Response, String> {
        let loaded = self.loaded.as_ref().ok_or("load a recording first")?;
        let target = loaded.target.clone();
        let (a, _) = registry::resolve(&js.a).map_err(|e| e.to_string())?;
        let (b, _) = registry::resolve(&js.b).map_err(|e| e.to_string())?;
        // Fail now, not in the first slice, if a measure does not apply.
        for id in [&a, &b] {
            registry::prepare(id, target.clone(), target.p).map_err(|e| e.to_string())?;
        }
        if !(2..=20).contains(&js.per_side) {
            return Err("points per side must be 2 to 20".into());
        }
        let y0 = initial_y(target.n, target.p, js.seed);
        let targets = joint::perimeter_targets(js.per_side);
        let (rank_x, rank_y) = (target.rank(), joint::centred_rank(&y0));
        self.joint = Some(JointJob {
            settings: JointSettings {
                a: a.clone(),
                b: b.clone(),
                ..js
            },
            target,
            y0,
            targets: targets.clone(),
            index: 0,
            session: None,
        });
        Ok(Response::JointStarted {
            a,
            b,
            targets,
            rank_x,
            rank_y,
        })
    }

    /// Run the current target for about `SLICE_MS`, then report its trajectory so far.
    fn joint_slice(&mut self) -> Result<Response, String> {
        // A slice that crosses a cancel (or a new recording) finds no job: nothing to do.
        let Some(job) = self.joint.as_mut() else {
            return Ok(Response::JointCancelled);
        };
        let index = job.index;
        let steps = job.settings.steps;
        if job.session.is_none() {
            let (ta, tb) = job.targets[index];
            let t = job.target.clone();
            let prepare = |id: &str| {
                registry::prepare(id, t.clone(), t.p)
                    .map(|(m, _)| m)
                    .map_err(|e| e.to_string())
            };
            let objective = Objective::Joint {
                a: prepare(&job.settings.a)?,
                b: prepare(&job.settings.b)?,
                target_a: ta,
                target_b: tb,
            };
            let options = SessionOptions {
                lr: job.settings.lr,
                max_steps: Some(steps),
                ..SessionOptions::default()
            };
            job.session = Some(Session::with_options(
                t.clone(),
                objective,
                job.y0.clone(),
                options,
            ));
        }
        let session = job.session.as_mut().expect("just made");
        let start = js_sys::Date::now();
        while session.report().step < steps && session.stopped().is_none() {
            session.step(1);
            if js_sys::Date::now() - start > SLICE_MS {
                break;
            }
        }
        let target_done = session.report().step >= steps || session.stopped().is_some();
        let trajectory = session
            .history()
            .iter()
            .map(|r| (r.parts[0], r.parts[1]))
            .collect();
        if target_done {
            job.session = None;
            job.index += 1;
        }
        let all_done = job.index >= job.targets.len();
        if all_done {
            self.joint = None;
        }
        Ok(Response::JointProgress {
            index,
            trajectory,
            target_done,
            all_done,
        })
    }

    /// Advance the calibration for about `SLICE_MS` (at least one unit of work: a time step
    /// of a decoding or one update), so a Cancel waits for one slice at most.
    fn calibrate_slice(&mut self) -> Result<Response, String> {
        let Some(cal) = self.calibration.as_mut() else {
            return Ok(Response::CalibrateCancelled);
        };
        if let Err(e) = cal.advance(&mut Budget::millis(&now_ms, SLICE_MS)) {
            self.calibration = None;
            return Err(format!("calibration: {e}"));
        }
        let (done, total) = (cal.runs_done(), cal.total_runs());
        let last = cal.last_run().to_string();
        let rows = cal.is_done().then(|| cal.rows().to_vec());
        if rows.is_some() {
            self.calibration = None;
        }
        Ok(Response::CalibrateProgress {
            done,
            total,
            last,
            rows,
        })
    }

    /// One slice (about `SLICE_MS`, at least one time step of one variable) of the decoding:
    /// first the reference from X where it is missing, then Y as it was at the request.
    fn decode(&mut self) -> Result<Response, String> {
        let loaded = self.loaded.as_mut().ok_or("load a recording first")?;
        let session = self.session.as_ref().ok_or("no session: press Reset")?;
        let rec = &loaded.recording;
        let vars = rec.labels.len();
        let t_steps = rec.time_steps();
        let opts = DecodeOptions::default();
        let job = self.decoding.get_or_insert_with(|| {
            let r = session.report();
            DecodeJob {
                step: r.step,
                score: r.score,
                y: session.y().clone(),
                accuracy: Vec::new(),
                stage: None,
            }
        });
        let start = now_ms();
        loop {
            let from_x = loaded.reference.len() < vars;
            let j = if from_x {
                loaded.reference.len()
            } else {
                job.accuracy.len()
            };
            if j >= vars {
                break;
            }
            let data = if from_x { &rec.data } else { &job.y };
            let v = &rec.labels[j];
            if job.stage.is_none() {
                match StagedDecode::new(data.nrows(), t_steps, &v.name, &v.class_of, &opts) {
                    Ok(st) => job.stage = Some(st),
                    Err(_) if from_x => loaded.reference.push((None, f64::NAN)),
                    Err(_) => job.accuracy.push(None),
                }
            }
            if let Some(st) = job.stage.as_mut() {
                st.advance(data);
                if st.is_done() {
                    let d = job.stage.take().and_then(StagedDecode::finish);
                    let acc = d.as_ref().map(|d| d.accuracy);
                    if from_x {
                        loaded
                            .reference
                            .push((acc, d.map_or(f64::NAN, |d| d.chance)));
                    } else {
                        job.accuracy.push(acc);
                    }
                }
            }
            if now_ms() - start > SLICE_MS {
                break;
            }
        }
        if loaded.reference.len() < vars || job.accuracy.len() < vars {
            // Units: time steps per variable, counted alike for X and Y.
            let per = t_steps.max(1);
            let partial = job.stage.as_ref().map_or(0, |st| st.units_done());
            let done = (loaded.reference.len() + job.accuracy.len()) * per + partial;
            return Ok(Response::DecodePending {
                done,
                total: 2 * vars * per,
            });
        }
        let Some(job) = self.decoding.take() else {
            return Err("no decoding in progress".into());
        };
        let (reference, chance) = loaded.reference.iter().copied().unzip();
        Ok(Response::Decoded {
            step: job.step,
            score: job.score,
            names: rec.labels.iter().map(|v| v.name.clone()).collect(),
            accuracy: job.accuracy,
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
            reference: Vec::new(),
        };
        let s = summary(&loaded, warnings);
        self.loaded = Some(loaded);
        self.session = None;
        self.joint = None;
        self.calibration = None;
        self.decoding = None;
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
        let first = session.report();
        self.session = Some(session);
        self.decoding = None;
        let report = self.report(&first, true);
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
        warnings,
    }
}

/// At most this many PCs are tracked by the captured-variance plot.
pub const TRACKED_PCS: usize = 20;

impl Worker {
    /// The report of the session's current state. The per-PC R² is computed when `full`, at a
    /// stop, or once the stepping since the last one has taken enough time for it to stay
    /// within `R2_SHARE` of the worker's time (fewer points on the plot, never a slow run).
    fn report(&mut self, r: &crate::optim::session::StepReport, full: bool) -> Report {
        let mut report = Report {
            step: r.step,
            score: r.score,
            watched: r.watched.clone(),
            y_pcs: Vec::new(),
            stopped: r.stopped.map(|s| s.as_str().to_string()),
            pc_r2: None,
        };
        let Some(session) = self.session.as_ref() else {
            return report;
        };
        let target = &session.target;
        report.y_pcs = row_major_2(&target.project(session.y(), 2));
        let due = full
            || r.stopped.is_some()
            || self.r2_steps_ms * R2_SHARE >= self.r2_cost_ms * (1.0 - R2_SHARE);
        if due {
            let t0 = now_ms();
            report.pc_r2 = Some(captured::pc_r2(
                target,
                session.y(),
                TRACKED_PCS,
                captured::Alignment::Linear,
            ));
            self.r2_cost_ms = now_ms() - t0;
            self.r2_steps_ms = 0.0;
        }
        report
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
    let simd = cfg!(target_feature = "simd128");
    post(&scope, JsValue::NULL, &Response::Ready { simd });
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
