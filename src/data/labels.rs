//! Task labels: one categorical value per condition, from `.npy`, `.npz`, `.mat`, `.csv` or
//! `.json`.
//!
//! * integers and strings are categories as they are;
//! * floats are categories too when they take at most [`MAX_FLOAT_CLASSES`] distinct values
//!   (e.g. directions in degrees); continuous floats are refused;
//! * numeric classes are sorted by value (`0, 45, 90, …`), text classes keep their order of
//!   first appearance.
//!
//! File conventions: `.npy` holds one 1-D array (variable named after the file); `.npz` holds
//! 1-D arrays, each a variable (a `label_`/`labels_` prefix is dropped); `.csv` has one column
//! per variable and one row per condition, with an optional header row of names (detected by
//! the row count: C + 1 rows means a header); `.json` is `{"name": [..], …}` or a bare array.

use super::npy::{read_npy, NpyArray};
use super::npz::read_npz;
use super::{file_kind, file_stem, npz_label_name, DataError, FileKind, TaskVariable};

/// Most distinct values a float label may take to count as categorical.
pub const MAX_FLOAT_CLASSES: usize = 64;

/// Label values before they become classes.
enum Values {
    Text(Vec<String>),
    /// Numbers; `float` marks a float dtype (or non-integral values) for the class limit.
    Num {
        v: Vec<f64>,
        float: bool,
    },
}

fn bad(name: &str, problem: impl Into<String>) -> DataError {
    DataError::Labels {
        name: name.to_string(),
        problem: problem.into(),
    }
}

/// Shortest text of a number, without a trailing `.0` for integral values.
fn number_text(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format!("{v}")
    }
}

fn build(name: &str, values: Values, conditions: usize) -> Result<TaskVariable, DataError> {
    let n = match &values {
        Values::Text(t) => t.len(),
        Values::Num { v, .. } => v.len(),
    };
    if n != conditions {
        return Err(DataError::LabelCount {
            name: name.to_string(),
            got: n,
            expected: conditions,
        });
    }
    match values {
        Values::Text(t) => Ok(TaskVariable::from_labels(name, &t)),
        Values::Num { v, float } => {
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(bad(
                    name,
                    format!("value {i} is {}; every condition needs a label (use a class such as -1 for missing)", v[i]),
                ));
            }
            // -0.0 and 0.0 are one class; after this, total_cmp agrees with ==.
            let v: Vec<f64> = v.iter().map(|x| x + 0.0).collect();
            let mut uniq = v.clone();
            uniq.sort_by(f64::total_cmp);
            uniq.dedup_by(|a, b| a == b);
            if float && uniq.len() > MAX_FLOAT_CLASSES {
                return Err(bad(
                    name,
                    format!(
                        "float labels are read as categories, but these take {} distinct values (at most {MAX_FLOAT_CLASSES} allowed); round or bin them first, e.g. np.digitize(x, bins)",
                        uniq.len()
                    ),
                ));
            }
            let class_of = v
                .iter()
                .map(|x| uniq.binary_search_by(|u| u.total_cmp(x)).unwrap_or(0))
                .collect();
            Ok(TaskVariable {
                name: name.to_string(),
                class_of,
                classes: uniq.into_iter().map(number_text).collect(),
            })
        }
    }
}

/// A task variable from a 1-D array with one value per condition.
pub fn task_variable_from_array(
    name: &str,
    a: &NpyArray,
    conditions: usize,
) -> Result<TaskVariable, DataError> {
    let squeezed: Vec<usize> = a.shape.iter().copied().filter(|&d| d != 1).collect();
    if squeezed.len() > 1 || a.shape.is_empty() {
        return Err(bad(
            name,
            format!("a label array must be 1-D (one value per condition), but its shape is {:?}; save one array per task variable", a.shape),
        ));
    }
    let values = if a.is_text() {
        Values::Text(a.strings.clone())
    } else {
        let float = a
            .descr
            .trim_start_matches(['<', '>', '|', '='])
            .starts_with('f');
        Values::Num {
            v: a.values.clone(),
            float,
        }
    };
    build(name, values, conditions)
}

