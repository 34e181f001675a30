//! What the disassembler knows of register and stack-slot values while it
//! sweeps a function: constants loaded with `lea`, GOT slots loaded with
//! `mov`, copies, spills to `[rsp + d]` and their reloads, jump-table
//! offsets; met where branches land.

use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpAccess,
    OpKind, Register,
};

/// What a register is known to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    /// An address of the file (`lea reg, [rip + x]`).
    Addr(u64),
    /// What a slot holds (`mov reg, [rip + slot]`): resolved on use.
    Loaded(u64),
    /// An offset read from a jump table, or a sum with one.
    Table,
}

pub(super) const GPRS: usize = 16;

pub(super) fn gpr(r: Register) -> Option<usize> {
    let full = r.full_register();
    let i = (full as u32).checked_sub(Register::RAX as u32)? as usize;
    (i < GPRS).then_some(i)
}

/// The caller-saved registers of the System V ABI, which a call clobbers.
pub(super) const CLOBBERED: [Register; 9] = [
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

pub(super) type Regs = [Option<Known>; GPRS];

/// A register's value in the sweep: not yet constrained (code reached by
/// no path seen so far), one known value, or unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Val {
    Top,
    Is(Known),
    Unknown,
}

/// The registers, then the stack slots (`[rsp + d]`, 8 bytes) the
/// function spills registers to, in the order of [`spill_slots`].
pub(super) type Vals = Vec<Val>;

/// What is known of every register where branches land: the meet of the
/// states at every branch there.
pub(super) type Landings = std::collections::HashMap<u64, Vals>;

pub(super) fn meet(a: &Vals, b: &Vals) -> Vals {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| match (x, y) {
            (Val::Top, v) | (v, Val::Top) => v,
            (v, w) if v == w => v,
            _ => Val::Unknown,
        })
        .collect()
}

pub(super) fn known_of(v: &Vals) -> Regs {
    std::array::from_fn(|i| match v[i] {
        Val::Is(k) => Some(k),
        _ => None,
    })
}

/// The stack slots a function stores a 64-bit register to
/// (`mov [rsp + d], reg`), at most 64: unoptimized code keeps every value
/// there between two uses.
pub(super) fn spill_slots(bytes: &[u8], start: u64) -> Vec<i64> {
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
pub(super) fn spill(ins: &Instruction) -> Option<i64> {
    (ins.mnemonic() == Mnemonic::Mov
        && ins.op0_kind() == OpKind::Memory
        && ins.memory_base() == Register::RSP
        && ins.memory_index() == Register::None
        && ins.op1_kind() == OpKind::Register
        && ins.op1_register().size() == 8)
        .then(|| ins.memory_displacement64() as i64)
}

/// `d` of a memory operand `[rsp + d]` without index.
pub(super) fn stack_operand(ins: &Instruction, operand: u32) -> Option<i64> {
    (ins.op_kind(operand) == OpKind::Memory
        && ins.memory_base() == Register::RSP
        && ins.memory_index() == Register::None)
        .then(|| ins.memory_displacement64() as i64)
}

pub(super) fn is_write(access: OpAccess) -> bool {
    matches!(
        access,
        OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
    )
}

/// The registers a function writes only with one constant (`lea reg,
/// [rip + x]` or a load from one slot, the same each time), not counting
/// the `pop`s of its epilogues.
pub(super) fn constant_registers(
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
pub(super) fn dest(ins: &Instruction) -> Option<usize> {
    (ins.op0_kind() == OpKind::Register && ins.op0_register().size() == 8)
        .then(|| gpr(ins.op0_register()))
        .flatten()
}

/// What the instruction's destination register holds afterwards, when the
/// analysis can say.
pub(super) fn value_of(ins: &Instruction, known: &Regs) -> Option<Known> {
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

/// What one instruction does to the values: its destination's new value (a
/// constant load, a register copy, a reload from a spill slot), a spill or
/// other store to a stack slot, writes that make registers unknown, the
/// registers a call clobbers, and `rsp` moving (every slot forgotten).
pub(super) fn apply(
    vals: &mut Vals,
    ins: &Instruction,
    flow: FlowControl,
    known: &Regs,
    slot: &dyn Fn(i64) -> Option<usize>,
    info: &mut InstructionInfoFactory,
) {
    let mut value = value_of(ins, known);
    // A reload from a spill slot.
    if ins.mnemonic() == Mnemonic::Mov && ins.op0_kind() == OpKind::Register {
        if let Some(Val::Is(v)) = stack_operand(ins, 1).and_then(slot).map(|i| vals[i]) {
            value = Some(v);
        }
    }
    // A store to the stack: a spill keeps the register's value, any
    // other store to the slot forgets it; moving rsp (push, pop, sub)
    // forgets every slot (a call's push and return cancel out).
    if let Some(i) = stack_operand(ins, 0).and_then(slot) {
        vals[i] = match spill(ins).and_then(|_| gpr(ins.op1_register())) {
            Some(r) => vals[r],
            None => Val::Unknown,
        };
    }
    let is_call = matches!(flow, FlowControl::Call | FlowControl::IndirectCall);
    let mut moves_rsp = false;
    for used in info.info(ins).used_registers() {
        if !is_write(used.access()) {
            continue;
        }
        moves_rsp |= used.register() == Register::RSP;
        if let Some(i) = gpr(used.register()) {
            vals[i] = Val::Unknown;
        }
    }
    if moves_rsp && !is_call {
        for v in &mut vals[GPRS..] {
            *v = Val::Unknown;
        }
    }
    if is_call {
        for r in CLOBBERED {
            vals[gpr(r).unwrap_or(0)] = Val::Unknown;
        }
    }
    if let (Some(v), Some(i)) = (value, dest(ins)) {
        vals[i] = Val::Is(v);
    }
}
