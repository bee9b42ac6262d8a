//! The pretty printer: [`Module`] to Verilog-2005 text, two-space indents, one item a line,
//! every nested operator parenthesized so precedence never needs reading.
//!
//! Lines stay within [`WIDTH`] columns. A statement that fits prints on one line; one that
//! does not is laid out by `Lines::expr`: flat if the rest fits, otherwise broken at its
//! outermost construct (a concatenation one element a line, a ternary as a `: ` chain, a binary
//! operator at the start of a continuation line) with the parts laid out the same way.
//! Comments too long for a line are word-wrapped.

use std::fmt::Write;

use crate::ast::{int, Dir, Expr, Instance, Item, Module, NetKind, Stmt, UnOp};

/// Prints one module; `header` lines are printed first as `//` comments.
pub fn module(m: &Module, header: &[String]) -> String {
    let mut p = Printer::default();
    for line in header {
        p.comment(line);
    }
    p.line("");
    if let Some(text) = m.verbatim {
        return p.out + text;
    }
    for line in &m.doc {
        p.comment(line);
    }
    if m.params.is_empty() {
        p.line(&format!("module {} (", m.name));
    } else {
        p.line(&format!("module {} #(", m.name));
        p.indent += 1;
        for (i, param) in m.params.iter().enumerate() {
            let comma = if i + 1 < m.params.len() { "," } else { "" };
            let mut l = p.start(&format!("parameter integer {} = ", param.name));
            l.expr(&param.default, true, p.indent_cols(), comma.len());
            l.push(comma);
            p.documented(l, &param.doc);
        }
        p.indent -= 1;
        p.line(") (");
    }
    p.indent += 1;
    let decls: Vec<String> = m
        .ports
        .iter()
        .map(|port| {
            let dir = match port.dir {
                Dir::Input => "input ",
                Dir::Output => "output",
            };
            format!("{dir} wire {}", range_prefix(&port.width))
                .trim_end()
                .to_string()
        })
        .collect();
    let pad = decls.iter().map(String::len).max().unwrap_or(0);
    for (i, (port, decl)) in m.ports.iter().zip(&decls).enumerate() {
        let comma = if i + 1 < m.ports.len() { "," } else { "" };
        let l = p.start(format!("{decl:pad$} {}{comma}", port.name).trim_end());
        p.documented(l, port.doc.as_deref().unwrap_or(""));
    }
    p.indent -= 1;
    p.line(");");
    p.line("");
    p.indent += 1;
    p.items(&m.items);
    p.indent -= 1;
    p.line("");
    p.line("endmodule");
    p.out
}

/// `[w-1:0] ` for a width, or nothing for one bit.
fn range_prefix(width: &Expr) -> String {
    match width {
        Expr::Int(1) => String::new(),
        Expr::Int(w) => format!("[{}:0] ", w - 1),
        w => format!("[{}-1:0] ", expr(w)),
    }
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
    /// Generate loops open around the current item.
    generate_depth: usize,
    /// Genvars declared at module scope (outer loops reuse them).
    genvars: std::collections::BTreeSet<String>,
}

impl Printer {
    /// The indentation of the current item, in columns.
    fn indent_cols(&self) -> usize {
        2 * self.indent
    }

    /// A line of the current item beginning with `text`, to be continued and then [`Self::put`].
    fn start(&self, text: &str) -> Lines {
        Lines(vec![format!("{}{text}", " ".repeat(self.indent_cols()))])
    }

    /// Prints laid-out lines (they carry their own indentation).
    fn put(&mut self, lines: Lines) {
        for l in lines.0 {
            self.out.push_str(&l);
            self.out.push('\n');
        }
    }

    /// Prints `lines` with `doc` as a trailing `//` comment, or, if that would make the line
    /// too long (or `lines` is several), as comment lines above them. An empty `doc` is none.
    fn documented(&mut self, mut lines: Lines, doc: &str) {
        if !doc.is_empty() {
            let trailing = format!("  // {doc}");
            if lines.0.len() == 1 && lines.col() + trailing.len() <= WIDTH {
                lines.push(&trailing);
            } else {
                self.comment(doc);
            }
        }
        self.put(lines);
    }

