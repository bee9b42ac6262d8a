//! A small typed Verilog-2005 syntax tree: modules with ANSI ports, declarations, continuous
//! assignments, clocked and combinational `always` blocks, named instances and `generate for`
//! loops. [`crate::emit`] prints it; nothing here builds text.
//!
//! Expressions overload `+ - * & | ^ << >>` and unary `! -` (bitwise `~` and negation), and
//! offer methods for the rest, so generator code reads close to the Verilog it produces:
//! `id("a_q") + id("step_i")`. The operator traits are re-exported so that method-call style
//! (`.mul()`, `.shl()`) also works after `use crate::ast::*`.

use std::ops;

// The operator traits, so that `use crate::ast::*` also brings `.mul()`, `.shl()`, `.shr()`
// and `.neg()` into scope for method-call style.
pub use std::ops::{Mul, Neg, Shl, Shr};

/// A Verilog expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A signal, port, parameter or genvar.
    Id(String),
    /// A sized literal, printed in decimal (`8'd3`) or, for widths over 32, hex.
    Lit {
        width: u32,
        value: u64,
    },
    /// An unsized integer (parameter and genvar arithmetic).
    Int(i64),
    /// `e[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `e[hi:lo]`.
    Range(Box<Expr>, u32, u32),
    /// `e[base +: width]`.
    Part(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `{a, b, ...}`, most significant first.
    Concat(Vec<Expr>),
    /// `{n{e}}`.
    Repeat(Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `c ? a : b`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `$signed(e)`.
    Signed(Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    LogicNot,
    Neg,
    ReduceOr,
    ReduceAnd,
    ReduceXor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    LogicAnd,
    LogicOr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Shl,
    Shr,
    /// `>>>`: arithmetic on signed operands.
    Ashr,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::And => "&",
            BinOp::Or => "|",
            BinOp::Xor => "^",
            BinOp::LogicAnd => "&&",
            BinOp::LogicOr => "||",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Ashr => ">>>",
        }
    }
}

/// A signal, port, parameter or genvar by name.
pub fn id(name: impl Into<String>) -> Expr {
    Expr::Id(name.into())
}

/// A `width`-bit literal; `value` must fit.
pub fn lit(width: u32, value: u64) -> Expr {
    debug_assert!(
        width >= 64 || value >> width == 0,
        "{value} does not fit {width} bits"
    );
    Expr::Lit { width, value }
}

/// An unsized integer.
pub fn int(value: i64) -> Expr {
    Expr::Int(value)
}

/// `{width{1'b0}}` for a parameter width.
pub fn zero_w(width: Expr) -> Expr {
    Expr::Repeat(Box::new(width), Box::new(lit(1, 0)))
}

/// `width` zero bits.
pub fn zero(width: u32) -> Expr {
    if width <= 64 {
        lit(width, 0)
    } else {
        Expr::Repeat(Box::new(int(width as i64)), Box::new(lit(1, 0)))
    }
}

/// `{parts}`, most significant first.
pub fn cat(parts: Vec<Expr>) -> Expr {
    Expr::Concat(parts)
}

/// `{count{e}}`.
pub fn repeat(count: u32, e: Expr) -> Expr {
    Expr::Repeat(Box::new(int(count as i64)), Box::new(e))
}

/// `c ? a : b`.
pub fn mux(c: Expr, a: Expr, b: Expr) -> Expr {
    Expr::Cond(Box::new(c), Box::new(a), Box::new(b))
}

