//! A PNG and an SVG button under every plot: PNG is the canvas as drawn (at the screen's
//! pixel density), SVG the same plot function on plotters' SVG backend at the canvas's CSS
//! size.

use plotters::prelude::IntoDrawingArea;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlCanvasElement};

use super::{with_page, Page};
use crate::plot::Style;
use crate::web::dom;

impl Page {
    /// Download plot `id` as PNG or SVG.
    fn export_plot(&self, id: &str, svg: bool) -> Result<(), String> {
        let doc = &self.ctx.doc;
        let el: HtmlCanvasElement = dom::el(doc, id)
            .ok_or_else(|| format!("missing #{id}"))?
            .dyn_into()
            .map_err(|_| format!("#{id} is not a canvas"))?;
        let stem = format!("simscope-{}-{id}", self.ctx.state.dataset);
        if !svg {
            let url = el.to_data_url().map_err(|e| format!("{e:?}"))?;
            return dom::download_url(doc, &url, &format!("{stem}.png"))
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
            self.draw(id, &root, Style { scale: 1.0 })?;
        }
        dom::download_bytes(doc, text.as_bytes(), &format!("{stem}.svg"))
            .map_err(|e| format!("{e:?}"))
    }
}

/// The buttons, placed after each plot's canvas.
pub(super) fn wire(doc: &Document, plots: &[&'static str]) -> Result<(), JsValue> {
    for &id in plots {
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
            dom::listen(&b, "click", move |_: web_sys::Event| {
                with_page(|p| {
                    if let Err(e) = p.export_plot(id, svg) {
                        p.ctx.error(&format!("export: {e}"));
                    }
                });
            })?;
            bar.append_child(&b)?;
        }
        c.insert_adjacent_element("afterend", &bar)?;
    }
    Ok(())
}
