//! The browser face (wasm32 only). The same module runs twice: on the page, where it wires
//! the controls and draws (`page`), and in a dedicated Web Worker, where it owns the numerics
//! (`worker`); they talk through `protocol`. No SharedArrayBuffer is needed, so the site works
//! from any static host.

mod dom;
mod page;
pub mod protocol;
mod worker;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Entry point, run when the module is initialised: page or worker, by the global scope.
#[wasm_bindgen(start)]
pub fn start() -> Result<(), JsValue> {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        return page::start(doc.clone()).inspect_err(|e| {
            page::show_error(&doc, &format!("simscope could not start: {e:?}"));
        });
    }
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().dyn_into()?;
    worker::start(scope)
}

#[cfg(test)]
mod tests {
    use super::dom::js_number_string;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// Readouts hold what JavaScript's `String(number)` prints, which round-trips exactly.
    #[wasm_bindgen_test]
    fn readout_strings_round_trip() {
        assert_eq!(js_number_string(0.1), "0.1");
        assert_eq!(js_number_string(1.0), "1");
        for v in [0.047872489371448584, 0.9947907799936062, 1e-300, -2.5e21] {
            assert_eq!(js_number_string(v).parse::<f64>().unwrap(), v);
        }
    }
}
