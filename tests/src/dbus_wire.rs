//! A minimal D-Bus client on a UNIX socket, for the D-Bus tests and the benchmark: EXTERNAL
//! authentication, `Hello`, method calls with string/uint32 arguments, replies with
//! string, uint32, boolean and string-array bodies, and a tiny service loop that answers
//! every method call. Little-endian only, no fd passing. Enough to test the proxy from
//! the outside without depending on a D-Bus library or on python3-dbus.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A value in a message body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `s`.
    Str(String),
    /// `u`.
    U32(u32),
    /// `b`.
    Bool(bool),
    /// `as`.
    StrArray(Vec<String>),
}

/// A received message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// 1 call, 2 return, 3 error, 4 signal.
    pub kind: u8,
    /// Serial of the message.
    pub serial: u32,
    /// Header fields that matter here.
    pub path: Option<String>,
    /// Interface.
    pub interface: Option<String>,
    /// Member.
    pub member: Option<String>,
    /// Error name.
    pub error_name: Option<String>,
    /// Serial this replies to.
    pub reply_serial: Option<u32>,
    /// Destination.
    pub destination: Option<String>,
    /// Sender.
    pub sender: Option<String>,
    /// Body signature.
    pub signature: String,
    /// Decoded body (types outside [`Value`] are skipped).
    pub body: Vec<Value>,
}

/// What a method call gave back.
pub type Reply = Result<Vec<Value>, String>;

/// One connection.
pub struct Conn {
    stream: BufReader<UnixStream>,
    serial: u32,
    /// The unique name from `Hello`.
    pub unique_name: String,
}

fn pad(buf: &mut Vec<u8>, align: usize) {
    while buf.len() % align != 0 {
        buf.push(0);
    }
}

fn put_u32(buf: &mut Vec<u8>, v: u32) {
    pad(buf, 4);
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_u32(buf, s.len() as u32);
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
}

fn put_sig(buf: &mut Vec<u8>, s: &str) {
    buf.push(s.len() as u8);
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
}

fn put_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => put_str(buf, s),
        Value::U32(n) => put_u32(buf, *n),
        Value::Bool(b) => put_u32(buf, u32::from(*b)),
        Value::StrArray(items) => {
            pad(buf, 4);
            let at = buf.len();
            buf.extend_from_slice(&[0; 4]);
            let start = buf.len();
            for item in items {
                put_str(buf, item);
            }
            let len = (buf.len() - start) as u32;
            buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
        }
    }
}

fn signature_of(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::Str(_) => "s",
            Value::U32(_) => "u",
            Value::Bool(_) => "b",
            Value::StrArray(_) => "as",
        })
        .collect()
}

/// Header field codes.
const PATH: u8 = 1;
const INTERFACE: u8 = 2;
const MEMBER: u8 = 3;
const ERROR_NAME: u8 = 4;
const REPLY_SERIAL: u8 = 5;
const DESTINATION: u8 = 6;
const SENDER: u8 = 7;
const SIGNATURE: u8 = 8;

struct Outgoing<'a> {
    kind: u8,
    path: Option<&'a str>,
    interface: Option<&'a str>,
    member: Option<&'a str>,
    error_name: Option<&'a str>,
    reply_serial: Option<u32>,
    destination: Option<&'a str>,
    body: &'a [Value],
}

