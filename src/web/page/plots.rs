//! Drawing: every canvas of the page through one function generic over the plotters
//! backend, so the PNG (canvas) and SVG exports draw the same plot.

use super::*;

impl Page {
    /// Update the readouts and draw the plots (`only`: just these, else all).
    pub(super) fn render(&mut self, only: Option<&[&str]>) {
        if let Some(r) = &self.last {
            if let Some(e) = dom::el(&self.doc, "step-count") {
                e.set_text_content(Some(&r.step.to_string()));
                let _ = e.set_attribute("data-value", &r.step.to_string());
            }
            let scores = std::iter::once(r.score).chain(r.watched.iter().copied());
            for (id, s) in self.ids.iter().zip(scores) {
                let sel = format!("[data-testid=\"score-{id}\"]");
                if let Ok(Some(e)) = self.doc.query_selector(&sel) {
                    e.set_text_content(Some(&format!("{s:.6}")));
                    let _ = e.set_attribute("data-value", &js_number_string(s));
                }
            }
        }
        if self.dataset.is_none() {
            return;
        }
        let scale = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0)
            .max(1.0);
        // Classroom mode enlarges the plots' type and lines too, for the back of the room.
        let style = Style {
            scale: scale * if self.state.classroom { 1.4 } else { 1.0 },
        };
        for id in PLOTS {
            if only.is_some_and(|o| !o.contains(id)) {
                continue;
            }
            // Canvases in a closed tab are drawn when it opens (a state change marks dirty).
            if !dom::is_shown(&self.doc, id) {
                continue;
            }
            // The Prune panel draws its own canvases, one per frame (`prune_tick`).
            if id.starts_with("prune-") {
                continue;
            }
            // The spectrum only changes with the recording (or the page's layout).
            if *id == "spectrum-plot" && !std::mem::take(&mut self.spectrum_stale) {
                continue;
            }
            if (*id == "sweep-plot" && self.sweep.is_none())
                || (*id == "joint-plot" && self.joint.is_none())
                || (matches!(
                    *id,
                    "score-plot" | "pc-plot" | "pc-r2-plot" | "capture-plot"
                ) && self.last.is_none())
            {
                continue;
            }
            let drawn = canvas(&self.doc, id, scale)
                .and_then(|c| self.plot_to(id, &c.into_drawing_area(), style));
            match drawn {
                Ok(Some(layout)) => self.set_bar_layout(layout.scaled(scale)),
                Ok(None) => {}
                Err(e) => show_error(&self.doc, &e),
            }
        }
    }

    /// Per PC of X: the optimised score at which its R² first passed halfway from its start
    /// to 1 (spec §4.2), from the R² points received so far.
    pub(super) fn capture_scores(&self) -> Vec<Option<f64>> {
        let (scores, r2): (Vec<f64>, Vec<Vec<f64>>) = self.pc_history.iter().cloned().unzip();
        crate::analysis::captured::scores_at_threshold(
            &r2,
            &scores,
            crate::analysis::captured::Threshold::Half,
        )
    }

    /// Draw the plot shown on canvas `id` on any backend (the canvas, or SVG for export).
    /// The PC bars return their layout for hit-testing.
    pub(super) fn plot_to<DB: plotters::prelude::DrawingBackend>(
        &self,
        id: &str,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
        style: Style,
    ) -> Result<Option<BarLayout>, String> {
        let e = |e: plot::PlotError| e.to_string();
        let ratios = self
            .dataset
            .as_ref()
            .map(|d| d.explained.as_slice())
            .unwrap_or(&[]);
        match id {
            "score-plot" => {
                let series: Vec<(&str, &[(usize, f64)])> = self
                    .ids
                    .iter()
                    .zip(&self.history)
                    .map(|(id, h)| (id.as_str(), h.as_slice()))
                    .collect();
                plot::score_trace(root, &series, style).map_err(e)?;
            }
            "pc-plot" => {
                let conditions = self.dataset.as_ref().map(|d| d.conditions).unwrap_or(1);
                let y_pcs = match &self.last {
                    Some(r) => DMatrix::from_row_slice(r.y_pcs.len() / 2, 2, &r.y_pcs),
                    None => self.x_pcs.clone(),
                };
                plot::pc_trajectories(root, &self.x_pcs, &y_pcs, conditions, style).map_err(e)?;
            }
            "pc-r2-plot" => plot::pc_capture(root, &self.pc_history, ratios, style).map_err(e)?,
            "capture-plot" => {
                let scores = self.capture_scores();
                if let Some(c) = dom::el(&self.doc, id) {
                    let n = scores.iter().flatten().count();
                    let _ = c.set_attribute("data-captured", &n.to_string());
                }
                let measure = self.ids.first().map(String::as_str).unwrap_or("");
                let series = [plot::CaptureSeries {
                    measure,
                    scores: &scores,
                }];
                let k = scores.len().min(ratios.len());
                plot::capture_scores(root, &ratios[..k], &series, style).map_err(e)?;
            }
            "spectrum-plot" => plot::pca_spectrum(root, ratios, style).map_err(e)?,
            "decode-plot" => {
                plot::decode_accuracy(root, &self.decode_series(), style).map_err(e)?
            }
            "pert-plot" => {
                let m = self.bar_count();
                let (scales, angles): (Vec<f64>, Vec<f64>) =
                    (0..m).map(|k| self.pert_of(k)).unzip();
                let layout = plot::variance_bars(
                    root,
                    &ratios[..m.min(ratios.len())],
                    &scales,
                    &angles,
                    Some(self.pert_focus),
                    style,
                )
                .map_err(e)?;
                return Ok(Some(layout));
            }
            "sweep-plot" => {
                if let Some((ids, rows, _)) = &self.sweep {
                    plot::perturb_sweep(root, ids, rows, style).map_err(e)?;
                }
            }
            "joint-plot" => {
                if let Some(j) = &self.joint {
                    let runs: Vec<plot::JointSeries> = j
                        .targets
                        .iter()
                        .zip(&j.runs)
                        .map(|(&target, (traj, done))| plot::JointSeries {
                            target,
                            trajectory: traj,
                            done: *done,
                        })
                        .collect();
                    let bounds = match (j.a.as_str(), j.b.as_str()) {
                        ("cka", "nbs") | ("nbs", "cka") => Some(plot::CkaNbsBounds {
                            rank_x: j.rank_x,
                            rank_y: j.rank_y,
                            cka_on_x: j.a == "cka",
                        }),
                        _ => None,
                    };
                    plot::joint_region(root, (&j.a, &j.b), &runs, bounds, style).map_err(e)?;
                }
            }
            id if id.starts_with("prune-") => {
                let n = self.prune.result.as_ref().map_or(0, |r| r.n_stimuli);
                self.prune_plot_to(id, root, 0..n, style)?
            }
            other => return Err(format!("no plot named {other}")),
        }
        Ok(None)
    }

    /// Download plot `id` as PNG (the canvas as drawn) or SVG (the same plot function on
    /// plotters' SVG backend, at the canvas's CSS size).
    pub(super) fn export_plot(&self, id: &str, svg: bool) -> Result<(), String> {
        let el: HtmlCanvasElement = dom::el(&self.doc, id)
            .ok_or_else(|| format!("missing #{id}"))?
            .dyn_into()
            .map_err(|_| format!("#{id} is not a canvas"))?;
        let stem = format!("simscope-{}-{id}", self.state.dataset);
        if !svg {
            let url = el.to_data_url().map_err(|e| format!("{e:?}"))?;
            return dom::download_url(&self.doc, &url, &format!("{stem}.png"))
                .map_err(|e| format!("{e:?}"));
        }
        let size = (
            el.client_width().max(200) as u32,
            el.client_height().max(150) as u32,
        );
        let mut text = String::new();
        {
            let root =
                plotters::prelude::SVGBackend::with_string(&mut text, size).into_drawing_area();
            self.plot_to(id, &root, Style { scale: 1.0 })?;
        }
        dom::download_bytes(&self.doc, text.as_bytes(), &format!("{stem}.svg"))
            .map_err(|e| format!("{e:?}"))
    }
}
