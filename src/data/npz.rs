//! Reading and writing NumPy `.npz` archives (zip files of `.npy` arrays).
//!
//! A small zip reader over `miniz_oxide` instead of the `zip` crate: `.npz` needs only the
//! stored and deflate methods, `zip` drags in many more crates (and compile time on a 2-core
//! machine) for features we would refuse anyway, and owning the reader lets us cap every size
//! before inflating (zip bombs) and give messages that say how to re-save the file. The reader
//! follows the central directory (with zip64 extensions, which `numpy.savez` writes through
//! `force_zip64`), checks every CRC-32, and refuses encryption and other compression methods.

use super::npy::{
    file_too_large, human_bytes, read_npy, NpyArray, NpyError, MAX_FILE_BYTES, MAX_VALUES,
};

/// Why a `.npz` file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NpzError {
    #[error("not a .npz file: no zip end-of-central-directory record was found (save arrays with numpy.savez(path, X=x) or numpy.savez_compressed)")]
    NotZip,
    #[error("the .npz file is truncated or corrupt: {0}; copy or download it again, or save it again with numpy.savez")]
    Corrupt(String),
    #[error("entry `{name}` uses zip compression method {method}; simscope reads stored (0) and deflate (8) entries only, as written by numpy.savez and numpy.savez_compressed")]
    Method { name: String, method: u16 },
    #[error("entry `{0}` is encrypted; save the arrays again without a password (numpy.savez)")]
    Encrypted(String),
    #[error("entry `{0}` fails its CRC-32 check: the file is corrupt (copy or download it again)")]
    Crc(String),
    #[error("the .npz file holds no .npy arrays; save arrays with numpy.savez(path, X=x)")]
    Empty,
    #[error("array `{name}` in the .npz: {source}")]
    Entry { name: String, source: NpyError },
    #[error(transparent)]
    TooLarge(NpyError),
}

impl NpzError {
    /// A stable short name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            NpzError::NotZip => "not_zip",
            NpzError::Corrupt(_) => "zip_corrupt",
            NpzError::Method { .. } => "zip_method",
            NpzError::Encrypted(_) => "zip_encrypted",
            NpzError::Crc(_) => "zip_crc",
            NpzError::Empty => "npz_empty",
            NpzError::Entry { source, .. } => source.kind(),
            NpzError::TooLarge(_) => "too_large",
        }
    }
}

/// One named array of an `.npz` archive (the name without the `.npy` suffix).
#[derive(Clone, Debug, PartialEq)]
pub struct NpzArray {
    pub name: String,
    pub array: NpyArray,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at.checked_add(2)?)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

fn corrupt(msg: impl Into<String>) -> NpzError {
    NpzError::Corrupt(msg.into())
}

const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const EOCD64_LOC: u32 = 0x0706_4b50;
const CDH: u32 = 0x0201_4b50;
const LFH: u32 = 0x0403_4b50;

struct CdEntry {
    name: String,
    flags: u16,
    method: u16,
    crc: u32,
    csize: u64,
    usize_: u64,
    offset: u64,
}

fn to_usize(v: u64, what: &str) -> Result<usize, NpzError> {
    usize::try_from(v).map_err(|_| corrupt(format!("{what} {v} is out of range")))
}

