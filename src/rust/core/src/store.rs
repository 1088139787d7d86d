//! Where named objects live, and how they are created, checked and removed.
//! The logic here is the same on every OS; the file-system calls behind it
//! are [`crate::sys::fs`] (`fs_unix.rs`, `fs_windows.rs`).
//!
//! Every mutex, semaphore and queue is one file in the user's object
//! directory, by default `/dev/shm/rustipc-<uid>` on Linux (a tmpfs, so the
//! file is memory), `<tempdir>/rustipc-<uid>` on other Unixes, and
//! `%LOCALAPPDATA%\rustipc` on Windows; the environment variable
//! `RUSTIPC_DIR` names another.  The file is `<name>` and starts with a
//! [`Header`] that says which kind of object it is.  An object persists
//! until it is removed (as interprocess's do), on Windows too, where it is a
//! file-backed mapping.
//!
//! **Who can open what.**  Unix: the directory is created with mode 0700
//! and, on every open, must be a real directory (not a symlink), owned by
//! the effective user, with no group or other permission bits; anything
//! else is a `permission` error naming it, and nothing in it is used.
//! Objects are created with mode 0600, and opening one checks that it is a
//! regular file owned by the user, opened with `O_NOFOLLOW | O_NONBLOCK` (a
//! FIFO or a device planted under a name can neither block nor be mistaken
//! for an object).  So another user can neither create, read, nor replace a
//! name; the same user's processes are trusted (they could as well ptrace
//! us).  Windows: no modes exist and none are checked; what keeps other
//! users out is the default ACL of the user's profile, which the directory
//! inherits (only with `RUSTIPC_DIR` elsewhere is that up to the user).
//! The directory and objects must not be reparse points (symlinks,
//! junctions).
//!
//! **Checked before use.**  The header is read with a positioned read (not
//! through the mapping), and its magic, version, kind and parameters are
//! checked, the parameters with overflow-checked arithmetic, against the
//! file's exact size before anything is mapped; each kind then only indexes
//! its body within what its parameters allow.
//!
//! **Created whole or not at all.**  A creator writes the object into a
//! private temporary file (`.tmp-<pid>-<n>`, in the private directory, so no
//! other user can plant one), allocates every byte (`posix_fallocate`; on
//! a full tmpfs that is an `ENOSPC` error now, instead of a SIGBUS on the
//! first touch of a page later; Windows: `SetEndOfFile`), initialises it,
//! and publishes it under its name with a call that fails if the name
//! exists (`linkat()`; Windows: `MoveFileExW` without replacing).  Whoever
//! opens the name sees nothing or a complete object; a failed creation
//! leaves nothing behind.
//!
//! **Removed means removed.**  `remove` sets the `removed` word in the header
//! before taking the name away, so every process still holding the old
//! object sees it with one atomic load per call and follows the name
//! ([`Named`]); waiters are woken (each kind wakes its own words) or see it
//! within one slice.
//!
//! Why files opened directly (not `shm_open`, not the `shared_memory`
//! crate): kinds must not mix, so the kind is written in the file; a new
//! object must never be seen half-made (shared_memory's `open()` fails
//! between the creator's `shm_open` and `ftruncate`); POSIX shm names cannot
//! be listed or owner-checked through a directory on every platform; and
//! shared_memory pulls in large Windows-only crates.

use crate::error::{Error, Kind, Result};
use crate::wait::Outcome;
use crate::sys::fs;
use std::fs::File;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const MAGIC: [u8; 8] = *b"RUSTIPC\0";
/// 3: per-user directory, `removed` word, creator and its token, heap
/// queues.  Files of version 1 lived elsewhere (`/dev/shm/ripc-*`) and are
/// never opened.
const VERSION: u32 = 3;
/// Bytes before an object's body.
pub const HEADER_LEN: usize = 64;
/// Temporary files of creators start with this (and are never objects).
pub const TMP_PREFIX: &str = ".tmp-";
/// Removed objects that could not be deleted at once start with this
/// (Windows only: see [`crate::sys::fs`]); `ipc_cleanup()` deletes them.
pub const GONE_PREFIX: &str = ".gone-";

