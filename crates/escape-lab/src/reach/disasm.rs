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
    Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpAccess,
    OpKind, Register,
};

use super::elf::{Binary, Slot};

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

/// What a register is known to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// An address of the file (`lea reg, [rip + x]`).
    Addr(u64),
    /// What a slot holds (`mov reg, [rip + slot]`): resolved on use.
    Loaded(u64),
    /// An offset read from a jump table, or a sum with one.
    Table,
}

const GPRS: usize = 16;

fn gpr(r: Register) -> Option<usize> {
    let full = r.full_register();
    let i = (full as u32).checked_sub(Register::RAX as u32)? as usize;
    (i < GPRS).then_some(i)
}

/// The caller-saved registers of the System V ABI, which a call clobbers.
const CLOBBERED: [Register; 9] = [
    Register::RAX,
    Register::RCX,
    Register::RDX,
    Register::RSI,
    Register::RDI,
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
];

type Regs = [Option<Known>; GPRS];

/// A register's value in the sweep: not yet constrained (code reached by
/// no path seen so far), one known value, or unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Top,
    Is(Known),
    Unknown,
}

/// The registers, then the stack slots (`[rsp + d]`, 8 bytes) the
/// function spills registers to, in the order of [`spill_slots`].
type Vals = Vec<Val>;

/// What is known of every register where branches land: the meet of the
/// states at every branch there.
type Landings = std::collections::HashMap<u64, Vals>;

fn meet(a: &Vals, b: &Vals) -> Vals {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| match (x, y) {
            (Val::Top, v) | (v, Val::Top) => v,
            (v, w) if v == w => v,
            _ => Val::Unknown,
        })
        .collect()
}

fn known_of(v: &Vals) -> Regs {
    std::array::from_fn(|i| match v[i] {
        Val::Is(k) => Some(k),
        _ => None,
    })
}

