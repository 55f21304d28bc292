//! The Joint panel: a perimeter sweep run in worker slices, with progress and Cancel.

use super::*;

impl Page {
    /// Run: start a joint job with the panel's settings (replacing any running one).
    pub(super) fn joint_run(&mut self) {
        if self.dataset.is_none() {
            return;
        }
        if self.joint_running {
            self.send(&Request::JointCancel, None);
        }
        let s = &self.state;
        let req = Request::JointStart(JointSettings {
            a: s.joint_a.clone(),
            b: s.joint_b.clone(),
            per_side: s.joint_n as usize,
            steps: s.joint_steps as usize,
            lr: s.lr,
            seed: s.seed,
        });
        self.joint = None;
        self.set_joint_running(true);
        self.send(&req, None);
        self.show_joint_progress();
        self.dirty = true;
    }

    /// Cancel: no further slice is asked for, and the worker drops the job.
    pub(super) fn joint_cancel(&mut self) {
        if self.joint_running {
            self.set_joint_running(false);
            self.send(&Request::JointCancel, None);
            self.show_joint_progress();
        }
    }

    pub(super) fn set_joint_running(&mut self, running: bool) {
        self.joint_running = running;
        if let Some(b) = dom::el(&self.doc, "joint-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
        if let Some(b) = dom::el(&self.doc, "joint-run") {
            let _ = b.set_attribute("aria-busy", if running { "true" } else { "false" });
        }
    }

    /// "target 5/12" while running; the state in data attributes for tests.
    pub(super) fn show_joint_progress(&self) {
        let (done, total) = self
            .joint
            .as_ref()
            .map(|j| (j.runs.iter().filter(|r| r.1).count(), j.targets.len()))
            .unwrap_or((0, 0));
        let text = match (&self.joint, self.joint_running) {
            (None, true) => "starting…".to_string(),
            (None, false) => String::new(),
            (Some(_), true) => format!("target {}/{total}", (done + 1).min(total)),
            (Some(_), false) if done == total => format!("done: {total} targets"),
            (Some(_), false) => format!("cancelled after {done}/{total} targets"),
        };
        dom::set_text(&self.doc, "joint-progress", &text);
        if let Some(e) = dom::el(&self.doc, "joint-progress") {
            let _ = e.set_attribute("data-done", &done.to_string());
            let _ = e.set_attribute("data-total", &total.to_string());
            let state = match (&self.joint, self.joint_running) {
                (_, true) => "running",
                (Some(_), false) if done == total => "done",
                (Some(_), false) => "cancelled",
                (None, false) => "idle",
            };
            let _ = e.set_attribute("data-state", state);
        }
    }
}
