//! The compare report as CSV tables, from the JSON document `simscope compare` prints: one
//! function, so `simscope compare --out` and the page's "table CSV" cannot disagree.

use serde_json::Value;

fn num(v: &Value) -> String {
    v.as_f64()
        .filter(|v| v.is_finite())
        .map_or(String::new(), |v| format!("{v}"))
}

/// Quote a CSV field if it needs it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.join(","));
        out.push('\n');
    }
    out
}

/// (file name, CSV text) for `scores.csv` (model × measure: value, interval, null, p,
/// placement, verdict), `pc_r2.csv`, `decoding.csv` and `warnings.csv`.
pub fn tables(doc: &Value) -> Vec<(&'static str, String)> {
    let f = num;
    let mut rows = Vec::new();
    let mut pcs = Vec::new();
    let mut dec = Vec::new();
    for m in doc["models"].as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or("");
        for (id, s) in m["scores"].as_object().into_iter().flatten() {
            let c = &s["calibration"];
            let list = |v: &Value| {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join(";")
                    })
                    .unwrap_or_default()
            };
            let decodable = c["decodable"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(";")
                })
                .unwrap_or_default();
            rows.push(vec![
                field(name),
                field(id),
                f(&s["value"]),
                f(&s["ci_low"]),
                f(&s["ci_high"]),
                f(&s["null_mean"]),
                f(&s["null_p95"]),
                f(&s["p_value"]),
                s["direction"].as_str().unwrap_or("").to_string(),
                c["steps_to_reach"]
                    .as_u64()
                    .map_or(String::new(), |v| v.to_string()),
                list(&c["pcs_captured"]),
                f(&c["variance_captured"]),
                field(&decodable),
                field(c["verdict"].as_str().unwrap_or("")),
            ]);
        }
        for (i, v) in m["pc_r2"].as_array().into_iter().flatten().enumerate() {
            let evr = &doc["x_explained_variance"][i];
            pcs.push(vec![field(name), (i + 1).to_string(), f(evr), f(v)]);
        }
        for d in m["decoding"].as_array().into_iter().flatten() {
            dec.push(vec![
                field(name),
                field(d["variable"].as_str().unwrap_or("")),
                f(&d["model"]),
                f(&d["x"]),
                f(&d["chance"]),
                d["x_above_chance"].to_string(),
            ]);
        }
    }
    let warnings: Vec<Vec<String>> = doc["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| vec![field(w.as_str().unwrap_or(""))])
        .collect();
    vec![
        (
            "scores.csv",
            table(
                &[
                    "model",
                    "measure",
                    "value",
                    "ci_low",
                    "ci_high",
                    "null_mean",
                    "null_p95",
                    "p_value",
                    "direction",
                    "steps_to_reach",
                    "pcs_captured",
                    "variance_captured",
                    "decodable",
                    "verdict",
                ],
                &rows,
            ),
        ),
        (
            "pc_r2.csv",
            table(&["model", "pc", "x_explained_variance", "cv_r2"], &pcs),
        ),
        (
            "decoding.csv",
            table(
                &[
                    "model",
                    "variable",
                    "model_accuracy",
                    "x_accuracy",
                    "chance",
                    "x_above_chance",
                ],
                &dec,
            ),
        ),
        ("warnings.csv", table(&["warning"], &warnings)),
    ]
}