    /// `// text`, word-wrapped to the width if it does not fit.
    fn comment(&mut self, text: &str) {
        for l in comment_lines(text, self.indent_cols()) {
            self.line(&l);
        }
    }

    fn line(&mut self, text: &str) {
        if text.is_empty() {
            self.out.push('\n');
            return;
        }
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Comment(text) => {
                for l in text.lines() {
                    self.comment(l);
                }
            }
            Item::Blank => self.line(""),
            Item::Decl {
                kind,
                name,
                width,
                depth,
            } => {
                let kw = match kind {
                    NetKind::Wire => "wire",
                    NetKind::Reg => "reg ",
                };
                let depth = depth.as_ref().map_or(String::new(), |d| match d {
                    Expr::Int(d) => format!(" [0:{}]", d - 1),
                    d => format!(" [0:{}-1]", expr(d)),
                });
                self.line(&format!("{kw} {}{name}{depth};", range_prefix(width)));
            }
            Item::Integer(name) => self.line(&format!("integer {name};")),
            Item::Initial(body) => {
                self.line("initial begin");
                self.block(body, "=");
                self.line("end");
            }
            Item::LocalParam(name, width, value) => {
                let kind = match width {
                    None => "integer ".to_string(),
                    Some(w) => range_prefix(&int(*w as i64)),
                };
                let mut l = self.start(&format!("localparam {kind}{name} = "));
                l.expr(value, true, self.indent_cols(), 1);
                l.push(";");
                self.put(l);
            }
            Item::Assign(lhs, rhs) => {
                let mut l = self.start("assign ");
                let rhs_lead = lead(rhs, false, ";".len());
                l.expr(lhs, true, self.indent_cols(), " = ".len() + rhs_lead);
                l.push(" = ");
                l.expr(rhs, false, self.indent_cols(), 1);
                l.push(";");
                self.put(l);
            }
            Item::AlwaysFf { reset, body } => {
                if *reset {
                    self.line("always @(posedge clk_i or negedge rst_ni) begin");
                } else {
                    self.line("always @(posedge clk_i) begin");
                }
                self.block(body, "<=");
                self.line("end");
            }
            Item::AlwaysComb(body) => {
                self.line("always @* begin");
                self.block(body, "=");
                self.line("end");
            }
            Item::Instance(inst) => self.instance(inst),
            Item::Generate {
                genvar,
                count,
                label,
                items,
            } => {
                let outer = self.generate_depth == 0;
                if outer {
                    self.line("generate");
                    self.indent += 1;
                }
                self.generate_depth += 1;
                if !outer || self.genvars.insert(genvar.clone()) {
                    self.line(&format!("genvar {genvar};"));
                }
                self.line(&format!(
                    "for ({genvar} = 0; {genvar} < {}; {genvar} = {genvar} + 1) begin : {label}",
                    expr(count)
                ));
                self.indent += 1;
                self.items(items);
                self.indent -= 1;
                self.line("end");
                self.generate_depth -= 1;
                if outer {
                    self.indent -= 1;
                    self.line("endgenerate");
                }
            }
        }
    }

    fn instance(&mut self, inst: &Instance) {
        if inst.params.is_empty() {
            self.line(&format!("{} {} (", inst.module, inst.name));
        } else {
            self.line(&format!("{} #(", inst.module));
            self.indent += 1;
            for (i, (name, value)) in inst.params.iter().enumerate() {
                let comma = if i + 1 < inst.params.len() { "," } else { "" };
                let mut l = self.start(&format!(".{name}("));
                l.expr(value, false, self.indent_cols(), 1 + comma.len());
                l.push(&format!("){comma}"));
                self.put(l);
            }
            self.indent -= 1;
            self.line(&format!(") {} (", inst.name));
        }
        self.indent += 1;
        let pad = inst.conns.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (i, (port, value)) in inst.conns.iter().enumerate() {
            let comma = if i + 1 < inst.conns.len() { "," } else { "" };
            let mut l = self.start(&format!(".{port:pad$} ("));
            l.expr(value, false, self.indent_cols(), 1 + comma.len());
            l.push(&format!("){comma}"));
            self.put(l);
        }
        self.indent -= 1;
        self.line(");");
    }

    fn block(&mut self, body: &[Stmt], op: &str) {
        self.indent += 1;
        for s in body {
            self.stmt(s, op);
        }
        self.indent -= 1;
    }

    fn stmt(&mut self, s: &Stmt, op: &str) {
        match s {
            Stmt::Set(lhs, rhs) => {
                let mut l = self.start("");
                let rhs_lead = lead(rhs, false, ";".len());
                l.expr(lhs, true, self.indent_cols(), op.len() + 2 + rhs_lead);
                l.push(&format!(" {op} "));
                l.expr(rhs, false, self.indent_cols(), 1);
                l.push(";");
                self.put(l);
            }
            Stmt::Comment(text) => self.comment(text),
            Stmt::For(var, count, body) => {
                self.line(&format!(
                    "for ({var} = 0; {var} < {}; {var} = {var} + 1) begin",
                    expr(count)
                ));
                self.block(body, op);
                self.line("end");
            }
            Stmt::If(cond, then, otherwise) => {
                self.condition("if (", cond, ") begin");
                self.block(then, op);
                let mut rest = otherwise.as_slice();
                // `else if` chains print flat.
                while let [Stmt::If(c, t, e)] = rest {
                    self.condition("end else if (", c, ") begin");
                    self.block(t, op);
                    rest = e.as_slice();
                }
                if !rest.is_empty() {
                    self.line("end else begin");
                    self.block(rest, op);
                }
                self.line("end");
            }
            Stmt::Case(sel, arms, default) => {
                self.condition("case (", sel, ")");
                self.indent += 1;
                for (labels, body) in arms {
                    let labels: Vec<String> = labels.iter().map(top).collect();
                    self.line(&format!("{}: begin", labels.join(", ")));
                    self.block(body, op);
                    self.line("end");
                }
                self.line("default: begin");
                self.block(default, op);
                self.line("end");
                self.indent -= 1;
                self.line("endcase");
            }
        }
    }

    /// `open`, the condition `e` (laid out to fit) and `close`.
    fn condition(&mut self, open: &str, e: &Expr, close: &str) {
        let mut l = self.start(open);
        l.expr(e, false, self.indent_cols(), close.len());
        l.push(close);
        self.put(l);
    }
}

