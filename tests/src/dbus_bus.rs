//! Fixtures for the D-Bus tests and benchmark: a private `dbus-daemon` in a temporary
//! directory, and a real `xdg-dbus-proxy` in front of it, started the way Flatpak starts
//! it (ready when it writes one byte to its `--fd`, gone when that pipe closes).

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system temp dir, removed by [`remove_dir`].
pub fn scratch_dir(tag: &str) -> io::Result<PathBuf> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("portcullis-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Whether an executable is on `PATH`.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
        .unwrap_or(false)
}

/// A private bus with an open policy, listening on `dir/bus`.
pub struct PrivateBus {
    child: Child,
    /// The temporary directory holding the config and the socket.
    pub dir: PathBuf,
    /// The listening socket.
    pub socket: PathBuf,
}

impl PrivateBus {
    /// Starts `dbus-daemon` and waits until it listens.
    pub fn start() -> io::Result<PrivateBus> {
        let dir = scratch_dir("bus")?;
        let socket = dir.join("bus");
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig>\n  <type>session</type>\n  <listen>unix:path={}</listen>\n  \
                 <auth>EXTERNAL</auth>\n  <policy context=\"default\">\n    \
                 <allow send_destination=\"*\" eavesdrop=\"true\"/>\n    \
                 <allow eavesdrop=\"true\"/>\n    <allow own=\"*\"/>\n  </policy>\n</busconfig>\n",
                socket.display()
            ),
        )?;
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            // Only noise as root in a container ("failed to set fd limit").
            .stderr(Stdio::null())
            .spawn()?;
        // The address is printed once the daemon listens.
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        if !line.starts_with("unix:") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("dbus-daemon did not print its address"));
        }
        Ok(PrivateBus { child, dir, socket })
    }

    /// The bus address clients use.
    pub fn address(&self) -> String {
        format!("unix:path={}", self.socket.display())
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `xdg-dbus-proxy`.
pub struct Proxy {
    child: Child,
    sync: Option<ChildStdout>,
    /// The filtered socket clients connect to.
    pub socket: PathBuf,
}

impl Proxy {
    /// Starts `xdg-dbus-proxy --fd=1 ADDRESS SOCKET ARGS…` (the sync pipe is its stdout)
    /// and waits for its ready byte.
    pub fn start(address: &str, socket: &Path, args: &[String]) -> io::Result<Proxy> {
        let mut child = Command::new("xdg-dbus-proxy")
            .arg("--fd=1")
            .arg(address)
            .arg(socket)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut sync = child.stdout.take();
        let mut byte = [0u8; 1];
        let ready = match sync.as_mut() {
            Some(pipe) => pipe.read(&mut byte).map(|n| n == 1).unwrap_or(false),
            None => false,
        };
        if !ready {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(
                "xdg-dbus-proxy exited before it was ready",
            ));
        }
        Ok(Proxy {
            child,
            sync,
            socket: socket.to_path_buf(),
        })
    }

    /// Closes the sync pipe and reports whether the proxy exited on its own within `limit`.
    pub fn close_and_wait(&mut self, limit: Duration) -> bool {
        self.sync = None;
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.sync = None;
        if !self.close_and_wait(Duration::from_secs(2)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
