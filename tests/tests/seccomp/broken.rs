//! The verifier refuses deliberately broken programs: each breakage shows up as the
//! static finding or the validation mismatch it should.

use portcullis_ir::seccomp::decide::argument_constants;
use portcullis_ir::seccomp::{Action, Arch, Features};
use portcullis_verifier::bpf::check::FindingKind;
use portcullis_verifier::bpf::{check, probe, run, validate, Insn};

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

/// The filter of a policy with port rules.
fn with_port_rules() -> (Vec<Insn>, Features) {
    let features = super::support::features(&["port-rules"]);
    (program(features, Arch::X86_64), features)
}

const ALU_AND: u16 = 0x54;
const JSET: u16 = 0x45;

#[test]
fn a_socket_type_compared_without_its_mask() {
    // `A &= 0xf` turned into `A &= 0xffffffff`: SOCK_NONBLOCK/SOCK_CLOEXEC now change the
    // verdict, so an ordinary non-blocking TCP socket is refused. Validation must see the
    // flags bits even though no constant of the program mentions them.
    let (mut prog, features) = with_port_rules();
    let and = prog
        .iter()
        .position(|i| i.code == ALU_AND && i.k == 0xf)
        .expect("the type mask");
    prog[and].k = 0xffff_ffff;
    assert_eq!(check(&prog), vec![], "still well-formed");
    let report = validate(&prog, features, Arch::X86_64);
    assert!(report.mismatches.iter().any(|m| m.syscall == Some("socket")
        && m.args[1] as u32 & 0xf == 1
        && m.args[1] as u32 != 1
        && m.expected == "ALLOW"
        && m.got == "ERRNO(EACCES)"));
}

#[test]
fn mptcp_let_through() {
    // The inet clause's EACCES turned into ALLOW: MPTCP (and SCTP, raw) pass. Only a probe
    // that sets the family, the type and the protocol together can see it.
    let (mut prog, features) = with_port_rules();
    let eacces = Action::Errno(13).to_ret();
    for insn in prog.iter_mut().filter(|i| i.code == RET && i.k == eacces) {
        insn.k = Action::Allow.to_ret();
    }
    assert_eq!(check(&prog), vec![], "still well-formed");
    let report = validate(&prog, features, Arch::X86_64);
    assert!(report.mismatch_count > 0);
    assert_eq!(
        report
            .mismatched_syscalls
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        ["socket"]
    );
    assert!(report
        .mismatches
        .iter()
        .all(|m| m.expected == "ERRNO(EACCES)" && m.got == "ALLOW"));
    // The MPTCP triple is among the probes, and the program gets it wrong.
    let socket = Arch::X86_64.syscall_number("socket").expect("socket");
    let extra = |i| argument_constants(Arch::X86_64, socket, i);
    let probes = probe::for_number(&[&prog], Arch::X86_64.audit(), socket, &extra);
    let mptcp = probes
        .iter()
        .find(|d| d.args[..3] == [2, 1, 262])
        .expect("an MPTCP probe");
    assert_eq!(run(&prog, mptcp).expect("runs").ret, Action::Allow.to_ret());
}

#[test]
fn the_fast_open_flag_misread() {
    // The MSG_FASTOPEN test reads another flag bit (MSG_DONTWAIT): TCP Fast Open passes
    // and non-blocking sends are refused.
    let (mut prog, features) = with_port_rules();
    let mut changed = 0;
    for insn in prog
        .iter_mut()
        .filter(|i| i.code == JSET && i.k == 0x2000_0000)
    {
        insn.k = 0x40;
        changed += 1;
    }
    assert_eq!(changed, 3, "sendto, sendmsg, sendmmsg");
    let report = validate(&prog, features, Arch::X86_64);
    for name in ["sendto", "sendmsg", "sendmmsg"] {
        assert!(
            report.mismatches.iter().any(|m| m.syscall == Some(name)
                && m.expected == "ERRNO(EOPNOTSUPP)"
                && m.got == "ALLOW"),
            "{name}"
        );
    }
}

#[test]
fn a_filter_without_the_port_rule_hardening() {
    // Flatpak's rules alone (no port rules) validated against a policy that has them.
    let features = super::support::features(&["port-rules"]);
    let prog = program(Features::default(), Arch::X86_64);
    let report = validate(&prog, features, Arch::X86_64);
    assert_eq!(
        report.mismatched_syscalls.into_iter().collect::<Vec<_>>(),
        ["sendmmsg", "sendmsg", "sendto", "socket"]
    );
}

#[test]
fn io_uring_allowed_by_a_default_filter() {
    // The filter of `allow io-uring` validated as a policy without it.
    let prog = program(super::support::features(&["io-uring"]), Arch::X86_64);
    let report = validate(&prog, Features::default(), Arch::X86_64);
    assert_eq!(
        report.mismatched_syscalls.into_iter().collect::<Vec<_>>(),
        ["io_uring_enter", "io_uring_register", "io_uring_setup"]
    );
    assert!(report
        .mismatches
        .iter()
        .all(|m| m.expected == "ERRNO(ENOSYS)" && m.got == "ALLOW"));
}
