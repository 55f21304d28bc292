//! Recordings (and models) from CSV/TSV text: one row per condition, one column per neuron
//! (or model unit), numbers only, with or without a header row of column names.
//!
//! * The delimiter is a tab for `.tsv`; otherwise the first of tab, comma and semicolon found
//!   in the first line, else runs of spaces (what `numpy.savetxt` and MATLAB's `writematrix`
//!   with a space delimiter write). Double-quoted fields are unquoted.
//! * A first line with any cell that is not a number is a header of names; every other line
//!   must be numbers. Blank lines are skipped; a UTF-8 byte-order mark is dropped.
//! * Every failure names the line and column: ragged rows, text, empty cells and missing
//!   values (`NaN`, `Inf`), each with what to do.
//!
//! Text cannot hold a 3-D recording; save those as `.npy`/`.npz`/`.mat`. A labels file is
//! read by `labels.rs`, never by this reader: a recording is never taken for labels.

use super::npy::{file_too_large, NpyError, MAX_FILE_BYTES, MAX_VALUES};

/// Why a CSV/TSV file could not be read as a recording.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CsvError {
    #[error("the file is not UTF-8 text; save it as a plain CSV (UTF-8) or as .npy/.mat")]
    NotText,
    #[error(
        "the file holds no numbers; a recording is one row per condition and one column per neuron"
    )]
    Empty,
    #[error("line {line} has {got} fields but line {first} has {expected}: every row needs one value per neuron (ragged rows, or a stray delimiter?)")]
    Ragged {
        line: usize,
        got: usize,
        first: usize,
        expected: usize,
    },
    #[error("line {line}, column {column}{header}: `{cell}` is not a number{hint}")]
    NotNumber {
        line: usize,
        column: usize,
        header: String,
        cell: String,
        hint: String,
    },
    #[error("line {line}, column {column}{header} is empty: every condition needs a value for every neuron (fill or drop missing values before saving)")]
    EmptyCell {
        line: usize,
        column: usize,
        header: String,
    },
    #[error("line {line}, column {column}{header} is `{cell}` (a missing or infinite value); replace or drop missing values before saving")]
    NonFinite {
        line: usize,
        column: usize,
        header: String,
        cell: String,
    },
    #[error(transparent)]
    TooLarge(NpyError),
}

impl CsvError {
    pub fn kind(&self) -> &'static str {
        match self {
            CsvError::NotText => "csv_not_text",
            CsvError::Empty => "csv_empty",
            CsvError::Ragged { .. } => "csv_ragged",
            CsvError::NotNumber { .. } => "csv_not_number",
            CsvError::EmptyCell { .. } => "csv_empty_cell",
            CsvError::NonFinite { .. } => "csv_non_finite",
            CsvError::TooLarge(_) => "too_large",
        }
    }
}

/// Split one line: quoted fields for `Some(delim)`, runs of whitespace for `None`.
fn split(line: &str, delim: Option<char>) -> Vec<String> {
    match delim {
        Some(d) => super::labels::split_csv_line(line, d),
        None => line.split_whitespace().map(|s| s.to_string()).collect(),
    }
}

/// A CSV/TSV table of numbers: `rows × cols` values in C order, the column names of the
/// header (empty without one) and warnings.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
    pub header: Vec<String>,
    pub warnings: Vec<String>,
}

