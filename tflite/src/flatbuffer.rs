//! A FlatBuffers reader that checks every offset it follows: tables through their vtables,
//! vectors, strings and scalars, each read only after its bytes are known to be in the
//! buffer. Nothing here recurses on the data or loops longer than a length it has checked
//! against the buffer's size, so a corrupted file is an error, never a panic or a hang.
//!
//! The wire format (flatbuffers.dev, "FlatBuffers internals"): a buffer starts with a `u32`
//! offset to the root table; a table starts with an `i32` back to its vtable; a vtable is
//! `u16`s: its own size, the table's size, then each field's offset in the table (0: absent);
//! a reference field holds a `u32` offset from itself to a table, vector or string; a vector
//! or string is a `u32` length then its elements. Everything is little-endian.

/// Why a buffer could not be read: what was being read and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

type Result<T> = std::result::Result<T, Malformed>;

fn malformed(what: impl Into<String>) -> Malformed {
    Malformed(what.into())
}

/// A fixed-size little-endian value.
pub trait Scalar: Copy {
    const SIZE: usize;
    fn from_le(bytes: &[u8]) -> Self;
}

macro_rules! scalars {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("SIZE bytes"))
            }
        }
    )*};
}
scalars!(u8, i8, u16, i32, u32, i64, u64, f32);

/// `T` at `pos`, if its bytes are in `buf`.
fn read<T: Scalar>(buf: &[u8], pos: usize, what: &str) -> Result<T> {
    buf.get(pos..pos.saturating_add(T::SIZE))
        .filter(|b| b.len() == T::SIZE)
        .map(T::from_le)
        .ok_or_else(|| {
            malformed(format!(
                "{what}: byte {pos} is past the end of the file ({} bytes)",
                buf.len()
            ))
        })
}

/// The position a `u32` offset at `pos` points to.
fn follow(buf: &[u8], pos: usize, what: &str) -> Result<usize> {
    let offset = read::<u32>(buf, pos, what)? as usize;
    let target = pos + offset;
    if offset == 0 || target >= buf.len() {
        return Err(malformed(format!(
            "{what}: the offset at byte {pos} points outside the file ({} bytes)",
            buf.len()
        )));
    }
    Ok(target)
}

/// A table: its fields by id, each absent, defaulted or checked on read.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    /// Field slots in the vtable.
    fields: usize,
    /// The table's inline size, from its vtable.
    size: usize,
}

impl<'a> Table<'a> {
    /// The root table of a buffer.
    pub fn root(buf: &'a [u8], what: &str) -> Result<Table<'a>> {
        Table::at(buf, follow(buf, 0, what)?, what)
    }

    fn at(buf: &'a [u8], pos: usize, what: &str) -> Result<Table<'a>> {
        let back = read::<i32>(buf, pos, what)? as i64;
        let vtable = pos as i64 - back;
        if vtable < 0 || vtable as usize >= buf.len() {
            return Err(malformed(format!(
                "{what}: the table at byte {pos} has its vtable outside the file"
            )));
        }
        let vtable = vtable as usize;
        let vt_size = read::<u16>(buf, vtable, what)? as usize;
        let size = read::<u16>(buf, vtable + 2, what)? as usize;
        if vt_size < 4 || !vt_size.is_multiple_of(2) || vtable + vt_size > buf.len() {
            return Err(malformed(format!(
                "{what}: the vtable at byte {vtable} has a bad size ({vt_size})"
            )));
        }
        if size < 4 || pos + size > buf.len() {
            return Err(malformed(format!(
                "{what}: the table at byte {pos} ({size} bytes) runs past the end of the file"
            )));
        }
        Ok(Table {
            buf,
            pos,
            vtable,
            fields: (vt_size - 4) / 2,
            size,
        })
    }

    /// Where field `id` is, if the table has it; checked to hold `len` bytes inside the table.
    fn field(&self, id: usize, len: usize, what: &str) -> Result<Option<usize>> {
        if id >= self.fields {
            return Ok(None);
        }
        let offset = read::<u16>(self.buf, self.vtable + 4 + 2 * id, what)? as usize;
        if offset == 0 {
            return Ok(None);
        }
        if offset < 4 || offset + len > self.size {
            return Err(malformed(format!(
                "{what}: field {id} of the table at byte {} lies outside the table",
                self.pos
            )));
        }
        Ok(Some(self.pos + offset))
    }

    /// Scalar field `id`, or `default` when absent.
    pub fn scalar<T: Scalar>(&self, id: usize, default: T, what: &str) -> Result<T> {
        match self.field(id, T::SIZE, what)? {
            Some(pos) => read(self.buf, pos, what),
            None => Ok(default),
        }
    }

    /// Table field `id`, if present.
    pub fn table(&self, id: usize, what: &str) -> Result<Option<Table<'a>>> {
        match self.field(id, 4, what)? {
            Some(pos) => Ok(Some(Table::at(
                self.buf,
                follow(self.buf, pos, what)?,
                what,
            )?)),
            None => Ok(None),
        }
    }

    /// Vector field `id` of elements of `element` bytes (4 for tables and strings), if present.
    pub fn vector(&self, id: usize, element: usize, what: &str) -> Result<Option<Vector<'a>>> {
        let Some(pos) = self.field(id, 4, what)? else {
            return Ok(None);
        };
        let start = follow(self.buf, pos, what)?;
        let len = read::<u32>(self.buf, start, what)? as usize;
        let body = start + 4;
        if len
            .checked_mul(element)
            .and_then(|n| n.checked_add(body))
            .is_none_or(|end| end > self.buf.len())
        {
            return Err(malformed(format!(
                "{what}: a vector of {len} elements at byte {start} runs past the end of the file"
            )));
        }
        Ok(Some(Vector {
            buf: self.buf,
            body,
            len,
            element,
        }))
    }

