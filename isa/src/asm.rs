//! The text format: one instruction per line.
//!
//! ```text
//! # comments start with `#` or `;`
//! .chip 0                      # following lines belong to chip 0 (optional for one chip)
//! +0 ldw  src=sram0[0]
//! +1 mma  src=sram1[0] dst=acc0[0] count=8 swap
//! +8 rq   src=acc0[0] dst=sram2[0] count=8 param=0
//! vop.add a=acc0[0] b=imm dst=acc0[0] imm=-3 count=2   # delay omitted: +1
//! +20 ctl.halt
//! ```
//!
//! A line is `[+DELAY] MNEMONIC[.FUNC] FIELD=VALUE... FLAG...`. Addresses are
//! `sram<bank>[<row>]`, `acc<bank>[<row>]` or `imm`; numbers are decimal or `0x` hex.
//! Defaults: delay 1, every `*_step` 1, `count` 1, `imm` 0, `amount` 0, flags off; all other
//! fields are required. The disassembler prints the same form, omitting defaults, so
//! `assemble(disassemble(p)) == p`.

use std::collections::HashMap;

use crate::encoding::Program;
use crate::ops::{Addr, FieldKind, Instr, Op, Opcode, Space, Value, MAX_DELAY};

/// A line that does not assemble.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct AsmError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column of the offending token.
    pub column: usize,
    pub message: String,
}

/// The source line of every instruction, per chip (1-based), for error messages.
pub type SourceLines = Vec<Vec<usize>>;

/// Assembles text into a program.
///
/// ```
/// let p = isa::assemble("+0 ldw src=sram0[0]\n+1 ctl.halt\n").unwrap();
/// assert_eq!(p.chips[0].len(), 2);
/// assert_eq!(isa::disassemble(&p), "+0 ldw src=sram0[0]\n+1 ctl.halt\n");
/// ```
pub fn assemble(text: &str) -> Result<Program, AsmError> {
    assemble_with_lines(text).map(|(p, _)| p)
}

/// Assembles text, also returning each instruction's source line.
pub fn assemble_with_lines(text: &str) -> Result<(Program, SourceLines), AsmError> {
    let mut program = Program {
        chips: vec![Vec::new()],
    };
    let mut lines: SourceLines = vec![Vec::new()];
    let mut chip = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let code = raw.split(['#', ';']).next().unwrap_or("");
        let tokens = tokenize(code);
        let Some(&(first_col, first)) = tokens.first() else {
            continue;
        };
        let err = |column: usize, message: String| AsmError {
            line: line_no,
            column,
            message,
        };
        if let Some(directive) = first.strip_prefix('.') {
            if directive != "chip" {
                return Err(err(first_col, format!("unknown directive `.{directive}`")));
            }
            let &(col, arg) = tokens
                .get(1)
                .ok_or_else(|| err(first_col, "`.chip` needs a chip number".into()))?;
            chip = parse_u32(arg)
                .filter(|c| *c < 64)
                .ok_or_else(|| err(col, format!("`{arg}` is not a chip number in 0..64")))?
                as usize;
            if let Some(&(col, extra)) = tokens.get(2) {
                return Err(err(col, format!("unexpected `{extra}` after `.chip`")));
            }
            while program.chips.len() <= chip {
                program.chips.push(Vec::new());
                lines.push(Vec::new());
            }
            continue;
        }
        let instr = parse_instr(&tokens).map_err(|(column, message)| err(column, message))?;
        program.chips[chip].push(instr);
        lines[chip].push(line_no);
    }
    Ok((program, lines))
}

fn tokenize(code: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in code.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s + 1, &code[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s + 1, &code[s..]));
    }
    out
}

type TokenError = (usize, String);

