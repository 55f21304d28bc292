//! The Compare panel: "my model gets this score against my recording: is that good?". The
//! user opens a model's activations (same conditions as X, any width); the core's compare job
//! (`simscope compare`) runs in worker slices; the table gives each measure's score with its
//! bootstrap interval, its chance level (the permutation null), a p-value and what the score
//! means on this recording (its placement on the calibration), then X's PCs the model
//! predicts and the task variables it decodes. The JSON download is the CLI's document.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Document;

use super::{read_user_file, with_page, Ctx, View};
use crate::analysis::compare::tables::tables;
use crate::measures::registry;
use crate::plot::{self, Style};
use crate::web::dom::{self, escape, js_number_string};
use crate::web::protocol::{CompareRequest, CompareResponse, CompareSettings, Request};

#[derive(Default)]
pub(super) struct CompareView {
    running: bool,
    /// (done, total) units of the job and the one in progress.
    progress: (usize, usize),
    what: String,
    /// When the running comparison started (page clock, ms), for the time left.
    started_ms: f64,
    /// The most threads the running comparison has scored samples on (the worker and its
    /// helpers).
    threads: usize,
    /// The open models' names and shapes.
    models: Vec<(String, Vec<usize>)>,
    /// The report as `simscope compare` prints it, and parsed.
    report: Option<(String, Value)>,
}

