//! Reading MATLAB `.mat` files, level 5 (versions 6 and 7: uncompressed or `miCOMPRESSED`).
//!
//! Models' activations and recordings usually come out of MATLAB, so simscope reads what
//! `save('f.mat', 'X')` writes (and `scipy.io.savemat`, Octave's `-v7`): numeric matrices of
//! every MATLAB class (double, single, int8–int64, uint8–uint64, logical), any number of
//! dimensions, little- or big-endian files, each variable optionally zlib-compressed. Values
//! are converted to f64 exactly (64-bit integers beyond ±2⁵³ are rounded and reported) and
//! reordered from MATLAB's column-major storage to C order, so a MATLAB array of size
//! T×C×N becomes shape `[T, C, N]`, as `scipy.io.loadmat` gives it.
//!
//! Refused, each with what to do instead: v7.3 files (HDF5 inside: detected by their header
//! text or the HDF5 signature, answered with the `save(…, '-v7')` line that re-saves them),
//! version 4 files, and variables that are cells, structs, objects, sparse, complex or text.
//! Refused variables do not spoil the file: they are listed, and only using one as the
//! recording is an error. As for `.npy`, every size is checked before anything is allocated
//! (file size, each variable's value count, the inflated size of compressed variables).
//!
//! Layout reference: MathWorks, "MAT-File Format" (level 5 chapter): a 128-byte header (116
//! bytes of text, 8 of subsystem offset, version 0x0100, endian indicator `IM`), then data
//! elements, each an 8-byte tag (type, byte count) or a 4-byte "small element" tag, padded to
//! 8 bytes; `miMATRIX` holds array flags, dimensions, name and the real part.

use super::npy::{
    file_too_large, fortran_positions, human_bytes, inexact_integers_warning, NpyArray, NpyError,
    MAX_FILE_BYTES, MAX_VALUES,
};
use super::npz::NpzArray;

/// Why a `.mat` file (or one of its variables) could not be read.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum MatError {
    #[error("not a MATLAB level-5 .mat file: it does not start with the 'MATLAB 5.0 MAT-file' header; in MATLAB save it with save('{file}', 'X', '-v7'), in Python with scipy.io.savemat('{file}', {{'X': x}})")]
    NotMat { file: String },
    #[error("this is a MATLAB v7.3 .mat file (HDF5 inside), which simscope does not read; in MATLAB, re-save it as version 7: load('{file}'); save('{file}', 'X', '-v7') (with your variable's name for X; -v7 holds variables up to 2 GB), or in Python read it with h5py and save it with numpy.save")]
    V73 { file: String },
    #[error("this looks like a MATLAB version 4 .mat file (no level-5 header), which simscope does not read; in MATLAB, re-save it: load('{file}'); save('{file}', 'X', '-v7')")]
    V4 { file: String },
    #[error("the .mat file is truncated or corrupt: {0}; copy it again, or re-save it in MATLAB with save(file, 'X', '-v7')")]
    Corrupt(String),
    #[error("variable `{name}` does not decompress ({why}): the file is corrupt; copy it again or re-save it in MATLAB with save(file, '{name}', '-v7')")]
    Compressed { name: String, why: String },
    #[error("variable `{name}` is {what}; simscope reads numeric matrices only: {fix}")]
    Unsupported {
        name: String,
        what: String,
        fix: String,
    },
    #[error("the .mat file holds no variables; save one with save(file, 'X', '-v7')")]
    Empty,
    #[error(transparent)]
    TooLarge(NpyError),
}

impl MatError {
    /// A stable short name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            MatError::NotMat { .. } => "not_mat",
            MatError::V73 { .. } => "mat_v73",
            MatError::V4 { .. } => "mat_v4",
            MatError::Corrupt(_) => "mat_corrupt",
            MatError::Compressed { .. } => "mat_compressed",
            MatError::Unsupported { .. } => "mat_unsupported",
            MatError::Empty => "mat_empty",
            MatError::TooLarge(_) => "too_large",
        }
    }
}

/// A variable of the file that is not a numeric matrix: its name and why it was not read.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub name: String,
    pub error: String,
}

/// Everything read from a `.mat`: the numeric variables (in file order, as `.npz` arrays are,
/// with NumPy-style dtype names such as `<f8` or `|u1`), the variables that were refused and
/// non-fatal warnings.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MatFile {
    pub arrays: Vec<NpzArray>,
    pub skipped: Vec<(Skipped, MatErrorKind)>,
    pub warnings: Vec<String>,
}

