//! Reading and writing NumPy `.npy` arrays (format versions 1.0, 2.0 and 3.0).
//!
//! Written by hand rather than with `npyz`: every failure must map to a specific message that
//! says how to fix the file, sizes must be checked before anything is allocated (a 2 GB file
//! must not take the tab down), and the parser has to build for wasm32 with no extra crates.
//!
//! Accepted dtypes: `b1` (bool), `i1`–`i8`, `u1`–`u8`, `f2`/`f4`/`f8` in either byte order,
//! and the string dtypes `U<n>` (UCS-4) and `S<n>` (bytes) for labels. Numbers are converted
//! to f64 exactly, except 64-bit integers beyond ±2⁵³, which are rounded and reported in
//! [`NpyArray::warnings`]. Fortran-order data are reordered to C order.

use std::fmt::Write as _;

/// Largest file (or zip entry) simscope reads: 256 MiB.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;
/// Largest number of values in one array: 2²⁴ = 16,777,216 (128 MiB as f64).
pub const MAX_VALUES: usize = 1 << 24;

/// Longest `.npy` header accepted (NumPy's own reader stops at 10,000 bytes by default).
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// An array read from a `.npy` file, values converted to f64 in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    /// NumPy's descr string as found in the header, e.g. `<f8`.
    pub descr: String,
    pub fortran_order: bool,
    /// Numeric values in C order (empty for string arrays).
    pub values: Vec<f64>,
    /// String values in C order for `U`/`S` dtypes (empty for numeric arrays).
    pub strings: Vec<String>,
    /// Non-fatal notes, e.g. 64-bit integers that are not exact in f64.
    pub warnings: Vec<String>,
}

impl NpyArray {
    /// Whether the array holds strings (`U`/`S` dtypes) rather than numbers.
    pub fn is_text(&self) -> bool {
        matches!(
            self.descr
                .trim_start_matches(['<', '>', '|', '='])
                .chars()
                .next(),
            Some('U' | 'S' | 'a')
        )
    }

    /// Number of elements (product of the shape).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a `.npy` file could not be read.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum NpyError {
    #[error("not a .npy file: it does not start with the magic string \\x93NUMPY (save arrays with numpy.save(path, array))")]
    BadMagic,
    #[error("unsupported .npy format version {0}.{1} (supported: 1.0, 2.0, 3.0); save it again with numpy.save")]
    Version(u8, u8),
    #[error("the .npy file is truncated: {0}; the file was cut short (copy or download it again)")]
    Truncated(String),
    #[error("malformed .npy header: {0}; save the array again with numpy.save")]
    Header(String),
    #[error("unsupported dtype `{0}`: {1}")]
    Dtype(String, String),
    #[error("the array has dtype object (`{0}`), which NumPy stores with pickle, and simscope never unpickles files; convert it and save again without pickle, e.g. np.save(path, np.asarray(x, dtype=np.float64), allow_pickle=False) (labels: x.astype(str))")]
    Object(String),
    #[error("complex dtype `{0}` is not supported: save a real array instead, e.g. np.save(path, x.real) or np.save(path, np.abs(x))")]
    Complex(String),
    #[error("structured dtype {0} is not supported: save each field as its own array, e.g. np.savez(path, X=a['field'])")]
    Structured(String),
    #[error("the header's shape {shape:?} needs {expected} bytes of data but the file holds {actual}: {}", if actual < expected { "the file is truncated (copy or download it again) or its header is wrong" } else { "there are extra bytes after the data; save the array again with numpy.save" })]
    Length {
        shape: Vec<usize>,
        expected: usize,
        actual: usize,
    },
    #[error("{what} is too large: {size} exceeds simscope's limit of {limit}; reduce it (average trials, keep fewer neurons or time bins, or cast to a smaller dtype) and save again")]
    TooLarge {
        what: String,
        size: String,
        limit: String,
    },
}

