//! The proxy as a separate process (the real binary), for tests that crash it at a
//! failpoint or need a proxy of its own: started on leased ports, killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shardwire_testbed::PortLease;

/// A running `shardwire serve`.
pub struct ProxyProcess {
    child: Child,
    /// The client port (for the frontend the config enables).
    pub port: PortLease,
    /// The `admin_listen` port.
    pub admin: PortLease,
}

impl ProxyProcess {
    /// Starts the binary on the config `toml(port, admin_port)` makes, aborting at
    /// `failpoint` if given (`SHARDWIRE_FAILPOINT`).
    pub fn start(toml: impl FnOnce(u16, u16) -> String, failpoint: Option<&str>) -> ProxyProcess {
        let port = shardwire_testbed::lease_port().unwrap();
        let admin = shardwire_testbed::lease_port().unwrap();
        let path = std::env::temp_dir().join(format!("shardwire-process-{}.toml", port.port()));
        std::fs::write(&path, toml(port.port(), admin.port())).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shardwire"));
        cmd.args(["serve", "--config"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match failpoint {
            Some(p) => cmd.env("SHARDWIRE_FAILPOINT", p),
            None => cmd.env_remove("SHARDWIRE_FAILPOINT"),
        };
        let child = cmd.spawn().unwrap();
        ProxyProcess { child, port, admin }
    }

    /// Waits for the process to end (a failpoint aborted it).
    pub fn wait_dead(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the proxy did not stop at its failpoint");
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
