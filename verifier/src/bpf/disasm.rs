//! A disassembly with `seccomp_data` fields, architecture names, syscall names and
//! verdicts, one instruction per line. Deterministic: it is snapshot-tested.

use std::fmt::Write;

use super::op::{self, Field};
use super::Insn;
use portcullis_ir::seccomp::{Action, Arch};

/// What the disassembler knows about A at one instruction (the same on every path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Unset,
    Field(Field),
    /// An argument word and-ed with a constant (the socket type without its flags).
    Masked(Field, u32),
    Conflict,
}

/// The architecture pinned at one instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pinned {
    Unset,
    Token(u32),
    Conflict,
}

fn join_a(slot: &mut Known, value: Known) {
    *slot = match (*slot, value) {
        (Known::Unset, v) => v,
        (s, v) if s == v => s,
        _ => Known::Conflict,
    };
}

fn join_pin(slot: &mut Pinned, value: Pinned) {
    *slot = match (*slot, value) {
        (Pinned::Unset, v) => v,
        (s, v) if s == v => s,
        _ => Pinned::Conflict,
    };
}

fn field_name(field: Field) -> String {
    match field {
        Field::Nr => "nr".into(),
        Field::Arch => "arch".into(),
        Field::Ip(high) => format!("ip.{}", if high { "hi" } else { "lo" }),
        Field::Arg(i, high) => format!("a{i}.{}", if high { "hi" } else { "lo" }),
    }
}

fn arch_name(token: u32) -> String {
    match Arch::from_audit(token) {
        Some(arch) => format!("AUDIT_ARCH_{}", arch.name().to_uppercase()),
        None => "unsupported architecture".into(),
    }
}

fn ret_name(k: u32) -> String {
    match Action::from_ret(k) {
        Some(action) => action.to_string(),
        None => format!("{k:#010x}"),
    }
}

/// The listing of `program`.
pub fn disassemble(program: &[Insn]) -> String {
    let len = program.len();
    let mut a = vec![Known::Unset; len + 1];
    let mut pin = vec![Pinned::Unset; len + 1];
    if len > 0 {
        a[0] = Known::Conflict;
        pin[0] = Pinned::Conflict;
    }
    let mut out = String::new();
    for (pc, insn) in program.iter().enumerate() {
        let code = insn.code;
        let k = insn.k;
        let here_a = a[pc];
        let here_pin = pin[pc];
        let mut next_a = here_a;
        let (text, note) = match op::class(code) {
            op::LD if code & 0xe0 == op::ABS => {
                let f = op::field(k);
                next_a = f.map(Known::Field).unwrap_or(Known::Conflict);
                (
                    format!("ld   [{k}]"),
                    f.map(field_name)
                        .unwrap_or_else(|| "outside seccomp_data".into()),
                )
            }
            op::LD | op::LDX | op::ST | op::STX | op::MISC => {
                next_a = Known::Conflict;
                (format!("op   {code:#06x} k={k:#x}"), String::new())
            }
            op::ALU => {
                next_a = match here_a {
                    Known::Field(field @ Field::Arg(..))
                        if op::operation(code) == op::AND && op::source(code) == op::K =>
                    {
                        Known::Masked(field, k)
                    }
                    _ => Known::Conflict,
                };
                let note = match next_a {
                    Known::Masked(field, _) => field_name(field),
                    _ => String::new(),
                };
                let name = match op::operation(code) {
                    op::AND => "and",
                    op::OR => "or",
                    op::ADD => "add",
                    op::SUB => "sub",
                    op::RSH => "rsh",
                    op::LSH => "lsh",
                    _ => "alu",
                };
                (format!("{name:<4} #{k:#x}"), note)
            }
            op::JMP if op::operation(code) == op::JA => {
                let target = pc + 1 + k as usize;
                (format!("ja   {target:04}"), String::new())
            }
            op::JMP => {
                let name = match op::operation(code) {
                    op::JEQ => "jeq",
                    op::JGT => "jgt",
                    op::JGE => "jge",
                    op::JSET => "jset",
                    _ => "j?",
                };
                let t = pc + 1 + usize::from(insn.jt);
                let f = pc + 1 + usize::from(insn.jf);
                let note = match (here_a, here_pin) {
                    (Known::Field(Field::Arch), _) => arch_name(k),
                    (Known::Field(Field::Nr), Pinned::Token(token)) => {
                        let relation = match op::operation(code) {
                            op::JEQ => "==",
                            op::JGT => ">",
                            op::JGE => ">=",
                            _ => "&",
                        };
                        match Arch::from_audit(token).and_then(|arch| arch.syscall_name(k)) {
                            Some(name) => format!("nr {relation} {name}"),
                            None => String::new(),
                        }
                    }
                    (Known::Field(field @ Field::Arg(..)), _) => field_name(field),
                    (Known::Masked(field, mask), _) => {
                        format!("{} & {mask:#x}", field_name(field))
                    }
                    _ => String::new(),
                };
                (format!("{name:<4} #{k:#x} {t:04} {f:04}"), note)
            }
            op::RET if code & 0x18 == op::RET_A => ("ret  A".to_string(), String::new()),
            op::RET => (format!("ret  {}", ret_name(k)), String::new()),
            _ => (format!("op   {code:#06x} k={k:#x}"), String::new()),
        };
        let _ = write!(out, "{pc:04}: {text:<34}");
        if !note.is_empty() {
            let _ = write!(out, " ; {note}");
        }
        out.push('\n');
        // Propagate to successors.
        let mut flow = |target: usize, value: Known, pinned: Pinned| {
            if target <= len {
                join_a(&mut a[target], value);
                join_pin(&mut pin[target], pinned);
            }
        };
        match op::class(code) {
            op::RET => {}
            op::JMP if op::operation(code) == op::JA => {
                flow(pc + 1 + k as usize, next_a, here_pin);
            }
            op::JMP => {
                let pinned_true = if here_a == Known::Field(Field::Arch)
                    && op::operation(code) == op::JEQ
                    && op::source(code) == op::K
                {
                    Pinned::Token(k)
                } else {
                    here_pin
                };
                flow(pc + 1 + usize::from(insn.jt), next_a, pinned_true);
                flow(pc + 1 + usize::from(insn.jf), next_a, here_pin);
            }
            _ => flow(pc + 1, next_a, here_pin),
        }
    }
    out
}