fn parse_instr(tokens: &[(usize, &str)]) -> Result<Instr, TokenError> {
    let mut rest = tokens;
    let mut delay = 1;
    if let Some(d) = rest[0].1.strip_prefix('+') {
        delay = parse_u32(d).filter(|d| *d <= MAX_DELAY).ok_or_else(|| {
            (
                rest[0].0,
                format!("`{d}` is not a delay in 0..={MAX_DELAY}"),
            )
        })?;
        rest = &rest[1..];
    }
    let &(m_col, mnemonic) = rest.first().ok_or_else(|| {
        (
            tokens[0].0,
            "a delay must be followed by an instruction".into(),
        )
    })?;
    let (base, func) = match mnemonic.split_once('.') {
        Some((b, f)) => (b, Some(f)),
        None => (mnemonic, None),
    };
    let opcode =
        Opcode::from_mnemonic(base).ok_or_else(|| (m_col, format!("unknown mnemonic `{base}`")))?;
    let spec = opcode.spec();

    let mut given: HashMap<&str, (usize, Option<&str>)> = HashMap::new();
    for &(col, tok) in &rest[1..] {
        let (name, value) = match tok.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (tok, None),
        };
        if !spec
            .fields
            .iter()
            .any(|f| f.name == name && !matches!(f.kind, FieldKind::Func(_)))
        {
            let names: Vec<&str> = spec
                .fields
                .iter()
                .filter(|f| !matches!(f.kind, FieldKind::Func(_)))
                .map(|f| f.name)
                .collect();
            return Err((
                col,
                format!(
                    "`{}` has no field `{name}` (fields: {})",
                    spec.mnemonic,
                    names.join(", ")
                ),
            ));
        }
        if given.insert(name, (col, value)).is_some() {
            return Err((col, format!("field `{name}` given twice")));
        }
    }

    let mut values = Vec::with_capacity(spec.fields.len());
    for field in spec.fields {
        let value = if let FieldKind::Func(names) = field.kind {
            let f = func.ok_or_else(|| {
                (
                    m_col,
                    format!("`{base}` needs a function: {base}.{{{}}}", names.join("|")),
                )
            })?;
            let idx = names.iter().position(|n| *n == f).ok_or_else(|| {
                (
                    m_col,
                    format!(
                        "`{base}` has no function `{f}` (one of {})",
                        names.join(", ")
                    ),
                )
            })?;
            Value::U(idx as u32)
        } else {
            match given.get(field.name) {
                Some(&(col, text)) => {
                    parse_value(field.name, field.kind, text).map_err(|m| (col, m))?
                }
                None => default_value(field.kind).ok_or_else(|| {
                    (
                        m_col,
                        format!("`{}` needs field `{}`", spec.mnemonic, field.name),
                    )
                })?,
            }
        };
        values.push(value);
    }
    if func.is_some()
        && !spec
            .fields
            .iter()
            .any(|f| matches!(f.kind, FieldKind::Func(_)))
    {
        return Err((m_col, format!("`{base}` takes no function suffix")));
    }
    let op = Op::from_values(opcode, &values).expect("values built from the spec");
    Ok(Instr { delay, op })
}

fn default_value(kind: FieldKind) -> Option<Value> {
    match kind {
        FieldKind::Step | FieldKind::Count => Some(Value::U(1)),
        FieldKind::Lanes => Some(Value::U(0)),
        FieldKind::Imm => Some(Value::I(0)),
        FieldKind::Flag => Some(Value::Flag(false)),
        FieldKind::Func(_)
        | FieldKind::Addr(_)
        | FieldKind::Table
        | FieldKind::Param
        | FieldKind::Chip => None,
    }
}

fn parse_value(name: &str, kind: FieldKind, text: Option<&str>) -> Result<Value, String> {
    if let FieldKind::Flag = kind {
        return match text {
            None => Ok(Value::Flag(true)),
            Some(_) => Err(format!("`{name}` is a flag: write `{name}` alone")),
        };
    }
    let text = text.ok_or_else(|| format!("`{name}` needs a value: `{name}=...`"))?;
    match kind {
        FieldKind::Addr(spaces) => {
            let addr = parse_addr(text).ok_or_else(|| {
                format!(
                    "`{text}` is not an address (`sram<bank>[<row>]`, `acc<bank>[<row>]` or `imm`)"
                )
            })?;
            if !spaces.contains(&addr.space) {
                let allowed: Vec<&str> = spaces.iter().map(|s| s.name()).collect();
                return Err(format!(
                    "`{name}` must be in {}, not {}",
                    allowed.join(" or "),
                    addr.space.name()
                ));
            }
            Ok(Value::Addr(addr))
        }
        FieldKind::Imm => parse_i32(text)
            .map(Value::I)
            .ok_or_else(|| format!("`{text}` is not a 32-bit integer")),
        _ => parse_u32(text)
            .map(Value::U)
            .ok_or_else(|| format!("`{text}` is not an unsigned integer")),
    }
}

fn parse_addr(text: &str) -> Option<Addr> {
    if text == "imm" {
        return Some(Addr::IMM);
    }
    let (space, rest) = if let Some(r) = text.strip_prefix("sram") {
        (Space::Sram, r)
    } else {
        (Space::Acc, text.strip_prefix("acc")?)
    };
    let (bank, rest) = rest.split_once('[')?;
    let row = rest.strip_suffix(']')?;
    Some(Addr {
        space,
        bank: parse_u32(bank)?,
        row: parse_u32(row)?,
    })
}

