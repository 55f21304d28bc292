//! The worker side: owns the recording, its prepared target and the session, and answers
//! requests. Runs in a dedicated Web Worker so the page never blocks on numerics.

use std::cell::RefCell;
use std::sync::Arc;

use nalgebra::DMatrix;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::protocol::{
    CalRow, DatasetSummary, JointSettings, PerturbSettings, Report, Request, Response, RunSettings,
};
use crate::analysis::calibrate::{self, CalibrateOptions, ReportRow};
use crate::analysis::captured;
use crate::analysis::decode::{self, DecodeOptions};
use crate::analysis::joint;
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

/// A calibration in progress: one (measure, seed) run per slice.
struct CalJob {
    lr: f64,
    runs: Vec<(String, u64)>,
    /// Rows of each finished run, in run order.
    done: Vec<Vec<ReportRow>>,
}

#[derive(Default)]
struct Worker {
    loaded: Option<Loaded>,
    session: Option<Session>,
    joint: Option<JointJob>,
    calibration: Option<CalJob>,
    /// The Prune panel's inputs and job (`worker_prune`).
    prune: super::worker_prune::PruneWorker,
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
                let runs: Vec<(String, u64)> = ids
                    .iter()
                    .flat_map(|id| (0..seeds as u64).map(move |s| (id.clone(), s)))
                    .collect();
                let total = runs.len();
                self.calibration = Some(CalJob {
                    lr,
                    runs,
                    done: Vec::new(),
                });
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

    /// One (measure, seed) run of `analysis::calibrate`; the merged report after the last.
    fn calibrate_slice(&mut self) -> Result<Response, String> {
        let Some(job) = self.calibration.as_mut() else {
            return Ok(Response::CalibrateCancelled);
        };
        let loaded = self.loaded.as_ref().ok_or("load a recording first")?;
        let rec = &loaded.recording;
        let target = loaded.target.clone();
        let k = job.done.len();
        let (id, seed) = job.runs[k].clone();
        let opts = CalibrateOptions {
            seeds: 1,
            first_seed: seed,
            lr: job.lr,
            ..CalibrateOptions::default()
        };
        let make = |m: &str| {
            registry::prepare(m, target.clone(), target.p)
                .map(|(m, _)| m)
                .map_err(|e| e.to_string())
        };
        let result = calibrate::calibrate(
            &target,
            &rec.data,
            rec.time_steps(),
            &rec.labels,
            std::slice::from_ref(&id),
            &make,
            &opts,
            |_| {},
        );
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                self.calibration = None;
                return Err(format!("calibration: {e}"));
            }
        };
        job.done.push(report.rows);
        let total = job.runs.len();
        let done = job.done.len();
        let rows = (done == total).then(|| merge_calibration(&job.runs, &job.done));
        if rows.is_some() {
            self.calibration = None;
        }
        Ok(Response::CalibrateProgress {
            done,
            total,
            last: format!("{id} seed {seed}"),
            rows,
        })
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
        self.joint = None;
        self.calibration = None;
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

/// Merge one-seed reports into one row per (measure, quantity, variable), values over seeds.
fn merge_calibration(runs: &[(String, u64)], done: &[Vec<ReportRow>]) -> Vec<CalRow> {
    let mut keys: Vec<(String, String, String, String)> = Vec::new();
    for rows in done {
        for r in rows {
            let key = (
                r.measure.clone(),
                r.quantity.clone(),
                r.variable.clone(),
                r.note.clone(),
            );
            if !keys
                .iter()
                .any(|k| k.0 == key.0 && k.1 == key.1 && k.2 == key.2)
            {
                keys.push(key);
            }
        }
    }
    keys.into_iter()
        .map(|(m, q, v, note)| {
            let values: Vec<Option<f64>> = runs
                .iter()
                .zip(done)
                .filter(|((id, _), _)| *id == m)
                .map(|(_, rows)| {
                    rows.iter()
                        .find(|r| r.quantity == q && r.variable == v)
                        .and_then(|r| r.values.first().copied().flatten())
                })
                .collect();
            calibrate::row(&m, &q, &v, values, note)
        })
        .collect()
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