/// The central directory of a zip file.
fn central_directory(b: &[u8]) -> Result<Vec<CdEntry>, NpzError> {
    if b.len() < 22 {
        return Err(if b.starts_with(b"PK") {
            corrupt("the file is shorter than a zip trailer")
        } else {
            NpzError::NotZip
        });
    }
    // The end record is in the last 22 + 65535 bytes (comment up to 64 KiB).
    let lowest = b.len().saturating_sub(22 + 65535);
    let eocd = (lowest..=b.len() - 22)
        .rev()
        .find(|&i| u32_at(b, i) == Some(EOCD))
        .ok_or(if b.starts_with(b"PK\x03\x04") {
            corrupt("no end-of-central-directory record (the file is cut short)")
        } else {
            NpzError::NotZip
        })?;
    let short = || corrupt("the end-of-central-directory record is cut short");
    let disk = u16_at(b, eocd + 4).ok_or_else(short)?;
    let mut entries = u16_at(b, eocd + 10).ok_or_else(short)? as u64;
    let mut cd_size = u32_at(b, eocd + 12).ok_or_else(short)? as u64;
    let mut cd_offset = u32_at(b, eocd + 16).ok_or_else(short)? as u64;
    if disk != 0 && disk != 0xffff {
        return Err(corrupt("multi-part (split) zip archives are not supported"));
    }
    if entries == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
        // zip64: locator just before the end record.
        let loc = eocd
            .checked_sub(20)
            .ok_or_else(|| corrupt("missing zip64 locator"))?;
        if u32_at(b, loc) != Some(EOCD64_LOC) {
            return Err(corrupt("missing zip64 end-of-central-directory locator"));
        }
        let rec = to_usize(u64_at(b, loc + 8).ok_or_else(short)?, "zip64 record offset")?;
        if u32_at(b, rec) != Some(EOCD64) {
            return Err(corrupt("bad zip64 end-of-central-directory record"));
        }
        let short64 = || corrupt("the zip64 end record is cut short");
        entries = u64_at(b, rec + 32).ok_or_else(short64)?;
        cd_size = u64_at(b, rec + 40).ok_or_else(short64)?;
        cd_offset = u64_at(b, rec + 48).ok_or_else(short64)?;
    }
    let cd_start = to_usize(cd_offset, "central directory offset")?;
    let cd_end = cd_start
        .checked_add(to_usize(cd_size, "central directory size")?)
        .filter(|&e| e <= b.len())
        .ok_or_else(|| corrupt("the central directory lies outside the file"))?;
    // Each entry takes at least 46 bytes, which bounds the count before allocating.
    if entries > ((cd_end - cd_start) / 46) as u64 {
        return Err(corrupt(format!(
            "the directory claims {entries} entries but is too small for them"
        )));
    }
    let mut out = Vec::with_capacity(entries as usize);
    let mut p = cd_start;
    for k in 0..entries {
        let cut = || corrupt(format!("central directory entry {k} is cut short"));
        if u32_at(b, p) != Some(CDH) {
            return Err(corrupt(format!(
                "central directory entry {k} has a bad signature"
            )));
        }
        let flags = u16_at(b, p + 8).ok_or_else(cut)?;
        let method = u16_at(b, p + 10).ok_or_else(cut)?;
        let crc = u32_at(b, p + 16).ok_or_else(cut)?;
        let mut csize = u32_at(b, p + 20).ok_or_else(cut)? as u64;
        let mut usize_ = u32_at(b, p + 24).ok_or_else(cut)? as u64;
        let name_len = u16_at(b, p + 28).ok_or_else(cut)? as usize;
        let extra_len = u16_at(b, p + 30).ok_or_else(cut)? as usize;
        let comment_len = u16_at(b, p + 32).ok_or_else(cut)? as usize;
        let mut offset = u32_at(b, p + 42).ok_or_else(cut)? as u64;
        let name_start = p + 46;
        let name_bytes = b.get(name_start..name_start + name_len).ok_or_else(cut)?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let extra = b
            .get(name_start + name_len..name_start + name_len + extra_len)
            .ok_or_else(cut)?;
        // zip64 extended information: the fields present are those saturated above, in order.
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e).unwrap_or(0);
            let len = u16_at(extra, e + 2).unwrap_or(0) as usize;
            let body = extra
                .get(e + 4..e + 4 + len)
                .ok_or_else(|| corrupt(format!("entry `{name}` has a cut extra field")))?;
            if id == 0x0001 {
                let mut q = 0;
                let mut take = |field: &mut u64| -> Result<(), NpzError> {
                    if *field == 0xffff_ffff {
                        *field = u64_at(body, q).ok_or_else(|| {
                            corrupt(format!("entry `{name}` has a short zip64 field"))
                        })?;
                        q += 8;
                    }
                    Ok(())
                };
                take(&mut usize_)?;
                take(&mut csize)?;
                take(&mut offset)?;
            }
            e += 4 + len;
        }
        out.push(CdEntry {
            name,
            flags,
            method,
            crc,
            csize,
            usize_,
            offset,
        });
        p = name_start + name_len + extra_len + comment_len;
        if p > cd_end {
            return Err(corrupt("the central directory overruns its stated size"));
        }
    }
    Ok(out)
}

