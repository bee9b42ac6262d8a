//! The pretty printer: [`Module`] to Verilog-2005 text, two-space indents, one item a line,
//! every nested operator parenthesized so precedence never needs reading.

use std::fmt::Write;

use crate::ast::{Dir, Expr, Instance, Item, Module, NetKind, Stmt, UnOp};

/// Prints one module; `header` lines are printed first as `//` comments.
pub fn module(m: &Module, header: &[String]) -> String {
    let mut p = Printer::default();
    for line in header {
        p.line(&format!("// {line}"));
    }
    p.line("");
    for line in &m.doc {
        p.line(format!("// {line}").trim_end());
    }
    if m.params.is_empty() {
        p.line(&format!("module {} (", m.name));
    } else {
        p.line(&format!("module {} #(", m.name));
        p.indent += 1;
        for (i, param) in m.params.iter().enumerate() {
            let comma = if i + 1 < m.params.len() { "," } else { "" };
            p.line(&format!(
                "parameter integer {} = {}{comma}  // {}",
                param.name,
                expr(&param.default),
                param.doc
            ));
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
        let mut text = format!("{decl:pad$} {}{comma}", port.name);
        if let Some(doc) = &port.doc {
            text = format!("{text}  // {doc}");
        }
        p.line(text.trim_end());
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
                    self.line(&format!("// {l}"));
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
            Item::LocalParam(name, value) => {
                self.line(&format!("localparam integer {name} = {};", expr(value)));
            }
            Item::Assign(lhs, rhs) => {
                self.line(&format!("assign {} = {};", expr(lhs), top(rhs)));
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
                self.line(&format!(".{name}({}){comma}", top(value)));
            }
            self.indent -= 1;
            self.line(&format!(") {} (", inst.name));
        }
        self.indent += 1;
        let pad = inst.conns.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (i, (port, value)) in inst.conns.iter().enumerate() {
            let comma = if i + 1 < inst.conns.len() { "," } else { "" };
            self.line(&format!(".{port:pad$} ({}){comma}", top(value)));
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
            Stmt::Set(lhs, rhs) => self.line(&format!("{} {op} {};", expr(lhs), top(rhs))),
            Stmt::Comment(text) => self.line(&format!("// {text}")),
            Stmt::For(var, count, body) => {
                self.line(&format!(
                    "for ({var} = 0; {var} < {}; {var} = {var} + 1) begin",
                    expr(count)
                ));
                self.block(body, op);
                self.line("end");
            }
            Stmt::If(cond, then, otherwise) => {
                self.line(&format!("if ({}) begin", top(cond)));
                self.block(then, op);
                let mut rest = otherwise.as_slice();
                // `else if` chains print flat.
                while let [Stmt::If(c, t, e)] = rest {
                    self.line(&format!("end else if ({}) begin", top(c)));
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
                self.line(&format!("case ({})", top(sel)));
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
            let sym = match op {
                UnOp::Not => "~",
                UnOp::LogicNot => "!",
                UnOp::Neg => "-",
                UnOp::ReduceOr => "|",
                UnOp::ReduceAnd => "&",
                UnOp::ReduceXor => "^",
            };
            match op {
                UnOp::ReduceOr | UnOp::ReduceAnd | UnOp::ReduceXor => {
                    write!(s, "({sym}{})", expr(a)).unwrap()
                }
                _ => write!(s, "{sym}{}", expr(a)).unwrap(),
            }
        }
        Expr::Binary(..) | Expr::Cond(..) => write!(s, "({})", top(e)).unwrap(),
        Expr::Signed(a) => write!(s, "$signed({})", top(a)).unwrap(),
    }
    s
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
