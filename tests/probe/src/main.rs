//! `portcullis-probe [--host-file P]... [--ro-file P]... [--tcp ADDR]... [--abstract NAME]...
//! [--marker-reversed TEXT] [--host-pid N] [--device P]...`: run inside a sandbox, tries every way
//! out the escape battery names and prints one JSON object: `{"probes": [{"name", "escaped",
//! "detail"}]}`. A probe "escaped" when the sandbox let the attempt succeed.
//!
//! `portcullis-probe --net-attacks IP:PORT [--net-allowed IP:PORT]` runs only the attempts
//! around TCP port rules (see [`net`]) and prints `{"attacks": [{"name", "ok", "errno",
//! "detail"}]}` (`errno` is 0 when the attempt got through).

mod checks;
mod net;
mod sys;

/// What the test told the probe about the host.
#[derive(Default)]
pub struct Targets {
    /// Host files outside every grant.
    pub host_files: Vec<String>,
    /// Files granted read-only.
    pub ro_files: Vec<String>,
    /// TCP services listening on the host (`IP:PORT`).
    pub tcp: Vec<String>,
    /// Abstract UNIX sockets listening on the host.
    pub abstract_sockets: Vec<String>,
    /// Text in the command line of a host process (given reversed, so that the probe's
    /// own command line does not hold it).
    pub marker: Option<String>,
    /// The pid of that host process, as the host sees it.
    pub host_pid: Option<i32>,
    /// Host device nodes that were not granted.
    pub devices: Vec<String>,
    /// `--net-attacks`: the listener the port-rule attacks aim at.
    pub net_attacks: Option<std::net::SocketAddrV4>,
    /// `--net-allowed`: a listener on a port the policy allows.
    pub net_allowed: Option<std::net::SocketAddrV4>,
}

/// One probe's verdict.
pub struct Verdict {
    /// The probe.
    pub name: &'static str,
    /// Whether the sandbox let it through.
    pub escaped: bool,
    /// What happened.
    pub detail: String,
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn parse() -> Result<Targets, String> {
    let mut targets = Targets::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--host-file" => targets.host_files.push(value),
            "--ro-file" => targets.ro_files.push(value),
            "--tcp" => targets.tcp.push(value),
            "--abstract" => targets.abstract_sockets.push(value),
            "--marker-reversed" => targets.marker = Some(value.chars().rev().collect()),
            "--host-pid" => targets.host_pid = value.parse().ok(),
            "--device" => targets.devices.push(value),
            "--net-attacks" | "--net-allowed" => {
                let addr = value
                    .parse()
                    .map_err(|_| format!("{flag} needs IPv4:PORT, not {value}"))?;
                if flag == "--net-attacks" {
                    targets.net_attacks = Some(addr);
                } else {
                    targets.net_allowed = Some(addr);
                }
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(targets)
}

fn main() {
    let targets = match parse() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("portcullis-probe: {e}");
            std::process::exit(2);
        }
    };
    if let Some(target) = targets.net_attacks {
        let items: Vec<String> = net::all(target, targets.net_allowed)
            .iter()
            .map(|o| {
                format!(
                    "{{\"name\":{},\"ok\":{},\"errno\":{},\"detail\":{}}}",
                    json_string(o.name),
                    o.result.is_ok(),
                    o.result.err().unwrap_or(0),
                    json_string(&o.detail)
                )
            })
            .collect();
        println!("{{\"attacks\":[{}]}}", items.join(","));
        return;
    }
    let verdicts = checks::all(&targets);
    let items: Vec<String> = verdicts
        .iter()
        .map(|v| {
            format!(
                "{{\"name\":{},\"escaped\":{},\"detail\":{}}}",
                json_string(v.name),
                v.escaped,
                json_string(&v.detail)
            )
        })
        .collect();
    println!("{{\"probes\":[{}]}}", items.join(","));
}