impl NpyError {
    /// A stable short name for the kind of error (used by tests and the page).
    pub fn kind(&self) -> &'static str {
        match self {
            NpyError::BadMagic => "bad_magic",
            NpyError::Version(..) => "version",
            NpyError::Truncated(_) => "truncated",
            NpyError::Header(_) => "header",
            NpyError::Dtype(..) => "dtype",
            NpyError::Object(_) => "object",
            NpyError::Complex(_) => "complex",
            NpyError::Structured(_) => "structured",
            NpyError::Length { .. } => "length",
            NpyError::TooLarge { .. } => "too_large",
        }
    }
}

/// Format a byte count for messages (`268435456 bytes (256.0 MiB)`).
pub fn human_bytes(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let v = n as f64;
    if v >= 1024.0 * MIB {
        format!("{n} bytes ({:.1} GiB)", v / (1024.0 * MIB))
    } else if v >= MIB {
        format!("{n} bytes ({:.1} MiB)", v / MIB)
    } else {
        format!("{n} bytes")
    }
}

pub(crate) fn file_too_large(what: &str, size: u64) -> NpyError {
    NpyError::TooLarge {
        what: what.to_string(),
        size: human_bytes(size),
        limit: human_bytes(MAX_FILE_BYTES as u64),
    }
}

// ---------------------------------------------------------------------------------------------
// dtypes

/// Element kind of a supported dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    UInt,
    Float,
    /// `U<n>`: n UCS-4 code units per element.
    Unicode,
    /// `S<n>`: n bytes per element.
    Bytes,
}

/// A parsed, supported dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dtype {
    pub kind: Kind,
    /// Bytes per element.
    pub itemsize: usize,
    pub big_endian: bool,
}