impl Expr {
    fn bin(self, op: BinOp, rhs: Expr) -> Expr {
        Expr::Binary(op, Box::new(self), Box::new(rhs))
    }
    pub fn land(self, rhs: Expr) -> Expr {
        self.bin(BinOp::LogicAnd, rhs)
    }
    pub fn lor(self, rhs: Expr) -> Expr {
        self.bin(BinOp::LogicOr, rhs)
    }
    pub fn eq(self, rhs: Expr) -> Expr {
        self.bin(BinOp::Eq, rhs)
    }
    pub fn ne(self, rhs: Expr) -> Expr {
        self.bin(BinOp::Ne, rhs)
    }
    pub fn lt(self, rhs: Expr) -> Expr {
        self.bin(BinOp::Lt, rhs)
    }
    pub fn gt(self, rhs: Expr) -> Expr {
        self.bin(BinOp::Gt, rhs)
    }
    pub fn ashr(self, rhs: Expr) -> Expr {
        self.bin(BinOp::Ashr, rhs)
    }
    pub fn reduce_or(self) -> Expr {
        Expr::Unary(UnOp::ReduceOr, Box::new(self))
    }
    pub fn reduce_and(self) -> Expr {
        Expr::Unary(UnOp::ReduceAnd, Box::new(self))
    }
    pub fn reduce_xor(self) -> Expr {
        Expr::Unary(UnOp::ReduceXor, Box::new(self))
    }
    /// Logical `!`.
    pub fn lnot(self) -> Expr {
        Expr::Unary(UnOp::LogicNot, Box::new(self))
    }
    pub fn signed(self) -> Expr {
        Expr::Signed(Box::new(self))
    }
    /// `self[i]` (a select of a constant select folds into one).
    pub fn bit(self, i: u32) -> Expr {
        match self {
            Expr::Range(base, _, lo) => base.bit(lo + i),
            Expr::Part(base, at, _) if matches!(*at, Expr::Int(_)) => {
                let Expr::Int(lo) = *at else { unreachable!() };
                base.bit(lo as u32 + i)
            }
            e => Expr::Index(Box::new(e), Box::new(int(i as i64))),
        }
    }
    /// `self[i]` with an expression index.
    pub fn at(self, i: Expr) -> Expr {
        Expr::Index(Box::new(self), Box::new(i))
    }
    /// `self[hi:lo]` (a select of a constant select folds into one).
    pub fn bits(self, hi: u32, lo: u32) -> Expr {
        match self {
            Expr::Range(base, _, base_lo) => base.bits(base_lo + hi, base_lo + lo),
            Expr::Part(base, at, _) if matches!(*at, Expr::Int(_)) => {
                let Expr::Int(at) = *at else { unreachable!() };
                base.bits(at as u32 + hi, at as u32 + lo)
            }
            e => Expr::Range(Box::new(e), hi, lo),
        }
    }
    /// `self[base +: width]`.
    pub fn part(self, base: Expr, width: u32) -> Expr {
        self.part_w(base, int(width as i64))
    }
    /// `self[base +: width]` with a parameter width.
    pub fn part_w(self, base: Expr, width: Expr) -> Expr {
        Expr::Part(Box::new(self), Box::new(base), Box::new(width))
    }
    /// Lane `lane` of `width`-bit lanes, for a genvar or constant lane expression.
    pub fn lane(self, lane: Expr, width: u32) -> Expr {
        self.part(lane.mul(int(width as i64)), width)
    }
}

macro_rules! overload {
    ($trait:ident, $method:ident, $op:ident) => {
        impl ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                self.bin(BinOp::$op, rhs)
            }
        }
    };
}
overload!(Add, add, Add);
overload!(Sub, sub, Sub);
overload!(BitAnd, bitand, And);
overload!(BitOr, bitor, Or);
overload!(BitXor, bitxor, Xor);
overload!(Mul, mul, Mul);
overload!(Shl, shl, Shl);
overload!(Shr, shr, Shr);

impl ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Unary(UnOp::Neg, Box::new(self))
    }
}

impl ops::Not for Expr {
    type Output = Expr;
    /// Bitwise `~`.
    fn not(self) -> Expr {
        Expr::Unary(UnOp::Not, Box::new(self))
    }
}

/// A statement inside an `always` block. [`Stmt::Set`] prints as `<=` in clocked blocks and
/// `=` in combinational ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    Set(Expr, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `case (sel)` with arms of labels and a `default`.
    Case(Expr, Vec<(Vec<Expr>, Vec<Stmt>)>, Vec<Stmt>),
    Comment(String),
    /// `for (var = 0; var < count; var = var + 1)` over an `integer` (initial blocks only).
    For(String, Expr, Vec<Stmt>),
}

pub fn set(lhs: Expr, rhs: Expr) -> Stmt {
    Stmt::Set(lhs, rhs)
}

pub fn if_(cond: Expr, then: Vec<Stmt>) -> Stmt {
    Stmt::If(cond, then, Vec::new())
}

