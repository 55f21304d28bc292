//! `simscope score X Y --measure ID [--measure ID ...] [--grad-dir DIR]`: score a pair of
//! recordings with any registry measures, optionally writing ∂score/∂Y as `.npy` files.

use serde_json::{json, Map, Value};
use simscope::data::npy::write_npy_f64;
use simscope::measures::pair::score_pair;
use simscope::measures::registry;

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
    // Expand `all`, resolve aliases, drop duplicates (keeping the first).
    let (canon, mut warnings) = registry::resolve_list(&ids, None)?;
    if let Some(dir) = &grad_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError(format!("cannot create --grad-dir {dir}: {e}")))?;
    }
    // The core's one-off scoring, shared with Python and the Compare job.
    let (results, w) = score_pair(
        &x.data,
        &x.dims,
        &y.data,
        &y.dims,
        &canon,
        grad_dir.is_some(),
    )
    .map_err(CliError)?;
    warnings.extend(w);
    let mut scores = Map::new();
    for r in results {
        if let (Some(dir), Some(g)) = (&grad_dir, &r.grad) {
            // n × q back to Y's own shape: C order of the flattened rows is Y's C order.
            let values: Vec<f64> = (0..g.nrows())
                .flat_map(|i| (0..g.ncols()).map(move |j| (i, j)))
                .map(|(i, j)| g[(i, j)])
                .collect();
            let path = std::path::Path::new(dir).join(grad_file_name(&r.id));
            std::fs::write(&path, write_npy_f64(&y.dims, &values))
                .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))?;
        }
        scores.insert(r.id, json!(r.value));
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