pub(crate) fn split_csv_line(line: &str, delim: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delim && !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn cells_to_values(cells: Vec<String>) -> Values {
    let nums: Option<Vec<f64>> = cells.iter().map(|c| c.parse::<f64>().ok()).collect();
    match nums {
        Some(v) if !v.is_empty() => {
            let float = cells.iter().any(|c| c.contains(['.', 'e', 'E']))
                || v.iter().any(|x| x.fract() != 0.0);
            Values::Num { v, float }
        }
        _ => Values::Text(cells),
    }
}

fn read_csv(stem: &str, bytes: &[u8], conditions: usize) -> Result<Vec<TaskVariable>, DataError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| bad(stem, "the CSV file is not UTF-8 text"))?;
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let first = lines
        .first()
        .ok_or_else(|| bad(stem, "the CSV file is empty"))?;
    let delim = if first.contains(',') {
        ','
    } else if first.contains('\t') {
        '\t'
    } else if first.contains(';') {
        ';'
    } else {
        ','
    };
    let rows: Vec<Vec<String>> = lines.iter().map(|l| split_csv_line(l, delim)).collect();
    let width = rows[0].len();
    if let Some(i) = rows.iter().position(|r| r.len() != width) {
        return Err(bad(
            stem,
            format!(
                "CSV line {} has {} fields but line 1 has {width}",
                i + 1,
                rows[i].len()
            ),
        ));
    }
    let (names, body): (Vec<String>, &[Vec<String>]) = if rows.len() == conditions + 1 {
        (rows[0].clone(), &rows[1..])
    } else if rows.len() == conditions {
        let names = (0..width)
            .map(|j| {
                if j == 0 {
                    stem.to_string()
                } else {
                    format!("{stem}_{}", j + 1)
                }
            })
            .collect();
        (names, &rows[..])
    } else {
        return Err(DataError::LabelCount {
            name: stem.to_string(),
            got: rows.len(),
            expected: conditions,
        });
    };
    (0..width)
        .map(|j| {
            let name = if names[j].is_empty() {
                format!("{stem}_{}", j + 1)
            } else {
                names[j].clone()
            };
            build(
                &name,
                cells_to_values(body.iter().map(|r| r[j].clone()).collect()),
                conditions,
            )
        })
        .collect()
}

