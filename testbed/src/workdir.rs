//! Where the test bed keeps its files: server templates (built once, reused by every
//! topology on the machine) and one directory per running topology, on tmpfs (`/dev/shm`)
//! when it is writable, else in the temp dir.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Context, Error, Result};

/// The test bed's base directory, created world-traversable so server users can reach
/// their data directories below it.
pub fn base_dir() -> Result<PathBuf> {
    let shm = Path::new("/dev/shm");
    let parent = if is_writable_dir(shm) {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let base = parent.join("shardwire-testbed");
    make_dir(&base, 0o755)?;
    Ok(base)
}

fn is_writable_dir(path: &Path) -> bool {
    let probe = path.join(format!(".shardwire-probe-{}", std::process::id()));
    match fs::create_dir(&probe) {
        Ok(()) => fs::remove_dir(&probe).is_ok(),
        Err(_) => false,
    }
}

/// Creates `path` (and parents) and sets its mode.
pub fn make_dir(path: &Path, mode: u32) -> Result<()> {
    fs::create_dir_all(path).context(format!("create {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .context(format!("chmod {}", path.display()))
}

/// A fresh directory for one topology.
pub fn new_topology_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let run = base_dir()?.join("run");
    make_dir(&run, 0o755)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = run.join(format!(
        "{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    make_dir(&dir, 0o755)?;
    Ok(dir)
}

/// An exclusive lock on a file, released on drop; serialises template builds across
/// processes.
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the lock on `path` is ours.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .context(format!("open {}", path.display()))?;
        // SAFETY: valid fd for the lifetime of `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(Error::new(format!(
                "flock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            )));
        }
        Ok(FileLock { _file: file })
    }
}

/// Copies a directory tree, preserving owners and modes (`cp -a`).
pub async fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let out = tokio::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .await
        .context("run cp")?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "cp -a {} {}: {}",
            from.display(),
            to.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A server template under the machine-wide cache, held under its lock while it is built.
pub enum Template {
    /// Already built: its data directory.
    Ready(PathBuf),
    /// To be built by the caller in [`TemplateBuild::building`], then published.
    Build(TemplateBuild),
}

/// An exclusive right to build one template.
pub struct TemplateBuild {
    /// The cache directory (a readable working directory for tools).
    pub templates: PathBuf,
    /// Where to build; emptied before it is handed out.
    pub building: PathBuf,
    /// The template's name (used for its log file).
    pub name: String,
    dir: PathBuf,
    ready: PathBuf,
    _lock: FileLock,
}

impl TemplateBuild {
    /// Moves the built directory into place and marks it ready for every later caller.
    pub fn publish(self) -> Result<PathBuf> {
        std::fs::rename(&self.building, &self.dir)
            .context(format!("publish template {}", self.name))?;
        std::fs::write(&self.ready, b"ok").context("mark template ready")?;
        Ok(self.dir)
    }
}

/// Looks up template `name`, whose presence is proven by `marker` inside it. Concurrent
/// callers in any process wait on one lock, so a template is built once per machine.
pub async fn template(name: &str, marker: &str) -> Result<Template> {
    let templates = base_dir()?.join("templates");
    make_dir(&templates, 0o755)?;
    let dir = templates.join(name);
    let ready = templates.join(format!("{name}.ready"));
    let lock_path = templates.join(format!("{name}.lock"));
    let lock = tokio::task::spawn_blocking(move || FileLock::acquire(&lock_path))
        .await
        .map_err(|e| Error::new(format!("template lock task: {e}")))??;
    if ready.exists() && dir.join(marker).exists() {
        return Ok(Template::Ready(dir));
    }
    let building = templates.join(format!("{name}.building"));
    let _ = fs::remove_dir_all(&building);
    Ok(Template::Build(TemplateBuild {
        templates,
        building,
        name: name.to_string(),
        dir,
        ready,
        _lock: lock,
    }))
}
