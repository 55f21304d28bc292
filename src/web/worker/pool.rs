//! The worker's helpers: more instances of this same worker script, one thread each, that
//! score independent units of a job so the page uses every core as the native CLI does with
//! `--threads`. Today the units are Compare's permutation and bootstrap samples: the job hands
//! out batches (`Compare::checkout`), a helper scores them with a `Resampler` built from the
//! job's inputs, and the job takes them back (`Compare::deliver`). This module only spawns the
//! helpers and carries messages; what a batch is and how it is scored stay in the core.
//!
//! A helper that fails or dies is dropped and its batches are scored by the worker itself, so
//! the result never depends on the helpers (nor on how many there are: `?helpers=N` in the
//! page's address sets it, 0 for none; by default one per core beyond the worker's own).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker as WebWorker, WorkerOptions, WorkerType};

use crate::web::protocol::{HelperRequest, HelperResponse, Request, Response, WorkerResponse};

/// At most this many helpers, whatever the machine reports.
const MAX_HELPERS: usize = 7;

/// What a helper said, for its panel.
pub(super) enum HelperEvent {
    /// Its module is listening (messages sent before this would be lost).
    Ready,
    Said(HelperResponse),
    /// It could not start, or its thread died: its batches must be scored elsewhere.
    Died(String),
}

pub(super) struct Helper {
    worker: WebWorker,
    pub ready: bool,
    pub alive: bool,
    /// The job its scorer was built for.
    pub job: Option<u64>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
}

impl Helper {
    pub fn post(&self, req: HelperRequest) {
        let msg = js_sys::Object::new();
        let body = serde_wasm_bindgen::to_value(&Request::Helper(req)).unwrap_or(JsValue::NULL);
        let _ = js_sys::Reflect::set(&msg, &"id".into(), &JsValue::NULL);
        let _ = js_sys::Reflect::set(&msg, &"body".into(), &body);
        let _ = self.worker.post_message(&msg);
    }
}

#[derive(Default)]
pub(super) struct Pool {
    pub helpers: Vec<Helper>,
    spawned: bool,
}

impl Pool {
    /// Spawn the helpers the first time they are wanted; `route` delivers what helper `i`
    /// says to its panel (called from the helper's own message events, never re-entrantly).
    pub fn ensure(&mut self, route: fn(usize, HelperEvent)) {
        if self.spawned {
            return;
        }
        self.spawned = true;
        let global = js_sys::global();
        let href = js_sys::Reflect::get(&global, &"location".into())
            .and_then(|l| js_sys::Reflect::get(&l, &"href".into()))
            .ok()
            .and_then(|h| h.as_string())
            .unwrap_or_default();
        for i in 0..helper_count(&global, &href) {
            match spawn(&href, i, route) {
                Ok(h) => self.helpers.push(h),
                Err(_) => break, // no nested workers here: the worker does it all
            }
        }
    }
}

/// `?helpers=N` in the worker's address (the page passes its own query on), else one per
/// core beyond this worker's.
fn helper_count(global: &JsValue, href: &str) -> usize {
    let asked = href
        .split(['?', '&', '#'])
        .find_map(|kv| kv.strip_prefix("helpers="))
        .and_then(|v| v.parse::<usize>().ok());
    let cores = js_sys::Reflect::get(global, &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"hardwareConcurrency".into()))
        .ok()
        .and_then(|c| c.as_f64())
        .unwrap_or(1.0) as usize;
    asked.unwrap_or(cores.saturating_sub(1)).min(MAX_HELPERS)
}

fn spawn(href: &str, i: usize, route: fn(usize, HelperEvent)) -> Result<Helper, JsValue> {
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    let worker = WebWorker::new_with_options(href, &opts)?;
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let body = js_sys::Reflect::get(&ev.data(), &"body".into()).unwrap_or(JsValue::NULL);
        let event = match serde_wasm_bindgen::from_value::<Response>(body) {
            Ok(Response::Worker(WorkerResponse::Ready { .. })) => HelperEvent::Ready,
            Ok(Response::Worker(WorkerResponse::Failed { message })) => HelperEvent::Died(message),
            Ok(Response::Helper(r)) => HelperEvent::Said(r),
            Ok(_) => return,
            Err(e) => HelperEvent::Died(format!("unreadable message: {e}")),
        };
        route(i, event);
    });
    let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |ev: ErrorEvent| {
        route(i, HelperEvent::Died(ev.message()));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Helper {
        worker,
        ready: false,
        alive: true,
        job: None,
        _on_message: on_message,
        _on_error: on_error,
    })
}