fn json_values(name: &str, v: &serde_json::Value) -> Result<Values, DataError> {
    let arr = v
        .as_array()
        .ok_or_else(|| bad(name, "expected a JSON array with one label per condition"))?;
    if arr.iter().all(|x| x.is_number()) {
        let v: Vec<f64> = arr.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect();
        let float = arr.iter().any(|x| x.is_f64()) && v.iter().any(|x| x.fract() != 0.0);
        return Ok(Values::Num { v, float });
    }
    arr.iter()
        .enumerate()
        .map(|(i, x)| match x {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            serde_json::Value::Bool(b) => Ok(b.to_string()),
            _ => Err(bad(
                name,
                format!("element {i} is {x}, not a string, number or boolean"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Values::Text)
}

fn read_json(stem: &str, bytes: &[u8], conditions: usize) -> Result<Vec<TaskVariable>, DataError> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| bad(stem, format!("the JSON file does not parse ({e})")))?;
    match &v {
        serde_json::Value::Object(map) => {
            if map.is_empty() {
                return Err(bad(
                    stem,
                    "the JSON object is empty; give {\"name\": [one label per condition], …}",
                ));
            }
            map.iter()
                .map(|(k, x)| build(k, json_values(k, x)?, conditions))
                .collect()
        }
        serde_json::Value::Array(_) => Ok(vec![build(stem, json_values(stem, &v)?, conditions)?]),
        _ => Err(bad(
            stem,
            "expected {\"name\": [one label per condition], …} or a bare array",
        )),
    }
}

/// Read task variables from a labels file (`.npy`, `.npz`, `.csv`, `.json`) for a recording
/// with `conditions` conditions. Returns the variables and warnings.
pub fn read_labels(
    file_name: &str,
    bytes: &[u8],
    conditions: usize,
) -> Result<(Vec<TaskVariable>, Vec<String>), DataError> {
    let stem = file_stem(file_name);
    let stem = stem
        .strip_prefix("label_")
        .or_else(|| stem.strip_prefix("labels_"))
        .unwrap_or(stem);
    match file_kind(file_name, bytes) {
        Some(FileKind::Npy) => {
            let a = read_npy(bytes)?;
            Ok((
                vec![task_variable_from_array(stem, &a, conditions)?],
                a.warnings,
            ))
        }
        Some(FileKind::Npz) => {
            let (arrays, warnings) = read_npz(bytes)?;
            let vars = arrays
                .iter()
                .filter(|a| a.name != "X" && a.name != "x" && a.name != "Y")
                .map(|a| {
                    task_variable_from_array(
                        npz_label_name(&a.name).unwrap_or(&a.name),
                        &a.array,
                        conditions,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            if vars.is_empty() {
                return Err(bad(
                    stem,
                    "the .npz holds no label arrays (name them label_<name>)",
                ));
            }
            Ok((vars, warnings))
        }
        Some(FileKind::Mat) => {
            let f = super::mat::read_mat(file_name, bytes)?;
            let vars = f
                .arrays
                .iter()
                // MATLAB has no 1-D arrays: the vectors (1×n, n×1) are the labels.
                .filter(|a| a.array.shape.iter().filter(|&&d| d > 1).count() <= 1)
                .filter(|a| a.name != "X" && a.name != "x" && a.name != "Y")
                .map(|a| {
                    task_variable_from_array(
                        npz_label_name(&a.name).unwrap_or(&a.name),
                        &a.array,
                        conditions,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            if vars.is_empty() {
                return Err(bad(
                    stem,
                    "the .mat file holds no numeric label vectors (one value per condition, e.g. save(file, 'direction', '-v7'))",
                ));
            }
            Ok((vars, f.warnings))
        }
        Some(FileKind::Csv) => Ok((read_csv(stem, bytes, conditions)?, Vec::new())),
        Some(FileKind::Json) => Ok((read_json(stem, bytes, conditions)?, Vec::new())),
        None => Err(bad(
            stem,
            format!("`{file_name}` is not a labels file: use .npy, .npz, .mat, .csv or .json"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::npy::{write_npy_f64, write_npy_strings};

    #[test]
    fn degrees_become_sorted_classes() {
        let a = read_npy(&write_npy_f64(&[4], &[90.0, 0.0, 45.0, 0.0])).unwrap();
        let t = task_variable_from_array("direction", &a, 4).unwrap();
        assert_eq!(t.classes, vec!["0", "45", "90"]);
        assert_eq!(t.class_of, vec![2, 0, 1, 0]);
        assert_eq!(
            task_variable_from_array("d", &a, 5).unwrap_err().kind(),
            "label_count"
        );
    }

    #[test]
    fn continuous_floats_are_refused() {
        let v: Vec<f64> = (0..100).map(|i| i as f64 * 0.37).collect();
        let a = read_npy(&write_npy_f64(&[100], &v)).unwrap();
        assert_eq!(
            task_variable_from_array("x", &a, 100).unwrap_err().kind(),
            "labels"
        );
    }

    #[test]
    fn strings_csv_and_json() {
        let s: Vec<String> = ["a", "b", "a"].iter().map(|x| x.to_string()).collect();
        let (v, _) = read_labels("ctx.npy", &write_npy_strings(&[3], &s), 3).unwrap();
        assert_eq!(v[0].name, "ctx");
        assert_eq!(v[0].class_of, vec![0, 1, 0]);
        let (v, _) = read_labels("l.csv", b"choice,coh\n1,0.5\n2,-0.5\n1,0.5\n", 3).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].classes, vec!["-0.5", "0.5"]);
        let (v, _) = read_labels("l.csv", b"x\ny\nx\n", 3).unwrap();
        assert_eq!(v[0].name, "l");
        let (v, _) = read_labels(
            "l.json",
            br#"{"ctx": ["m", "c", "m"], "dir": [0, 45, 0]}"#,
            3,
        )
        .unwrap();
        assert_eq!(v[1].classes, vec!["0", "45"]);
        assert_eq!(
            read_labels("l.json", b"[1, 2]", 3).unwrap_err().kind(),
            "label_count"
        );
    }
}
