//! Writers: `.npy` snapshots of Y, `.npz` bundles (X, Y, labels) and CSV trajectories.
//! Everything here builds bytes in memory, so the page can offer them as downloads.

use super::npy::{write_npy_as, write_npy_f64, write_npy_strings};
use super::npz::write_npz;
use super::{Recording, TaskVariable};

/// A recording (or a Y of the same shape) as a `.npy` file of its original shape, `<f8`.
pub fn recording_npy(rec: &Recording) -> Vec<u8> {
    write_npy_f64(&rec.dims, &rec.c_order_values())
}

/// A label array for the `.npz` convention: numbers when every class name is a number,
/// otherwise `<U` strings.
pub fn label_npy(var: &TaskVariable) -> Vec<u8> {
    let labels = var.labels();
    let nums: Option<Vec<f64>> = labels.iter().map(|l| l.parse::<f64>().ok()).collect();
    match nums {
        Some(v) if v.iter().all(|x| x.fract() == 0.0 && x.abs() < 9.0e15) => {
            write_npy_as(&[v.len()], &v, "<i8", false, 1)
                .unwrap_or_else(|_| write_npy_f64(&[v.len()], &v))
        }
        Some(v) => write_npy_f64(&[v.len()], &v),
        None => write_npy_strings(&[labels.len()], &labels),
    }
}

/// An `.npz` with `X` (the recording), optionally `Y` (same flattening as X: `dims`), and one
/// `label_<name>` array per task variable. `numpy.load` reads it without pickle.
pub fn recording_npz(x: &Recording, y: Option<&Recording>) -> Vec<u8> {
    let mut entries: Vec<(String, Vec<u8>)> = vec![("X".into(), recording_npy(x))];
    if let Some(y) = y {
        entries.push(("Y".into(), recording_npy(y)));
    }
    for v in &x.labels {
        entries.push((format!("label_{}", v.name), label_npy(v)));
    }
    let refs: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    write_npz(&refs)
}

/// A CSV table: a header row, then one row per record. Numbers use the shortest text that
/// reads back to the same f64; NaN and infinities are written as `nan`, `inf`, `-inf`.
pub fn csv(header: &[&str], rows: &[Vec<f64>]) -> String {
    let mut out = String::new();
    out.push_str(
        &header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    out.push_str(&csv_rows(rows));
    out
}

/// CSV rows of numbers (no header), as [`csv`] writes them: for a file written as it grows.
pub fn csv_rows(rows: &[Vec<f64>]) -> String {
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|v| {
                if v.is_nan() {
                    "nan".into()
                } else if v.is_infinite() {
                    if *v > 0.0 { "inf" } else { "-inf" }.into()
                } else {
                    format!("{v}")
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A CSV cell: quoted (with doubled quotes) only when it holds a comma, a quote or a newline.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{datasets::toy2d, read_recording};

    #[test]
    fn npz_round_trip_keeps_shape_values_and_labels() {
        let x = toy2d(0.5);
        let bytes = recording_npz(&x, Some(&x));
        let (back, warnings) = read_recording("toy.npz", &bytes).unwrap();
        assert_eq!(back.dims, x.dims);
        assert_eq!(back.data, x.data);
        assert_eq!(warnings.len(), 1, "Y is reported as ignored");
        assert_eq!(back.labels.len(), 2);
        assert_eq!(back.labels[0].name, "choice");
        assert_eq!(back.labels[0].labels(), x.labels[0].labels());
        assert_eq!(back.labels[1].labels(), x.labels[1].labels());
    }

    #[test]
    fn csv_quotes_and_numbers() {
        let s = csv(&["step", "a,b"], &[vec![1.0, 0.1], vec![2.0, f64::NAN]]);
        assert_eq!(s, "step,\"a,b\"\n1,0.1\n2,nan\n");
    }
}