/// The column no printed line goes past (unless a single name or literal is longer).
pub const WIDTH: usize = 100;

/// `// text` for a comment at `indent` columns: one line if it fits, else word-wrapped to
/// [`WIDTH`], each line keeping the text's own leading spaces (a word longer than a line stays
/// whole).
fn comment_lines(text: &str, indent: usize) -> Vec<String> {
    let one = format!("// {text}").trim_end().to_string();
    if indent + one.len() <= WIDTH {
        return vec![one];
    }
    let lead = &text[..text.len() - text.trim_start().len()];
    let room = WIDTH.saturating_sub(indent + "// ".len() + lead.len());
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.len() + 1 + word.len() > room {
            lines.push(format!("// {lead}{cur}"));
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    lines.push(format!("// {lead}{cur}"));
    lines
}

/// Text being laid out: lines, each with its own indentation; the last is being written.
struct Lines(Vec<String>);

/// How far continuation lines go in from the start of what they continue.
const CONT: usize = 4;

/// How far a concatenation's elements go in from its braces.
const BLOCK: usize = 2;

impl Lines {
    fn last(&mut self) -> &mut String {
        self.0.last_mut().expect("a layout has a line")
    }

    /// The column the next text goes to.
    fn col(&self) -> usize {
        self.0.last().map_or(0, String::len)
    }

    fn push(&mut self, text: &str) {
        self.last().push_str(text);
    }

    fn newline(&mut self, indent: usize) {
        self.0.push(" ".repeat(indent));
    }

    /// Lays `e` out from the current column: as [`expr`] prints it (`nested`) or as [`top`]
    /// does, on this line if that fits with `tail` more columns after it. Otherwise `e` breaks
    /// at its outermost construct, relative to `base` (the indentation of the line the
    /// construct belongs to), and its parts are laid out the same way:
    /// - a concatenation opens with `{`, puts each element on its own line at `base + 2` and
    ///   closes with `}` at `base`;
    /// - a ternary keeps `cond ? a` here (`? a` goes to a line at `base + 4` if it does not
    ///   fit) and continues with `: b` on a line at `base + 4`; an else-branch that is itself a
    ///   ternary continues the chain at the same indentation;
    /// - a binary operator keeps its left operand here and continues with the operator and the
    ///   right operand on a line at `base + 4` (so a left-nested chain puts one operand a line);
    /// - a unary operator, `$signed`, a replication or a select breaks inside its operand.
    ///
    /// Names and literals never break, so only those can overrun.
    fn expr(&mut self, e: &Expr, nested: bool, base: usize, tail: usize) {
        let flat = if nested { expr(e) } else { top(e) };
        if self.col() + flat.len() + tail <= WIDTH {
            self.push(&flat);
            return;
        }
        let close = if nested { ")" } else { "" };
        match e {
            Expr::Concat(parts) => {
                self.push("{");
                for (i, part) in parts.iter().enumerate() {
                    let comma = if i + 1 < parts.len() { "," } else { "" };
                    self.newline(base + BLOCK);
                    self.expr(part, false, base + BLOCK, comma.len());
                    self.push(comma);
                }
                self.newline(base);
                self.push("}");
            }
            Expr::Cond(..) => {
                if nested {
                    self.push("(");
                }
                self.chain(e, base, tail + close.len());
                self.push(close);
            }
            Expr::Binary(op, a, b) => {
                if nested {
                    self.push("(");
                }
                self.expr(a, true, base, 0);
                self.newline(base + CONT);
                self.push(&format!("{} ", op.symbol()));
                self.expr(b, true, base + CONT, tail + close.len());
                self.push(close);
            }
            Expr::Unary(op, a) => {
                let (open, close) = unary(*op);
                self.wrap(open, a, true, close, base, tail);
            }
            Expr::Signed(a) => self.wrap("$signed(", a, false, ")", base, tail),
            Expr::Repeat(n, a) => {
                let open = format!("{{{}{{", expr(n));
                self.wrap(&open, a, false, "}}", base, tail);
            }
            Expr::Index(name, i) => {
                let open = format!("{}[", expr(name));
                self.wrap(&open, i, false, "]", base, tail);
            }
            Expr::Part(name, at, w) => {
                let (open, close) = (format!("{}[", expr(name)), format!(" +: {}]", expr(w)));
                self.wrap(&open, at, false, &close, base, tail);
            }
            Expr::Id(_) | Expr::Lit { .. } | Expr::Int(_) | Expr::Range(..) => self.push(&flat),
        }
    }

    /// `open`, `e` (laid out), `close`.
    fn wrap(&mut self, open: &str, e: &Expr, nested: bool, close: &str, base: usize, tail: usize) {
        self.push(open);
        self.expr(e, nested, base, tail + close.len());
        self.push(close);
    }

    /// A ternary too long for its line, without its outer parentheses: `c ? a` (or, if that
    /// does not fit, `c` and then `? a` on a line at `base + 4`), then `: b` at `base + 4`, and
    /// an else-branch ternary broken as the next link of the chain (in its parentheses) with
    /// its `: ` at the same indentation.
    fn chain(&mut self, e: &Expr, base: usize, tail: usize) {
        let Expr::Cond(c, a, b) = e else {
            unreachable!("a chain starts at a ternary")
        };
        let cont = base + CONT;
        let fits = |lines: &Self, tail: usize| lines.col() + expr(c).len() + tail <= WIDTH;
        // `c ? a` on this line, or `c ? {` opening a concatenation that breaks.
        let opens = matches!(**a, Expr::Concat(_));
        if fits(self, " ? ".len() + expr(a).len()) || (opens && fits(self, " ? {".len())) {
            self.push(&expr(c));
            self.push(" ? ");
        } else {
            self.expr(c, true, cont, 0);
            self.newline(cont);
            self.push("? ");
        }
        self.expr(a, true, cont, 0);
        self.newline(cont);
        self.push(": ");
        if matches!(**b, Expr::Cond(..)) {
            self.push("(");
            self.chain(b, base, tail + 1);
            self.push(")");
        } else {
            self.expr(b, true, cont, tail);
        }
    }
}

/// The columns `e` needs on the line it starts on however it is laid out (its whole text if
/// it cannot break, then with `tail` more after it).
fn lead(e: &Expr, nested: bool, tail: usize) -> usize {
    let paren = usize::from(nested);
    match e {
        Expr::Concat(_) => "{".len(),
        Expr::Binary(_, first, _) | Expr::Cond(first, ..) => paren + lead(first, true, 0),
        Expr::Unary(op, a) => unary(*op).0.len() + lead(a, true, 0),
        Expr::Signed(a) => "$signed(".len() + lead(a, false, 0),
        Expr::Repeat(n, a) => expr(n).len() + 2 + lead(a, false, 0),
        Expr::Index(name, i) | Expr::Part(name, i, _) => expr(name).len() + 1 + lead(i, false, 0),
        Expr::Id(_) | Expr::Lit { .. } | Expr::Int(_) | Expr::Range(..) => expr(e).len() + tail,
    }
}

/// An expression at the top of a statement: no outer parentheses.
fn top(e: &Expr) -> String {
    match e {
        Expr::Binary(op, a, b) => format!("{} {} {}", expr(a), op.symbol(), expr(b)),
        Expr::Cond(c, a, b) => format!("{} ? {} : {}", expr(c), expr(a), expr(b)),
        other => expr(other),
    }
}

/// An expression anywhere: compound forms are parenthesized.
pub fn expr(e: &Expr) -> String {
    let mut s = String::new();
    match e {
        Expr::Id(name) => s.push_str(name),
        Expr::Lit { width, value } => {
            if *width == 1 {
                write!(s, "1'b{value}").unwrap();
            } else if *width > 32 {
                write!(s, "{width}'h{value:x}").unwrap();
            } else {
                write!(s, "{width}'d{value}").unwrap();
            }
        }
        Expr::Int(v) => write!(s, "{v}").unwrap(),
        Expr::Index(base, _) | Expr::Range(base, ..) | Expr::Part(base, ..)
            if !matches!(**base, Expr::Id(_)) =>
        {
            panic!("a select applies to a name only, not to {base:?}")
        }
        Expr::Index(base, i) => write!(s, "{}[{}]", expr(base), top(i)).unwrap(),
        Expr::Range(base, hi, lo) => write!(s, "{}[{hi}:{lo}]", expr(base)).unwrap(),
        Expr::Part(base, at, w) => write!(s, "{}[{} +: {}]", expr(base), top(at), expr(w)).unwrap(),
        Expr::Concat(parts) => {
            let parts: Vec<String> = parts.iter().map(top).collect();
            write!(s, "{{{}}}", parts.join(", ")).unwrap();
        }
        Expr::Repeat(n, e) => write!(s, "{{{}{{{}}}}}", expr(n), top(e)).unwrap(),
        Expr::Unary(op, a) => {
            let (open, close) = unary(*op);
            write!(s, "{open}{}{close}", expr(a)).unwrap()
        }
        Expr::Binary(..) | Expr::Cond(..) => write!(s, "({})", top(e)).unwrap(),
        Expr::Signed(a) => write!(s, "$signed({})", top(a)).unwrap(),
    }
    s
}

/// The text before and after a unary operator's operand: reductions are parenthesized.
fn unary(op: UnOp) -> (&'static str, &'static str) {
    match op {
        UnOp::Not => ("~", ""),
        UnOp::LogicNot => ("!", ""),
        UnOp::Neg => ("-", ""),
        UnOp::ReduceOr => ("(|", ")"),
        UnOp::ReduceAnd => ("(&", ")"),
        UnOp::ReduceXor => ("(^", ")"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::*;

    #[test]
    fn nested_operators_are_parenthesized_and_tops_are_not() {
        let e = (id("a") + id("b")).mul(id("c"));
        assert_eq!(top(&e), "(a + b) * c");
        assert_eq!(expr(&lit(40, 255)), "40'hff");
        assert_eq!(expr(&id("x").lane(id("g"), 8)), "x[g * 8 +: 8]");
        assert_eq!(expr(&zero(100)), "{100{1'b0}}");
    }

    #[test]
    fn a_module_prints_ports_and_blocks() {
        let mut m = Module::clocked("mtn_demo", &["A demo."]);
        let d = m.input("d_i", 4);
        m.output("q_o", 4);
        let (nd, q) = m.flop("x", 4, true);
        m.assign(nd, d);
        m.assign(id("q_o"), q);
        let text = module(&m, &["header".into()]);
        assert!(text.starts_with("// header\n\n// A demo.\nmodule mtn_demo (\n"));
        assert!(text.contains("  input  wire [3:0] d_i,\n"), "{text}");
        assert!(
            text.contains("    if (!rst_ni) begin\n      x_q <= 4'd0;\n"),
            "{text}"
        );
        assert!(text.ends_with("endmodule\n"));
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    use crate::ast::*;

    /// `item` printed one level in, as in a module body.
    fn print(item: &Item) -> String {
        let mut p = Printer {
            indent: 1,
            ..Printer::default()
        };
        p.item(item);
        p.out
    }

    fn ids(names: &[&str]) -> Vec<Expr> {
        names.iter().map(|n| id(*n)).collect()
    }

    fn longest(text: &str) -> usize {
        text.lines().map(str::len).max().unwrap_or(0)
    }

    #[test]
    fn what_fits_stays_on_one_line() {
        let e = mux(id("sel_i"), cat(ids(&["a", "b"])), id("c") + id("d"));
        let item = Item::Assign(id("y"), e);
        assert_eq!(print(&item), "  assign y = sel_i ? {a, b} : (c + d);\n");
    }

    #[test]
    fn a_long_concatenation_puts_one_element_a_line() {
        let mut parts = ids(&[
            "header_field_q",
            "payload_field_q",
            "checksum_field_q",
            "sequence_field_q",
            "trailer_field_q",
        ]);
        parts.push(cat(vec![lit(2, 0), id("pad_q")]));
        let item = Item::Assign(id("packet_o"), cat(parts));
        assert_eq!(
            print(&item),
            "  assign packet_o = {
    header_field_q,
    payload_field_q,
    checksum_field_q,
    sequence_field_q,
    trailer_field_q,
    {2'd0, pad_q}
  };
"
        );
    }

    #[test]
    fn a_long_ternary_breaks_as_a_chain() {
        let e = mux(
            id("sel_alpha_i"),
            id("value_from_alpha_q"),
            mux(
                id("sel_beta_i"),
                id("value_from_beta_q"),
                mux(
                    id("sel_gamma_i"),
                    id("value_from_gamma_q"),
                    id("value_default_q"),
                ),
            ),
        );
        assert_eq!(
            print(&Item::Assign(id("out_o"), e)),
            "  assign out_o = sel_alpha_i ? value_from_alpha_q
      : (sel_beta_i ? value_from_beta_q
      : (sel_gamma_i ? value_from_gamma_q
      : value_default_q));
"
        );
        // A condition too long to share its line puts `? a` on the next.
        let a = id("candidate_value_a_q");
        let b = id("candidate_value_b_q");
        let e = mux(a.clone().signed().lt(b.clone().signed()), b.clone(), a);
        assert_eq!(
            print(&Item::Assign(id("largest_candidate_o"), e)),
            "  assign largest_candidate_o = ($signed(candidate_value_a_q) < $signed(candidate_value_b_q))
      ? candidate_value_b_q
      : candidate_value_a_q;
"
        );
    }

    #[test]
    fn a_long_binary_chain_breaks_before_each_operator() {
        let names = [
            "operand_alpha_q",
            "operand_beta_q",
            "operand_gamma_q",
            "operand_delta_q",
            "operand_epsilon_q",
            "operand_zeta_q",
        ];
        let sum = ids(&names).into_iter().reduce(|a, b| a + b).unwrap();
        let text = print(&Item::AlwaysComb(vec![set(id("total_d"), sum)]));
        assert_eq!(
            text,
            "  always @* begin
    total_d = ((((operand_alpha_q + operand_beta_q) + operand_gamma_q) + operand_delta_q)
        + operand_epsilon_q)
        + operand_zeta_q;
  end
"
        );
        // Conditions break the same way.
        let cond = ids(&names).into_iter().reduce(|a, b| a.land(b)).unwrap();
        let text = print(&Item::AlwaysComb(vec![if_(
            cond,
            vec![set(id("x"), id("y"))],
        )]));
        assert!(
            text.contains("\n        && operand_zeta_q) begin\n"),
            "{text}"
        );
        assert!(longest(&text) <= WIDTH, "{text}");
    }

    #[test]
    fn a_long_instance_connection_breaks_inside_its_parentheses() {
        let inst = Instance {
            module: "mtn_demo".into(),
            name: "u_demo".into(),
            params: vec![("W".into(), int(8))],
            conns: vec![
                ("clk_i".into(), id("clk_i")),
                (
                    "data_i".into(),
                    cat(ids(&[
                        "first_operand_of_the_unit_q",
                        "second_operand_of_the_unit_q",
                        "third_operand_of_the_unit_q",
                    ])),
                ),
                (
                    "sel_i".into(),
                    mux(
                        id("first_unit_issue_i"),
                        id("first_unit_select_i"),
                        mux(
                            id("second_unit_issue_i"),
                            id("second_unit_select_i"),
                            id("third_unit_select_i"),
                        ),
                    ),
                ),
            ],
        };
        assert_eq!(
            print(&Item::Instance(inst)),
            "  mtn_demo #(
    .W(8)
  ) u_demo (
    .clk_i  (clk_i),
    .data_i ({
      first_operand_of_the_unit_q,
      second_operand_of_the_unit_q,
      third_operand_of_the_unit_q
    }),
    .sel_i  (first_unit_issue_i ? first_unit_select_i
        : (second_unit_issue_i ? second_unit_select_i
        : third_unit_select_i))
  );
"
        );
    }

    #[test]
    fn long_comments_wrap_and_long_port_docs_move_above_their_port() {
        let words = ["every word of this comment survives the wrapping intact"; 4].join(" ");
        let mut m = Module::new("mtn_demo", &[&words]);
        m.input("short_i", 1);
        m.doc_port("fits after the port");
        m.input("long_i", 1);
        m.doc_port(&words);
        m.items.push(Item::Comment(words.clone()));
        let text = module(&m, &[]);
        assert!(longest(&text) <= WIDTH, "{text}");
        assert!(
            text.contains("  input  wire short_i,  // fits after the port\n"),
            "{text}"
        );
        assert!(text.contains("intact\n  input  wire long_i\n"), "{text}");
        let comments: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("// "))
            .collect();
        assert_eq!(comments.len(), 9, "{text}");
        for wrapped in comments.chunks(3) {
            assert_eq!(wrapped.join(" "), words);
        }
    }

    #[test]
    fn an_unbreakable_right_side_breaks_the_left() {
        let lhs = cat(ids(&[
            "retire_chip_o",
            "retire_pc_o",
            "write_bank_o",
            "write_row_o",
            "write_data_o",
        ]));
        let text = print(&Item::Assign(
            lhs,
            id("arrival_of_the_packet_q").bits(50, 0),
        ));
        assert_eq!(
            text,
            "  assign {
    retire_chip_o,
    retire_pc_o,
    write_bank_o,
    write_row_o,
    write_data_o
  } = arrival_of_the_packet_q[50:0];
"
        );
    }
}