fn encode(serial: u32, m: &Outgoing<'_>) -> Vec<u8> {
    let mut body = Vec::new();
    for v in m.body {
        put_value(&mut body, v);
    }
    let mut buf = vec![b'l', m.kind, 0, 1];
    buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
    buf.extend_from_slice(&serial.to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    let fields_start = buf.len();
    let field = |buf: &mut Vec<u8>, code: u8, sig: &str, v: &dyn Fn(&mut Vec<u8>)| {
        pad(buf, 8);
        buf.push(code);
        put_sig(buf, sig);
        v(buf);
    };
    if let Some(p) = m.path {
        field(&mut buf, PATH, "o", &|b| put_str(b, p));
    }
    if let Some(i) = m.interface {
        field(&mut buf, INTERFACE, "s", &|b| put_str(b, i));
    }
    if let Some(x) = m.member {
        field(&mut buf, MEMBER, "s", &|b| put_str(b, x));
    }
    if let Some(e) = m.error_name {
        field(&mut buf, ERROR_NAME, "s", &|b| put_str(b, e));
    }
    if let Some(r) = m.reply_serial {
        field(&mut buf, REPLY_SERIAL, "u", &|b| put_u32(b, r));
    }
    if let Some(d) = m.destination {
        field(&mut buf, DESTINATION, "s", &|b| put_str(b, d));
    }
    let sig = signature_of(m.body);
    if !sig.is_empty() {
        field(&mut buf, SIGNATURE, "g", &|b| put_sig(b, &sig));
    }
    let fields_len = (buf.len() - fields_start) as u32;
    buf[12..16].copy_from_slice(&fields_len.to_le_bytes());
    pad(&mut buf, 8);
    buf.extend_from_slice(&body);
    buf
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn align(&mut self, n: usize) {
        self.pos = self.pos.div_ceil(n) * n;
    }

    fn bytes(&mut self, n: usize) -> io::Result<&[u8]> {
        let end = self.pos + n;
        let out = self.data.get(self.pos..end).ok_or_else(short)?;
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    fn u32(&mut self) -> io::Result<u32> {
        self.align(4);
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> io::Result<String> {
        let len = self.u32()? as usize;
        let s = String::from_utf8_lossy(self.bytes(len)?).into_owned();
        self.bytes(1)?;
        Ok(s)
    }

    fn signature(&mut self) -> io::Result<String> {
        let len = self.u8()? as usize;
        let s = String::from_utf8_lossy(self.bytes(len)?).into_owned();
        self.bytes(1)?;
        Ok(s)
    }
}

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "truncated D-Bus message")
}

fn decode_body(sig: &str, body: &[u8]) -> io::Result<Vec<Value>> {
    let mut c = Cursor { data: body, pos: 0 };
    let mut out = Vec::new();
    let mut chars = sig.chars().peekable();
    while let Some(t) = chars.next() {
        match t {
            's' | 'o' => out.push(Value::Str(c.string()?)),
            'g' => out.push(Value::Str(c.signature()?)),
            'u' => out.push(Value::U32(c.u32()?)),
            'b' => out.push(Value::Bool(c.u32()? != 0)),
            'a' if chars.peek() == Some(&'s') => {
                chars.next();
                let len = c.u32()? as usize;
                let end = c.pos + len;
                let mut items = Vec::new();
                while c.pos < end {
                    items.push(c.string()?);
                }
                out.push(Value::StrArray(items));
            }
            // Anything else ends decoding: the tests only read what they know.
            _ => break,
        }
    }
    Ok(out)
}

impl Conn {
    /// Connects to the bus at `path`, authenticates as this uid and says `Hello`.
    pub fn connect(path: &Path) -> io::Result<Conn> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut stream = BufReader::new(stream);
        let uid = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .unwrap_or(0);
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
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("authentication refused: {}", line.trim()),
            ));
        }
        stream.get_mut().write_all(b"BEGIN\r\n")?;
        let mut conn = Conn {
            stream,
            serial: 0,
            unique_name: String::new(),
        };
        let hello = conn.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "Hello",
            &[],
        )?;
        match hello {
            Ok(v) => match v.first() {
                Some(Value::Str(name)) => conn.unique_name = name.clone(),
                _ => return Err(io::Error::other("Hello returned no name")),
            },
            Err(e) => return Err(io::Error::other(format!("Hello failed: {e}"))),
        }
        Ok(conn)
    }

    fn send(&mut self, m: &Outgoing<'_>) -> io::Result<u32> {
        self.serial += 1;
        let bytes = encode(self.serial, m);
        self.stream.get_mut().write_all(&bytes)?;
        Ok(self.serial)
    }

    /// Reads the next message.
    pub fn read(&mut self) -> io::Result<Message> {
        let mut fixed = [0u8; 16];
        self.stream.read_exact(&mut fixed)?;
        if fixed[0] != b'l' {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "big-endian message",
            ));
        }
        let word =
            |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
        let body_len = word(4) as usize;
        let fields_len = word(12) as usize;
        let header_len = (16 + fields_len).div_ceil(8) * 8;
        let mut rest = vec![0u8; header_len - 16 + body_len];
        self.stream.read_exact(&mut rest)?;
        let mut all = fixed.to_vec();
        all.extend_from_slice(&rest);
        let mut m = Message {
            kind: fixed[1],
            serial: word(8),
            ..Message::default()
        };
        let mut c = Cursor {
            data: &all[..16 + fields_len],
            pos: 16,
        };
        while c.pos < 16 + fields_len {
            c.align(8);
            let code = c.u8()?;
            let sig = c.signature()?;
            match sig.as_str() {
                "s" | "o" => {
                    let s = c.string()?;
                    match code {
                        PATH => m.path = Some(s),
                        INTERFACE => m.interface = Some(s),
                        MEMBER => m.member = Some(s),
                        ERROR_NAME => m.error_name = Some(s),
                        DESTINATION => m.destination = Some(s),
                        SENDER => m.sender = Some(s),
                        _ => {}
                    }
                }
                "u" => {
                    let v = c.u32()?;
                    if code == REPLY_SERIAL {
                        m.reply_serial = Some(v);
                    }
                }
                "g" => {
                    let s = c.signature()?;
                    if code == SIGNATURE {
                        m.signature = s;
                    }
                }
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "odd header field",
                    ))
                }
            }
        }
        m.body = decode_body(&m.signature, &all[header_len..])?;
        Ok(m)
    }

    /// Calls a method and waits for its reply, skipping signals and other traffic.
    pub fn call(
        &mut self,
        destination: &str,
        path: &str,
        interface: &str,
        member: &str,
        args: &[Value],
    ) -> io::Result<Reply> {
        let serial = self.send(&Outgoing {
            kind: 1,
            path: Some(path),
            interface: Some(interface),
            member: Some(member),
            error_name: None,
            reply_serial: None,
            destination: Some(destination),
            body: args,
        })?;
        loop {
            let m = self.read()?;
            if m.reply_serial != Some(serial) {
                continue;
            }
            return Ok(match m.kind {
                2 => Ok(m.body),
                _ => Err(m.error_name.unwrap_or_else(|| "unknown error".into())),
            });
        }
    }

    /// Calls a method of the bus itself (`org.freedesktop.DBus`).
    pub fn bus_call(&mut self, member: &str, args: &[Value]) -> io::Result<Reply> {
        self.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            member,
            args,
        )
    }

    /// `RequestName(name, 0)`: `Ok(1)` when this connection became the primary owner.
    pub fn request_name(&mut self, name: &str) -> io::Result<Result<u32, String>> {
        Ok(
            match self.bus_call("RequestName", &[Value::Str(name.into()), Value::U32(0)])? {
                Ok(v) => match v.first() {
                    Some(Value::U32(n)) => Ok(*n),
                    _ => Err("odd RequestName reply".into()),
                },
                Err(e) => Err(e),
            },
        )
    }

    /// `ListNames`.
    pub fn list_names(&mut self) -> io::Result<Vec<String>> {
        match self.bus_call("ListNames", &[])? {
            Ok(v) => match v.into_iter().next() {
                Some(Value::StrArray(names)) => Ok(names),
                _ => Err(io::Error::other("odd ListNames reply")),
            },
            Err(e) => Err(io::Error::other(e)),
        }
    }

    /// Answers method calls until the connection closes: every call gets a string reply
    /// `"<member> from <unique name>"`.
    pub fn serve(self) {
        self.serve_with(|m, me| format!("{} from {me}", m.member.as_deref().unwrap_or("")));
    }

    /// Answers method calls until the connection closes with the string `answer` makes of
    /// the call and this connection's unique name.
    pub fn serve_with(mut self, answer: impl Fn(&Message, &str) -> String) {
        self.stream.get_ref().set_read_timeout(None).ok();
        while let Ok(m) = self.read() {
            if m.kind != 1 {
                continue;
            }
            let text = answer(&m, &self.unique_name);
            let reply = Outgoing {
                kind: 2,
                path: None,
                interface: None,
                member: None,
                error_name: None,
                reply_serial: Some(m.serial),
                destination: m.sender.as_deref(),
                body: &[Value::Str(text)],
            };
            if self.send(&reply).is_err() {
                break;
            }
        }
    }
}
