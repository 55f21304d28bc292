//! `simscope info FILE|NAME`: shape, dtype and statistics of a `.npy`/`.npz`/`.mat`/CSV, as
//! JSON.
//! Exits with status 2 for anything that cannot be used as a recording.

use serde_json::json;
use simscope::data::npy::read_npy;
use simscope::data::npz::read_npz;
use simscope::data::{
    datasets, file_kind, recording_from_array, recording_from_npz, ArraySummary, DataError,
    FileKind,
};

use crate::common::CliError;

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    use lexopt::prelude::*;
    let mut file = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Value(v) if file.is_none() => file = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let arg = file.ok_or_else(|| CliError("info needs a FILE argument (.npy or .npz)".into()))?;
    println!("{}", info(&arg)?);
    Ok(())
}

fn info(arg: &str) -> Result<serde_json::Value, CliError> {
    if !std::path::Path::new(arg).exists() {
        if let Some(meta) = datasets::info(arg) {
            return Ok(json!(meta));
        }
    }
    let bytes = crate::common::read_file(arg)?;
    let fail = |e: DataError| CliError(format!("{arg}: {e}"));
    let name = simscope::data::file_stem(arg);
    match file_kind(arg, &bytes) {
        Some(FileKind::Npy) => {
            let a = read_npy(&bytes).map_err(|e| fail(e.into()))?;
            recording_from_array(name, &a).map_err(fail)?;
            warn(arg, &a.warnings);
            Ok(json!(ArraySummary::of(&a)))
        }
        Some(FileKind::Npz) => {
            let (arrays, warnings) = read_npz(&bytes).map_err(|e| fail(e.into()))?;
            let (_, w) = recording_from_npz(name, &arrays).map_err(fail)?;
            warn(arg, &warnings);
            warn(arg, &w);
            let mut map = serde_json::Map::new();
            for a in &arrays {
                map.insert(a.name.clone(), json!(ArraySummary::of(&a.array)));
            }
            Ok(json!({ "arrays": map }))
        }
        Some(FileKind::Mat) => {
            let f = simscope::data::mat::read_mat(arg, &bytes).map_err(|e| fail(e.into()))?;
            let (_, w) = simscope::data::read_recording(arg, &bytes).map_err(fail)?;
            warn(arg, &w);
            let mut map = serde_json::Map::new();
            for a in &f.arrays {
                map.insert(a.name.clone(), json!(ArraySummary::of(&a.array)));
            }
            let skipped: Vec<_> = f
                .skipped
                .iter()
                .map(|(s, _)| json!({"name": s.name, "why": s.error}))
                .collect();
            Ok(json!({ "arrays": map, "skipped": skipped }))
        }
        Some(FileKind::Csv) => {
            let (rec, w) = simscope::data::read_recording(arg, &bytes).map_err(fail)?;
            warn(arg, &w);
            let a = simscope::data::NpyArray {
                shape: rec.dims.clone(),
                descr: "<f8".into(),
                fortran_order: false,
                values: rec.c_order_values(),
                strings: Vec::new(),
                warnings: Vec::new(),
            };
            Ok(json!(ArraySummary::of(&a)))
        }
        _ => Err(fail(DataError::Format(arg.to_string()))),
    }
}

fn warn(arg: &str, warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {arg}: {w}");
    }
}
