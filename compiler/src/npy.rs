//! Just enough of NumPy's `.npy` format (version 1.0–3.0, little-endian, C order) to read and
//! write the model's tensors: `int8`, `int32`, `int64`, `float32` and `float64` arrays.

use std::fmt;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// An array's element type, as its `descr` string names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    I8,
    I32,
    I64,
    F32,
    F64,
}

impl Dtype {
    fn from_descr(descr: &str) -> Option<Dtype> {
        Some(match descr {
            "|i1" | "<i1" | "i1" => Dtype::I8,
            "<i4" => Dtype::I32,
            "<i8" => Dtype::I64,
            "<f4" => Dtype::F32,
            "<f8" => Dtype::F64,
            _ => return None,
        })
    }
    fn descr(self) -> &'static str {
        match self {
            Dtype::I8 => "|i1",
            Dtype::I32 => "<i4",
            Dtype::I64 => "<i8",
            Dtype::F32 => "<f4",
            Dtype::F64 => "<f8",
        }
    }
    fn size(self) -> usize {
        match self {
            Dtype::I8 => 1,
            Dtype::I32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::F64 => 8,
        }
    }
    /// The NumPy name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::I8 => "int8",
            Dtype::I32 => "int32",
            Dtype::I64 => "int64",
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded array: its shape and its elements in C order, as they were stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Data,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    I8(Vec<i8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Data {
    pub fn dtype(&self) -> Dtype {
        match self {
            Data::I8(_) => Dtype::I8,
            Data::I32(_) => Dtype::I32,
            Data::I64(_) => Dtype::I64,
            Data::F32(_) => Dtype::F32,
            Data::F64(_) => Dtype::F64,
        }
    }
}

/// Why bytes are not a `.npy` array this reader supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    #[error("not a .npy file (the magic string \\x93NUMPY is missing)")]
    NotNpy,
    #[error("unsupported .npy format version {0}.{1}")]
    Version(u8, u8),
    #[error("the file ends inside the {0}")]
    Truncated(&'static str),
    #[error("malformed header: {0}")]
    Header(String),
    #[error("element type {0:?} is not supported (use int8, int32, int64, float32 or float64, little-endian)")]
    Dtype(String),
    #[error("Fortran-order arrays are not supported: save a C-order array")]
    FortranOrder,
    #[error("shape {shape:?} needs {expected} bytes of data, the file has {actual}")]
    DataLength {
        shape: Vec<usize>,
        expected: usize,
        actual: usize,
    },
}

/// Parses a `.npy` file's bytes.
pub fn read(bytes: &[u8]) -> Result<Array, NpyError> {
    if bytes.len() < 8 || &bytes[..6] != MAGIC {
        return Err(NpyError::NotNpy);
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_bytes, start) = match major {
        1 => (2, 10),
        2 | 3 => (4, 12),
        _ => return Err(NpyError::Version(major, minor)),
    };
    let len_field = bytes
        .get(8..8 + len_bytes)
        .ok_or(NpyError::Truncated("header"))?;
    let header_len = len_field
        .iter()
        .rev()
        .fold(0usize, |acc, b| (acc << 8) | *b as usize);
    let header = bytes
        .get(start..start + header_len)
        .ok_or(NpyError::Truncated("header"))?;
    let header = std::str::from_utf8(header)
        .map_err(|_| NpyError::Header("the header is not text".into()))?;
    let (dtype, fortran, shape) = parse_header(header)?;
    if fortran {
        return Err(NpyError::FortranOrder);
    }
    let body = &bytes[start + header_len..];
    let count = shape
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| NpyError::Header(format!("shape {shape:?} is too large")))?;
    let expected = count
        .checked_mul(dtype.size())
        .ok_or_else(|| NpyError::Header(format!("shape {shape:?} is too large")))?;
    if body.len() != expected {
        return Err(NpyError::DataLength {
            shape,
            expected,
            actual: body.len(),
        });
    }
    let data = match dtype {
        Dtype::I8 => Data::I8(body.iter().map(|b| *b as i8).collect()),
        Dtype::I32 => Data::I32(chunks(body, i32::from_le_bytes)),
        Dtype::I64 => Data::I64(chunks(body, i64::from_le_bytes)),
        Dtype::F32 => Data::F32(chunks(body, f32::from_le_bytes)),
        Dtype::F64 => Data::F64(chunks(body, f64::from_le_bytes)),
    };
    Ok(Array { shape, data })
}

