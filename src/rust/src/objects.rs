//! `ipc_objects()` and the removal of `cleanup = TRUE` objects by name.
//!
//! Listing only looks: every file is opened read-only with `O_NONBLOCK` and
//! `O_NOFOLLOW` (so a FIFO or a device cannot block it), anything that is not
//! a regular file of this user with a rustipc header is skipped, and a
//! mutex's state is read from its bytes with `pread`, never by taking its
//! locks (0.1.0 took and released them, which left a mutex whose holder had
//! died unrecoverable).

use crate::error::{to_r, Error, Kind, Result};
use crate::store::{self, Dir, ObjKind, HEADER_LEN, TMP_PREFIX};
use extendr_api::prelude::*;
use std::os::fd::AsRawFd;

/// One row of `ipc_objects()`.
pub struct Listed {
    pub name: String,
    pub kind: &'static str,
    pub size: f64,
    pub modified: f64,
    /// "locked", "unlocked" or "holder died" for mutexes.
    pub state: Option<&'static str>,
    pub creator: Option<u32>,
    pub cleanup: Option<bool>,
}

fn inspect(dir: &Dir, name: &str) -> Option<Listed> {
    let fd = dir.open_file(name, false).ok()??;
    // SAFETY: fstat fills the zeroed stat struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return None;
    }
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() } as u32;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG || st.st_uid as u32 != me {
        return None;
    }
    let (size, modified) = (st.st_size as f64, st.st_mtime as f64);
    if name.starts_with(TMP_PREFIX) {
        let row = Listed { name: name.to_string(), kind: "partial", size, modified, state: None, creator: None, cleanup: None };
        return Some(row);
    }
    let mut raw = [0u8; HEADER_LEN];
    if !store::pread_exact(fd.as_raw_fd(), &mut raw, 0) {
        return None;
    }
    let h = store::parse_header(&raw)?;
    let kind = h.kind?;
    let state = if kind == ObjKind::Mutex {
        let len = (st.st_size as usize).saturating_sub(HEADER_LEN).min(1 << 16);
        let mut body = vec![0u8; len];
        store::pread_exact(fd.as_raw_fd(), &mut body, HEADER_LEN as u64).then(|| crate::mutex::status(&body))
    } else {
        None
    };
    Some(Listed {
        name: name.to_string(),
        kind: kind.label(),
        size,
        modified,
        state,
        creator: Some(h.creator),
        cleanup: Some(h.flags & store::FLAG_CLEANUP != 0),
    })
}

/// The rustipc objects in this user's object directory.
pub fn list() -> Result<Vec<Listed>> {
    let dir = Dir::open()?;
    Ok(dir
        .names()?
        .iter()
        .filter(|n| !n.starts_with('.') || n.starts_with(TMP_PREFIX))
        .filter_map(|n| inspect(&dir, n))
        .collect())
}

/// `ipc_objects()` as a list of columns, or an error list.
#[extendr]
fn rs_objects() -> Robj {
    match list() {
        Ok(rows) => {
            let lgl = |v: Option<bool>| v.map(Rbool::from).unwrap_or(Rbool::na_value());
            let name: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
            let kind: Vec<&str> = rows.iter().map(|r| r.kind).collect();
            let size: Vec<f64> = rows.iter().map(|r| r.size).collect();
            let modified: Vec<f64> = rows.iter().map(|r| r.modified).collect();
            let locked: Vec<Rbool> = rows.iter().map(|r| lgl(r.state.map(|s| s == "locked"))).collect();
            let state: Vec<Option<&str>> = rows.iter().map(|r| r.state).collect();
            let creator: Vec<Option<i32>> = rows.iter().map(|r| r.creator.map(|p| p as i32)).collect();
            let cleanup: Vec<Rbool> = rows.iter().map(|r| lgl(r.cleanup)).collect();
            let cols = List::from_names_and_values(
                ["name", "kind", "size", "modified", "locked", "state", "creator", "cleanup"],
                [
                    Robj::from(name),
                    Robj::from(kind),
                    Robj::from(size),
                    Robj::from(modified),
                    Robj::from(locked),
                    Robj::from(state),
                    Robj::from(creator),
                    Robj::from(cleanup),
                ],
            );
            // The success value is a list too: R tells them apart by `name`.
            match cols {
                Ok(l) => l.into(),
                Err(_) => Error::new(Kind::OsError, "cannot build the listing").into(),
            }
        }
        Err(e) => e.into(),
    }
}

/// Remove the object `name` if it is of `kind` (for `cleanup = TRUE`, and
/// for `partial` files).
#[extendr]
fn rs_remove_name(name: &str, kind: &str) -> Robj {
    let r = match ObjKind::from_label(kind) {
        Some(ObjKind::Mutex) => crate::mutex::remove_name(name),
        Some(ObjKind::Semaphore) => crate::semaphore::remove_name(name),
        Some(ObjKind::MsgQueue) => crate::msg_queue::remove_name(name),
        None if kind == "partial" && name.starts_with(TMP_PREFIX) => Dir::open().and_then(|d| d.remove_file(name)),
        None => Err(Error::new(Kind::InvalidArgument, format!("unknown kind \"{kind}\""))),
    };
    to_r(r)
}

/// The object directory (for `ipc_objects()`'s documentation and tests).
#[extendr]
fn rs_object_dir() -> Robj {
    to_r(Dir::open().map(|d| d.path))
}

extendr_module! {
    mod objects;
    fn rs_objects;
    fn rs_remove_name;
    fn rs_object_dir;
}