impl Dtype {
    /// Parse a descr string such as `<f8`, `>i4`, `|b1`, `<U7`, `|S3`.
    pub fn parse(descr: &str) -> Result<Dtype, NpyError> {
        let unsupported = |why: &str| NpyError::Dtype(descr.to_string(), why.to_string());
        let mut chars = descr.chars();
        let (order, rest) = match chars.next() {
            Some(c @ ('<' | '>' | '|' | '=')) => (c, chars.as_str()),
            Some(_) => ('|', descr),
            None => return Err(NpyError::Header("the descr entry is empty".into())),
        };
        let mut rc = rest.chars();
        let kind_char = rc
            .next()
            .ok_or_else(|| NpyError::Header(format!("descr `{descr}` has no type")))?;
        let size_txt = rc.as_str();
        match kind_char {
            'O' => return Err(NpyError::Object(descr.to_string())),
            'c' => return Err(NpyError::Complex(descr.to_string())),
            'V' => return Err(NpyError::Structured(format!("`{descr}` (void)"))),
            'M' | 'm' => {
                return Err(unsupported(
                    "dates and time deltas are not numbers simscope can use; convert them, e.g. x.astype('int64') or to seconds as float64",
                ))
            }
            _ => {}
        }
        let size: usize = size_txt.parse().map_err(|_| {
            unsupported("simscope reads bool, int8–int64, uint8–uint64, float16/32/64 and (for labels) strings")
        })?;
        let big_endian = order == '>';
        let (kind, itemsize) = match (kind_char, size) {
            ('b', 1) => (Kind::Bool, 1),
            ('i', 1 | 2 | 4 | 8) => (Kind::Int, size),
            ('u', 1 | 2 | 4 | 8) => (Kind::UInt, size),
            ('f', 2 | 4 | 8) => (Kind::Float, size),
            ('f', _) => {
                return Err(unsupported(
                    "extended-precision floats (longdouble) are not supported; cast to float64 first: x.astype(np.float64)",
                ))
            }
            ('U' | 'S' | 'a', 0) => {
                return Err(unsupported("zero-width strings carry no labels; save the labels with a real width, e.g. x.astype(str)"))
            }
            ('U', n) => (Kind::Unicode, n.checked_mul(4).ok_or_else(|| unsupported("string length overflows"))?),
            ('S' | 'a', n) => (Kind::Bytes, n),
            _ => {
                return Err(unsupported(
                    "simscope reads bool, int8–int64, uint8–uint64, float16/32/64 and (for labels) strings; cast the array, e.g. x.astype(np.float64)",
                ))
            }
        };
        if order == '|' && itemsize > 1 && matches!(kind, Kind::Int | Kind::UInt | Kind::Float) {
            return Err(NpyError::Header(format!(
                "descr `{descr}` gives no byte order for a multi-byte number"
            )));
        }
        Ok(Dtype {
            kind,
            itemsize,
            big_endian,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// header literal parser (the header is a Python dict literal)

#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Str(String),
    Bool(bool),
    Int(u64),
    Seq(Vec<Lit>, char),
    Dict(Vec<(Lit, Lit)>),
    Other(String),
}

struct LitParser<'a> {
    s: &'a [char],
    pos: usize,
}

impl LitParser<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    fn err(&self, what: &str) -> NpyError {
        NpyError::Header(format!("{what} at character {}", self.pos))
    }

    fn value(&mut self, depth: usize) -> Result<Lit, NpyError> {
        if depth > 16 {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        match self.peek() {
            None => Err(self.err("unexpected end of header")),
            Some(q @ ('\'' | '"')) => {
                self.pos += 1;
                let mut out = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.err("unterminated string")),
                        Some('\\') => {
                            self.pos += 1;
                            match self.peek() {
                                Some(c) => out.push(c),
                                None => return Err(self.err("unterminated string")),
                            }
                            self.pos += 1;
                        }
                        Some(c) if c == q => {
                            self.pos += 1;
                            return Ok(Lit::Str(out));
                        }
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                }
            }
            Some(open @ ('(' | '[')) => {
                let close = if open == '(' { ')' } else { ']' };
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        return Ok(Lit::Seq(items, open));
                    }
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(c) if c == close => {}
                        _ => return Err(self.err(&format!("expected `,` or `{close}`"))),
                    }
                }
            }
            Some('{') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some('}') {
                        self.pos += 1;
                        return Ok(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    self.ws();
                    if self.peek() != Some(':') {
                        return Err(self.err("expected `:`"));
                    }
                    self.pos += 1;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    self.ws();
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some('}') => {}
                        _ => return Err(self.err("expected `,` or `}`")),
                    }
                }
            }
            Some(_) => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '-' || c == '+' || c == '.' {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                if start == self.pos {
                    return Err(self.err("unexpected character"));
                }
                let word: String = self.s[start..self.pos].iter().collect();
                Ok(match word.as_str() {
                    "True" => Lit::Bool(true),
                    "False" => Lit::Bool(false),
                    w => {
                        let digits = w.strip_suffix(['L', 'l']).unwrap_or(w);
                        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                            Lit::Int(digits.parse().map_err(|_| {
                                NpyError::Header(format!("number `{w}` in the header is too large"))
                            })?)
                        } else {
                            Lit::Other(w.to_string())
                        }
                    }
                })
            }
        }
    }
}

/// The three header entries of a `.npy` file.
struct Header {
    descr: Lit,
    fortran_order: bool,
    shape: Vec<usize>,
}