/// The error of a refused variable, kept whole so that choosing it as the recording reports
/// it exactly.
pub type MatErrorKind = Box<MatError>;

const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

// MATLAB data types (storage) and array classes.
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

const FLAG_COMPLEX: u32 = 0x0800;
const FLAG_LOGICAL: u32 = 0x0200;

struct Reader<'a> {
    b: &'a [u8],
    big_endian: bool,
}

/// One data element: its type, its bytes and where the next element starts.
struct Element<'a> {
    typ: u32,
    data: &'a [u8],
    next: usize,
}

impl<'a> Reader<'a> {
    fn u32_at(&self, at: usize) -> Option<u32> {
        let s = self.b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    /// The element at `pos` (normal or small format). `compressed_unpadded`: a top-level
    /// `miCOMPRESSED` element is not padded to 8 bytes.
    fn element(&self, pos: usize, what: &str) -> Result<Element<'a>, MatError> {
        let cut = || MatError::Corrupt(format!("{what} is cut short"));
        let first = self.u32_at(pos).ok_or_else(cut)?;
        if first >> 16 != 0 {
            // Small data element: type and byte count share the first word, ≤ 4 data bytes.
            let typ = first & 0xffff;
            let n = (first >> 16) as usize;
            if n > 4 {
                return Err(MatError::Corrupt(format!(
                    "{what} claims {n} bytes in a 4-byte small element"
                )));
            }
            let data = self.b.get(pos + 4..pos + 4 + n).ok_or_else(cut)?;
            return Ok(Element {
                typ,
                data,
                next: pos + 8,
            });
        }
        let typ = first;
        let n = self.u32_at(pos + 4).ok_or_else(cut)? as usize;
        let start = pos + 8;
        let end = start.checked_add(n).ok_or_else(cut)?;
        let data = self.b.get(start..end).ok_or_else(|| {
            MatError::Corrupt(format!(
                "{what} claims {n} bytes but only {} remain",
                self.b.len().saturating_sub(start)
            ))
        })?;
        let next = if typ == MI_COMPRESSED {
            end
        } else {
            end.checked_add(7).ok_or_else(cut)? & !7
        };
        Ok(Element { typ, data, next })
    }
}

/// Whether the bytes look like a MATLAB file (level 5 text, v7.3's text or HDF5).
pub fn looks_like_mat(bytes: &[u8]) -> bool {
    bytes.starts_with(b"MATLAB") || bytes.starts_with(HDF5_SIGNATURE)
}

