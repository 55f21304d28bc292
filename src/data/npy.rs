//! Reading and writing NumPy `.npy` arrays.
//!
//! This first version reads little- or big-endian f4/f8 arrays in C or Fortran order (format
//! versions 1.0–3.0) and writes f8 arrays; the recordings issue extends it to every dtype.

/// An array read from a `.npy` file, values converted to f64 in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    /// NumPy's descr string as found in the header, e.g. `<f8`.
    pub descr: String,
    pub fortran_order: bool,
    pub values: Vec<f64>,
}

/// Why a `.npy` file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NpyError {
    #[error("not a .npy file: it does not start with the magic string \\x93NUMPY")]
    BadMagic,
    #[error("unsupported .npy format version {0}.{1} (supported: 1.0, 2.0, 3.0)")]
    Version(u8, u8),
    #[error("the .npy file is truncated: {0}")]
    Truncated(String),
    #[error("malformed .npy header: {0}")]
    Header(String),
    #[error("unsupported dtype `{0}`")]
    Dtype(String),
    #[error(
        "the header's shape {shape:?} needs {expected} bytes of data but the file holds {actual}"
    )]
    Length {
        shape: Vec<usize>,
        expected: usize,
        actual: usize,
    },
}

/// Parse a `.npy` file held in memory.
pub fn read_npy(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() < 8 || &bytes[..6] != b"\x93NUMPY" {
        return Err(NpyError::BadMagic);
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (header_len, start) = match major {
        1 => {
            let b = bytes
                .get(8..10)
                .ok_or_else(|| NpyError::Truncated("no header length".into()))?;
            (u16::from_le_bytes([b[0], b[1]]) as usize, 10usize)
        }
        2 | 3 => {
            let b = bytes
                .get(8..12)
                .ok_or_else(|| NpyError::Truncated("no header length".into()))?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        _ => return Err(NpyError::Version(major, minor)),
    };
    let header = bytes
        .get(start..start.saturating_add(header_len))
        .ok_or_else(|| NpyError::Truncated("the header is cut short".into()))?;
    let header = std::str::from_utf8(header).map_err(|_| NpyError::Header("not UTF-8".into()))?;
    let descr = dict_value(header, "descr")?
        .trim_matches(|c| c == '\'' || c == '"')
        .to_string();
    let fortran_order = match dict_value(header, "fortran_order")?.trim() {
        "True" => true,
        "False" => false,
        other => return Err(NpyError::Header(format!("fortran_order is `{other}`"))),
    };
    let shape = parse_shape(dict_value(header, "shape")?)?;
    let (little, size) = match descr.as_str() {
        "<f8" => (true, 8),
        ">f8" => (false, 8),
        "<f4" => (true, 4),
        ">f4" => (false, 4),
        other => return Err(NpyError::Dtype(other.to_string())),
    };
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| NpyError::Header(format!("shape {shape:?} overflows")))?;
    let data = &bytes[start + header_len..];
    let expected = count
        .checked_mul(size)
        .ok_or_else(|| NpyError::Header("size overflows".into()))?;
    if data.len() != expected {
        return Err(NpyError::Length {
            shape,
            expected,
            actual: data.len(),
        });
    }
    let raw: Vec<f64> = data
        .chunks_exact(size)
        .map(|c| match (size, little) {
            (8, true) => f64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
            (8, false) => f64::from_be_bytes(c.try_into().unwrap_or([0; 8])),
            (_, true) => f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64,
            (_, false) => f32::from_be_bytes(c.try_into().unwrap_or([0; 4])) as f64,
        })
        .collect();
    let values = if fortran_order {
        fortran_to_c(&raw, &shape)
    } else {
        raw
    };
    Ok(NpyArray {
        shape,
        descr,
        fortran_order,
        values,
    })
}

/// The text after `'key':` up to the next top-level comma or closing brace.
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str, NpyError> {
    let pat = format!("'{key}':");
    let at = header
        .find(&pat)
        .ok_or_else(|| NpyError::Header(format!("no `{key}` entry")))?;
    let rest = &header[at + pat.len()..];
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth == 0 => return Ok(rest[..i].trim()),
            _ => {}
        }
    }
    Err(NpyError::Header(format!("unterminated `{key}` entry")))
}

fn parse_shape(s: &str) -> Result<Vec<usize>, NpyError> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| NpyError::Header(format!("shape `{s}` is not a tuple")))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<usize>()
                .map_err(|_| NpyError::Header(format!("bad shape entry `{t}`")))
        })
        .collect()
}

/// Reorder Fortran-order (first index fastest) values into C order.
fn fortran_to_c(raw: &[f64], shape: &[usize]) -> Vec<f64> {
    let n = raw.len();
    let mut out = vec![0.0; n];
    let mut idx = vec![0usize; shape.len()];
    for (c_pos, slot) in out.iter_mut().enumerate() {
        // decompose c_pos into a multi-index (last index fastest)
        let mut rem = c_pos;
        for (k, &d) in shape.iter().enumerate().rev() {
            idx[k] = rem % d.max(1);
            rem /= d.max(1);
        }
        let mut f_pos = 0;
        for (k, &d) in shape.iter().enumerate().rev() {
            f_pos = f_pos * d + idx[k];
        }
        *slot = raw[f_pos];
    }
    out
}

/// Encode f64 values (C order) as a version-1.0 little-endian `.npy` file.
pub fn write_npy_f64(shape: &[usize], values: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Pad with spaces so magic + version + length + header + '\n' is a multiple of 64.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + values.len() * 8);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_f64() {
        let vals: Vec<f64> = (0..24).map(|i| i as f64 * 0.5 - 3.0).collect();
        let bytes = write_npy_f64(&[2, 3, 4], &vals);
        assert_eq!(bytes.len() % 64, (24 * 8) % 64);
        let a = read_npy(&bytes).unwrap();
        assert_eq!(a.shape, vec![2, 3, 4]);
        assert_eq!(a.values, vals);
        assert_eq!(a.descr, "<f8");
    }

    #[test]
    fn fortran_order_is_reordered() {
        let mut bytes = write_npy_f64(&[2, 3], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        // Flip the header's flag in place ('True ' keeps the header length of 'False').
        let at = bytes.windows(5).position(|w| w == b"False").unwrap();
        bytes[at..at + 5].copy_from_slice(b"True ");
        let a = read_npy(&bytes).unwrap();
        assert!(a.fortran_order);
        assert_eq!(a.values, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(read_npy(b"hello world").unwrap_err(), NpyError::BadMagic);
        let bytes = write_npy_f64(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        assert!(matches!(
            read_npy(&bytes[..bytes.len() - 3]),
            Err(NpyError::Length { .. })
        ));
        assert!(matches!(
            read_npy(&bytes[..20]),
            Err(NpyError::Truncated(_))
        ));
    }
}