pub fn if_else(cond: Expr, then: Vec<Stmt>, otherwise: Vec<Stmt>) -> Stmt {
    Stmt::If(cond, then, otherwise)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetKind {
    Wire,
    Reg,
}

/// A module-level item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Comment(String),
    Blank,
    /// `wire`/`reg [width-1:0] name [depth];` (`depth` makes it a memory).
    Decl {
        kind: NetKind,
        name: String,
        width: Expr,
        depth: Option<Expr>,
    },
    /// `integer name;` (loop variables of initial blocks).
    Integer(String),
    /// `initial begin ... end` (memory contents only).
    Initial(Vec<Stmt>),
    /// `localparam integer name = value;`, or with a width, `localparam [w-1:0] name = value;`.
    LocalParam(String, Option<u32>, Expr),
    Assign(Expr, Expr),
    /// `always @(posedge clk_i or negedge rst_ni)` when `reset`, else `always @(posedge clk_i)`.
    AlwaysFf {
        reset: bool,
        body: Vec<Stmt>,
    },
    /// `always @*`: the body must set every signal it drives on every path.
    AlwaysComb(Vec<Stmt>),
    Instance(Instance),
    /// `for (genvar = 0; genvar < count; ...) begin : label`.
    Generate {
        genvar: String,
        count: Expr,
        label: String,
        items: Vec<Item>,
    },
}

/// Items being collected for a generate block, with a shorthand for named wires.
#[derive(Default)]
pub struct Items(pub Vec<Item>);

impl Items {
    /// Declares `wire [width-1:0] name` assigned `value`, and returns it.
    pub fn wire(&mut self, name: &str, width: u32, value: Expr) -> Expr {
        self.0.push(Item::Decl {
            kind: NetKind::Wire,
            name: name.into(),
            width: int(width as i64),
            depth: None,
        });
        self.0.push(Item::Assign(id(name), value));
        id(name)
    }

    pub fn push(&mut self, item: Item) {
        self.0.push(item);
    }

    /// `for (genvar = 0; genvar < count; ...) begin : label` around the items.
    pub fn generate(self, genvar: &str, count: u32, label: &str) -> Item {
        Item::Generate {
            genvar: genvar.into(),
            count: int(count as i64),
            label: label.into(),
            items: self.0,
        }
    }
}

/// A named instance with every port connected by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub module: String,
    pub name: String,
    pub params: Vec<(String, Expr)>,
    pub conns: Vec<(String, Expr)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Input,
    Output,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub dir: Dir,
    pub name: String,
    /// Bit count (a constant or a parameter expression).
    pub width: Expr,
    pub doc: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub default: Expr,
    pub doc: String,
}

/// A Verilog module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub name: String,
    /// Comment lines printed above the module.
    pub doc: Vec<String>,
    pub params: Vec<Param>,
    pub ports: Vec<Port>,
    pub items: Vec<Item>,
    /// How many of `items` are declarations placed at the top ([`Module::declare_at_top`]).
    pub top_items: usize,
    /// The pipelines built in this module, with the latency each was built with (checked
    /// against [`isa::timing::Datapath::latency`]).
    pub pipelines: Vec<(isa::timing::Datapath, u64)>,
    /// A hand-written module's Verilog ([`crate::cells`]), printed as is; its ports are
    /// declared here only for the structural check.
    pub verbatim: Option<&'static str>,
}

impl Module {
    pub fn new(name: impl Into<String>, doc: &[&str]) -> Self {
        Module {
            name: name.into(),
            doc: doc.iter().map(|s| s.to_string()).collect(),
            params: Vec::new(),
            ports: Vec::new(),
            items: Vec::new(),
            top_items: 0,
            pipelines: Vec::new(),
            verbatim: None,
        }
    }

    /// Puts `items` (localparams and their comment) after the declarations already at the
    /// top of the body, before everything else.
    pub fn declare_at_top(&mut self, items: Vec<Item>) {
        let at = self.top_items;
        self.top_items += items.len();
        self.items.splice(at..at, items);
    }

    /// The standard clock and asynchronous active-low reset.
    pub fn clocked(name: impl Into<String>, doc: &[&str]) -> Self {
        let mut m = Module::new(name, doc);
        m.input("clk_i", 1);
        m.input("rst_ni", 1);
        m
    }

    pub fn param(&mut self, name: &str, default: Expr, doc: &str) -> Expr {
        self.params.push(Param {
            name: name.into(),
            default,
            doc: doc.into(),
        });
        id(name)
    }

    fn port(&mut self, dir: Dir, name: &str, width: Expr) -> Expr {
        self.ports.push(Port {
            dir,
            name: name.into(),
            width,
            doc: None,
        });
        id(name)
    }