/// Read every variable of a level-5 `.mat` file held in memory. `file_name` only shapes the
/// messages (the re-save instructions name the file).
pub fn read_mat(file_name: &str, bytes: &[u8]) -> Result<MatFile, MatError> {
    let file = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .to_string();
    if bytes.len() > MAX_FILE_BYTES {
        return Err(MatError::TooLarge(file_too_large(
            "the .mat file",
            bytes.len() as u64,
        )));
    }
    let hdf5_at = |off: usize| bytes.get(off..off + 8) == Some(HDF5_SIGNATURE);
    if bytes.starts_with(b"MATLAB 7.3") || [0, 512, 1024, 2048].iter().any(|&o| hdf5_at(o)) {
        return Err(MatError::V73 { file });
    }
    if !bytes.starts_with(b"MATLAB 5.0") {
        if bytes.starts_with(b"MATLAB") || (bytes.len() < 10 && b"MATLAB 5.0".starts_with(bytes)) {
            return Err(MatError::Corrupt(
                "the header text is not 'MATLAB 5.0 MAT-file'".into(),
            ));
        }
        // A version 4 file starts with a small type word (MOPT) whose high bytes are zero.
        let v4 = bytes.len() >= 20
            && (bytes[..4] == [0, 0, 0, 0] || matches!(bytes[..4], [_, 0, 0, 0] | [0, 0, 0, _]));
        return Err(if v4 {
            MatError::V4 { file }
        } else {
            MatError::NotMat { file }
        });
    }
    if bytes.len() < 128 {
        return Err(MatError::Corrupt(format!(
            "the file has {} bytes, fewer than the 128-byte header",
            bytes.len()
        )));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => {
            return Err(MatError::Corrupt(format!(
                "the endian indicator is {other:?}, not 'IM' or 'MI'"
            )))
        }
    };
    let r = Reader {
        b: bytes,
        big_endian,
    };
    let mut out = MatFile::default();
    let mut pos = 128;
    let mut values = 0usize;
    let mut inflated = 0usize;
    let mut index = 0;
    while pos + 8 <= bytes.len() {
        index += 1;
        let what = format!("variable {index}");
        let e = r.element(pos, &what)?;
        pos = e.next;
        let owned: Vec<u8>;
        let (typ, data) = if e.typ == MI_COMPRESSED {
            let limit = MAX_FILE_BYTES - inflated.min(MAX_FILE_BYTES);
            owned = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(e.data, limit)
                .map_err(|err| {
                    if err.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
                        MatError::TooLarge(NpyError::TooLarge {
                            what: format!("{what} (decompressed)"),
                            size: format!("more than {}", human_bytes(limit as u64)),
                            limit: human_bytes(MAX_FILE_BYTES as u64),
                        })
                    } else {
                        MatError::Compressed {
                            name: what.clone(),
                            why: format!("{:?}", err.status),
                        }
                    }
                })?;
            inflated += owned.len();
            let inner = Reader {
                b: &owned,
                big_endian,
            };
            let ie = inner.element(0, &what)?;
            (ie.typ, ie.data)
        } else {
            (e.typ, e.data)
        };
        if typ != MI_MATRIX {
            out.warnings.push(format!(
                "skipped data element {index} of type {typ}: not a variable (miMATRIX)"
            ));
            continue;
        }
        match matrix(&r, data, &what, &mut values)? {
            Ok(a) => out.arrays.push(a),
            Err((name, err)) => out.skipped.push((
                Skipped {
                    name,
                    error: err.to_string(),
                },
                Box::new(err),
            )),
        }
    }
    if pos < bytes.len() && bytes[pos..].iter().any(|&b| b != 0) {
        out.warnings.push(format!(
            "ignored {} trailing bytes after the last variable",
            bytes.len() - pos
        ));
    }
    if out.arrays.is_empty() && out.skipped.is_empty() {
        return Err(MatError::Empty);
    }
    Ok(out)
}

/// Sub-element `k` of a matrix, required to exist.
fn sub<'a>(
    r: &Reader<'a>,
    data: &'a [u8],
    pos: usize,
    what: &str,
) -> Result<Element<'a>, MatError> {
    let inner = Reader {
        b: data,
        big_endian: r.big_endian,
    };
    inner.element(pos, what)
}

