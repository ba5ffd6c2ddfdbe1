//! `--net-attacks IP:PORT [--net-allowed IP:PORT]`: the ways around Landlock's TCP port
//! rules, each tried against a host listener on a port the policy does not list, and
//! io_uring. Unlike the escape battery, each attempt reports its raw outcome (success, or
//! the errno), so that a test can run the same attempts on the host, under a filter
//! without the port-rule hardening, and under ours, and tell the three apart.

use std::net::SocketAddrV4;

use crate::sys::{self, Raw};

/// `IPPROTO_MPTCP`.
const IPPROTO_MPTCP: i32 = 262;
/// `IPPROTO_SCTP`.
const IPPROTO_SCTP: i32 = 132;
/// `MSG_FASTOPEN`.
const MSG_FASTOPEN: i32 = 0x2000_0000;

/// One attempt: `Ok(())` when it got through, `Err(errno)` when it was refused.
pub struct Outcome {
    /// The attempt.
    pub name: &'static str,
    /// What happened.
    pub result: Result<(), i32>,
    /// Which step failed.
    pub detail: String,
}

/// A new socket, then `then` on it; the socket is closed afterwards.
fn with_socket(
    name: &'static str,
    (domain, ty, protocol): (i32, i32, i32),
    then: impl FnOnce(i32) -> Raw,
) -> Outcome {
    let fd = match sys::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) {
        Ok(fd) => fd as i32,
        Err(errno) => {
            return Outcome {
                name,
                result: Err(errno),
                detail: "socket".into(),
            }
        }
    };
    let result = then(fd);
    sys::close(fd);
    Outcome {
        name,
        result: result.map(|_| ()),
        detail: "after socket".into(),
    }
}

/// Every attempt against `target` (and, when given, a plain connect to `allowed`).
pub fn all(target: SocketAddrV4, allowed: Option<SocketAddrV4>) -> Vec<Outcome> {
    let inet = libc::AF_INET;
    let any_port = SocketAddrV4::new(*target.ip(), 0);
    let data = b"portcullis";
    let mut out = vec![
        // A plain TCP connect: what Landlock's port rules refuse.
        with_socket("tcp-connect", (inet, libc::SOCK_STREAM, 0), |fd| {
            sys::connect_in(fd, target)
        }),
        with_socket("tcp-bind", (inet, libc::SOCK_STREAM, 0), |fd| {
            sys::bind_in(fd, any_port)
        }),
        // MPTCP: not TCP to Landlock.
        with_socket(
            "mptcp-connect",
            (inet, libc::SOCK_STREAM, IPPROTO_MPTCP),
            |fd| sys::connect_in(fd, target),
        ),
        with_socket(
            "mptcp-bind",
            (inet, libc::SOCK_STREAM, IPPROTO_MPTCP),
            |fd| sys::bind_in(fd, any_port),
        ),
        // SCTP, asked for by protocol or picked by SOCK_SEQPACKET.
        with_socket(
            "sctp-stream",
            (inet, libc::SOCK_STREAM, IPPROTO_SCTP),
            |fd| sys::bind_in(fd, any_port),
        ),
        with_socket("sctp-seqpacket", (inet, libc::SOCK_SEQPACKET, 0), |fd| {
            sys::bind_in(fd, any_port)
        }),
        // TCP Fast Open: a connect inside sendto/sendmsg.
        with_socket("tfo-sendto", (inet, libc::SOCK_STREAM, 0), |fd| {
            sys::sendto_in(fd, data, MSG_FASTOPEN, target)
        }),
        with_socket("tfo-sendmsg", (inet, libc::SOCK_STREAM, 0), |fd| {
            sys::sendmsg_in(fd, data, MSG_FASTOPEN, target)
        }),
        // UDP: outside Landlock's rules; `udp none` refuses the socket.
        with_socket("udp-socket", (inet, libc::SOCK_DGRAM, 0), |_| Ok(0)),
    ];
    let ring = sys::io_uring_setup(4);
    if let Ok(fd) = ring {
        sys::close(fd as i32);
    }
    out.push(Outcome {
        name: "io-uring-setup",
        result: ring.map(|_| ()),
        detail: "io_uring_setup".into(),
    });
    if let Some(allowed) = allowed {
        out.push(with_socket(
            "tcp-allowed",
            (inet, libc::SOCK_STREAM, 0),
            |fd| sys::connect_in(fd, allowed),
        ));
    }
    out
}
