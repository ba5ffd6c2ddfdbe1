//! Where the host's accessibility bus is: `AT_SPI_BUS_ADDRESS`, or else the answer of
//! `org.a11y.Bus.GetAddress` on the session bus, as Flatpak asks it
//! (`flatpak_run_add_a11y_dbus_args`). A minimal D-Bus client for that one call: EXTERNAL
//! authentication, `Hello`, one method call, one string read back. Little-endian, no
//! body arguments, no fds; anything unexpected means "no accessibility bus".

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long the whole exchange may take; Flatpak waits on the session bus as well.
const TIMEOUT: Duration = Duration::from_secs(3);

fn pad(buf: &mut Vec<u8>, align: usize) {
    while buf.len() % align != 0 {
        buf.push(0);
    }
}

fn put_string(buf: &mut Vec<u8>, code: u8, sig: u8, text: &str) {
    pad(buf, 8);
    buf.extend_from_slice(&[code, 1, sig, 0]);
    buf.extend_from_slice(&(text.len() as u32).to_le_bytes());
    buf.extend_from_slice(text.as_bytes());
    buf.push(0);
}

/// A method call without arguments.
fn method_call(
    serial: u32,
    destination: &str,
    path: &str,
    interface: &str,
    member: &str,
) -> Vec<u8> {
    let mut buf = vec![b'l', 1, 0, 1, 0, 0, 0, 0];
    buf.extend_from_slice(&serial.to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    put_string(&mut buf, 1, b'o', path);
    put_string(&mut buf, 2, b's', interface);
    put_string(&mut buf, 3, b's', member);
    put_string(&mut buf, 6, b's', destination);
    let fields = (buf.len() - 16) as u32;
    buf[12..16].copy_from_slice(&fields.to_le_bytes());
    pad(&mut buf, 8);
    buf
}

fn word(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// One received message: (type, reply serial, signature, body).
fn read_message(stream: &mut impl Read) -> io::Result<(u8, Option<u32>, String, Vec<u8>)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed D-Bus message");
    let mut fixed = [0u8; 16];
    stream.read_exact(&mut fixed)?;
    if fixed[0] != b'l' {
        return Err(bad());
    }
    let body_len = word(&fixed, 4).ok_or_else(bad)? as usize;
    let fields_len = word(&fixed, 12).ok_or_else(bad)? as usize;
    if body_len > 1 << 20 || fields_len > 1 << 16 {
        return Err(bad());
    }
    let header_end = (16 + fields_len).div_ceil(8) * 8;
    let mut rest = vec![0u8; header_end - 16 + body_len];
    stream.read_exact(&mut rest)?;
    let mut all = fixed.to_vec();
    all.extend_from_slice(&rest);
    let (mut reply_serial, mut signature) = (None, String::new());
    let mut at = 16;
    while at < 16 + fields_len {
        at = at.div_ceil(8) * 8;
        let code = *all.get(at).ok_or_else(bad)?;
        let sig_len = *all.get(at + 1).ok_or_else(bad)? as usize;
        let sig = all.get(at + 2..at + 2 + sig_len).ok_or_else(bad)?.to_vec();
        at += 3 + sig_len;
        match sig.as_slice() {
            b"s" | b"o" => {
                at = at.div_ceil(4) * 4;
                let len = word(&all, at).ok_or_else(bad)? as usize;
                at += 4 + len + 1;
            }
            b"u" => {
                at = at.div_ceil(4) * 4;
                let value = word(&all, at).ok_or_else(bad)?;
                if code == 5 {
                    reply_serial = Some(value);
                }
                at += 4;
            }
            b"g" => {
                let len = *all.get(at).ok_or_else(bad)? as usize;
                let text = all.get(at + 1..at + 1 + len).ok_or_else(bad)?;
                if code == 8 {
                    signature = String::from_utf8_lossy(text).into_owned();
                }
                at += len + 2;
            }
            _ => return Err(bad()),
        }
    }
    Ok((
        fixed[1],
        reply_serial,
        signature,
        all[header_end..].to_vec(),
    ))
}

/// Sends a call and returns the string its reply carries.
fn call_for_string(
    stream: &mut BufReader<UnixStream>,
    serial: u32,
    call: (&str, &str, &str, &str),
) -> io::Result<String> {
    let (destination, path, interface, member) = call;
    stream
        .get_mut()
        .write_all(&method_call(serial, destination, path, interface, member))?;
    loop {
        let (kind, reply_serial, signature, body) = read_message(stream)?;
        if reply_serial != Some(serial) {
            continue;
        }
        if kind != 2 || signature != "s" {
            return Err(io::Error::other(format!("`{member}` failed")));
        }
        let len = word(&body, 0).unwrap_or(0) as usize;
        let text = body
            .get(4..4 + len)
            .ok_or_else(|| io::Error::other("short reply"))?;
        return Ok(String::from_utf8_lossy(text).into_owned());
    }
}

/// Asks the session bus at `socket` for the accessibility bus's address.
pub fn ask_session_bus(socket: &str, uid: u32) -> io::Result<String> {
    let stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut stream = BufReader::new(stream);
    let hex: String = uid
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    stream
        .get_mut()
        .write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    if !line.starts_with("OK ") {
        return Err(io::Error::other("the session bus refused authentication"));
    }
    stream.get_mut().write_all(b"BEGIN\r\n")?;
    let bus = "org.freedesktop.DBus";
    call_for_string(&mut stream, 1, (bus, "/org/freedesktop/DBus", bus, "Hello"))?;
    call_for_string(
        &mut stream,
        2,
        (
            "org.a11y.Bus",
            "/org/a11y/bus",
            "org.a11y.Bus",
            "GetAddress",
        ),
    )
}
