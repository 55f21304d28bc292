//! `simscope export-dataset NAME|FILE OUT.npz`: write a recording and its labels as an `.npz`
//! (`X` plus `label_<name>` arrays; `numpy.load` reads it without pickle). `OUT.npy` writes
//! `X` only.

use serde_json::json;
use simscope::data::write::{recording_npy, recording_npz};

use crate::common::CliError;

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    use lexopt::prelude::*;
    let (mut name, mut out) = (None, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Value(v) if name.is_none() => name = Some(v.string()?),
            Value(v) if out.is_none() => out = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let usage = "usage: simscope export-dataset NAME OUT.npz";
    let name =
        name.ok_or_else(|| CliError(format!("export-dataset needs a dataset name ({usage})")))?;
    let out =
        out.ok_or_else(|| CliError(format!("export-dataset needs an output file ({usage})")))?;
    let rec = crate::common::recording(&name)?;
    let lower = out.to_ascii_lowercase();
    let bytes = if lower.ends_with(".npz") {
        recording_npz(&rec, None)
    } else if lower.ends_with(".npy") {
        recording_npy(&rec)
    } else {
        return Err(CliError(format!(
            "{out}: the output must end in .npz (X and labels) or .npy (X only)"
        )));
    };
    std::fs::write(&out, &bytes).map_err(|e| CliError(format!("cannot write {out}: {e}")))?;
    let labels: Vec<&str> = rec.labels.iter().map(|l| l.name.as_str()).collect();
    println!(
        "{}",
        json!({"written": out, "bytes": bytes.len(), "shape": rec.dims, "labels": labels})
    );
    Ok(())
}