/// Header flag: the creator asked for `cleanup = TRUE`.
pub const FLAG_CLEANUP: u32 = 1;

/// The kinds of named object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ObjKind {
    Mutex = 1,
    Semaphore = 2,
    MsgQueue = 3,
}

impl ObjKind {
    pub fn from_u32(v: u32) -> Option<ObjKind> {
        match v {
            1 => Some(ObjKind::Mutex),
            2 => Some(ObjKind::Semaphore),
            3 => Some(ObjKind::MsgQueue),
            _ => None,
        }
    }

    pub fn from_label(s: &str) -> Option<ObjKind> {
        match s {
            "mutex" => Some(ObjKind::Mutex),
            "semaphore" => Some(ObjKind::Semaphore),
            "msg_queue" => Some(ObjKind::MsgQueue),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ObjKind::Mutex => "mutex",
            ObjKind::Semaphore => "semaphore",
            ObjKind::MsgQueue => "msg_queue",
        }
    }
}

/// The first 64 bytes of every object, as stored.
#[repr(C)]
pub struct Header {
    pub magic: [u8; 8],
    pub version: u32,
    pub kind: u32,
    /// Kind-specific (msg_queue: max_count, max_nchar).
    pub params: [u32; 4],
    /// Set (to 1) before the name is unlinked.
    pub removed: AtomicU32,
    /// Process id of the creator (informational: `ipc_objects()`).
    pub creator: u32,
    pub flags: u32,
    /// [`crate::sys::BACKEND_ID`] of the build that made it: backends lay
    /// objects out differently, so one never opens another's.
    pub backend: u32,
    /// The creator's packed [`crate::token::Token`] for `cleanup = TRUE`
    /// objects (0 otherwise): orphaned once that token is dead.
    pub creator_token: u64,
    /// Drawn at creation, different for every object ever made (0 in
    /// files made before it existed): names what the OS keeps per object
    /// outside the file (Windows: the wait events of [`crate::sys::addr`]),
    /// so that a re-created name never shares it with its predecessor.
    pub incarnation: u64,
}

const _: () = assert!(std::mem::size_of::<Header>() == HEADER_LEN);

/// A header read from a file (plain values).
#[derive(Debug, Clone, Copy)]
pub struct HeaderInfo {
    pub kind: Option<ObjKind>,
    pub params: [u32; 4],
    pub removed: bool,
    pub creator: u32,
    pub flags: u32,
    pub backend: u32,
    pub creator_token: u64,
    pub incarnation: u64,
}

/// Parse 64 bytes; `None` unless magic and version are ours.
pub fn parse_header(b: &[u8; HEADER_LEN]) -> Option<HeaderInfo> {
    let u = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    if b[..8] != MAGIC || u(8) != VERSION {
        return None;
    }
    Some(HeaderInfo {
        kind: ObjKind::from_u32(u(12)),
        params: [u(16), u(20), u(24), u(28)],
        removed: u(32) != 0,
        creator: u(36),
        flags: u(40),
        backend: u(44),
        creator_token: u64::from_ne_bytes([b[48], b[49], b[50], b[51], b[52], b[53], b[54], b[55]]),
        incarnation: u64::from_ne_bytes([b[56], b[57], b[58], b[59], b[60], b[61], b[62], b[63]]),
    })
}

/// What `assert` asks of the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assert {
    None,
    Create,
    Exists,
}

impl Assert {
    pub fn parse(s: &str) -> Result<Assert> {
        match s {
            "none" => Ok(Assert::None),
            "create" => Ok(Assert::Create),
            "exists" => Ok(Assert::Exists),
            _ => Err(Error::new(Kind::InvalidArgument, format!("unknown assert \"{s}\""))),
        }
    }
}

