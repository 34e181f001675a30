//! One function's machine code → the calls it makes: direct calls, tail
//! jumps out of its range, calls and jumps through a slot (the GOT of a
//! position-independent binary, a constant vtable) resolved by what the
//! slot holds at run time, and the indirect calls left unresolved.
//!
//! Register values are followed within straight-line code only: a
//! `lea reg, [rip + table]` or a load from a GOT slot is remembered until
//! the register is written, a call clobbers it or a branch lands in
//! between. A `jmp reg` whose register came from a jump table (the
//! `movsxd`/`add` pair LLVM emits for a `match`) stays inside the function
//! and is not a call.

use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpKind,
    Register,
};

use super::elf::{Binary, Slot};
use super::values::{
    apply, constant_registers, gpr, known_of, meet, spill_slots, Known, Landings, Regs, Val, Vals,
    GPRS,
};

/// Where a call goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum To {
    /// An address of this file.
    Addr(u64),
    /// A function of another object, by name.
    Import(String),
    /// Unknown: a call through a register or memory the analysis cannot
    /// follow.
    Indirect,
}

/// One call (or tail jump) of a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Edge {
    /// The address of the call instruction (file address).
    pub site: u64,
    pub to: To,
}

/// The calls of the function at `[start, end)`.
///
/// Register values flow forward through the code and meet where branches
/// land; the sweep repeats until those meets stop changing (loops), at most
/// four times.
pub(crate) fn calls(bin: &Binary, start: u64, end: u64) -> Vec<Edge> {
    let Some(bytes) = bin.bytes_at(start) else {
        return Vec::new();
    };
    let bytes = &bytes[..bytes.len().min((end - start) as usize)];
    let mut info = InstructionInfoFactory::new();
    let whole = constant_registers(bytes, start, &mut info);
    let slots = spill_slots(bytes, start);
    let mut landings = Landings::new();
    let mut out = Vec::new();
    for _ in 0..4 {
        let (edges, next) = sweep(bin, bytes, start, end, &landings, &whole, &slots, &mut info);
        out = edges;
        if next == landings {
            break;
        }
        landings = next;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn sweep(
    bin: &Binary,
    bytes: &[u8],
    start: u64,
    end: u64,
    before: &Landings,
    whole: &Regs,
    slots: &[i64],
    info: &mut InstructionInfoFactory,
) -> (Vec<Edge>, Landings) {
    let n = GPRS + slots.len();
    let slot = |d: i64| slots.iter().position(|&x| x == d).map(|i| GPRS + i);
    let inside = |a: u64| a >= start && a < end;
    let mut out = Vec::new();
    let mut landings = Landings::new();
    // The function's entry: every register unknown. Code after a jump that
    // no branch seen lands in starts unconstrained.
    let mut vals: Vals = vec![Val::Unknown; n];
    let mut falls_through = true;
    let mut ins = Instruction::default();
    let mut dec = Decoder::with_ip(64, bytes, start, DecoderOptions::NONE);
    while dec.can_decode() {
        dec.decode_out(&mut ins);
        if ins.is_invalid() {
            vals = vec![Val::Unknown; n];
            continue;
        }
        let here = ins.ip();
        vals = entry_state(falls_through.then_some(vals), n, &landings, before, here);
        let known = known_of(&vals);
        let known_here = &or_whole(known, whole);
        let flow = ins.flow_control();
        match flow {
            FlowControl::Call => out.push(Edge {
                site: here,
                to: To::Addr(ins.near_branch_target()),
            }),
            FlowControl::UnconditionalBranch | FlowControl::ConditionalBranch => {
                let target = ins.near_branch_target();
                if inside(target) {
                    let merged = match landings.get(&target) {
                        Some(s) => meet(s, &vals),
                        None => vals.clone(),
                    };
                    landings.insert(target, merged);
                } else {
                    out.push(Edge {
                        site: here,
                        to: To::Addr(target),
                    });
                }
            }
            FlowControl::IndirectCall => out.push(Edge {
                site: here,
                to: indirect(bin, &ins, known_here).unwrap_or(To::Indirect),
            }),
            FlowControl::IndirectBranch => match indirect(bin, &ins, known_here) {
                Some(to) => out.push(Edge { site: here, to }),
                None if is_table_jump(&ins, known_here) => {}
                None => out.push(Edge {
                    site: here,
                    to: To::Indirect,
                }),
            },
            _ => {}
        }
        falls_through = !matches!(
            flow,
            FlowControl::UnconditionalBranch
                | FlowControl::IndirectBranch
                | FlowControl::Return
                | FlowControl::Exception
                | FlowControl::Interrupt
        );
        apply(&mut vals, &ins, flow, &known, &slot, info);
    }
    (out, landings)
}

fn is_table_jump(ins: &Instruction, known: &[Option<Known>; GPRS]) -> bool {
    match ins.op0_kind() {
        OpKind::Register => gpr(ins.op0_register())
            .and_then(|i| known[i])
            .is_some_and(|k| k == Known::Table),
        // `jmp [table + index * 8]` (code that is not position-independent)
        OpKind::Memory => ins.memory_index() != Register::None,
        _ => false,
    }
}

/// The values where `here` starts: what falls through (unconstrained after
/// a jump, return or trap) met with every branch known to land there.
fn entry_state(
    falls_through: Option<Vals>,
    n: usize,
    landings: &Landings,
    before: &Landings,
    here: u64,
) -> Vals {
    let mut state = falls_through.unwrap_or_else(|| vec![Val::Top; n]);
    for jumps in [landings.get(&here), before.get(&here)]
        .into_iter()
        .flatten()
    {
        state = meet(&state, jumps);
    }
    state
}

/// What straight-line code does not know, the whole function may: a
/// register written once, with a constant.
fn or_whole(mut known: Regs, whole: &Regs) -> Regs {
    for (k, w) in known.iter_mut().zip(whole) {
        if k.is_none() {
            *k = *w;
        }
    }
    known
}

/// The target of a call or jump through a register or memory, when what it
/// reads is known.
fn indirect(bin: &Binary, ins: &Instruction, known: &[Option<Known>; GPRS]) -> Option<To> {
    let slot = match ins.op0_kind() {
        OpKind::Memory if ins.is_ip_rel_memory_operand() => ins.ip_rel_memory_address(),
        OpKind::Memory if ins.memory_index() == Register::None => {
            match gpr(ins.memory_base()).and_then(|i| known[i])? {
                Known::Addr(a) => a.wrapping_add(ins.memory_displacement64()),
                _ => return None,
            }
        }
        OpKind::Register => match gpr(ins.op0_register()).and_then(|i| known[i])? {
            Known::Loaded(slot) => slot,
            Known::Addr(a) => return Some(To::Addr(a)),
            Known::Table => return None,
        },
        _ => return None,
    };
    Some(match bin.slot(slot)? {
        Slot::Addr(a) => To::Addr(a),
        Slot::Import(name) => To::Import(name),
    })
}

/// Where the PLT stub at `addr` jumps (`[endbr64;] [bnd] jmp [rip + slot]`).
pub(crate) fn plt_target(bin: &Binary, addr: u64) -> Option<To> {
    let bytes = bin.bytes_at(addr)?;
    let mut dec = Decoder::with_ip(
        64,
        &bytes[..bytes.len().min(16)],
        addr,
        DecoderOptions::NONE,
    );
    let mut ins = Instruction::default();
    for _ in 0..2 {
        dec.decode_out(&mut ins);
        if ins.mnemonic() == Mnemonic::Endbr64 {
            continue;
        }
        if ins.flow_control() == FlowControl::IndirectBranch && ins.is_ip_rel_memory_operand() {
            return Some(match bin.slot(ins.ip_rel_memory_address())? {
                Slot::Addr(a) => To::Addr(a),
                Slot::Import(name) => To::Import(name),
            });
        }
        return None;
    }
    None
}

/// The file addresses `lea reg, [rip + x]` instructions of a function load
/// (where a constructor names the vtable of the trait object it builds).
pub(crate) fn loaded_addresses(bin: &Binary, start: u64, end: u64) -> Vec<u64> {
    let Some(bytes) = bin.bytes_at(start) else {
        return Vec::new();
    };
    let bytes = &bytes[..bytes.len().min((end - start) as usize)];
    let mut dec = Decoder::with_ip(64, bytes, start, DecoderOptions::NONE);
    let mut ins = Instruction::default();
    let mut out = Vec::new();
    while dec.can_decode() {
        dec.decode_out(&mut ins);
        if ins.mnemonic() == Mnemonic::Lea && ins.is_ip_rel_memory_operand() {
            out.push(ins.ip_rel_memory_address());
        }
    }
    out
}
