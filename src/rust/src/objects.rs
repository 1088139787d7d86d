//! R entry points for [`rustipc_core::objects`].

use crate::error::{err_to_r, to_r, Error, Kind};
use extendr_api::prelude::*;
use rustipc_core::objects::{cleanup_orphans, list};
use rustipc_core::store::{Dir, ObjKind, TMP_PREFIX};

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
            let orphaned: Vec<Rbool> = rows.iter().map(|r| lgl(r.orphaned)).collect();
            let cols = List::from_names_and_values(
                ["name", "kind", "size", "modified", "locked", "state", "creator", "cleanup", "orphaned"],
                [
                    Robj::from(name),
                    Robj::from(kind),
                    Robj::from(size),
                    Robj::from(modified),
                    Robj::from(locked),
                    Robj::from(state),
                    Robj::from(creator),
                    Robj::from(cleanup),
                    Robj::from(orphaned),
                ],
            );
            // The success value is a list too: R tells them apart by `name`.
            match cols {
                Ok(l) => l.into(),
                Err(_) => err_to_r(Error::new(Kind::OsError, "cannot build the listing")),
            }
        }
        Err(e) => err_to_r(e),
    }
}

/// Remove the object `name` if it is of `kind` (for `cleanup = TRUE`, and
/// for `partial` files).
#[extendr]
fn rs_remove_name(name: &str, kind: &str) -> Robj {
    let r = match ObjKind::from_label(kind) {
        Some(ObjKind::Mutex) => rustipc_core::mutex::remove_name(name),
        Some(ObjKind::Semaphore) => rustipc_core::semaphore::remove_name(name),
        Some(ObjKind::MsgQueue) => rustipc_core::msg_queue::remove_name(name),
        None if kind == "partial" && name.starts_with(TMP_PREFIX) => Dir::open().and_then(|d| d.remove_file(name)),
        None => Err(Error::new(Kind::InvalidArgument, format!("unknown kind \"{kind}\""))),
    };
    to_r(r)
}

/// `ipc_cleanup()`: the names of the orphans removed.
#[extendr]
fn rs_cleanup_orphans() -> Robj {
    to_r(cleanup_orphans())
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
    fn rs_cleanup_orphans;
    fn rs_object_dir;
}