/// The stack slots a function stores a 64-bit register to
/// (`mov [rsp + d], reg`), at most 64: unoptimized code keeps every value
/// there between two uses.
fn spill_slots(bytes: &[u8], start: u64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut ins = Instruction::default();
    let mut dec = Decoder::with_ip(64, bytes, start, DecoderOptions::NONE);
    while dec.can_decode() && out.len() < 64 {
        dec.decode_out(&mut ins);
        if let Some(d) = spill(&ins) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// `d` of `mov qword [rsp + d], reg64`.
fn spill(ins: &Instruction) -> Option<i64> {
    (ins.mnemonic() == Mnemonic::Mov
        && ins.op0_kind() == OpKind::Memory
        && ins.memory_base() == Register::RSP
        && ins.memory_index() == Register::None
        && ins.op1_kind() == OpKind::Register
        && ins.op1_register().size() == 8)
        .then(|| ins.memory_displacement64() as i64)
}

/// `d` of a memory operand `[rsp + d]` without index.
fn stack_operand(ins: &Instruction, operand: u32) -> Option<i64> {
    (ins.op_kind(operand) == OpKind::Memory
        && ins.memory_base() == Register::RSP
        && ins.memory_index() == Register::None)
        .then(|| ins.memory_displacement64() as i64)
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
        let mut state = if falls_through {
            vals
        } else {
            vec![Val::Top; n]
        };
        for jumps in [landings.get(&here), before.get(&here)]
            .into_iter()
            .flatten()
        {
            state = meet(&state, jumps);
        }
        vals = state;
        let known = known_of(&vals);
        // What straight-line code does not know, the whole function may:
        // a register written once, with a constant.
        let mut known_here = known;
        for (k, w) in known_here.iter_mut().zip(whole) {
            if k.is_none() {
                *k = *w;
            }
        }
        let known_here = &known_here;
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
        let mut value = value_of(&ins, &known);
        // A reload from a spill slot.
        if ins.mnemonic() == Mnemonic::Mov && ins.op0_kind() == OpKind::Register {
            if let Some(Val::Is(v)) = stack_operand(&ins, 1).and_then(slot).map(|i| vals[i]) {
                value = Some(v);
            }
        }
        // A store to the stack: a spill keeps the register's value, any
        // other store to the slot forgets it; moving rsp (push, pop, sub)
        // forgets every slot (a call's push and return cancel out).
        if let Some(i) = stack_operand(&ins, 0).and_then(slot) {
            vals[i] = match spill(&ins).and_then(|_| gpr(ins.op1_register())) {
                Some(r) => vals[r],
                None => Val::Unknown,
            };
        }
        let moves_rsp = !matches!(flow, FlowControl::Call | FlowControl::IndirectCall)
            && info
                .info(&ins)
                .used_registers()
                .iter()
                .any(|u| u.register() == Register::RSP && is_write(u.access()));
        if moves_rsp {
            for v in &mut vals[GPRS..] {
                *v = Val::Unknown;
            }
        }
        for used in info.info(&ins).used_registers() {
            if is_write(used.access()) {
                if let Some(i) = gpr(used.register()) {
                    vals[i] = Val::Unknown;
                }
            }
        }
        if matches!(flow, FlowControl::Call | FlowControl::IndirectCall) {
            for r in CLOBBERED {
                vals[gpr(r).unwrap_or(0)] = Val::Unknown;
            }
        }
        if let (Some(v), Some(i)) = (value, dest(&ins)) {
            vals[i] = Val::Is(v);
        }
    }
    (out, landings)
}

fn is_write(access: OpAccess) -> bool {
    matches!(
        access,
        OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
    )
}

/// The registers a function writes only with one constant (`lea reg,
/// [rip + x]` or a load from one slot, the same each time), not counting
/// the `pop`s of its epilogues.
fn constant_registers(
    bytes: &[u8],
    start: u64,
    info: &mut InstructionInfoFactory,
) -> [Option<Known>; GPRS] {
    #[derive(Clone, Copy, PartialEq)]
    enum Seen {
        No,
        Once(Known),
        Varies,
    }
    let mut seen = [Seen::No; GPRS];
    let mut ins = Instruction::default();
    let mut dec = Decoder::with_ip(64, bytes, start, DecoderOptions::NONE);
    let none = [None; GPRS];
    while dec.can_decode() {
        dec.decode_out(&mut ins);
        if ins.is_invalid() || ins.mnemonic() == Mnemonic::Pop {
            continue;
        }
        let value = match value_of(&ins, &none) {
            Some(v @ (Known::Addr(_) | Known::Loaded(_))) => dest(&ins).map(|d| (d, v)),
            _ => None,
        };
        for used in info.info(&ins).used_registers() {
            if !is_write(used.access()) {
                continue;
            }
            let Some(i) = gpr(used.register()) else {
                continue;
            };
            seen[i] = match (seen[i], value) {
                (Seen::No, Some((d, v))) if d == i => Seen::Once(v),
                (Seen::Once(old), Some((d, v))) if d == i && old == v => Seen::Once(v),
                _ => Seen::Varies,
            };
        }
    }
    seen.map(|s| match s {
        Seen::Once(v) => Some(v),
        _ => None,
    })
}

/// The 64-bit register an instruction writes as its first operand.
fn dest(ins: &Instruction) -> Option<usize> {
    (ins.op0_kind() == OpKind::Register && ins.op0_register().size() == 8)
        .then(|| gpr(ins.op0_register()))
        .flatten()
}

/// What the instruction's destination register holds afterwards, when the
/// analysis can say.
fn value_of(ins: &Instruction, known: &Regs) -> Option<Known> {
    match ins.mnemonic() {
        Mnemonic::Lea if ins.is_ip_rel_memory_operand() => {
            Some(Known::Addr(ins.ip_rel_memory_address()))
        }
        Mnemonic::Mov if ins.op1_kind() == OpKind::Memory && ins.is_ip_rel_memory_operand() => {
            Some(Known::Loaded(ins.ip_rel_memory_address()))
        }
        Mnemonic::Mov if ins.op1_kind() == OpKind::Register && ins.op1_register().size() == 8 => {
            gpr(ins.op1_register()).and_then(|i| known[i])
        }
        Mnemonic::Movsxd
            if ins.op1_kind() == OpKind::Memory && ins.memory_index() != Register::None =>
        {
            Some(Known::Table)
        }
        Mnemonic::Add if ins.op1_kind() == OpKind::Register => {
            let a = dest(ins).and_then(|i| known[i]);
            let b = gpr(ins.op1_register()).and_then(|i| known[i]);
            matches!((a, b), (Some(Known::Table), _) | (_, Some(Known::Table)))
                .then_some(Known::Table)
        }
        _ => None,
    }
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