/// The uncompressed bytes of one entry, checked against its size and CRC-32.
fn entry_bytes(b: &[u8], e: &CdEntry) -> Result<Vec<u8>, NpzError> {
    if e.flags & 1 != 0 {
        return Err(NpzError::Encrypted(e.name.clone()));
    }
    if e.usize_ > MAX_FILE_BYTES as u64 {
        return Err(NpzError::TooLarge(file_too_large(
            &format!("array `{}` (uncompressed)", e.name),
            e.usize_,
        )));
    }
    let off = to_usize(e.offset, "local header offset")?;
    if u32_at(b, off) != Some(LFH) {
        return Err(corrupt(format!(
            "entry `{}` has no local header at offset {off}",
            e.name
        )));
    }
    let name_len = u16_at(b, off + 26).ok_or_else(|| corrupt("local header cut short"))? as usize;
    let extra_len = u16_at(b, off + 28).ok_or_else(|| corrupt("local header cut short"))? as usize;
    let start = off + 30 + name_len + extra_len;
    let csize = to_usize(e.csize, "compressed size")?;
    let data = start
        .checked_add(csize)
        .and_then(|end| b.get(start..end))
        .ok_or_else(|| {
            corrupt(format!(
                "the data of entry `{}` runs past the end of the file",
                e.name
            ))
        })?;
    let usize_ = e.usize_ as usize;
    let out = match e.method {
        0 => {
            if csize != usize_ {
                return Err(corrupt(format!(
                    "stored entry `{}` has different stored and real sizes",
                    e.name
                )));
            }
            data.to_vec()
        }
        8 => {
            let v = miniz_oxide::inflate::decompress_to_vec_with_limit(data, usize_).map_err(
                |err| {
                    corrupt(format!(
                        "entry `{}` does not inflate ({:?})",
                        e.name, err.status
                    ))
                },
            )?;
            if v.len() != usize_ {
                return Err(corrupt(format!(
                    "entry `{}` inflates to {} bytes, not the {} its header states",
                    e.name,
                    v.len(),
                    usize_
                )));
            }
            v
        }
        m => {
            return Err(NpzError::Method {
                name: e.name.clone(),
                method: m,
            })
        }
    };
    if crc32(&out) != e.crc {
        return Err(NpzError::Crc(e.name.clone()));
    }
    Ok(out)
}

/// Read every `.npy` array of an `.npz` archive, in archive order. Entries that are not
/// `.npy` files are skipped and reported in the returned warnings.
pub fn read_npz(bytes: &[u8]) -> Result<(Vec<NpzArray>, Vec<String>), NpzError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(NpzError::TooLarge(file_too_large(
            "the .npz file",
            bytes.len() as u64,
        )));
    }
    let dir = central_directory(bytes)?;
    let mut total: u64 = 0;
    for e in &dir {
        total = total.saturating_add(e.usize_);
    }
    if total > MAX_FILE_BYTES as u64 {
        return Err(NpzError::TooLarge(NpyError::TooLarge {
            what: "the .npz file's arrays (uncompressed)".into(),
            size: human_bytes(total),
            limit: human_bytes(MAX_FILE_BYTES as u64),
        }));
    }
    let mut arrays = Vec::new();
    let mut warnings = Vec::new();
    let mut values: usize = 0;
    for e in &dir {
        if e.name.ends_with('/') {
            continue;
        }
        let Some(stem) = e.name.strip_suffix(".npy") else {
            warnings.push(format!(
                "skipped `{}` in the .npz: not a .npy array",
                e.name
            ));
            continue;
        };
        let raw = entry_bytes(bytes, e)?;
        let array = read_npy(&raw).map_err(|source| NpzError::Entry {
            name: stem.to_string(),
            source,
        })?;
        values = values.saturating_add(array.len());
        if values > MAX_VALUES {
            return Err(NpzError::TooLarge(NpyError::TooLarge {
                what: "the .npz file's arrays together".into(),
                size: format!("more than {MAX_VALUES} values"),
                limit: format!("{MAX_VALUES} values"),
            }));
        }
        arrays.push(NpzArray {
            name: stem.to_string(),
            array,
        });
    }
    if arrays.is_empty() {
        return Err(NpzError::Empty);
    }
    Ok((arrays, warnings))
}

/// CRC-32 (IEEE 802.3, as used by zip).
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c = TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

/// Write named `.npy` files into an uncompressed `.npz` (zip, stored), readable by
/// `numpy.load`. Names get a `.npy` suffix; each file must be under 4 GiB.
pub fn write_npz(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let fname = format!("{name}.npy");
        let crc = crc32(data);
        let offset = out.len() as u32;
        let size = data.len() as u32;
        // local file header
        out.extend_from_slice(&LFH.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        out.extend_from_slice(&0u16.to_le_bytes()); // time
        out.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(fname.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(fname.as_bytes());
        out.extend_from_slice(data);
        // central directory header
        central.extend_from_slice(&CDH.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        central.extend_from_slice(&20u16.to_le_bytes()); // version needed
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x21u16.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(fname.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, internal & external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(fname.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&EOCD.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::npy::write_npy_f64;

    #[test]
    fn crc_of_known_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn stored_round_trip() {
        let a = write_npy_f64(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let b = write_npy_f64(&[3], &[5.0, 6.0, 7.0]);
        let z = write_npz(&[("X", a), ("label_y", b)]);
        let (arrays, warnings) = read_npz(&z).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(arrays[0].name, "X");
        assert_eq!(arrays[0].array.values, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(arrays[1].name, "label_y");
        assert_eq!(read_npz(b"hello").unwrap_err(), NpzError::NotZip);
    }
}