/// Decimal or `0x` hex digits only: no signs, no spaces.
fn parse_u32(text: &str) -> Option<u32> {
    let (digits, radix) = match text.strip_prefix("0x") {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// An optional `-` and then what [`parse_u32`] accepts, within the int32 range.
fn parse_i32(text: &str) -> Option<i32> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let magnitude = parse_u32(body)? as i64;
    i32::try_from(if neg { -magnitude } else { magnitude }).ok()
}

/// One instruction in the text format (without a newline).
pub fn format_instr(instr: &Instr) -> String {
    let mut out = format!("+{} {}", instr.delay, instr.op.mnemonic());
    for (field, value) in instr.op.spec().fields.iter().zip(instr.op.values()) {
        if default_value(field.kind) == Some(value) {
            continue;
        }
        match (field.kind, value) {
            (FieldKind::Func(_), _) => {}
            (FieldKind::Flag, _) => out.push_str(&format!(" {}", field.name)),
            (_, Value::Addr(a)) => out.push_str(&format!(" {}={a}", field.name)),
            (_, Value::U(u)) => out.push_str(&format!(" {}={u}", field.name)),
            (_, Value::I(i)) => out.push_str(&format!(" {}={i}", field.name)),
            (_, Value::Flag(_)) => unreachable!("flags are handled by kind"),
        }
    }
    out
}

/// The program as text; multi-chip programs get a `.chip` line before each chip.
pub fn disassemble(program: &Program) -> String {
    let mut out = String::new();
    let multi = program.chips.len() > 1;
    for (chip, instrs) in program.chips.iter().enumerate() {
        if multi {
            out.push_str(&format!(".chip {chip}\n"));
        }
        for instr in instrs {
            out.push_str(&format_instr(instr));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_at(text: &str) -> (usize, usize, String) {
        let e = assemble(text).unwrap_err();
        (e.line, e.column, e.message)
    }

    #[test]
    fn defaults_comments_and_chips() {
        let p = assemble(
            "; header\n.chip 1\n  mma src=sram1[2] dst=acc0[0] count=4 swap # go\n\
             +5 ctl.halt\n.chip 0\n+0 ctl.halt\n",
        )
        .unwrap();
        assert_eq!(p.chips.len(), 2);
        assert_eq!(p.chips[1][0].delay, 1);
        let text = disassemble(&p);
        assert_eq!(
            text,
            ".chip 0\n+0 ctl.halt\n.chip 1\n+1 mma src=sram1[2] dst=acc0[0] count=4 swap\n+5 ctl.halt\n"
        );
        assert_eq!(assemble(&text).unwrap(), p);
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(error_at("\n  bogus x=1").0, 2);
        assert_eq!(error_at("\n  bogus x=1").1, 3);
        let (line, col, msg) = error_at("ctl.halt\nmma src=sram0[0] dst=acc0[0] cnt=3");
        assert_eq!((line, col), (2, 30));
        assert!(msg.contains("no field `cnt`"), "{msg}");
        let (_, col, msg) = error_at("mma src=acc0[0] dst=acc0[0]");
        assert_eq!(col, 5);
        assert!(msg.contains("must be in sram"), "{msg}");
        assert!(error_at("vop a=acc0[0] b=imm dst=acc0[0]")
            .2
            .contains("needs a function"));
        assert!(error_at("vop.div a=acc0[0] b=imm dst=acc0[0]")
            .2
            .contains("no function `div`"));
        assert!(error_at("ldw.x src=sram0[0]")
            .2
            .contains("takes no function"));
        assert!(error_at("ldw").2.contains("needs field `src`"));
        assert!(error_at("+70000 ctl.nop").2.contains("not a delay"));
        assert!(
            error_at("vop.add a=acc0[0] b=imm dst=acc0[0] imm=99999999999")
                .2
                .contains("32-bit")
        );
        assert!(error_at("mma src=sram0[0] dst=acc0[0] swap=1")
            .2
            .contains("flag"));
        assert!(error_at("ldw src=sram0[0] src=sram0[1]")
            .2
            .contains("twice"));
        assert!(error_at(".chip 99").2.contains("chip number"));
        assert!(error_at(".org 4").2.contains("unknown directive"));
        assert!(error_at("ldw src=sram0[x]").2.contains("not an address"));
    }

    #[test]
    fn immediates_parse_in_both_bases() {
        assert_eq!(parse_i32("-0x80000000"), Some(i32::MIN));
        assert_eq!(parse_i32("2147483647"), Some(i32::MAX));
        assert_eq!(parse_i32("2147483648"), None);
        assert_eq!(parse_u32("0x10"), Some(16));
        assert_eq!(parse_u32("+1"), None);
        assert_eq!(parse_u32("0x+3"), None);
        assert_eq!(parse_i32("--5"), None);
        assert_eq!(parse_i32("--9223372036854775808"), None);
        assert_eq!(parse_i32("-0x80000001"), None);
    }
}
