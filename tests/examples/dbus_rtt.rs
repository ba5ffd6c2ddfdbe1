//! Round-trip time of a D-Bus method call directly on a private bus and through the real
//! `xdg-dbus-proxy` with a compiled policy's rules, in the same run. Used by
//! `scripts/bench-dbus.sh`; prints one line per variant (median and mean, microseconds).
//!
//! Usage: `dbus_rtt [CALLS]` (default 20000).

use std::time::Instant;

use portcullis_backends::dbus::section;
use portcullis_blob::dbus::{BusAccess, BusKind};
use portcullis_ir::context::BusEntry;
use portcullis_ir::dbus::{BusName, BusPolicy};
use portcullis_ir::{Origin, Policy};
use portcullis_tests::dbus_bus::{PrivateBus, Proxy};
use portcullis_tests::dbus_wire::Conn;

const SERVICE: &str = "org.portcullis.bench.Service";

fn measure(conn: &mut Conn, calls: usize) -> Vec<f64> {
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        let reply = conn
            .call(
                SERVICE,
                "/org/portcullis/bench",
                "org.portcullis.bench.Iface",
                "Ping",
                &[],
            )
            .expect("the bus answers");
        samples.push(start.elapsed().as_secs_f64() * 1e6);
        assert!(reply.is_ok(), "call refused: {reply:?}");
    }
    samples
}

fn report(name: &str, mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let p99 = samples[samples.len() * 99 / 100];
    println!(
        "{name:<28} calls={:<6} median={median:8.1} us  mean={mean:8.1} us  p99={p99:8.1} us",
        samples.len()
    );
    median
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let bus = PrivateBus::start().expect("dbus-daemon starts");
    let mut service = Conn::connect(&bus.socket).expect("service connects");
    assert_eq!(service.request_name(SERVICE).expect("RequestName"), Ok(1));
    std::thread::spawn(move || service.serve());

    let mut policy = Policy::default();
    policy.identity.id = Some("org.portcullis.Bench".into());
    policy.context.session_bus.insert(
        BusName::new(SERVICE).expect("valid name"),
        BusEntry {
            policy: BusPolicy::Talk,
            origin: Origin::default(),
        },
    );
    let section = section(&policy);
    let Some(BusAccess::Proxy { args }) = section.route(BusKind::Session).map(|r| &r.access) else {
        panic!("no session proxy");
    };
    let proxy = Proxy::start(&bus.address(), &bus.dir.join("proxy"), args).expect("proxy");

    let mut direct = Conn::connect(&bus.socket).expect("direct client");
    let mut proxied = Conn::connect(&proxy.socket).expect("proxied client");
    // Warm up both paths, then interleave halves so drift hits both alike.
    measure(&mut direct, calls / 20 + 1);
    measure(&mut proxied, calls / 20 + 1);
    let mut d = measure(&mut direct, calls / 2);
    let mut p = measure(&mut proxied, calls / 2);
    d.extend(measure(&mut direct, calls - calls / 2));
    p.extend(measure(&mut proxied, calls - calls / 2));
    let direct_median = report("direct (dbus-daemon)", d);
    let proxy_median = report("through xdg-dbus-proxy", p);
    println!(
        "proxy overhead per call: {:.1} us median ({:.2}x)",
        proxy_median - direct_median,
        proxy_median / direct_median
    );
}
