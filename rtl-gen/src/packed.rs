//! Packed words and encoded values as types, so no bit offset or code is counted by hand.
//!
//! A [`Packed`] layout names the fields of a word (a pipeline's control, a parameter entry)
//! once, most significant first, as the variants of a field enum declared with [`fields!`].
//! The generator packs a word with [`Packed::pack`] (one value per field, by an exhaustive
//! `match`) and reads a field with [`Packed::get`]; the Verilog gets `localparam`s for the
//! fields' positions, so it reads `s4_ctl_q[CtlBankLo +: CtlBankBits]`, not `s4_ctl_q[9:8]`.
//! An [`Enum`] does the same for encoded values (`op_q == KIND_RQ`). Only what a module uses
//! is declared in it, so the Verilog has no unused parameters.

use std::cell::RefCell;

use crate::ast::*;

/// The fields of a packed word, most significant first.
pub trait Fields: Copy + PartialEq + 'static {
    const ALL: &'static [Self];
    /// The field's name in `snake_case`.
    fn name(self) -> &'static str;
}

/// Declares a field enum: `fields! { pub enum Ctl { Valid = "valid", Bank = "bank" } }`.
macro_rules! fields {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }
        impl $crate::packed::Fields for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
    };
}
pub(crate) use fields;

/// `snake_case` to `UpperCamelCase`.
fn camel(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// A packed word of fields `F`, with each field's width fixed by the config.
pub struct Packed<F: Fields> {
    /// `UpperCamelCase` prefix of the localparams (`Ctl` gives `CtlBankLo`).
    prefix: &'static str,
    widths: Vec<u32>,
    /// Each field's lowest bit.
    los: Vec<u32>,
    /// Per field: whether its position and its width were used.
    used: RefCell<Vec<(bool, bool)>>,
    _fields: std::marker::PhantomData<F>,
}

impl<F: Fields> Packed<F> {
    /// The layout whose field `f` is `width(f)` bits wide (0: absent).
    pub fn new(prefix: &'static str, width: impl Fn(F) -> u32) -> Self {
        let widths: Vec<u32> = F::ALL.iter().map(|f| width(*f)).collect();
        let mut los = vec![0; widths.len()];
        let mut lo = 0;
        for i in (0..widths.len()).rev() {
            los[i] = lo;
            lo += widths[i];
        }
        Packed {
            prefix,
            used: RefCell::new(vec![(false, false); widths.len()]),
            widths,
            los,
            _fields: std::marker::PhantomData,
        }
    }

    fn index(f: F) -> usize {
        F::ALL
            .iter()
            .position(|x| *x == f)
            .expect("ALL lists every field")
    }

    /// Bits of the whole word.
    pub fn bits(&self) -> u32 {
        self.widths.iter().sum()
    }

    pub fn width(&self, f: F) -> u32 {
        self.widths[Self::index(f)]
    }

    /// The field's lowest bit.
    pub fn lo(&self, f: F) -> u32 {
        self.los[Self::index(f)]
    }

    fn lo_name(&self, f: F) -> String {
        let name = format!("{}{}", self.prefix, camel(f.name()));
        if self.width(f) == 1 {
            name
        } else {
            name + "Lo"
        }
    }

    fn bits_name(&self, f: F) -> String {
        format!("{}{}Bits", self.prefix, camel(f.name()))
    }

    fn mark(&self, f: F, width_too: bool) {
        let used = &mut self.used.borrow_mut()[Self::index(f)];
        used.0 = true;
        used.1 |= width_too;
    }

    /// Field `f` of `word` (a name): `word[PrefixF]` or `word[PrefixFLo +: PrefixFBits]`.
    pub fn get(&self, word: &Expr, f: F) -> Expr {
        assert!(
            self.width(f) > 0,
            "{} is absent from {}",
            f.name(),
            self.prefix
        );
        self.mark(f, true);
        if self.width(f) == 1 {
            word.clone().at(id(self.lo_name(f)))
        } else {
            word.clone()
                .part_w(id(self.lo_name(f)), id(self.bits_name(f)))
        }
    }

    /// The low `bits` bits of field `f` of `word`: `word[PrefixFLo +: bits]`.
    pub fn low(&self, word: &Expr, f: F, bits: u32) -> Expr {
        assert!(
            bits <= self.width(f),
            "{} has fewer than {bits} bits",
            f.name()
        );
        if bits == self.width(f) {
            return self.get(word, f);
        }
        self.mark(f, false);
        word.clone().part(id(self.lo_name(f)), bits)
    }

    /// Element `i` (`width` bits) of field `f` of `word`: `word[PrefixFLo + i * width +: width]`.
    pub fn element(&self, word: &Expr, f: F, i: Expr, width: u32) -> Expr {
        self.mark(f, false);
        let at = match i {
            Expr::Int(0) => id(self.lo_name(f)),
            Expr::Int(i) => id(self.lo_name(f)) + int(i * width as i64),
            i => id(self.lo_name(f)) + i.mul(int(width as i64)),
        };
        word.clone().part(at, width)
    }

    /// The word from one value per field, most significant first (absent fields are left
    /// out). `value` is called for present fields only.
    pub fn pack(&self, value: impl Fn(F) -> Expr) -> Expr {
        cat(F::ALL
            .iter()
            .filter(|f| self.width(**f) > 0)
            .map(|f| value(*f))
            .collect())
    }

    /// The word from one number per field (each cut to its width), for the host's side.
    pub fn value(&self, value: impl Fn(F) -> u64) -> u64 {
        assert!(self.bits() <= 64, "{} is wider than a number", self.prefix);
        F::ALL
            .iter()
            .filter(|f| self.width(**f) > 0)
            .fold(0, |word, f| {
                let w = self.width(*f);
                (word << w) | (value(*f) & ((1u64 << w) - 1))
            })
    }

    /// `{valid, last, kind[1:0], ...}`: the layout, for a comment.
    pub fn describe(&self) -> String {
        let fields: Vec<String> = F::ALL
            .iter()
            .filter(|f| self.width(**f) > 0)
            .map(|f| match self.width(*f) {
                1 => f.name().to_string(),
                w => format!("{}[{}:0]", f.name(), w - 1),
            })
            .collect();
        format!("{{{}}}", fields.join(", "))
    }

    /// Declares the positions of the fields this module read, at the top of `m`.
    pub fn declare(&self, m: &mut Module, what: &str) {
        let mut items = vec![Item::Comment(format!("{what}: {}", self.describe()))];
        for (i, f) in F::ALL.iter().enumerate() {
            let (position, width) = self.used.borrow()[i];
            if !position {
                continue;
            }
            items.push(Item::LocalParam(
                self.lo_name(*f),
                None,
                int(self.los[i] as i64),
            ));
            if width && self.widths[i] > 1 {
                items.push(Item::LocalParam(
                    self.bits_name(*f),
                    None,
                    int(self.widths[i] as i64),
                ));
            }
        }
        m.declare_at_top(items);
    }
}

/// Encoded values of one field: `localparam [W-1:0] PREFIX_NAME = W'dV;`, looked up by the
/// value they stand for.
pub struct Enum<T> {
    prefix: String,
    width: u32,
    members: Vec<(T, String, u64)>,
    used: RefCell<Vec<bool>>,
}

impl<T: Copy + PartialEq + std::fmt::Debug> Enum<T> {
    /// `members`: each value, its name and its code; `width` bits.
    pub fn new<'a>(
        prefix: impl Into<String>,
        width: u32,
        members: impl IntoIterator<Item = (T, &'a str, u64)>,
    ) -> Self {
        let members: Vec<(T, String, u64)> = members
            .into_iter()
            .map(|(v, name, code)| (v, name.to_ascii_uppercase(), code))
            .collect();
        for (i, (_, name, code)) in members.iter().enumerate() {
            assert!(
                width >= 64 || code >> width == 0,
                "{name}: {code} needs over {width} bits"
            );
            assert!(
                members[..i].iter().all(|(_, n, c)| n != name && c != code),
                "{name} ({code}) is not unique"
            );
        }
        Enum {
            prefix: prefix.into(),
            width,
            used: RefCell::new(vec![false; members.len()]),
            members,
        }
    }

    /// Bits of a value.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The localparam standing for `value`.
    pub fn of(&self, value: T) -> Expr {
        let i = self
            .members
            .iter()
            .position(|(v, ..)| *v == value)
            .unwrap_or_else(|| panic!("{value:?} is not a member of {}", self.prefix));
        self.used.borrow_mut()[i] = true;
        id(format!("{}_{}", self.prefix, self.members[i].1))
    }

    /// Declares the values this module used, at the top of `m`.
    pub fn declare(&self, m: &mut Module, what: &str) {
        let mut items = vec![Item::Comment(what.to_string())];
        for (i, (_, name, code)) in self.members.iter().enumerate() {
            if self.used.borrow()[i] {
                items.push(Item::LocalParam(
                    format!("{}_{name}", self.prefix),
                    Some(self.width),
                    lit(self.width, *code),
                ));
            }
        }
        m.declare_at_top(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fields! {
        enum Demo { Valid = "valid", Row = "row", Pc = "pc" }
    }

    #[test]
    fn fields_pack_most_significant_first_and_read_by_name() {
        let layout = Packed::new("Ctl", |f| match f {
            Demo::Valid => 1,
            Demo::Row => 8,
            Demo::Pc => 4,
        });
        assert_eq!(layout.bits(), 13);
        assert_eq!((layout.lo(Demo::Valid), layout.lo(Demo::Row)), (12, 4));
        let word = id("ctl_q");
        assert_eq!(
            crate::emit::expr(&layout.get(&word, Demo::Row)),
            "ctl_q[CtlRowLo +: CtlRowBits]"
        );
        assert_eq!(
            crate::emit::expr(&layout.get(&word, Demo::Valid)),
            "ctl_q[CtlValid]"
        );
        let packed = layout.pack(|f| id(f.name()));
        assert_eq!(crate::emit::expr(&packed), "{valid, row, pc}");
        let mut m = Module::new("m", &[]);
        layout.declare(&mut m, "control");
        // Pc was never read: no parameter for it.
        let names: Vec<&str> = m
            .items
            .iter()
            .filter_map(|i| match i {
                Item::LocalParam(name, ..) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["CtlValid", "CtlRowLo", "CtlRowBits"]);
    }
}