/// A name must be one file name in the directory that cannot collide with
/// rustipc's own files (which start with a dot).
pub fn check_name(name: &str) -> Result<()> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name.len() > 255 {
        "it is longer than 255 bytes"
    } else if name.contains('/') || name.contains('\0') {
        "it contains '/' or a NUL byte"
    } else if name.starts_with('.') {
        "names starting with '.' are reserved"
    } else if let Some(why) = fs::name_problem(name) {
        why
    } else {
        return Ok(());
    };
    Err(Error::new(Kind::InvalidArgument, format!("'{name}' cannot be an object name: {why}")))
}

/// The object directory's path (see the module docs).
///
/// A relative `RUSTIPC_DIR` is made absolute against the working directory
/// the first time this process sees that value, and kept: a later
/// `setwd()` does not move the object directory (which would strand
/// objects, or a removal half done, in another directory).
pub fn dir_path() -> String {
    static RESOLVED: Mutex<Option<(String, String)>> = Mutex::new(None);
    if let Ok(d) = std::env::var("RUSTIPC_DIR") {
        if !d.is_empty() {
            let mut cache = RESOLVED.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((raw, abs)) = cache.as_ref() {
                if *raw == d {
                    return abs.clone();
                }
            }
            let abs = if std::path::Path::new(&d).is_absolute() {
                d.clone()
            } else {
                std::env::current_dir().map(|c| c.join(&d).to_string_lossy().into_owned()).unwrap_or_else(|_| d.clone())
            };
            *cache = Some((d, abs.clone()));
            return abs;
        }
    }
    fs::default_dir().to_string_lossy().into_owned()
}

pub use fs::FileId;

/// The identity of an open file.
pub fn file_id(f: &File) -> Result<FileId> {
    fs::file_id(f)
}

/// Read exactly `buf.len()` bytes at `off`.
pub fn pread_exact(f: &File, buf: &mut [u8], off: u64) -> bool {
    fs::read_at(f, buf, off)
}

/// The object directory, opened and verified (how: [`crate::sys::fs`]).
pub struct Dir {
    inner: fs::Dir,
    pub path: String,
}

impl Dir {
    /// Open (creating it if missing) and verify the object directory.
    pub fn open() -> Result<Dir> {
        let inner = fs::Dir::open(dir_path())?;
        Ok(Dir { path: inner.path.clone(), inner })
    }

    /// The identity of `name` in the directory, None when absent.
    pub fn id_of(&self, name: &str) -> Result<Option<FileId>> {
        self.inner.id_of(name)
    }

    /// Open a file of this directory without blocking or following links,
    /// read-only or read-write; a missing name is `Ok(None)`.
    pub fn open_file(&self, name: &str, write: bool) -> std::io::Result<Option<File>> {
        self.inner.open_file(name, write)
    }

    /// Create (or open) a small private file, for tokens such as uid blocks.
    pub fn open_private(&self, name: &str) -> std::io::Result<File> {
        self.inner.open_private(name)
    }

    /// The names in the directory (every entry but `.` and `..`).
    pub fn names(&self) -> Result<Vec<String>> {
        self.inner.names()
    }

    /// Remove a leftover file of the directory (a creator's temporary file).
    pub fn remove_file(&self, name: &str) -> Result<bool> {
        match self.inner.unlink(name) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::os(format!("cannot remove '{name}' in '{}'", self.path), e)),
        }
    }
}

/// A shared mapping of a whole object file: its header, then its body.
pub struct Map(fs::Map);

impl Map {
    fn header(&self) -> &Header {
        // SAFETY: every map is at least HEADER_LEN bytes and page aligned.
        unsafe { &*(self.0.ptr() as *const Header) }
    }

    /// The body's first byte (64-byte aligned, as mappings are page aligned).
    pub fn body(&self) -> *mut u8 {
        // SAFETY: HEADER_LEN <= len.
        unsafe { self.0.ptr().add(HEADER_LEN) }
    }

    pub fn body_len(&self) -> usize {
        self.0.size() - HEADER_LEN
    }
}

