//! `simscope score X Y --measure ID [--measure ID ...] [--grad-dir DIR]`: score a pair of
//! recordings with any registry measures, optionally writing ∂score/∂Y as `.npy` files.

use std::sync::Arc;

use nalgebra::DMatrix;
use serde_json::{json, Map, Value};
use simscope::data::npy::write_npy_f64;
use simscope::measures::registry;
use simscope::target::Target;

use crate::common::CliError;
use lexopt::prelude::*;

/// `<canonical id>` with `#` and `/` replaced by `_`, plus `.npy`.
pub fn grad_file_name(id: &str) -> String {
    format!("{}.npy", id.replace(['#', '/'], "_"))
}

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let mut files: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut grad_dir: Option<String> = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("measure") | Short('m') => ids.push(parser.value()?.string()?),
            Long("grad-dir") => grad_dir = Some(parser.value()?.string()?),
            Value(v) => files.push(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    if files.len() != 2 {
        return Err(CliError(format!(
            "score needs exactly two DATA arguments (X and Y), got {}; usage: simscope score X Y --measure ID [--measure ID ...] [--grad-dir DIR]",
            files.len()
        )));
    }
    if ids.is_empty() {
        return Err(CliError(
            "score needs at least one --measure ID (or --measure all)".into(),
        ));
    }
    let x = crate::common::recording(&files[0])?;
    let y = crate::common::recording(&files[1])?;
    let (xm, ym) = (&x.data, &y.data);
    if xm.nrows() != ym.nrows() {
        return Err(CliError(format!(
            "X and Y must have the same number of samples (rows after flattening time × conditions): X {:?} gives {}, Y {:?} gives {}",
            x.dims,
            xm.nrows(),
            y.dims,
            ym.nrows()
        )));
    }
    if let Some(k) = ym.iter().position(|v| !v.is_finite()) {
        return Err(CliError(format!(
            "Y contains a non-finite value at flattened row {}, column {}",
            k % ym.nrows(),
            k / ym.nrows()
        )));
    }
    let target = Arc::new(Target::new(xm)?);
    // Expand `all`, resolve aliases, drop duplicates (keeping the first).
    let (canon, mut warnings) = registry::resolve_list(&ids, None)?;
    let yc_norm2: f64 = simscope::linalg::frob2(&simscope::linalg::center_columns(ym));
    if yc_norm2 < simscope::measures::DEGENERATE_NORM2 {
        warnings.push("Y is constant (every column has zero variance): normalised scores are undefined and reported as 0 with zero gradients".into());
    }
    if let Some(dir) = &grad_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError(format!("cannot create --grad-dir {dir}: {e}")))?;
    }
    let mut scores = Map::new();
    for id in &canon {
        let (m, w) = registry::prepare(id, target.clone(), ym.ncols())?;
        warnings.extend(w);
        let value = if let Some(dir) = &grad_dir {
            let mut g = DMatrix::zeros(0, 0);
            let s = m.score_and_grad(ym, &mut g);
            // n × q back to Y's own shape: C order of the flattened rows is Y's C order.
            let values: Vec<f64> = (0..g.nrows())
                .flat_map(|i| (0..g.ncols()).map(move |j| (i, j)))
                .map(|(i, j)| g[(i, j)])
                .collect();
            let path = std::path::Path::new(dir).join(grad_file_name(id));
            std::fs::write(&path, write_npy_f64(&y.dims, &values))
                .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))?;
            s
        } else {
            m.score(ym)
        };
        if !value.is_finite() {
            warnings.push(format!("{id}: the score is not finite for this input"));
        }
        scores.insert(id.clone(), json!(value));
    }
    let out = json!({
        "x_shape": x.dims,
        "y_shape": y.dims,
        "scores": Value::Object(scores),
        "warnings": warnings,
    });
    println!("{out}");
    Ok(())
}