fn parse_header(text: &str) -> Result<Header, NpyError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = LitParser { s: &chars, pos: 0 };
    let dict = match p.value(0)? {
        Lit::Dict(d) => d,
        _ => return Err(NpyError::Header("the header is not a dictionary".into())),
    };
    p.ws();
    if p.pos != chars.len() {
        return Err(p.err("unexpected text after the header dictionary"));
    }
    let get = |key: &str| {
        dict.iter()
            .find(|(k, _)| *k == Lit::Str(key.to_string()))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| NpyError::Header(format!("no `{key}` entry")))
    };
    let descr = get("descr")?;
    let fortran_order = match get("fortran_order")? {
        Lit::Bool(b) => b,
        other => {
            return Err(NpyError::Header(format!(
                "fortran_order is {other:?}, not True or False"
            )))
        }
    };
    let shape = match get("shape")? {
        Lit::Seq(items, '(') | Lit::Seq(items, '[') => items
            .into_iter()
            .map(|it| match it {
                Lit::Int(n) => usize::try_from(n)
                    .map_err(|_| NpyError::Header(format!("shape entry {n} is too large"))),
                other => Err(NpyError::Header(format!(
                    "shape entry {other:?} is not a non-negative integer"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => return Err(NpyError::Header(format!("shape {other:?} is not a tuple"))),
    };
    Ok(Header {
        descr,
        fortran_order,
        shape,
    })
}

fn lit_to_text(l: &Lit) -> String {
    match l {
        Lit::Str(s) => format!("'{s}'"),
        Lit::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Lit::Int(n) => n.to_string(),
        Lit::Other(w) => w.clone(),
        Lit::Seq(items, open) => {
            let inner: Vec<String> = items.iter().map(lit_to_text).collect();
            if *open == '(' {
                format!("({})", inner.join(", "))
            } else {
                format!("[{}]", inner.join(", "))
            }
        }
        Lit::Dict(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|(k, v)| format!("{}: {}", lit_to_text(k), lit_to_text(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// reading

/// Parse a `.npy` file held in memory.
pub fn read_npy(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(file_too_large("the .npy file", bytes.len() as u64));
    }
    if bytes.len() < 6 || &bytes[..6] != b"\x93NUMPY" {
        if bytes.len() < 6 && b"\x93NUMPY".starts_with(bytes) && !bytes.is_empty() {
            return Err(NpyError::Truncated(
                "the file ends inside the magic string".into(),
            ));
        }
        return Err(NpyError::BadMagic);
    }
    let (major, minor) = match (bytes.get(6), bytes.get(7)) {
        (Some(&a), Some(&b)) => (a, b),
        _ => {
            return Err(NpyError::Truncated(
                "the file ends before the format version".into(),
            ))
        }
    };
    let (header_len, start) = match major {
        1 => {
            let b = bytes.get(8..10).ok_or_else(|| {
                NpyError::Truncated("the file ends before the header length".into())
            })?;
            (u16::from_le_bytes([b[0], b[1]]) as usize, 10usize)
        }
        2 | 3 => {
            let b = bytes.get(8..12).ok_or_else(|| {
                NpyError::Truncated("the file ends before the header length".into())
            })?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        _ => return Err(NpyError::Version(major, minor)),
    };
    if minor != 0 {
        return Err(NpyError::Version(major, minor));
    }
    let end = start
        .checked_add(header_len)
        .ok_or_else(|| NpyError::Header("header length overflows".into()))?;
    if header_len > MAX_HEADER_BYTES {
        return Err(NpyError::Header(format!(
            "the header claims {header_len} bytes; simscope accepts headers up to {MAX_HEADER_BYTES} bytes (NumPy writes a few hundred)"
        )));
    }
    let raw_header = bytes.get(start..end).ok_or_else(|| {
        NpyError::Truncated(format!(
            "the header should be {header_len} bytes but the file has only {} bytes after the preamble",
            bytes.len() - start
        ))
    })?;
    let text: String = if major == 3 {
        std::str::from_utf8(raw_header)
            .map_err(|_| NpyError::Header("a version-3.0 header must be UTF-8".into()))?
            .to_string()
    } else {
        // Versions 1.0 and 2.0 use latin-1.
        raw_header.iter().map(|&b| b as char).collect()
    };
    let header = parse_header(text.trim_end_matches(['\n', ' ', '\0']))?;
    let descr = match &header.descr {
        Lit::Str(s) => s.clone(),
        Lit::Seq(..) => return Err(NpyError::Structured(lit_to_text(&header.descr))),
        other => {
            return Err(NpyError::Header(format!(
                "descr {} is not a string",
                lit_to_text(other)
            )))
        }
    };
    let dtype = Dtype::parse(&descr)?;
    let shape = header.shape;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| NpyError::TooLarge {
            what: format!("the array of shape {shape:?}"),
            size: "more values than fit in memory".into(),
            limit: format!("{MAX_VALUES} values"),
        })?;
    if count > MAX_VALUES {
        return Err(NpyError::TooLarge {
            what: format!("the array of shape {shape:?}"),
            size: format!("{count} values"),
            limit: format!("{MAX_VALUES} values"),
        });
    }
    let data = &bytes[end..];
    let expected = count
        .checked_mul(dtype.itemsize)
        .ok_or_else(|| NpyError::TooLarge {
            what: format!("the array of shape {shape:?}"),
            size: "more bytes than fit in memory".into(),
            limit: human_bytes(MAX_FILE_BYTES as u64),
        })?;
    if data.len() != expected {
        return Err(NpyError::Length {
            shape,
            expected,
            actual: data.len(),
        });
    }
    let mut warnings = Vec::new();
    let (values, strings) = match dtype.kind {
        Kind::Unicode | Kind::Bytes => (Vec::new(), decode_strings(data, dtype)?),
        _ => (decode_numbers(data, dtype, &mut warnings), Vec::new()),
    };
    let (values, strings) = if header.fortran_order && shape.len() > 1 {
        let perm = fortran_positions(&shape);
        (
            if values.is_empty() {
                values
            } else {
                perm.iter().map(|&p| values[p]).collect()
            },
            if strings.is_empty() {
                strings
            } else {
                perm.iter().map(|&p| strings[p].clone()).collect()
            },
        )
    } else {
        (values, strings)
    };
    Ok(NpyArray {
        shape,
        descr,
        fortran_order: header.fortran_order,
        values,
        strings,
        warnings,
    })
}

/// The warning for 64-bit integers beyond ±2⁵³, which f64 cannot hold exactly: `count` of them
/// in an array of `dtype` (`int64` or `uint64`), the first being `first` at C-order position
/// `flat`. Shared with the Python package, which converts NumPy arrays without this reader.
pub fn inexact_integers_warning(dtype: &str, count: usize, first: &str, flat: usize) -> String {
    let magnitude = if dtype == "int64" {
        " in magnitude"
    } else {
        ""
    };
    format!(
        "{count} {dtype} value(s) exceed 2^53{magnitude} and were rounded to the nearest float64 (first: {first} at flat position {flat})"
    )
}

fn decode_numbers(data: &[u8], dt: Dtype, warnings: &mut Vec<String>) -> Vec<f64> {
    let be = dt.big_endian;
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
    match (dt.kind, dt.itemsize) {
        (Kind::Bool, _) => data
            .iter()
            .map(|&b| if b != 0 { 1.0 } else { 0.0 })
            .collect(),
        (Kind::Int, 1) => data.iter().map(|&b| b as i8 as f64).collect(),
        (Kind::UInt, 1) => data.iter().map(|&b| b as f64).collect(),
        (Kind::Int, 2) => conv!(i16, 2).into_iter().map(f64::from).collect(),
        (Kind::UInt, 2) => conv!(u16, 2).into_iter().map(f64::from).collect(),
        (Kind::Int, 4) => conv!(i32, 4).into_iter().map(f64::from).collect(),
        (Kind::UInt, 4) => conv!(u32, 4).into_iter().map(f64::from).collect(),
        (Kind::Int, _) => {
            let v = conv!(i64, 8);
            let big: Vec<usize> = (0..v.len())
                .filter(|&i| v[i].unsigned_abs() > EXACT)
                .collect();
            if let Some(&first) = big.first() {
                warnings.push(inexact_integers_warning(
                    "int64",
                    big.len(),
                    &v[first].to_string(),
                    first,
                ));
            }
            v.into_iter().map(|x| x as f64).collect()
        }
        (Kind::UInt, _) => {
            let v = conv!(u64, 8);
            let big: Vec<usize> = (0..v.len()).filter(|&i| v[i] > EXACT).collect();
            if let Some(&first) = big.first() {
                warnings.push(inexact_integers_warning(
                    "uint64",
                    big.len(),
                    &v[first].to_string(),
                    first,
                ));
            }
            v.into_iter().map(|x| x as f64).collect()
        }
        (Kind::Float, 2) => conv!(u16, 2).into_iter().map(f16_to_f64).collect(),
        (Kind::Float, 4) => conv!(f32, 4).into_iter().map(f64::from).collect(),
        (Kind::Float, _) => conv!(f64, 8),
        (Kind::Unicode | Kind::Bytes, _) => Vec::new(),
    }
}

fn decode_strings(data: &[u8], dt: Dtype) -> Result<Vec<String>, NpyError> {
    data.chunks_exact(dt.itemsize)
        .enumerate()
        .map(|(i, c)| match dt.kind {
            Kind::Unicode => {
                let mut s = String::new();
                for u in c.chunks_exact(4) {
                    let a = [u[0], u[1], u[2], u[3]];
                    let code = if dt.big_endian {
                        u32::from_be_bytes(a)
                    } else {
                        u32::from_le_bytes(a)
                    };
                    if code == 0 {
                        break;
                    }
                    s.push(char::from_u32(code).ok_or_else(|| {
                        NpyError::Header(format!(
                            "string element {i} holds an invalid code point {code:#x}"
                        ))
                    })?);
                }
                Ok(s)
            }
            _ => {
                let end = c.iter().position(|&b| b == 0).unwrap_or(c.len());
                Ok(String::from_utf8_lossy(&c[..end]).into_owned())
            }
        })
        .collect()
}

/// For each C-order position, the position of the same element in Fortran-order storage.
pub(crate) fn fortran_positions(shape: &[usize]) -> Vec<usize> {
    let n: usize = shape.iter().product();
    let nd = shape.len();
    // Fortran strides: first axis fastest.
    let mut fstride = vec![1usize; nd];
    for k in 1..nd {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; nd];
    let mut out = Vec::with_capacity(n);
    let mut f = 0usize;
    for _ in 0..n {
        out.push(f);
        // increment the C-order odometer (last axis fastest)
        for k in (0..nd).rev() {
            idx[k] += 1;
            f += fstride[k];
            if idx[k] < shape[k] {
                break;
            }
            f -= fstride[k] * idx[k];
            idx[k] = 0;
        }
    }
    out
}

/// IEEE half precision bits to f64 (exact).
pub fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 => {
            if frac == 0.0 {
                sign * f64::INFINITY
            } else {
                f64::NAN
            }
        }
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// f64 to IEEE half precision bits, rounding to nearest even.
pub fn f64_to_f16(v: f64) -> u16 {
    if v.is_nan() {
        return 0x7e00;
    }
    let sign: u16 = if v.is_sign_negative() { 0x8000 } else { 0 };
    let a = v.abs();
    if a >= 65520.0 {
        return sign | 0x7c00;
    }
    // Smallest normal half is 2^-14; below it, the spacing is 2^-24.
    if a < 2f64.powi(-14) {
        let q = round_half_even(a * 2f64.powi(24));
        return sign | q as u16;
    }
    let e = a.log2().floor() as i32;
    let (e, m) = {
        let m = a / 2f64.powi(e); // in [1, 2)
        let (e, m) = if m >= 2.0 {
            (e + 1, m / 2.0)
        } else if m < 1.0 {
            (e - 1, m * 2.0)
        } else {
            (e, m)
        };
        (e, round_half_even((m - 1.0) * 1024.0))
    };
    let (e, m) = if m >= 1024.0 { (e + 1, 0.0) } else { (e, m) };
    if e > 15 {
        return sign | 0x7c00;
    }
    sign | (((e + 15) as u16) << 10) | m as u16
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

// ---------------------------------------------------------------------------------------------
// writing

fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    }
}

/// The preamble and padded header of a `.npy` file. Uses version 1.0 unless the header needs
/// more than 65535 bytes (then 2.0), or `major` asks for 2 or 3.
pub fn npy_header(descr: &str, fortran_order: bool, shape: &[usize], major: u8) -> Vec<u8> {
    let fo = if fortran_order { "True" } else { "False" };
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {}, }}",
        shape_text(shape)
    );
    let major = if major <= 1 && header.len() + 11 > 65535 {
        2
    } else {
        major.clamp(1, 3)
    };
    let pre = if major == 1 { 10 } else { 12 };
    // Pad with spaces so preamble + header + '\n' is a multiple of 64.
    let total = pre + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(pre + header.len());
    out.extend_from_slice(b"\x93NUMPY");
    out.push(major);
    out.push(0);
    if major == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out
}

/// Encode f64 values (C order) as a version-1.0 little-endian `.npy` file.
pub fn write_npy_f64(shape: &[usize], values: &[f64]) -> Vec<u8> {
    let mut out = npy_header("<f8", false, shape, 1);
    out.reserve(values.len() * 8);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Encode C-order `values` with any numeric dtype (`<i2`, `>f4`, `|b1`, …), in C or Fortran
/// order. Values are cast like NumPy's `astype` (floats round to nearest; integers truncate
/// toward zero and saturate), so round trips are exact for representable values.
pub fn write_npy_as(
    shape: &[usize],
    values: &[f64],
    descr: &str,
    fortran_order: bool,
    major: u8,
) -> Result<Vec<u8>, NpyError> {
    let dt = Dtype::parse(descr)?;
    let count: usize = shape.iter().product();
    if count != values.len() {
        return Err(NpyError::Length {
            shape: shape.to_vec(),
            expected: count,
            actual: values.len(),
        });
    }
    if matches!(dt.kind, Kind::Unicode | Kind::Bytes) {
        return Err(NpyError::Dtype(
            descr.into(),
            "use write_npy_strings for text".into(),
        ));
    }
    let order: Vec<usize> = if fortran_order && shape.len() > 1 {
        // storage position p holds the C-order element perm^{-1}(p)
        let perm = fortran_positions(shape);
        let mut inv = vec![0usize; count];
        for (c, &f) in perm.iter().enumerate() {
            inv[f] = c;
        }
        inv
    } else {
        (0..count).collect()
    };
    let mut out = npy_header(descr, fortran_order, shape, major);
    let be = dt.big_endian;
    macro_rules! put {
        ($x:expr) => {{
            let x = $x;
            if be {
                out.extend_from_slice(&x.to_be_bytes())
            } else {
                out.extend_from_slice(&x.to_le_bytes())
            }
        }};
    }
    for &i in &order {
        let v = values[i];
        match (dt.kind, dt.itemsize) {
            (Kind::Bool, _) => out.push(u8::from(v != 0.0)),
            (Kind::Int, 1) => out.push(v as i8 as u8),
            (Kind::UInt, 1) => out.push(v as u8),
            (Kind::Int, 2) => put!(v as i16),
            (Kind::UInt, 2) => put!(v as u16),
            (Kind::Int, 4) => put!(v as i32),
            (Kind::UInt, 4) => put!(v as u32),
            (Kind::Int, _) => put!(v as i64),
            (Kind::UInt, _) => put!(v as u64),
            (Kind::Float, 2) => put!(f64_to_f16(v)),
            (Kind::Float, 4) => put!(v as f32),
            (Kind::Float, _) => put!(v),
            (Kind::Unicode | Kind::Bytes, _) => {}
        }
    }
    Ok(out)
}

/// Encode strings (C order) as a little-endian `<U{n}` array, n = the longest string.
pub fn write_npy_strings(shape: &[usize], strings: &[String]) -> Vec<u8> {
    let width = strings
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut descr = String::new();
    let _ = write!(descr, "<U{width}");
    let mut out = npy_header(&descr, false, shape, 1);
    for s in strings {
        let mut n = 0;
        for ch in s.chars() {
            out.extend_from_slice(&(ch as u32).to_le_bytes());
            n += 1;
        }
        for _ in n..width {
            out.extend_from_slice(&[0; 4]);
        }
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

    #[test]
    fn half_precision_conversions_are_exact() {
        for bits in 0u16..=0xffff {
            let v = f16_to_f64(bits);
            if v.is_nan() {
                continue;
            }
            assert_eq!(f64_to_f16(v), bits, "bits {bits:#x} -> {v}");
        }
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert_eq!(f16_to_f64(0x7bff), 65504.0);
    }
}