    pub fn input(&mut self, name: &str, width: u32) -> Expr {
        self.port(Dir::Input, name, int(width as i64))
    }

    pub fn output(&mut self, name: &str, width: u32) -> Expr {
        self.port(Dir::Output, name, int(width as i64))
    }

    /// A port whose width is a parameter expression.
    pub fn input_w(&mut self, name: &str, width: Expr) -> Expr {
        self.port(Dir::Input, name, width)
    }

    pub fn output_w(&mut self, name: &str, width: Expr) -> Expr {
        self.port(Dir::Output, name, width)
    }

    /// Attaches a comment to the most recent port.
    pub fn doc_port(&mut self, doc: &str) {
        if let Some(p) = self.ports.last_mut() {
            p.doc = Some(doc.into());
        }
    }

    pub fn comment(&mut self, text: &str) {
        self.items.push(Item::Blank);
        self.items.push(Item::Comment(text.into()));
    }

    pub fn wire(&mut self, name: &str, width: u32) -> Expr {
        self.wire_w(name, int(width as i64))
    }

    /// A wire `name` of `width` bits driven by `value`; returns the wire.
    pub fn wire_of(&mut self, name: &str, width: u32, value: Expr) -> Expr {
        let w = self.wire(name, width);
        self.assign(w.clone(), value);
        w
    }

    pub fn wire_w(&mut self, name: &str, width: Expr) -> Expr {
        self.items.push(Item::Decl {
            kind: NetKind::Wire,
            name: name.into(),
            width,
            depth: None,
        });
        id(name)
    }

    pub fn reg(&mut self, name: &str, width: u32) -> Expr {
        self.reg_w(name, int(width as i64))
    }

    pub fn reg_w(&mut self, name: &str, width: Expr) -> Expr {
        self.items.push(Item::Decl {
            kind: NetKind::Reg,
            name: name.into(),
            width,
            depth: None,
        });
        id(name)
    }

    /// A `_d`/`_q` register pair with asynchronous reset to zero; returns `(d, q)`.
    /// The caller drives `d` (in an `always @*` or an assign: `d_is_wire`).
    pub fn flop(&mut self, base: &str, width: u32, d_is_wire: bool) -> (Expr, Expr) {
        let d = if d_is_wire {
            self.wire(&format!("{base}_d"), width)
        } else {
            self.reg(&format!("{base}_d"), width)
        };
        let q = self.reg(&format!("{base}_q"), width);
        self.items.push(Item::AlwaysFf {
            reset: true,
            body: vec![if_else(
                id("rst_ni").lnot(),
                vec![set(q.clone(), zero(width))],
                vec![set(q.clone(), d.clone())],
            )],
        });
        (d, q)
    }

    pub fn assign(&mut self, lhs: Expr, rhs: Expr) {
        self.items.push(Item::Assign(lhs, rhs));
    }

    pub fn comb(&mut self, body: Vec<Stmt>) {
        self.items.push(Item::AlwaysComb(body));
    }

    /// A clocked block with no reset (memories and their read registers).
    pub fn clocked_block(&mut self, body: Vec<Stmt>) {
        self.items.push(Item::AlwaysFf { reset: false, body });
    }

    /// A register `name` with no reset that takes `d` every clock (data no one reads before
    /// it is written); returns it.
    pub fn data_reg(&mut self, name: &str, width: u32, d: Expr) -> Expr {
        let q = self.reg(name, width);
        self.clocked_block(vec![set(q.clone(), d)]);
        q
    }

    pub fn instance(&mut self, inst: Instance) {
        self.items.push(Item::Instance(inst));
    }

    pub fn port_width(&self, name: &str) -> Option<&Expr> {
        self.ports.iter().find(|p| p.name == name).map(|p| &p.width)
    }
}

impl Instance {
    pub fn new(module: &str, name: &str) -> Self {
        Instance {
            module: module.into(),
            name: name.into(),
            params: Vec::new(),
            conns: Vec::new(),
        }
    }
    pub fn param(mut self, name: &str, value: Expr) -> Self {
        self.params.push((name.into(), value));
        self
    }
    pub fn conn(mut self, port: &str, e: Expr) -> Self {
        self.conns.push((port.into(), e));
        self
    }
    /// Connects `clk_i` and `rst_ni` to the parent's.
    pub fn clocked(self) -> Self {
        self.conn("clk_i", id("clk_i")).conn("rst_ni", id("rst_ni"))
    }
}