/// Parse one `miMATRIX`: `Ok(Ok(array))` for a numeric matrix, `Ok(Err((name, why)))` for a
/// variable of a class simscope refuses, `Err` for a corrupt file.
#[allow(clippy::type_complexity)]
fn matrix(
    r: &Reader,
    data: &[u8],
    what: &str,
    values: &mut usize,
) -> Result<Result<NpzArray, (String, MatError)>, MatError> {
    if data.is_empty() {
        return Err(MatError::Corrupt(format!(
            "{what} is an empty matrix element"
        )));
    }
    let flags_el = sub(r, data, 0, &format!("{what}'s array flags"))?;
    let word = |d: &[u8], i: usize| -> Option<u32> {
        let s = d.get(4 * i..4 * i + 4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if r.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let flags = word(flags_el.data, 0)
        .ok_or_else(|| MatError::Corrupt(format!("{what}'s array flags are cut short")))?;
    let class = flags & 0xff;
    let dims_el = sub(r, data, flags_el.next, &format!("{what}'s dimensions"))?;
    if dims_el.typ != MI_INT32 || dims_el.data.len() % 4 != 0 || dims_el.data.len() < 8 {
        return Err(MatError::Corrupt(format!(
            "{what}'s dimensions are not a list of at least two int32 values"
        )));
    }
    let mut dims = Vec::with_capacity(dims_el.data.len() / 4);
    for i in 0..dims_el.data.len() / 4 {
        let d = word(dims_el.data, i).unwrap_or(0) as i32;
        if d < 0 {
            return Err(MatError::Corrupt(format!(
                "{what} has a negative dimension {d}"
            )));
        }
        dims.push(d as usize);
    }
    let name_el = sub(r, data, dims_el.next, &format!("{what}'s name"))?;
    let name = String::from_utf8_lossy(name_el.data)
        .trim_end_matches('\0')
        .to_string();
    let name = if name.is_empty() {
        what.to_string()
    } else {
        name
    };
    let refuse = |what: &str, fix: String| {
        Ok(Err((
            name.clone(),
            MatError::Unsupported {
                name: name.clone(),
                what: what.into(),
                fix,
            },
        )))
    };
    let descr = match class {
        1 => return refuse("a cell array", format!("convert it to a matrix, e.g. X = cell2mat({name}); save(file, 'X', '-v7') (labels: save them as numbers or in a CSV file)")),
        2 => return refuse("a struct", format!("save the field that holds the data as its own variable, e.g. X = {name}.data; save(file, 'X', '-v7')")),
        3 | 16 | 17 => return refuse("a MATLAB object or function handle", format!("convert it to a numeric matrix, e.g. X = double({name}); save(file, 'X', '-v7')")),
        4 => return refuse("text (char)", "save numbers; labels go in a labels file (one value per condition: .csv, .json, .npy or a numeric .mat vector)".into()),
        5 => return refuse("a sparse matrix", format!("make it full: X = full({name}); save(file, 'X', '-v7')")),
        6 => "<f8",
        7 => "<f4",
        8 => "|i1",
        9 if flags & FLAG_LOGICAL != 0 => "|b1",
        9 => "|u1",
        10 => "<i2",
        11 => "<u2",
        12 => "<i4",
        13 => "<u4",
        14 => "<i8",
        15 => "<u8",
        c => return refuse(&format!("of unknown MATLAB class {c}"), format!("convert it to double: X = double({name}); save(file, 'X', '-v7')")),
    };
    if flags & FLAG_COMPLEX != 0 {
        return refuse(
            "complex",
            format!("save a real matrix, e.g. X = real({name}) or X = abs({name})"),
        );
    }
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&c| c <= MAX_VALUES)
        .ok_or_else(|| {
            MatError::TooLarge(NpyError::TooLarge {
                what: format!("variable `{name}` of size {}", dims_text(&dims)),
                size: "more values than the limit".into(),
                limit: format!("{MAX_VALUES} values"),
            })
        })?;
    *values = values.saturating_add(count);
    if *values > MAX_VALUES {
        return Err(MatError::TooLarge(NpyError::TooLarge {
            what: "the .mat file's variables together".into(),
            size: format!("more than {MAX_VALUES} values"),
            limit: format!("{MAX_VALUES} values"),
        }));
    }
    let real = sub(
        r,
        data,
        name_el.next,
        &format!("variable `{name}`'s values"),
    )?;
    let mut warnings = Vec::new();
    let column_major = decode(
        real.typ,
        real.data,
        r.big_endian,
        count,
        &name,
        &mut warnings,
    )?;
    let values_c = if dims.len() > 1 && count > 1 {
        let perm = fortran_positions(&dims);
        perm.iter().map(|&p| column_major[p]).collect()
    } else {
        column_major
    };
    Ok(Ok(NpzArray {
        name,
        array: NpyArray {
            shape: dims,
            descr: descr.to_string(),
            fortran_order: true,
            values: values_c,
            strings: Vec::new(),
            warnings,
        },
    }))
}

/// `552×86` for messages, as MATLAB writes sizes.
pub fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×")
}

