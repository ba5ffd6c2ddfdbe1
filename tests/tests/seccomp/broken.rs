//! The verifier refuses deliberately broken programs: each breakage shows up as the
//! static finding or the validation mismatch it should.

use portcullis_ir::seccomp::{Action, Arch, Features};
use portcullis_verifier::bpf::check::FindingKind;
use portcullis_verifier::bpf::{check, validate, Insn};

use super::support::program;

const LD_ABS: u16 = 0x20;
const JEQ: u16 = 0x15;
const JA: u16 = 0x05;
const RET: u16 = 0x06;

fn kinds(prog: &[Insn]) -> Vec<FindingKind> {
    check(prog).into_iter().map(|f| f.kind).collect()
}

fn good() -> Vec<Insn> {
    program(Features::default(), Arch::X86_64)
}

#[test]
fn missing_architecture_check() {
    // Drop `ld arch; jeq; ja`: the section now runs for every ABI.
    let prog: Vec<Insn> = good()[3..].to_vec();
    assert!(kinds(&prog).contains(&FindingKind::ArchNotChecked));
    let report = validate(&prog, Features::default(), Arch::X86_64);
    assert!(!report.passed());
    // An i386 or aarch64 syscall is no longer killed.
    assert!(report
        .mismatches
        .iter()
        .any(|m| m.arch != Arch::X86_64.audit() && m.expected == "KILL_PROCESS"));
}

#[test]
fn jump_out_of_range() {
    let mut prog = good();
    let at = prog.iter().position(|i| i.code == 0x35).expect("a jge");
    prog[at].jt = 255;
    let last = prog.len() - 1;
    prog.truncate(last.min(at + 200));
    assert!(kinds(&prog)
        .iter()
        .any(|k| matches!(k, FindingKind::JumpOutOfRange { .. })));
    assert!(!validate(&prog, Features::default(), Arch::X86_64).passed());
}

#[test]
fn fall_through_without_ret() {
    let mut prog = good();
    // Replace the final `ret` (foreign ABIs) with a load: that path now runs off the end.
    let last = prog.len() - 1;
    prog[last] = Insn {
        code: LD_ABS,
        jt: 0,
        jf: 0,
        k: 0,
    };
    assert!(kinds(&prog).contains(&FindingKind::FallsOffEnd));
    let report = validate(&prog, Features::default(), Arch::X86_64);
    assert!(report.mismatches.iter().any(|m| m.got.starts_with("fault")));
}

#[test]
fn more_than_4096_instructions() {
    let mut prog = vec![
        Insn {
            code: JA,
            jt: 0,
            jf: 0,
            k: 0,
        };
        4096
    ];
    prog.extend(good());
    // `ja 0` chains into the real program: it still means the right thing, but the kernel
    // would refuse to load it.
    assert!(kinds(&prog).contains(&FindingKind::TooLong { len: prog.len() }));
    let report = validate(&prog, Features::default(), Arch::X86_64);
    assert_eq!(report.mismatch_count, 0);
    assert!(!report.passed());
}

#[test]
fn unreachable_code() {
    let mut prog = good();
    // A `ret KILL` nobody jumps to, placed right after the final `ret`... is never reached.
    prog.push(Insn {
        code: RET,
        jt: 0,
        jf: 0,
        k: Action::KillProcess.to_ret(),
    });
    assert_eq!(
        check(&prog)
            .into_iter()
            .map(|f| (f.pc, f.kind))
            .collect::<Vec<_>>(),
        vec![(prog.len() - 1, FindingKind::Unreachable)]
    );
}

#[test]
fn a_wrong_verdict() {
    // Turn `ret ERRNO(EPERM)` of the ioctl block into ALLOW: TIOCSTI passes.
    let mut prog = good();
    let ioctl_block = prog
        .windows(2)
        .position(|w| w[0].code == LD_ABS && w[0].k == 24 && w[1].code == JEQ)
        .expect("ioctl block");
    let eperm = prog[ioctl_block..]
        .iter()
        .position(|i| i.code == RET && i.k == Action::Errno(1).to_ret())
        .expect("its EPERM")
        + ioctl_block;
    prog[eperm].k = Action::Allow.to_ret();
    assert_eq!(check(&prog), vec![], "still well-formed");
    let report = validate(&prog, Features::default(), Arch::X86_64);
    assert!(report.mismatch_count > 0);
    assert!(report
        .mismatches
        .iter()
        .all(|m| m.syscall == Some("ioctl") && m.got == "ALLOW" && m.expected == "ERRNO(EPERM)"));
    assert!(report
        .mismatches
        .iter()
        .any(|m| m.args[1] & 0xffff_ffff == 0x5412));
}

#[test]
fn an_ignored_argument() {
    // ioctl allowed outright: the program never reads the command, yet validation still
    // probes TIOCSTI because the intended decision depends on it.
    let mut prog = good();
    let ioctl_block = prog
        .windows(2)
        .position(|w| w[0].code == LD_ABS && w[0].k == 24 && w[1].code == JEQ)
        .expect("ioctl block");
    prog[ioctl_block] = Insn {
        code: RET,
        jt: 0,
        jf: 0,
        k: Action::Allow.to_ret(),
    };
    let report = validate(&prog, Features::default(), Arch::X86_64);
    assert!(report
        .mismatches
        .iter()
        .any(|m| m.syscall == Some("ioctl") && m.args[1] == 0x5412));
}

#[test]
fn a_64_bit_ioctl_compare() {
    // Flatpak before CVE-2019-10063: TIOCSTI compared on 64 bits, so a command with
    // garbage in the high word passes. Build that program by hand.
    let prog = vec![
        Insn {
            code: LD_ABS,
            jt: 0,
            jf: 0,
            k: 4,
        },
        Insn {
            code: JEQ,
            jt: 1,
            jf: 0,
            k: Arch::X86_64.audit(),
        },
        Insn {
            code: RET,
            jt: 0,
            jf: 0,
            k: Action::KillProcess.to_ret(),
        },
        Insn {
            code: LD_ABS,
            jt: 0,
            jf: 0,
            k: 0,
        },
        Insn {
            code: JEQ,
            jt: 0,
            jf: 5,
            k: 16,
        },
        Insn {
            code: LD_ABS,
            jt: 0,
            jf: 0,
            k: 28,
        },
        Insn {
            code: JEQ,
            jt: 0,
            jf: 3,
            k: 0,
        },
        Insn {
            code: LD_ABS,
            jt: 0,
            jf: 0,
            k: 24,
        },
        Insn {
            code: JEQ,
            jt: 0,
            jf: 1,
            k: 0x5412,
        },
        Insn {
            code: RET,
            jt: 0,
            jf: 0,
            k: Action::Errno(1).to_ret(),
        },
        Insn {
            code: RET,
            jt: 0,
            jf: 0,
            k: Action::Allow.to_ret(),
        },
    ];
    assert_eq!(check(&prog), vec![]);
    let report = validate(&prog, Features::default(), Arch::X86_64);
    assert!(report
        .mismatches
        .iter()
        .any(|m| m.syscall == Some("ioctl") && m.args[1] >> 32 != 0 && m.args[1] as u32 == 0x5412));
}
