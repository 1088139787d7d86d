//! R entry points for [`rustipc_core::objects`].

use crate::error::{checked_text, entry, err, Error, Kind};
use crate::rapi::*;
use rustipc_core::objects::{cleanup_orphans, list as listing};
use rustipc_core::store::{Dir, ObjKind, TMP_PREFIX};

/// `ipc_objects()` as a named list of columns, or an error list.
#[no_mangle]
pub extern "C" fn rsx_objects() -> Sexp {
    entry(|| {
        let rows = match listing() {
            Ok(rows) => rows,
            Err(e) => return err(&e),
        };
        let name: Vec<Option<&str>> = rows.iter().map(|r| Some(r.name.as_str())).collect();
        let kind: Vec<Option<&str>> = rows.iter().map(|r| Some(r.kind)).collect();
        let size: Vec<f64> = rows.iter().map(|r| r.size).collect();
        let modified: Vec<f64> = rows.iter().map(|r| r.modified).collect();
        let locked: Vec<Option<bool>> = rows.iter().map(|r| r.state.map(|s| s == "locked")).collect();
        let state: Vec<Option<&str>> = rows.iter().map(|r| r.state).collect();
        let creator: Vec<Option<i32>> = rows.iter().map(|r| r.creator.map(|p| p as i32)).collect();
        let cleanup: Vec<Option<bool>> = rows.iter().map(|r| r.cleanup).collect();
        let orphaned: Vec<Option<bool>> = rows.iter().map(|r| r.orphaned).collect();
        let cols = [
            strings(&name)?,
            strings(&kind)?,
            doubles(&size)?,
            doubles(&modified)?,
            logicals(&locked)?,
            strings(&state)?,
            integers(&creator)?,
            logicals(&cleanup)?,
            logicals(&orphaned)?,
        ];
        // The success value is a list too: R tells them apart by `errno`.
        list(Some(&["name", "kind", "size", "modified", "locked", "state", "creator", "cleanup", "orphaned"]), &cols)
    })
}

/// Remove the object `name` if it is of `kind` (for `cleanup = TRUE`, and
/// for `partial` files): TRUE, FALSE or the error list.
///
/// # Safety
/// Called by R through `.Call` with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_remove_name(name: Sexp, kind: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: live SEXPs of this .Call.
        let (name, kind) = match unsafe { (checked_text(name, "name"), checked_text(kind, "kind")) } {
            (Ok(n), Ok(k)) => (n, k),
            (Err(e), _) | (_, Err(e)) => return err(&e),
        };
        let r = match ObjKind::from_label(kind) {
            Some(ObjKind::Mutex) => rustipc_core::mutex::remove_name(name),
            Some(ObjKind::Semaphore) => rustipc_core::semaphore::remove_name(name),
            Some(ObjKind::MsgQueue) => rustipc_core::msg_queue::remove_name(name),
            None if kind == "partial" && name.starts_with(TMP_PREFIX) => Dir::open().and_then(|d| d.remove_file(name)),
            None => Err(Error::new(Kind::InvalidArgument, format!("unknown kind \"{kind}\""))),
        };
        match r {
            Ok(b) => Ok(lgl(b)),
            Err(e) => err(&e),
        }
    })
}

/// `ipc_cleanup()`: the names of the orphans removed, or the error list.
#[no_mangle]
pub extern "C" fn rsx_cleanup_orphans() -> Sexp {
    entry(|| match cleanup_orphans() {
        Ok(names) => strings(&names.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>()),
        Err(e) => err(&e),
    })
}

/// The object directory (for `ipc_objects()`'s documentation and tests).
#[no_mangle]
pub extern "C" fn rsx_object_dir() -> Sexp {
    entry(|| match Dir::open() {
        Ok(d) => string(&d.path),
        Err(e) => err(&e),
    })
}
