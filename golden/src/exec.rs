//! The functional semantics of the ten ops: the executable specification.
//!
//! Each op runs atomically, rows in order, each row read before it is written (the order the
//! verifier holds the hardware's timing to). See [`isa::ops`] for the semantics table.

use isa::ops::{CtlFunc, Op, PermFunc, RedFunc, VopFunc};
use isa::timing::{Mem, Word};
use isa::{Addr, Space};

use crate::numerics::requantize_lane;
use crate::state::SystemState;

/// One row an instruction wrote, as stored (SRAM rows already saturated to int8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowWrite {
    pub word: Word,
    pub lanes: Vec<i32>,
}

/// Executes `op` of chip `chip` on `state`, returning the rows it wrote in write order.
/// The op must have passed the verifier (ranges in particular).
pub fn execute(state: &mut SystemState, chip: u32, op: &Op) -> Vec<RowWrite> {
    let mut ex = Exec {
        state,
        chip,
        writes: Vec::new(),
    };
    ex.op(op);
    ex.writes
}

struct Exec<'a> {
    state: &'a mut SystemState,
    chip: u32,
    writes: Vec<RowWrite>,
}

impl Exec<'_> {
    fn read(&self, addr: Addr, row: u64) -> Vec<i32> {
        self.state.chips[self.chip as usize].read_row(addr, row)
    }

    fn write_on(&mut self, chip: u32, addr: Addr, row: u64, lanes: &[i32]) {
        let target = &mut self.state.chips[chip as usize];
        target.write_row(addr, row, lanes);
        let mem = match addr.space {
            Space::Sram => Mem::Sram,
            Space::Acc => Mem::Acc,
            Space::Imm => unreachable!("the immediate is not a row"),
        };
        let word = Word {
            chip,
            mem,
            bank: addr.bank,
            row,
        };
        let stored = target.read_row(addr, row);
        self.writes.push(RowWrite {
            word,
            lanes: stored,
        });
    }

    fn write(&mut self, addr: Addr, row: u64, lanes: &[i32]) {
        self.write_on(self.chip, addr, row, lanes);
    }

    fn op(&mut self, op: &Op) {
        let n = self.state.chips[self.chip as usize].shadow.nrows();
        match op {
            Op::Ldw(x) => {
                for k in 0..n {
                    let row = self.read(x.src, x.src.nth(x.src_step, k as u64));
                    let chip = &mut self.state.chips[self.chip as usize];
                    for (j, v) in row.iter().enumerate() {
                        chip.shadow[[k, j]] = *v as i8;
                    }
                }
            }
            Op::Mma(x) => {
                if x.swap {
                    let chip = &mut self.state.chips[self.chip as usize];
                    chip.active = chip.shadow.clone();
                }
                for i in 0..x.count as u64 {
                    let input = self.read(x.src, x.src.nth(x.src_step, i));
                    let weights = &self.state.chips[self.chip as usize].active;
                    let mut y = vec![0i32; n];
                    for (j, out) in y.iter_mut().enumerate() {
                        for (k, xk) in input.iter().enumerate() {
                            *out = out.wrapping_add(xk * weights[[k, j]] as i32);
                        }
                    }
                    let dst_row = x.dst.nth(x.dst_step, i);
                    if x.accumulate {
                        let old = self.read(x.dst, dst_row);
                        y.iter_mut()
                            .zip(old)
                            .for_each(|(v, o)| *v = v.wrapping_add(o));
                    }
                    self.write(x.dst, dst_row, &y);
                }
            }
            Op::Rq(x) => {
                let p = self.state.chips[self.chip as usize].params[x.param as usize].clone();
                for i in 0..x.count as u64 {
                    let row = self.read(x.src, x.src.nth(x.src_step, i));
                    let out: Vec<i32> = row
                        .iter()
                        .enumerate()
                        .map(|(l, v)| {
                            requantize_lane(
                                *v,
                                p.bias[l],
                                p.multiplier[l],
                                p.shift[l],
                                p.zero_point,
                                p.act_min,
                                p.act_max,
                            )
                        })
                        .collect();
                    self.write(x.dst, x.dst.nth(x.dst_step, i), &out);
                }
            }
            Op::Vop(x) => {
                for i in 0..x.count as u64 {
                    let a = self.read(x.a, x.a.nth(x.a_step, i));
                    let b = match x.b.space {
                        Space::Imm => vec![x.imm; n],
                        _ => self.read(x.b, x.b.nth(x.b_step, i)),
                    };
                    let out: Vec<i32> = a
                        .iter()
                        .zip(&b)
                        .map(|(a, b)| vop(x.func, *a, *b, x.imm))
                        .collect();
                    self.write(x.dst, x.dst.nth(x.dst_step, i), &out);
                }
            }
            Op::Lut(x) => {
                for i in 0..x.count as u64 {
                    let row = self.read(x.src, x.src.nth(x.src_step, i));
                    let table = &self.state.chips[self.chip as usize].lut;
                    let out: Vec<i32> = row
                        .iter()
                        .map(|v| table[[x.table as usize, (v + 128) as usize]])
                        .collect();
                    self.write(x.dst, x.dst.nth(x.dst_step, i), &out);
                }
            }
            Op::Red(x) => {
                for i in 0..x.count as u64 {
                    let row = self.read(x.src, x.src.nth(x.src_step, i));
                    let r = match x.func {
                        RedFunc::Sum => row.iter().fold(0i32, |s, v| s.wrapping_add(*v)),
                        RedFunc::Max => row.iter().copied().max().expect("at least two lanes"),
                    };
                    self.write(x.dst, x.dst.nth(x.dst_step, i), &vec![r; n]);
                }
            }
            Op::Perm(x) => match x.func {
                PermFunc::Transpose => {
                    for c in 0..x.count as u64 {
                        let base = c * n as u64;
                        let tile: Vec<Vec<i32>> = (0..n as u64)
                            .map(|k| self.read(x.src, x.src.nth(x.src_step, base + k)))
                            .collect();
                        for j in 0..n {
                            let column: Vec<i32> = tile.iter().map(|row| row[j]).collect();
                            self.write(x.dst, x.dst.nth(x.dst_step, base + j as u64), &column);
                        }
                    }
                }
                PermFunc::Rotate | PermFunc::ShiftDown | PermFunc::ShiftUp => {
                    let a = x.amount as usize;
                    for i in 0..x.count as u64 {
                        let row = self.read(x.src, x.src.nth(x.src_step, i));
                        let out: Vec<i32> = (0..n)
                            .map(|l| match x.func {
                                PermFunc::Rotate => row[(l + a) % n],
                                PermFunc::ShiftDown => row.get(l + a).copied().unwrap_or(0),
                                PermFunc::ShiftUp => l.checked_sub(a).map_or(0, |s| row[s]),
                                PermFunc::Transpose => unreachable!(),
                            })
                            .collect();
                        self.write(x.dst, x.dst.nth(x.dst_step, i), &out);
                    }
                }
            },
            Op::Mov(x) => {
                for i in 0..x.count as u64 {
                    let row = self.read(x.src, x.src.nth(x.src_step, i));
                    self.write(x.dst, x.dst.nth(x.dst_step, i), &row);
                }
            }
            Op::Xfer(x) => {
                for i in 0..x.count as u64 {
                    let row = self.read(x.src, x.src.nth(x.src_step, i));
                    self.write_on(x.chip, x.dst, x.dst.nth(x.dst_step, i), &row);
                }
            }
            Op::Ctl(x) => match x.func {
                CtlFunc::Nop | CtlFunc::Halt | CtlFunc::Sync => {}
            },
        }
    }
}

/// One lane of `VOP`.
pub fn vop(func: VopFunc, a: i32, b: i32, imm: i32) -> i32 {
    match func {
        VopFunc::Add => a.wrapping_add(b),
        VopFunc::Sub => a.wrapping_sub(b),
        VopFunc::Mul => a.wrapping_mul(b),
        VopFunc::Max => a.max(b),
        VopFunc::Min => a.min(b),
        VopFunc::Sel => {
            if b != 0 {
                a
            } else {
                imm
            }
        }
        VopFunc::Shl => a.wrapping_shl(b as u32 & 31),
        VopFunc::Sra => a >> (b as u32 & 31),
        VopFunc::Clz => a.leading_zeros() as i32,
    }
}