/// The `count` stored values of a numeric sub-element as f64 (storage order).
fn decode(
    typ: u32,
    data: &[u8],
    be: bool,
    count: usize,
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<f64>, MatError> {
    let size = match typ {
        MI_INT8 | MI_UINT8 => 1,
        MI_INT16 | MI_UINT16 => 2,
        MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
        MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
        t => {
            return Err(MatError::Corrupt(format!(
                "variable `{name}` stores its values with data type {t}, which is not numeric"
            )))
        }
    };
    if data.len() != count * size {
        return Err(MatError::Corrupt(format!(
            "variable `{name}` should hold {count} values ({} bytes) but holds {} bytes",
            count * size,
            data.len()
        )));
    }
    macro_rules! conv {
        ($t:ty, $n:expr) => {
            data.chunks_exact($n)
                .map(|c| {
                    let mut a = [0u8; $n];
                    a.copy_from_slice(c);
                    if be {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    }
                })
                .collect::<Vec<$t>>()
        };
    }
    const EXACT: u64 = 1 << 53;
    let out: Vec<f64> = match typ {
        MI_INT8 => data.iter().map(|&b| b as i8 as f64).collect(),
        MI_UINT8 => data.iter().map(|&b| b as f64).collect(),
        MI_INT16 => conv!(i16, 2).into_iter().map(f64::from).collect(),
        MI_UINT16 => conv!(u16, 2).into_iter().map(f64::from).collect(),
        MI_INT32 => conv!(i32, 4).into_iter().map(f64::from).collect(),
        MI_UINT32 => conv!(u32, 4).into_iter().map(f64::from).collect(),
        MI_SINGLE => conv!(f32, 4).into_iter().map(f64::from).collect(),
        MI_DOUBLE => conv!(f64, 8),
        MI_INT64 => {
            let v = conv!(i64, 8);
            let big: Vec<usize> = (0..v.len())
                .filter(|&i| v[i].unsigned_abs() > EXACT)
                .collect();
            if let Some(&i) = big.first() {
                // The .npy reader's words; the position is in MATLAB's (column-major) order.
                warnings.push(inexact_integers_warning(
                    "int64",
                    big.len(),
                    &v[i].to_string(),
                    i,
                ));
            }
            v.into_iter().map(|x| x as f64).collect()
        }
        _ => {
            let v = conv!(u64, 8);
            let big: Vec<usize> = (0..v.len()).filter(|&i| v[i] > EXACT).collect();
            if let Some(&i) = big.first() {
                warnings.push(inexact_integers_warning(
                    "uint64",
                    big.len(),
                    &v[i].to_string(),
                    i,
                ));
            }
            v.into_iter().map(|x| x as f64).collect()
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal little-endian level-5 file with one uncompressed double matrix.
    pub(crate) fn tiny_mat(name: &str, rows: usize, cols: usize, col_major: &[f64]) -> Vec<u8> {
        let mut h = b"MATLAB 5.0 MAT-file, written by simscope's tests".to_vec();
        h.resize(116, b' ');
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&0x0100u16.to_le_bytes());
        h.extend_from_slice(b"IM");
        let mut m = Vec::new();
        let el = |m: &mut Vec<u8>, typ: u32, data: &[u8]| {
            m.extend_from_slice(&typ.to_le_bytes());
            m.extend_from_slice(&(data.len() as u32).to_le_bytes());
            m.extend_from_slice(data);
            while !m.len().is_multiple_of(8) {
                m.push(0);
            }
        };
        el(&mut m, MI_UINT32, &[6, 0, 0, 0, 0, 0, 0, 0]);
        let dims: Vec<u8> = [rows as i32, cols as i32]
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect();
        el(&mut m, MI_INT32, &dims);
        el(&mut m, MI_INT8, name.as_bytes());
        let vals: Vec<u8> = col_major.iter().flat_map(|v| v.to_le_bytes()).collect();
        el(&mut m, MI_DOUBLE, &vals);
        let mut out = h;
        el(&mut out, MI_MATRIX, &m);
        out
    }

    #[test]
    fn reads_a_double_matrix_in_c_order() {
        let b = tiny_mat("X", 2, 3, &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let f = read_mat("t.mat", &b).unwrap();
        assert_eq!(f.arrays.len(), 1);
        assert_eq!(f.arrays[0].name, "X");
        assert_eq!(f.arrays[0].array.shape, vec![2, 3]);
        assert_eq!(f.arrays[0].array.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn v73_and_foreign_files_get_their_own_messages() {
        let mut v73 = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".to_vec();
        v73.resize(512, 0);
        v73.extend_from_slice(HDF5_SIGNATURE);
        let e = read_mat("/d/rec.mat", &v73).unwrap_err();
        assert_eq!(e.kind(), "mat_v73");
        assert!(e.to_string().contains("save('rec.mat', 'X', '-v7')"), "{e}");
        assert_eq!(
            read_mat("a.mat", b"hello world, not matlab")
                .unwrap_err()
                .kind(),
            "not_mat"
        );
        let b = tiny_mat("X", 2, 3, &[1.0; 6]);
        for cut in 0..b.len() {
            let _ = read_mat("t.mat", &b[..cut]);
        }
    }
}
