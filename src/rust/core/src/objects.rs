//! `ipc_objects()` and the removal of `cleanup = TRUE` objects by name.
//!
//! Listing only looks: every file is opened read-only with `O_NONBLOCK` and
//! `O_NOFOLLOW` (so a FIFO or a device cannot block it; Windows: without
//! following reparse points), anything that is not a regular file of this
//! user with a rustipc header is skipped, and a
//! mutex's state is read from its bytes with `pread`, never by taking its
//! locks (0.1.0 took and released them, which left a mutex whose holder had
//! died unrecoverable).

use crate::error::Result;
use crate::store::{self, Dir, ObjKind, HEADER_LEN, TMP_PREFIX};
use crate::token;
use crate::sys::fs;

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
    /// Made with `cleanup = TRUE` by a process that is gone.
    pub orphaned: Option<bool>,
}

fn inspect(dir: &Dir, name: &str) -> Option<Listed> {
    let file = dir.open_file(name, false).ok()??;
    let st = fs::meta(&file).ok()?;
    // Listed whatever the mode (an object another program made wider is
    // still shown, and refused when opened); other users' files are not.
    if !st.regular || !st.mine {
        return None;
    }
    let (size, modified) = (st.size as f64, st.modified);
    if let Some(rest) = name.strip_prefix(TMP_PREFIX) {
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let row = Listed {
            name: name.to_string(),
            kind: "partial",
            size,
            modified,
            state: None,
            creator: pid,
            cleanup: None,
            orphaned: pid.map(|p| !crate::sys::token::pid_alive(p)),
        };
        return Some(row);
    }
    let mut raw = [0u8; HEADER_LEN];
    if !store::pread_exact(&file, &mut raw, 0) {
        return None;
    }
    let h = store::parse_header(&raw)?;
    let kind = h.kind?;
    let state = if kind == ObjKind::Mutex {
        let len = (st.size as usize).saturating_sub(HEADER_LEN).min(1 << 16);
        let mut body = vec![0u8; len];
        store::pread_exact(&file, &mut body, HEADER_LEN as u64).then(|| crate::mutex::status(&body))
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
        orphaned: Some(
            h.flags & store::FLAG_CLEANUP != 0
                && token::Token::unpack(h.creator_token).is_none_or(|t| !token::is_alive(t)),
        ),
    })
}

/// Remove every orphan: `cleanup = TRUE` objects whose creator is gone, and
/// temporary files of creators that are gone.  Returns their names.
pub fn cleanup_orphans() -> Result<Vec<String>> {
    let mut removed = Vec::new();
    // Removed objects Windows could not delete while they were mapped.
    let dir = Dir::open()?;
    for n in dir.names()?.iter().filter(|n| n.starts_with(store::GONE_PREFIX)) {
        let _ = dir.remove_file(n);
    }
    for row in list()? {
        if row.orphaned != Some(true) {
            continue;
        }
        let gone = match ObjKind::from_label(row.kind) {
            Some(ObjKind::Mutex) => crate::mutex::remove_name(&row.name),
            Some(ObjKind::Semaphore) => crate::semaphore::remove_name(&row.name),
            Some(ObjKind::MsgQueue) => crate::msg_queue::remove_name(&row.name),
            None => Dir::open().and_then(|d| d.remove_file(&row.name)),
        };
        if gone? {
            removed.push(row.name);
        }
    }
    Ok(removed)
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