    /// String field `id`, if present (not checked to be UTF-8: names are only shown).
    pub fn string(&self, id: usize, what: &str) -> Result<Option<String>> {
        Ok(self
            .vector(id, 1, what)?
            .map(|v| String::from_utf8_lossy(v.bytes()).into_owned()))
    }
}

/// A vector whose elements are known to lie in the buffer.
#[derive(Clone, Copy, Debug)]
pub struct Vector<'a> {
    buf: &'a [u8],
    body: usize,
    len: usize,
    element: usize,
}

impl<'a> Vector<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements' bytes.
    pub fn bytes(&self) -> &'a [u8] {
        &self.buf[self.body..self.body + self.len * self.element]
    }

    /// Scalar element `i` (`T` must be the element's size).
    pub fn get<T: Scalar>(&self, i: usize) -> T {
        debug_assert_eq!(T::SIZE, self.element);
        assert!(i < self.len, "element {i} of a vector of {}", self.len);
        T::from_le(&self.bytes()[i * T::SIZE..(i + 1) * T::SIZE])
    }

    /// Every element as `T`.
    pub fn to_vec<T: Scalar>(&self) -> Vec<T> {
        (0..self.len).map(|i| self.get(i)).collect()
    }

    /// Table element `i` of a vector of tables.
    pub fn table(&self, i: usize, what: &str) -> Result<Table<'a>> {
        assert!(i < self.len, "element {i} of a vector of {}", self.len);
        let pos = self.body + 4 * i;
        Table::at(self.buf, follow(self.buf, pos, what)?, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root table with one `u32` field (id 0) and one vector of two `i32` (id 1).
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(12u32.to_le_bytes()); // root -> table at 12
        b.extend([8u8, 0, 12, 0, 4, 0, 8, 0]); // vtable at 4: size 8, table 12, fields at 4, 8
        b.extend(8i32.to_le_bytes()); // table at 12: vtable at 12 - 8 = 4
        b.extend(7u32.to_le_bytes()); // field 0 = 7
        b.extend(4u32.to_le_bytes()); // field 1 at 20 -> vector at 24
        b.extend(2u32.to_le_bytes());
        b.extend((-3i32).to_le_bytes());
        b.extend(5i32.to_le_bytes());
        b
    }

    #[test]
    fn reads_fields_vectors_and_defaults() {
        let buf = sample();
        let t = Table::root(&buf, "root").unwrap();
        assert_eq!(t.scalar::<u32>(0, 0, "f").unwrap(), 7);
        assert_eq!(
            t.scalar::<u32>(5, 9, "f").unwrap(),
            9,
            "absent field: default"
        );
        let v = t.vector(1, 4, "v").unwrap().unwrap();
        assert_eq!(v.to_vec::<i32>(), vec![-3, 5]);
    }

    #[test]
    fn every_truncation_and_every_byte_flip_is_an_error_or_a_value() {
        let buf = sample();
        for end in 0..buf.len() {
            let cut = &buf[..end];
            let read = Table::root(cut, "root").and_then(|t| {
                t.scalar::<u32>(0, 0, "f")?;
                t.vector(1, 4, "v")
            });
            assert!(read.is_err(), "{end} bytes read as whole");
        }
        for i in 0..buf.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = buf.clone();
                b[i] ^= flip;
                if let Ok(t) = Table::root(&b, "root") {
                    let _ = t.scalar::<u32>(0, 0, "f");
                    if let Ok(Some(v)) = t.vector(1, 4, "v") {
                        let _ = v.to_vec::<i32>();
                    }
                }
            }
        }
    }

    #[test]
    fn a_vector_longer_than_the_file_is_refused() {
        let mut buf = sample();
        buf[24..28].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        let t = Table::root(&buf, "root").unwrap();
        let err = t.vector(1, 4, "tensors").unwrap_err();
        assert!(err.0.starts_with("tensors:"), "{err}");
    }
}