/// An opened object: its mapping and identity.  The file's descriptor is
/// closed once the file is mapped (the mapping keeps the file), so an open
/// object costs no descriptor: a process can hold as many objects as it
/// can map, whatever its descriptor limit.  What needs the file later
/// (removal: is the name still this object?) goes by name and identity.
pub struct Object {
    pub map: Map,
    pub id: FileId,
    pub name: String,
    pub params: [u32; 4],
}

impl Object {
    /// Whether the object was removed (one atomic load).
    pub fn is_removed(&self) -> bool {
        self.map.header().removed.load(Ordering::Acquire) != 0
    }

    /// The `removed` word, for waits that must notice a removal.
    pub fn removed_word(&self) -> &AtomicU32 {
        &self.map.header().removed
    }

    /// Mark the object removed and unlink its name if the name still names
    /// this very object.  Returns whether it unlinked anything.  Callers
    /// wake their waiters afterwards.
    pub fn remove(&self) -> Result<bool> {
        self.map.header().removed.store(1, Ordering::Release);
        let dir = Dir::open()?;
        if dir.id_of(&self.name)? != Some(self.id) {
            return Ok(false);
        }
        match dir.inner.retire(&self.name) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::os(format!("cannot remove '{}' in '{}'", self.name, dir.path), e)),
        }
    }
}

/// How a kind checks its parameters: the body length they imply, or `None`
/// when they are out of range (a damaged or foreign file).
pub type Layout<'a> = &'a dyn Fn([u32; 4]) -> Option<usize>;

fn not_object(dir: &Dir, name: &str, why: &str) -> Error {
    Error::new(Kind::WrongKind, format!("'{name}' ({}/{name}) is not a usable rustipc object: {why}", dir.path))
}

/// Open an existing object and check everything about it (module docs).
pub fn open_existing(dir: &Dir, name: &str, kind: ObjKind, layout: Layout) -> Result<Option<Object>> {
    let file = match dir.open_file(name, true) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => {
            if fs::is_symlink_error(&e) {
                return Err(not_object(dir, name, "it is a symbolic link"));
            }
            let perm = e.kind() == std::io::ErrorKind::PermissionDenied;
            let mut err = Error::os(format!("cannot open {} '{name}' in '{}'", kind.label(), dir.path), e);
            if perm {
                err.kind = Kind::Permission;
            }
            return Err(err);
        }
    };
    let st = fs::meta(&file).map_err(|e| Error::os(format!("cannot stat '{name}'"), e))?;
    if !st.regular {
        return Err(not_object(dir, name, "it is not a regular file"));
    }
    if let Err(why) = st.private {
        return Err(Error::new(Kind::Permission, format!("'{name}' ({}/{name}) {why}", dir.path)));
    }
    let size = st.size;
    let mut raw = [0u8; HEADER_LEN];
    if size < HEADER_LEN as u64 || !pread_exact(&file, &mut raw, 0) {
        return Err(not_object(dir, name, "it is too short"));
    }
    let Some(h) = parse_header(&raw) else {
        return Err(not_object(dir, name, "its header is not a rustipc header of this version"));
    };
    if h.backend != crate::sys::BACKEND_ID {
        return Err(not_object(dir, name, "it was made by a rustipc built with another backend (see ipc_backend())"));
    }
    match h.kind {
        Some(k) if k == kind => {}
        Some(k) => {
            return Err(Error::new(Kind::WrongKind, format!("'{name}' is a {}, not a {}", k.label(), kind.label())))
        }
        None => return Err(not_object(dir, name, "its kind is unknown")),
    }
    let body = layout(h.params).ok_or_else(|| not_object(dir, name, "its header is damaged"))?;
    if body.checked_add(HEADER_LEN).map(|n| n as u64) != Some(size) {
        return Err(not_object(dir, name, "its size does not match its header"));
    }
    let map = Map(fs::Map::new(&file, size as usize, h.incarnation)?);
    drop(file);
    let obj = Object { id: st.id, map, name: name.to_string(), params: h.params };
    if obj.is_removed() {
        // A removal cut short between marking and unlinking (its process
        // was killed, or could not open the directory): the object is gone
        // for everyone, so finish the removal and report the name absent.
        // If the unlink fails again the name is still absent to every
        // opener (they create anew, or report not_found), and no caller
        // loops on it: `open` gives up after its attempts.
        let _ = obj.remove();
        return Ok(None);
    }
    Ok(Some(obj))
}

