//! Metronome's caches (Verilator models, synthesis results): a directory per content key,
//! built elsewhere and renamed into place under a cross-process lock, with a manifest of every
//! file's hash so a damaged entry is noticed and rebuilt.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MANIFEST: &str = "MANIFEST";

/// Where the caches built at run time live: `$METRONOME_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/metronome`, else `~/.cache/metronome`; `None` if none of these is set.
/// Never a shared directory: a model cache is code that gets loaded.
pub fn root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("METRONOME_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("metronome"))
}

/// What [`cached`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The entry was there and intact.
    Hit,
    /// There was no entry; it was built.
    Built,
    /// The entry was damaged (the reason); it was built again.
    Rebuilt(String),
}

/// Makes sure the cache entry `dir` exists and is intact, building it with `build` (into an
/// empty directory) if not. The build happens in a temporary directory renamed into place
/// only when it succeeded, so an interrupted or failed build leaves no entry behind.
pub fn cached(
    dir: &Path,
    build: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<Outcome, String> {
    let io = |what: &str, path: &Path, e: std::io::Error| format!("{what} {}: {e}", path.display());
    let parent = dir
        .parent()
        .ok_or("a cache entry needs a parent directory")?;
    fs::create_dir_all(parent).map_err(|e| io("cannot create", parent, e))?;
    let lock_path = dir.with_extension("lock");
    let lock = File::create(&lock_path).map_err(|e| io("cannot create", &lock_path, e))?;
    lock.lock().map_err(|e| io("cannot lock", &lock_path, e))?;
    remove_stale_builds(dir);
    let damage = if dir.exists() {
        match check(dir) {
            Ok(()) => return Ok(Outcome::Hit),
            Err(reason) => Some(reason),
        }
    } else {
        None
    };
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| io("cannot create", &tmp, e))?;
    if let Err(e) = build(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    write_manifest(&tmp)?;
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| io("cannot remove", dir, e))?;
    }
    fs::rename(&tmp, dir).map_err(|e| io("cannot move the new entry to", dir, e))?;
    Ok(match damage {
        Some(reason) => Outcome::Rebuilt(reason),
        None => Outcome::Built,
    })
}

/// Removes the temporary directories of builds of `dir` that were killed: with the lock held,
/// no other build of this entry is running.
fn remove_stale_builds(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return;
    };
    let prefix = format!("{}.tmp", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Every file under `dir` (relative paths, sorted), the manifest excepted.
fn files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs::read_dir(&d).map_err(|e| format!("cannot list {}: {e}", d.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != MANIFEST) {
                out.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn digest(path: &Path) -> Result<String, String> {
    let mut file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn write_manifest(dir: &Path) -> Result<(), String> {
    let mut text = String::new();
    for f in files(dir)? {
        text += &format!("{} {}\n", digest(&dir.join(&f))?, f.display());
    }
    fs::write(dir.join(MANIFEST), text).map_err(|e| e.to_string())
}

/// Whether every file the manifest lists is there with its hash, and nothing else.
fn check(dir: &Path) -> Result<(), String> {
    let text = fs::read_to_string(dir.join(MANIFEST))
        .map_err(|_| "it has no manifest (an unfinished build?)".to_string())?;
    let mut listed = Vec::new();
    for line in text.lines() {
        let (hash, name) = line
            .split_once(' ')
            .ok_or_else(|| format!("its manifest line {line:?} is malformed"))?;
        if digest(&dir.join(name)).ok().as_deref() != Some(hash) {
            return Err(format!("{name} is missing or was changed"));
        }
        listed.push(PathBuf::from(name));
    }
    if files(dir)? != listed {
        return Err("it holds files its manifest does not list".into());
    }
    Ok(())
}