/// Read a table of numbers (see the module docs for the rules).
pub fn read_table(file_name: &str, bytes: &[u8]) -> Result<Table, CsvError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CsvError::TooLarge(file_too_large(
            "the CSV file",
            bytes.len() as u64,
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CsvError::NotText)?;
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let Some(&(first_no, first)) = lines.first() else {
        return Err(CsvError::Empty);
    };
    let tsv = file_name.to_ascii_lowercase().ends_with(".tsv");
    let delim = if tsv || first.contains('\t') {
        Some('\t')
    } else if first.contains(',') {
        Some(',')
    } else if first.contains(';') {
        Some(';')
    } else {
        None
    };
    let first_cells = split(first, delim);
    let is_number = |c: &str| c.parse::<f64>().is_ok();
    let has_header = first_cells.iter().any(|c| !c.is_empty() && !is_number(c));
    let header: Vec<String> = if has_header {
        first_cells.clone()
    } else {
        Vec::new()
    };
    let width = first_cells.len();
    let body = if has_header { &lines[1..] } else { &lines[..] };
    if body.is_empty() {
        return Err(CsvError::Empty);
    }
    if body.len().saturating_mul(width) > MAX_VALUES {
        return Err(CsvError::TooLarge(NpyError::TooLarge {
            what: format!("the table of {} rows × {width} columns", body.len()),
            size: format!("{} values", body.len().saturating_mul(width)),
            limit: format!("{MAX_VALUES} values"),
        }));
    }
    let name_of = |j: usize| match header.get(j) {
        Some(h) if !h.is_empty() => format!(" (`{h}`)"),
        _ => String::new(),
    };
    let mut values = Vec::with_capacity(body.len() * width);
    for (k, &(line, l)) in body.iter().enumerate() {
        let cells = split(l, delim);
        if cells.len() != width {
            return Err(CsvError::Ragged {
                line,
                got: cells.len(),
                first: first_no,
                expected: width,
            });
        }
        for (j, c) in cells.iter().enumerate() {
            let column = j + 1;
            if c.is_empty() {
                return Err(CsvError::EmptyCell {
                    line,
                    column,
                    header: name_of(j),
                });
            }
            match c.parse::<f64>() {
                Ok(v) if v.is_finite() => values.push(v),
                Ok(_) => {
                    return Err(CsvError::NonFinite {
                        line,
                        column,
                        header: name_of(j),
                        cell: c.clone(),
                    })
                }
                Err(_) => {
                    let hint = if j == 0 && k == 0 && width > 1 {
                        "; the first column holds text: if these are condition names, delete the column (task labels go in their own labels file)".to_string()
                    } else if delim == Some(';') && c.contains(',') {
                        "; write decimals with a point (1.5, not 1,5)".to_string()
                    } else if k == 0 && has_header {
                        String::new()
                    } else {
                        "; a recording holds numbers only (labels go in their own labels file)"
                            .to_string()
                    };
                    return Err(CsvError::NotNumber {
                        line,
                        column,
                        header: name_of(j),
                        cell: c.clone(),
                        hint,
                    });
                }
            }
        }
    }
    let mut warnings = Vec::new();
    if has_header {
        let shown: Vec<&str> = header.iter().take(4).map(|s| s.as_str()).collect();
        warnings.push(format!(
            "line {first_no} read as a header of {width} column names ({}{})",
            shown.join(", "),
            if width > 4 { ", …" } else { "" }
        ));
    }
    Ok(Table {
        rows: body.len(),
        cols: width,
        values,
        header,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_delimiters_and_errors() {
        let t = read_table("a.csv", b"n1,n2\n1,2\n3,4.5\n").unwrap();
        assert_eq!((t.rows, t.cols), (2, 2));
        assert_eq!(t.values, vec![1.0, 2.0, 3.0, 4.5]);
        assert_eq!(t.header, vec!["n1", "n2"]);
        let t = read_table("a.tsv", b"1\t2\n3\t4\n").unwrap();
        assert!(t.header.is_empty());
        let t = read_table("a.txt", b"1.0 2.0  3.0\n4 5 6\n").unwrap();
        assert_eq!((t.rows, t.cols), (2, 3));
        let e = read_table("a.csv", b"1,2\n3\n").unwrap_err();
        assert_eq!(e.kind(), "csv_ragged");
        assert!(e.to_string().contains("line 2 has 1 fields"), "{e}");
        let e = read_table("a.csv", b"a,b\n1,2\n3,x\n").unwrap_err();
        assert!(
            e.to_string().starts_with("line 3, column 2 (`b`): `x`"),
            "{e}"
        );
        let e = read_table("a.csv", b"1,2\n3,NaN\n").unwrap_err();
        assert_eq!(e.kind(), "csv_non_finite");
        let e = read_table("a.csv", b"1,,2\n").unwrap_err();
        assert_eq!(e.kind(), "csv_empty_cell");
        assert_eq!(
            read_table("a.csv", b"\n\n").unwrap_err().kind(),
            "csv_empty"
        );
        assert_eq!(
            read_table("a.csv", b"x,y\n").unwrap_err().kind(),
            "csv_empty"
        );
    }
}