/// Open the object `name`, creating it when `assert` allows.  A new object
/// has the body `layout(params)` implies, filled by `init` before anyone can
/// see it; `cleanup_token` is the creator's packed token when it asked for
/// `cleanup = TRUE` (0 otherwise), so that an object its creator could not
/// remove (killed, or ended by a signal) is known to be orphaned.
pub fn open(
    name: &str,
    kind: ObjKind,
    assert: Assert,
    params: [u32; 4],
    cleanup_token: u64,
    layout: Layout,
    init: &dyn Fn(*mut u8) -> Result<()>,
) -> Result<Object> {
    check_name(name)?;
    let dir = Dir::open()?;
    for _attempt in 0..100 {
        if assert != Assert::Create {
            if let Some(obj) = open_existing(&dir, name, kind, layout)? {
                return Ok(obj);
            }
            if assert == Assert::Exists {
                return Err(Error::new(Kind::NotFound, format!("{} '{name}' does not exist", kind.label())));
            }
        }
        match create(&dir, name, kind, params, cleanup_token, layout, init)? {
            Some(obj) => return Ok(obj),
            None if assert == Assert::Create => {
                return Err(Error::new(Kind::AlreadyExists, format!("'{name}' already exists")))
            }
            None => {} // somebody else created it first: open theirs
        }
    }
    Err(Error::new(Kind::OsError, format!("cannot open or create '{name}': it keeps appearing and vanishing")))
}

/// A number for a new object's [`Header::incarnation`]: a hash of this
/// process's id, a counter and the time in nanoseconds (never 0).
fn new_incarnation() -> u64 {
    static K: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut b = [0u8; 28];
    b[..4].copy_from_slice(&std::process::id().to_ne_bytes());
    b[4..12].copy_from_slice(&K.fetch_add(1, Ordering::Relaxed).to_ne_bytes());
    b[12..28].copy_from_slice(&t.as_nanos().to_ne_bytes());
    xxhash_rust::xxh3::xxh3_64(&b).max(1)
}

/// Numbers this process's temporary files.
static N: AtomicU64 = AtomicU64::new(0);

/// Create and publish a new object; None if the name exists already.
fn create(
    dir: &Dir,
    name: &str,
    kind: ObjKind,
    params: [u32; 4],
    cleanup_token: u64,
    layout: Layout,
    init: &dyn Fn(*mut u8) -> Result<()>,
) -> Result<Option<Object>> {
    let flags = if cleanup_token != 0 { FLAG_CLEANUP } else { 0 };
    let body = layout(params).ok_or_else(|| Error::new(Kind::InvalidArgument, "object parameters out of range"))?;
    let len = body
        .checked_add(HEADER_LEN)
        .ok_or_else(|| Error::new(Kind::InvalidArgument, "object too large"))?;
    let mut attempts = 0;
    let (tmp, file) = loop {
        let tmp = format!("{TMP_PREFIX}{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        match dir.inner.create_new(&tmp) {
            Ok(f) => break (tmp, f),
            // A leftover of a dead process with our pid: take the next number.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 1000 => attempts += 1,
            Err(e) => {
                return Err(Error::os(format!("cannot create {} '{name}' in '{}'", kind.label(), dir.path), e))
            }
        }
    };
    let incarnation = new_incarnation();
    let made = (|| -> Result<Map> {
        if let Err(e) = fs::allocate(&file, len) {
            let no_space = fs::is_no_space(&e);
            let mut err = Error::os(format!("cannot allocate {} '{name}'", kind.label()), e);
            if no_space {
                err.kind = Kind::NoSpace;
                let free = dir.inner.free_bytes().map(|f| format!("{f} bytes are free")).unwrap_or_default();
                err.message = format!(
                    "no space for {} '{name}': it needs {len} bytes in '{}', and {free}; remove unused \
                     objects (see ipc_objects()) or make the file system larger",
                    kind.label(),
                    dir.path
                );
            }
            return Err(err);
        }
        let map = Map(fs::Map::new(&file, len, incarnation)?);
        let h = Header {
            magic: MAGIC,
            version: VERSION,
            kind: kind as u32,
            params,
            removed: AtomicU32::new(0),
            creator: std::process::id(),
            flags,
            backend: crate::sys::BACKEND_ID,
            creator_token: cleanup_token,
            incarnation,
        };
        // SAFETY: the mapping is len >= HEADER_LEN bytes and page aligned.
        unsafe { std::ptr::write(map.0.ptr() as *mut Header, h) };
        init(map.body())?;
        Ok(map)
    })();
    let map = match made {
        Ok(m) => m,
        Err(e) => {
            drop(file);
            let _ = dir.inner.unlink(&tmp);
            return Err(e);
        }
    };
    let id = file_id(&file)?;
    let published = dir.inner.publish(&tmp, name);
    let obj = match published {
        Ok(true) => {
            drop(file);
            Some(Object { id, map, name: name.to_string(), params })
        }
        _ => {
            // Closed before the temporary name goes (Windows cannot
            // delete a file that is still mapped).
            drop((map, file));
            None
        }
    };
    let _ = dir.inner.unlink(&tmp);
    match published {
        Ok(_) => Ok(obj),
        Err(e) => Err(Error::os(format!("cannot create {} '{name}' in '{}'", kind.label(), dir.path), e)),
    }
}

