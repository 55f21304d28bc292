//! The Optimise panel: run settings, Play/Pause/Step/Reset, the score readouts and the
//! measure card.

use super::*;

impl Page {
    pub(super) fn settings(&self) -> RunSettings {
        RunSettings {
            measure: self.state.measure.clone(),
            watch: self.state.watch.clone(),
            lr: self.state.lr,
            optimizer: self.state.optimizer.clone(),
            seed: self.state.seed,
            stop: self.state.stop,
        }
    }

    /// Start a fresh run with the current settings (Reset: same seed ⇒ same run).
    pub(super) fn restart(&mut self) {
        self.set_playing(false);
        if self.dataset.is_some() {
            let req = Request::Start(self.settings());
            self.send(&req, None);
        }
    }

    pub(super) fn load_builtin(&mut self) {
        self.set_playing(false);
        let req = Request::Builtin {
            name: self.state.dataset.clone(),
        };
        self.send(&req, None);
    }

    pub(super) fn set_playing(&mut self, playing: bool) {
        self.playing = playing;
        if let Some(b) = dom::el(&self.doc, "play") {
            b.set_text_content(Some(if playing { "Pause" } else { "Play" }));
            let _ = b.set_attribute("aria-pressed", if playing { "true" } else { "false" });
        }
    }

    pub(super) fn toggle_play(&mut self) {
        if !self.playing && self.last.as_ref().is_some_and(|r| r.stopped.is_some()) {
            dom::set_text(
                &self.doc,
                "status-note",
                "the run has stopped: press Reset, or raise the stop score to go further",
            );
            return;
        }
        let p = !self.playing;
        self.set_playing(p);
    }

    pub(super) fn step_once(&mut self) {
        self.set_playing(false);
        if self.stepping == 0 && self.last.is_some() {
            self.stepping += 1;
            self.send(&Request::Step { n: 1, full: true }, None);
        }
    }

    /// Called every animation frame.
    pub(super) fn tick(&mut self) {
        if self.playing && self.last.is_some() {
            let speed = self.state.speed;
            // Credit never piles up past one frame's worth while the worker is behind.
            self.step_credit = (self.step_credit + speed).min(speed.max(1.0));
            if self.stepping < STEPS_IN_FLIGHT && self.step_credit >= 1.0 {
                let n = self.step_credit.floor();
                self.step_credit -= n;
                self.stepping += 1;
                // In slow motion there is time for the per-PC R² at every step.
                let full = speed < 1.0;
                self.send(
                    &Request::Step {
                        n: n as usize,
                        full,
                    },
                    None,
                );
            }
        }
        // A decoding goes on slice by slice; while playing, at most a fifth of the time.
        if self.decode_pending
            && !self.decode_inflight
            && (!self.playing || now_ms() >= self.decode_not_before)
        {
            self.decode_pending = false;
            self.decode_inflight = true;
            self.decode_sent_at = now_ms();
            self.send(&Request::Decode, None);
        }
        // Redraws for step reports take at most about half of the main thread: where the
        // plots take longer than a frame to draw, frames (and step requests) keep coming and
        // the plots update every other frame or so. Anything else redraws at once.
        let now = now_ms();
        if self.dirty || (!self.redraw.is_empty() && now >= self.render_not_before) {
            let only = if self.dirty {
                None
            } else {
                Some(std::mem::take(&mut self.redraw))
            };
            self.dirty = false;
            self.redraw.clear();
            self.render(only.as_deref());
            let done = now_ms();
            self.render_not_before = done + (done - now);
        }
        self.prune_tick();
    }

    pub(super) fn push(&mut self, report: Report) {
        let scores = std::iter::once(report.score).chain(report.watched.iter().copied());
        for (h, s) in self.history.iter_mut().zip(scores) {
            if h.last().map(|p| p.0) != Some(report.step) {
                h.push((report.step, s));
            }
        }
        if let Some(r2) = &report.pc_r2 {
            self.pc_history.push((report.score, r2.clone()));
        }
        self.last = Some(report);
        for id in ["score-plot", "pc-plot", "pc-r2-plot", "capture-plot"] {
            self.redraw_later(id);
        }
    }

    /// Queue plot `id` for the next redraw of the plots that follow a job.
    pub(super) fn redraw_later(&mut self, id: &'static str) {
        if !self.redraw.contains(&id) {
            self.redraw.push(id);
        }
    }

    pub(super) fn build_readouts(&self) {
        let Some(list) = dom::el(&self.doc, "readouts") else {
            return;
        };
        list.set_inner_html("");
        for (k, id) in self.ids.iter().enumerate() {
            let row = self.doc.create_element("div").ok();
            let dt = self.doc.create_element("dt").ok();
            let dd = self.doc.create_element("dd").ok();
            if let (Some(row), Some(dt), Some(dd)) = (row, dt, dd) {
                dt.set_text_content(Some(&format!(
                    "{id}{}",
                    if k == 0 { " (optimised)" } else { "" }
                )));
                let _ = dd.set_attribute("data-testid", &format!("score-{id}"));
                let _ = dd.set_attribute("data-value", "");
                let _ = row.append_child(&dt);
                let _ = row.append_child(&dd);
                let _ = list.append_child(&row);
            }
        }
    }

    pub(super) fn show_measure_card(&self) {
        let Some(id) = self.ids.first() else { return };
        let Ok(e) = registry::entry(id) else { return };
        let range = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_else(|| "∞".into());
        dom::set_text(&self.doc, "card-id", &e.id);
        dom::set_text(&self.doc, "card-description", &e.description);
        dom::set_text(
            &self.doc,
            "card-facts",
            &format!(
                "range [{}, {}] · a {} ({}) · invariant to: {} · {}",
                e.range[0]
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "−∞".into()),
                range(e.range[1]),
                match e.direction {
                    crate::measures::Direction::Similarity => "similarity",
                    crate::measures::Direction::Distance => "distance",
                },
                match e.direction {
                    crate::measures::Direction::Similarity => "maximised",
                    crate::measures::Direction::Distance => "minimised",
                },
                if e.invariances.is_empty() {
                    "nothing listed".into()
                } else {
                    e.invariances.join(", ")
                },
                if e.differentiable {
                    "closed-form gradient"
                } else {
                    "not differentiable"
                },
            ),
        );
        dom::set_text(&self.doc, "card-citation", &e.citation);
    }
}