impl View for CompareView {
    const PLOTS: &'static [&'static str] = &["cmp-profile-plot"];

    fn on_loaded(&mut self, ctx: &mut Ctx) {
        // A new recording: the old report no longer describes it (the models are kept and
        // checked against the new X at the next run).
        self.set_report(ctx, None);
        self.progress = (0, 0);
        self.what.clear();
        self.set_running(ctx, false);
        self.show(&ctx.doc);
    }

    fn ready(&self, _ctx: &Ctx, _id: &str) -> bool {
        self.report.is_some()
    }

    /// X's variance per PC and each model's R² per PC.
    fn draw<DB: DrawingBackend>(
        &self,
        _ctx: &Ctx,
        _id: &str,
        root: &DrawingArea<DB, Shift>,
        style: Style,
    ) -> Result<(), String> {
        let Some((_, v)) = &self.report else {
            return Ok(());
        };
        let floats = |a: &Value| -> Vec<f64> {
            a.as_array()
                .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
                .unwrap_or_default()
        };
        let share = floats(&v["x_explained_variance"]);
        let models: Vec<(String, Vec<f64>)> = v["models"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        (
                            m["name"].as_str().unwrap_or("").to_string(),
                            floats(&m["pc_r2"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let series: Vec<(&str, &[f64])> = models
            .iter()
            .map(|(n, r)| (n.as_str(), r.as_slice()))
            .collect();
        plot::pc_profile(root, &share, &series, style).map_err(|e| e.to_string())
    }
}

impl CompareView {
    /// Keep the report (or drop it) and share each model's scores with the plots that mark
    /// them (Optimise's score plot, Joint's map).
    fn set_report(&mut self, ctx: &mut Ctx, report: Option<(String, Value)>) {
        ctx.model_scores = report
            .as_ref()
            .and_then(|(_, v)| v["models"].as_array())
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        let scores = m["scores"].as_object().map_or(Vec::new(), |o| {
                            o.iter()
                                .filter_map(|(id, s)| Some((id.clone(), s["value"].as_f64()?)))
                                .collect()
                        });
                        (m["name"].as_str().unwrap_or("").to_string(), scores)
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.report = report;
        ctx.redraw_all();
    }

    fn run(&mut self, ctx: &mut Ctx) {
        if ctx.dataset.is_none() {
            return;
        }
        if self.models.is_empty() {
            ctx.error("compare: open a model's activations first (Model Y…)");
            return;
        }
        let s = &ctx.state;
        let req = CompareRequest::Start(CompareSettings {
            measures: s.cmp_measures.clone(),
            bootstrap: s.cmp_bootstrap as usize,
            permutations: s.cmp_permutations as usize,
            seed: s.cmp_seed,
            calibrate: s.cmp_calibrate,
        });
        self.set_report(ctx, None);
        self.progress = (0, 0);
        self.what.clear();
        self.set_running(ctx, true);
        self.started_ms = js_sys::Date::now();
        self.threads = 1;
        ctx.send(Request::Compare(req), None);
        self.show(&ctx.doc);
    }

    fn cancel(&mut self, ctx: &mut Ctx) {
        if self.running {
            self.set_running(ctx, false);
            ctx.send(Request::Compare(CompareRequest::Cancel), None);
            self.show(&ctx.doc);
        }
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, r: CompareResponse) {
        match r {
            CompareResponse::Models { models, warnings } => {
                self.models = models;
                // The report described the models open when it ran, and a running
                // comparison was dropped by the worker (its models changed).
                self.set_report(ctx, None);
                self.set_running(ctx, false);
                self.progress = (0, 0);
                dom::set_text(&ctx.doc, "cmp-warnings", &warnings.join(" "));
                self.show(&ctx.doc);
            }
            CompareResponse::Started { total } => {
                if !self.running {
                    return;
                }
                self.progress = (0, total);
                self.show(&ctx.doc);
                ctx.send(Request::Compare(CompareRequest::Slice), None);
            }
            CompareResponse::Progress {
                done,
                total,
                what,
                report,
                threads,
            } => {
                if !self.running {
                    return;
                }
                self.progress = (done, total);
                self.threads = self.threads.max(threads);
                self.what = what;
                match report {
                    Some(json) => {
                        let parsed = serde_json::from_str(&json).unwrap_or(Value::Null);
                        self.set_report(ctx, Some((json, parsed)));
                        self.set_running(ctx, false);
                    }
                    None => ctx.send(Request::Compare(CompareRequest::Slice), None),
                }
                self.show(&ctx.doc);
            }
            CompareResponse::Cancelled => {}
            CompareResponse::Failed { message } => {
                self.set_running(ctx, false);
                self.show(&ctx.doc);
                ctx.error(&message);
            }
        }
    }

    fn set_running(&mut self, ctx: &Ctx, running: bool) {
        self.running = running;
        if let Some(b) = dom::el(&ctx.doc, "cmp-cancel") {
            let _ = if running {
                b.remove_attribute("disabled")
            } else {
                b.set_attribute("disabled", "")
            };
        }
    }

    /// The models, the progress and, once done, the report.
    fn show(&self, doc: &Document) {
        let line = match self.models.len() {
            0 => "no model yet: open its activations on the same conditions as X (.npy, .npz, .mat or CSV; any number of units), or drop the files on this panel".into(),
            1 => "model Y:".to_string(),
            k => format!("{k} models:"),
        };
        dom::set_text(doc, "cmp-model", &line);
        if let Some(list) = dom::el(doc, "cmp-models") {
            let items: Vec<String> = self
                .models
                .iter()
                .map(|(name, dims)| {
                    let n = escape(name);
                    format!(
                        "<li data-testid=\"cmp-model-{n}\"><strong>{n}</strong> ({}) <button type=\"button\" data-optimise=\"{n}\" data-testid=\"cmp-optimise-{n}\" title=\"Optimise from this model: Y₀ = its activations, in the Optimise panel\">optimise from this model</button> <button type=\"button\" data-remove=\"{n}\" data-testid=\"cmp-remove-{n}\" aria-label=\"close model {n}\">close</button></li>",
                        shape(dims)
                    )
                })
                .collect();
            list.set_inner_html(&items.concat());
        }
        let (done, total) = self.progress;
        let state = if self.running {
            "running"
        } else if self.report.is_some() {
            "done"
        } else if total > 0 {
            "cancelled"
        } else {
            "idle"
        };
        let text = match state {
            "running" if total > 0 => {
                // Units are of unequal cost (a calibration run against a batch of
                // permutations), so this is a rough guide, said as one.
                let elapsed = (js_sys::Date::now() - self.started_ms) / 1e3;
                let left = if done > 0 && elapsed > 1.0 {
                    format!(
                        ", about {:.0} s left",
                        elapsed / done as f64 * (total - done) as f64
                    )
                } else {
                    String::new()
                };
                let on = if self.threads > 1 {
                    format!(" on {} threads", self.threads)
                } else {
                    String::new()
                };
                format!("{done}/{total}: {}{on}{left}", self.what)
            }
            "running" => "starting…".into(),
            "done" => "done".into(),
            "cancelled" => format!("cancelled after {done}/{total}"),
            _ => String::new(),
        };
        dom::set_text(doc, "cmp-progress", &text);
        if let Some(e) = dom::el(doc, "cmp-progress") {
            let _ = e.set_attribute("data-state", state);
            let _ = e.set_attribute("data-threads", &self.threads.to_string());
        }
        let report = self.report.as_ref().map(|(_, v)| v);
        if let Some(c) = dom::el(doc, "cmp-profile-plot") {
            let n = report
                .and_then(|v| v["models"].as_array())
                .map_or(0, Vec::len);
            let _ = c.set_attribute("data-models", &n.to_string());
        }
        if let Some(body) = dom::el(doc, "cmp-rows") {
            body.set_inner_html(&report.map(score_rows).unwrap_or_default());
        }
        if let Some(e) = dom::el(doc, "cmp-details") {
            e.set_inner_html(&report.map(details).unwrap_or_default());
        }
        dom::set_hidden(doc, "cmp-results", report.is_none());
    }

    /// The report as `simscope compare` prints it on stdout.
    fn export_json(&self, ctx: &Ctx) -> Result<(), String> {
        let (json, v) = self.report.as_ref().ok_or("run the comparison first")?;
        let name = format!(
            "simscope-compare-{}-{}.json",
            ctx.state.dataset,
            file_part(v)
        );
        dom::download_bytes(&ctx.doc, format!("{json}\n").as_bytes(), &name)
            .map_err(|e| format!("{e:?}"))
    }

    /// The table as CSV: `simscope compare --out`'s scores.csv, from the same document.
    fn export_csv(&self, ctx: &Ctx) -> Result<(), String> {
        let (_, v) = self.report.as_ref().ok_or("run the comparison first")?;
        let name = format!(
            "simscope-compare-{}-{}-scores.csv",
            ctx.state.dataset,
            file_part(v)
        );
        let (_, csv) = tables(v)
            .into_iter()
            .find(|(n, _)| *n == "scores.csv")
            .ok_or("no scores table")?;
        dom::download_bytes(&ctx.doc, csv.as_bytes(), &name).map_err(|e| format!("{e:?}"))
    }
}

/// The model's name in a download's file name, or "N-models" for several.
fn file_part(report: &Value) -> String {
    match report["models"].as_array().map(Vec::as_slice) {
        Some([one]) => one["name"].as_str().unwrap_or("model").to_string(),
        Some(ms) => format!("{}-models", ms.len()),
        None => "model".into(),
    }
}

/// `12 × 8 × 143`.
fn shape(dims: &[usize]) -> String {
    dims.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" × ")
}

fn num(v: &Value) -> String {
    v.as_f64().map_or("—".into(), |x| format!("{x:.3}"))
}

fn data_value(v: &Value) -> String {
    v.as_f64().map(js_number_string).unwrap_or_default()
}

/// The test id suffix of model `k`'s cells: none for the first model, `@k` for the others.
fn suffix(k: usize) -> String {
    if k == 0 {
        String::new()
    } else {
        format!("@{k}")
    }
}

/// Per model (a heading row when there are several) and measure a row of numbers (score,
/// interval, chance level, p) and, under it across the table, what the score means here: a
/// sentence reads badly in a narrow column at 1024 px.
fn score_rows(report: &Value) -> String {
    let mut html = String::new();
    let models = report["models"].as_array().map_or(&[][..], Vec::as_slice);
    for (k, m) in models.iter().enumerate() {
        if models.len() > 1 {
            html.push_str(&format!(
                "<tr class=\"cmp-model-head\"><th colspan=\"5\" scope=\"rowgroup\">model {}</th></tr>",
                escape(m["name"].as_str().unwrap_or(""))
            ));
        }
        html.push_str(&model_rows(report, m, &suffix(k)));
    }
    html
}

fn model_rows(report: &Value, model: &Value, sfx: &str) -> String {
    let mut html = String::new();
    let Some(scores) = model["scores"].as_object() else {
        return html;
    };
    let perms = report["permutations"].as_u64().unwrap_or(0);
    for (id, s) in scores {
        let ci = match (s["ci_low"].as_f64(), s["ci_high"].as_f64()) {
            (Some(lo), Some(hi)) => format!("{lo:.3} – {hi:.3}"),
            _ => "—".into(),
        };
        let p = match s["p_value"].as_f64() {
            // (1 + beyond) / (1 + permutations): the smallest a test of this size can give
            // means no permutation reached the score, so it is a bound, not a value.
            Some(p) if perms > 0 && p * (perms as f64 + 1.0) < 1.5 => format!("≤ {p:.4}"),
            Some(p) => format!("{p:.3}"),
            None => "—".into(),
        };
        let verdict = s["calibration"]["verdict"].as_str().unwrap_or("—");
        html.push_str(&format!(
            "<tr><th scope=\"row\" title=\"{id}\">{name}</th><td data-testid=\"cmp-value-{id}{sfx}\" data-value=\"{}\">{}</td><td data-testid=\"cmp-ci-{id}{sfx}\">{ci}</td><td data-testid=\"cmp-null-{id}{sfx}\" data-value=\"{}\">{}</td><td data-testid=\"cmp-p-{id}{sfx}\" data-value=\"{}\">{p}</td></tr><tr class=\"cmp-verdict\"><td colspan=\"5\" class=\"hint\" data-testid=\"cmp-verdict-{id}{sfx}\">{}</td></tr>",
            data_value(&s["value"]),
            num(&s["value"]),
            data_value(&s["null_p95"]),
            num(&s["null_p95"]),
            data_value(&s["p_value"]),
            escape(verdict),
            id = escape(id),
            // The measure in words, as the menus; the id on hover.
            name = escape(&registry::name(id)),
        ));
    }
    html
}

/// Per model, X's PCs it predicts (cross-validated) and decoding beside X's; then the
/// warnings.
fn details(report: &Value) -> String {
    let models = report["models"].as_array().map_or(&[][..], Vec::as_slice);
    let mut html = String::new();
    for (k, m) in models.iter().enumerate() {
        if models.len() > 1 {
            html.push_str(&format!(
                "<h3>model {}</h3>",
                escape(m["name"].as_str().unwrap_or(""))
            ));
        }
        html.push_str(&model_details(report, m, &suffix(k)));
    }
    if let Some(w) = report["warnings"].as_array().filter(|a| !a.is_empty()) {
        let w: Vec<String> = w
            .iter()
            .filter_map(Value::as_str)
            .map(|t| format!("<li>{}</li>", escape(t)))
            .collect();
        html.push_str(&format!(
            "<ul class=\"warnings\" data-testid=\"cmp-report-warnings\">{}</ul>",
            w.concat()
        ));
    }
    html
}

fn model_details(report: &Value, m: &Value, sfx: &str) -> String {
    let mut html = String::new();
    let evr = report["x_explained_variance"].as_array();
    if let Some(r2) = m["pc_r2"].as_array().filter(|a| !a.is_empty()) {
        let shown: Vec<String> = r2
            .iter()
            .take(10)
            .enumerate()
            .map(|(k, v)| {
                let share = evr
                    .and_then(|e| e.get(k))
                    .and_then(Value::as_f64)
                    .map_or(String::new(), |s| {
                        format!(" ({} of X)", crate::analysis::percent(s))
                    });
                format!("PC{} {}{share}", k + 1, num(v))
            })
            .collect();
        let more = if r2.len() > 10 {
            format!(" … ({} PCs in the JSON)", r2.len())
        } else {
            String::new()
        };
        html.push_str(&format!(
            "<p data-testid=\"cmp-pcs{sfx}\">X's PCs predicted from the model (R², {}): {}{more}</p>",
            escape(report["profile_cv"].as_str().unwrap_or("cross-validated")),
            shown.join(", ")
        ));
    }
    if let Some(dec) = m["decoding"].as_array().filter(|a| !a.is_empty()) {
        let rows: Vec<String> = dec
            .iter()
            .map(|d| {
                let name = escape(d["variable"].as_str().unwrap_or(""));
                let x_note = if d["x_above_chance"].as_bool() == Some(false) {
                    " (X itself is at chance: nothing to recover)"
                } else {
                    ""
                };
                format!(
                    "<li data-testid=\"cmp-decode-{name}{sfx}\" data-value=\"{}\"><em>{name}</em>: model {}, X {}, chance {}{x_note}</li>",
                    data_value(&d["model"]),
                    num(&d["model"]),
                    num(&d["x"]),
                    num(&d["chance"]),
                )
            })
            .collect();
        html.push_str(&format!(
            "<p>Decoding the task variables (cross-validated accuracy):</p><ul>{}</ul>",
            rows.concat()
        ));
    }
    html
}

/// Read each model's file and send it to the worker (each joins the open models).
pub(super) fn open_files(files: web_sys::FileList) {
    for k in 0..files.length() {
        if let Some(file) = files.get(k) {
            read_user_file(file, |p, name, bytes| {
                p.ctx.send(
                    Request::Compare(CompareRequest::Model { name }),
                    Some(bytes),
                );
            });
        }
    }
}

pub(super) fn wire(doc: &Document) -> Result<(), JsValue> {
    dom::on(doc, "cmp-model-input", "change", |ev: web_sys::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(input) = input {
            if let Some(files) = input.files() {
                open_files(files);
            }
            input.set_value("");
        }
    })?;
    // The model list's buttons (the list is rebuilt, so one listener on the list).
    dom::on(doc, "cmp-models", "click", |ev: web_sys::Event| {
        let Some(b) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        if let Some(name) = b.get_attribute("data-remove") {
            with_page(|p| {
                p.ctx.send(
                    Request::Compare(CompareRequest::Remove { name: name.clone() }),
                    None,
                );
                p.run.model_closed(&mut p.ctx, &name);
            });
        } else if let Some(name) = b.get_attribute("data-optimise") {
            with_page(|p| {
                p.set_field("panel", "optimise");
                p.run.start_from(&mut p.ctx, Some(name));
            });
        }
    })?;
    dom::on(doc, "cmp-run", "click", |_: web_sys::Event| {
        with_page(|p| p.compare.run(&mut p.ctx));
    })?;
    dom::on(doc, "cmp-cancel", "click", |_: web_sys::Event| {
        with_page(|p| p.compare.cancel(&mut p.ctx));
    })?;
    dom::on(doc, "cmp-json", "click", |_: web_sys::Event| {
        with_page(|p| {
            if let Err(e) = p.compare.export_json(&p.ctx) {
                p.ctx.error(&format!("export: {e}"));
            }
        });
    })?;
    dom::on(doc, "cmp-csv", "click", |_: web_sys::Event| {
        with_page(|p| {
            if let Err(e) = p.compare.export_csv(&p.ctx) {
                p.ctx.error(&format!("export: {e}"));
            }
        });
    })?;
    Ok(())
}