fn chunks<const W: usize, T>(body: &[u8], from: fn([u8; W]) -> T) -> Vec<T> {
    body.chunks_exact(W)
        .map(|c| from(c.try_into().expect("chunks_exact gives W bytes")))
        .collect()
}

/// Reads the header dictionary, e.g. `{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_header(header: &str) -> Result<(Dtype, bool, Vec<usize>), NpyError> {
    let value_of = |key: &str| -> Result<&str, NpyError> {
        let quoted = format!("'{key}'");
        let at = header
            .find(&quoted)
            .ok_or_else(|| NpyError::Header(format!("no '{key}' entry")))?;
        let rest = header[at + quoted.len()..].trim_start();
        rest.strip_prefix(':')
            .map(str::trim_start)
            .ok_or_else(|| NpyError::Header(format!("no ':' after '{key}'")))
    };
    let descr = value_of("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| NpyError::Header("'descr' is not a quoted string".into()))?;
    let dtype = Dtype::from_descr(descr).ok_or_else(|| NpyError::Dtype(descr.to_string()))?;
    let fortran = value_of("fortran_order")?.starts_with("True");
    let shape = value_of("shape")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| NpyError::Header("'shape' is not a tuple".into()))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| NpyError::Header(format!("shape entry {s:?} is not a size")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((dtype, fortran, shape))
}

/// Serializes an array as a `.npy` file: version 1.0, or 2.0 when the header needs more than
/// 16 bits of length (thousands of dimensions).
pub fn write(array: &Array) -> Vec<u8> {
    let dims: Vec<String> = array.shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        array.data.dtype().descr()
    );
    let len_bytes = if header.len() + 64 > u16::MAX as usize {
        4
    } else {
        2
    };
    // Pad so the data starts on a 64-byte boundary, ending the header with a newline.
    let unpadded = MAGIC.len() + 2 + len_bytes + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(12 + header.len());
    out.extend_from_slice(MAGIC);
    let len = header.len() as u32;
    if len_bytes == 2 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&len.to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    match &array.data {
        Data::I8(v) => out.extend(v.iter().map(|x| *x as u8)),
        Data::I32(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        Data::I64(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        Data::F32(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        Data::F64(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_dtype() {
        for data in [
            Data::I8(vec![-128, 0, 127, 5, -3, 9]),
            Data::I32(vec![i32::MIN, -1, 0, 1, i32::MAX, 7]),
            Data::I64(vec![0, 1, 2, 3, 4, -5]),
            Data::F32(vec![0.5, -1.25, 3.0, f32::MAX, 0.0, 1e-7]),
            Data::F64(vec![0.1, 0.2, 0.3, -0.4, 1e300, 0.0]),
        ] {
            for shape in [vec![6], vec![2, 3]] {
                let array = Array {
                    shape,
                    data: data.clone(),
                };
                let bytes = write(&array);
                assert_eq!(bytes.len() % 64, (6 * data.dtype().size()) % 64);
                assert_eq!(read(&bytes).unwrap(), array);
            }
        }
    }

    #[test]
    fn very_long_headers_use_version_2() {
        let array = Array {
            shape: vec![1; 30_000],
            data: Data::I8(vec![7]),
        };
        let bytes = write(&array);
        assert_eq!(bytes[6], 2);
        assert_eq!(read(&bytes).unwrap(), array);
    }

    #[test]
    fn reads_numpy_headers() {
        // As numpy 1.x writes them for np.save(np.zeros((2, 2), np.int32)).
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        let header =
            "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }                \n";
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0; 16]);
        let a = read(&bytes).unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.data, Data::I32(vec![0; 4]));
    }

    #[test]
    fn bad_files_are_named_errors() {
        assert_eq!(read(b"hello world"), Err(NpyError::NotNpy));
        let good = write(&Array {
            shape: vec![4],
            data: Data::I32(vec![1, 2, 3, 4]),
        });
        assert!(matches!(
            read(&good[..good.len() - 1]),
            Err(NpyError::DataLength {
                expected: 16,
                actual: 15,
                ..
            })
        ));
        assert_eq!(read(&good[..9]), Err(NpyError::Truncated("header")));
        let edit = |from: &str, to: &str| {
            let at = good
                .windows(from.len())
                .position(|w| w == from.as_bytes())
                .unwrap();
            let mut bytes = good.clone();
            bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
            bytes
        };
        assert_eq!(
            read(&edit("<i4", ">i4")),
            Err(NpyError::Dtype(">i4".into()))
        );
        assert_eq!(read(&edit("False", "True ")), Err(NpyError::FortranOrder));
    }
}