/// Remove the object `name` if it is of `kind` (for `cleanup = TRUE`):
/// Ok(true) when removed.  `wake` wakes the kind's waiters.
pub fn remove_name(name: &str, kind: ObjKind, layout: Layout, wake: &dyn Fn(&Object)) -> Result<bool> {
    check_name(name)?;
    let dir = Dir::open()?;
    match open_existing(&dir, name, kind, layout)? {
        Some(obj) => {
            let r = obj.remove();
            wake(&obj);
            r
        }
        None => Ok(false),
    }
}

/// What a call on a named object returned: whether it ended because the
/// object was removed in the middle of it (see [`Named::follow`]).
pub trait EndedByRemoval {
    fn removed(&self) -> bool;
}

impl EndedByRemoval for Outcome {
    fn removed(&self) -> bool {
        *self == Outcome::Removed
    }
}

impl<V> EndedByRemoval for std::result::Result<V, Outcome> {
    fn removed(&self) -> bool {
        matches!(self, Err(Outcome::Removed))
    }
}

/// An object that can be opened again by name (see [`Named`]).
pub trait Reopen: Sized {
    fn object(&self) -> &Object;
    fn reopen(name: &str) -> Result<Arc<Self>>;
    const KIND: ObjKind;
}

/// What an R object holds: the object its name named when last used.
///
/// The rule for an object whose name was removed (by any process): a call
/// follows the name to the object that holds it now (of the same kind), or,
/// when the name does not exist, is a `not_found` error.  Checking costs one
/// atomic load of the header's `removed` word per call.
pub struct Named<T> {
    name: String,
    cur: Mutex<Arc<T>>,
}

