//! Exports: Y as `.npy`, the score trajectories as CSV, and a PNG/SVG button per plot.

use super::*;

impl Page {
    /// Y arrived from the worker: save it, and keep a link to it in case the browser wants a
    /// fresh click (the worker's answer comes after the button's user activation).
    pub(super) fn offer_y(&mut self, bytes: &[u8], name: &str) {
        let Ok(url) = dom::object_url(bytes) else {
            show_error(&self.doc, "the browser could not hold Y for download");
            return;
        };
        if let Some(old) = self.y_url.replace(url.clone()) {
            dom::revoke_url(&old);
        }
        if let Some(a) = dom::el(&self.doc, "export-y-link") {
            let _ = a.set_attribute("href", &url);
            let _ = a.set_attribute("download", name);
            a.set_text_content(Some(&format!("save {name}")));
        }
        dom::set_hidden(&self.doc, "export-y-link", false);
        let _ = dom::download_url(&self.doc, &url, name);
    }

    /// Every score along the run, one row per step.
    pub(super) fn export_csv(&self) -> Result<(), String> {
        let mut header = vec!["step"];
        header.extend(self.ids.iter().map(String::as_str));
        let rows: Vec<Vec<f64>> = self
            .history
            .first()
            .map(|h| {
                (0..h.len())
                    .map(|i| {
                        std::iter::once(h[i].0 as f64)
                            .chain(
                                self.history
                                    .iter()
                                    .map(|s| s.get(i).map_or(f64::NAN, |p| p.1)),
                            )
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let text = crate::data::write::csv(&header, &rows);
        let name = format!(
            "simscope-{}-{}-trajectory.csv",
            self.state.dataset, self.state.measure
        )
        .replace(['#', '/'], "_");
        dom::download_bytes(&self.doc, text.as_bytes(), &name).map_err(|e| format!("{e:?}"))
    }
}

/// A PNG and an SVG button under every plot, plus the trajectory CSV and Y `.npy` buttons.
pub(super) fn wire_exports(doc: &Document) -> Result<(), JsValue> {
    for id in PLOTS {
        let Some(c) = dom::el(doc, id) else { continue };
        let bar = doc.create_element("div")?;
        bar.set_class_name("exports");
        let what = c.get_attribute("aria-label").unwrap_or_default();
        for (fmt, svg) in [("png", false), ("svg", true)] {
            let b = doc.create_element("button")?;
            b.set_attribute("type", "button")?;
            b.set_attribute("data-testid", &format!("export-{id}-{fmt}"))?;
            b.set_attribute(
                "title",
                &format!("Download as {}: {what}", fmt.to_uppercase()),
            )?;
            b.set_text_content(Some(&fmt.to_uppercase()));
            let id = id.to_string();
            dom::listen(&b, "click", move |_: web_sys::Event| {
                with_page(|p| {
                    if let Err(e) = p.export_plot(&id, svg) {
                        show_error(&p.doc, &format!("export: {e}"));
                    }
                });
            })?;
            bar.append_child(&b)?;
        }
        c.insert_adjacent_element("afterend", &bar)?;
    }
    dom::on(doc, "export-csv", "click", |_: web_sys::Event| {
        with_page(|p| {
            if let Err(e) = p.export_csv() {
                show_error(&p.doc, &format!("export: {e}"));
            }
        });
    })?;
    dom::on(doc, "export-y", "click", |_: web_sys::Event| {
        with_page(|p| {
            if p.last.is_some() {
                p.send(&Request::ExportY, None);
            }
        });
    })?;
    Ok(())
}
