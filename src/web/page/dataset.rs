//! The Recording panel: opening a user's file and the dataset summary.

use super::*;

impl Page {
    pub(super) fn show_dataset(&self, s: &DatasetSummary) {
        let dims = s
            .dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" × ");
        let axes = if s.dims.len() == 3 {
            "time × conditions × neurons"
        } else {
            "conditions × neurons"
        };
        let labels = if s.labels.is_empty() {
            "no task labels".to_string()
        } else {
            s.labels
                .iter()
                .map(|(n, k)| format!("{n} ({k} classes)"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let top: Vec<String> = s
            .explained
            .iter()
            .take(5)
            .enumerate()
            .map(|(k, r)| format!("PC{} {:.1}%", k + 1, 100.0 * r))
            .collect();
        let ninety = match plot::pcs_for_share(&s.explained, 0.9) {
            Some(k) => format!(
                "90% of the variance in {k} PC{}",
                if k == 1 { "" } else { "s" }
            ),
            None => format!("the first {} PCs hold under 90%", s.explained.len()),
        };
        dom::set_text(&self.doc, "dataset-name", &s.name);
        dom::set_text(
            &self.doc,
            "dataset-summary",
            &format!(
                "{dims} ({axes}) · rank {} · {labels} · variance: {} · {ninety}",
                s.rank,
                top.join(", ")
            ),
        );
        if let Some(info) = datasets::info(&s.name) {
            dom::set_text(
                &self.doc,
                "dataset-about",
                &format!("{} {}", info.description, info.citation),
            );
        } else {
            dom::set_text(
                &self.doc,
                "dataset-about",
                "Your file (it stays in this browser).",
            );
        }
    }
}

/// Read a user's file and send it to the worker as a recording or as labels.
pub(super) fn open_file(file: web_sys::File, as_labels: bool) {
    let name = file.name();
    let size = file.size();
    if size > MAX_FILE_BYTES as f64 {
        with_page(|p| {
            show_error(
                &p.doc,
                &format!(
                    "{name}: the file is {:.0} MiB; simscope reads files up to {} MiB. Reduce it (e.g. fewer neurons or PCs) and try again.",
                    size / 1048576.0,
                    MAX_FILE_BYTES / 1048576
                ),
            )
        });
        return;
    }
    let lower = name.to_lowercase();
    let as_labels = as_labels || lower.ends_with(".csv") || lower.ends_with(".json");
    wasm_bindgen_futures::spawn_local(async move {
        let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
        with_page(|p| match buf {
            Ok(buf) => {
                let bytes = js_sys::Uint8Array::new(&buf);
                p.set_playing(false);
                let req = if as_labels {
                    Request::Labels { name: name.clone() }
                } else {
                    Request::File { name: name.clone() }
                };
                dom::set_hidden(&p.doc, "error", true);
                p.send(&req, Some(bytes));
            }
            Err(_) => show_error(
                &p.doc,
                &format!("{name}: the browser could not read the file"),
            ),
        });
    });
}