impl<T: Reopen> Named<T> {
    pub fn new(name: &str, obj: Arc<T>) -> Named<T> {
        Named { name: name.to_string(), cur: Mutex::new(obj) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The object as it was last used, whether or not it was removed since.
    pub fn last(&self) -> Arc<T> {
        Arc::clone(&self.cur.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The object the name names now (see the type's docs).
    pub fn get(&self) -> Result<Arc<T>> {
        let mut cur = self.cur.lock().unwrap_or_else(|p| p.into_inner());
        if cur.object().is_removed() {
            match T::reopen(&self.name) {
                Ok(now) => *cur = now,
                Err(e) if e.kind == Kind::NotFound => {
                    return Err(Error::new(
                        Kind::NotFound,
                        format!("{} '{}' was removed and does not exist any more", T::KIND.label(), self.name),
                    ))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Arc::clone(&cur))
    }

    /// Run `op` on the object the name names now; when it ends because
    /// that object was removed (a wait noticed it), run it again on the
    /// object the name names then, under the same rule.
    pub fn follow<R: EndedByRemoval>(&self, op: impl Fn(&T) -> Result<R>) -> Result<R> {
        loop {
            let r = op(&*self.get()?)?;
            if !r.removed() {
                return Ok(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(p: [u32; 4]) -> Option<usize> {
        (p[0] as usize).checked_mul(8)
    }

    #[test]
    fn kinds_do_not_mix_and_remove_is_exact() {
        let name = format!("storetest{}", std::process::id());
        let noop = |_: *mut u8| Ok(());
        let a = open(&name, ObjKind::Semaphore, Assert::Create, [8, 0, 0, 0], 0, &layout, &noop).unwrap();
        let e = open(&name, ObjKind::Mutex, Assert::None, [8, 0, 0, 0], 0, &layout, &noop).err().unwrap();
        assert_eq!(e.kind, Kind::WrongKind);
        let e = open(&name, ObjKind::Semaphore, Assert::Create, [8, 0, 0, 0], 0, &layout, &noop).err().unwrap();
        assert_eq!(e.kind, Kind::AlreadyExists);
        let b = open(&name, ObjKind::Semaphore, Assert::Exists, [1, 0, 0, 0], 0, &layout, &noop).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(b.params[0], 8);
        assert!(!b.is_removed());
        assert!(a.remove().unwrap());
        assert!(b.is_removed());
        assert!(!b.remove().unwrap());
        let e = open(&name, ObjKind::Semaphore, Assert::Exists, [8, 0, 0, 0], 0, &layout, &noop).err().unwrap();
        assert_eq!(e.kind, Kind::NotFound);
    }

    #[test]
    fn planted_temporary_names_do_not_stop_creation() {
        let dir = Dir::open().unwrap();
        let next = N.load(Ordering::Relaxed);
        let planted: Vec<String> =
            (next..next + 20).map(|n| format!("{TMP_PREFIX}{}-{n}", std::process::id())).collect();
        for p in &planted {
            drop(dir.open_private(p).unwrap());
        }
        let name = format!("planted{}", std::process::id());
        let noop = |_: *mut u8| Ok(());
        let obj = open(&name, ObjKind::Semaphore, Assert::Create, [8, 0, 0, 0], 0, &layout, &noop).unwrap();
        assert!(obj.remove().unwrap());
        for p in &planted {
            assert!(dir.remove_file(p).unwrap());
        }
    }

    #[test]
    fn names_are_checked() {
        for bad in ["", ".x", "a/b", "..", &"x".repeat(256)] {
            assert_eq!(check_name(bad).unwrap_err().kind, Kind::InvalidArgument, "{bad}");
        }
        assert!(check_name("caf\u{e9} and spaces").is_ok());
        // Windows: what would name another file, a stream or a device.
        #[cfg(windows)]
        for bad in ["a\\b", "a:b", "a*", "a?", "a|b", "a<b", "a\"b", "a.", "a ", "con", "NUL.txt", "com1", "a\u{1}"] {
            assert_eq!(check_name(bad).unwrap_err().kind, Kind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn the_longest_names_work() {
        // 255 bytes (and, on Windows, a path beyond MAX_PATH).
        let noop = |_: *mut u8| Ok(());
        for name in [format!("{}{}", std::process::id(), "x".repeat(250)), "\u{e9}".repeat(127)] {
            let name = &name[..name.len().min(255)];
            let a = open(name, ObjKind::Semaphore, Assert::Create, [8, 0, 0, 0], 0, &layout, &noop).unwrap();
            let b = open(name, ObjKind::Semaphore, Assert::Exists, [8, 0, 0, 0], 0, &layout, &noop).unwrap();
            assert_eq!(a.id, b.id);
            assert!(a.remove().unwrap());
            assert!(b.is_removed());
        }
    }
}
