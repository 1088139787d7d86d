//! Named objects in /dev/shm: one file `ripc-<name>` per mutex, semaphore or
//! queue, starting with a [`Header`] that says which kind it is.
//!
//! Why files in /dev/shm opened directly (not `shm_open`, not the
//! `shared_memory` crate): the same name must never be two kinds of object
//! (interprocess returns garbage then), so the kind is written in the file;
//! a new object must never be seen half-initialised (shared_memory's `open()`
//! fails when it lands between the creator's `shm_open` and `ftruncate`);
//! and shared_memory pulls in large Windows-only crates.
//!
//! Creation is atomic: the creator writes the whole object into a private
//! temporary file (`ripc~<pid>.<n>`, mode 0600) and publishes it with
//! `link()`, which fails if the name exists.  Whoever opens the name sees
//! either nothing or a complete object.

use crate::error::{Error, Kind, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

pub const DIR: &str = "/dev/shm";
pub const PREFIX: &str = "ripc-";
const MAGIC: [u8; 8] = *b"RUSTIPC\0";
const VERSION: u32 = 1;
/// Bytes before an object's body.
pub const HEADER_LEN: usize = 64;

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

    pub fn label(self) -> &'static str {
        match self {
            ObjKind::Mutex => "mutex",
            ObjKind::Semaphore => "semaphore",
            ObjKind::MsgQueue => "msg_queue",
        }
    }
}

/// The first 64 bytes of every object.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub magic: [u8; 8],
    pub version: u32,
    pub kind: u32,
    /// Kind-specific (msg_queue: max_count, max_nchar).
    pub params: [u32; 4],
    _pad: [u8; 32],
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

pub fn path_of(name: &str) -> String {
    format!("{DIR}/{PREFIX}{name}")
}

fn cpath(p: &str) -> Result<CString> {
    CString::new(p).map_err(|_| Error::new(Kind::InvalidArgument, "path contains a NUL byte"))
}

/// (device, inode) of an open file.
pub fn file_id(fd: RawFd) -> Result<(u64, u64)> {
    // SAFETY: fstat fills the zeroed stat struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(Error::last_os("fstat"));
    }
    Ok((st.st_dev, st.st_ino))
}

/// (device, inode) of a path, or None when it does not exist.
pub fn path_id(path: &str) -> Result<Option<(u64, u64)>> {
    let c = cpath(path)?;
    // SAFETY: stat fills the zeroed stat struct from a valid C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::stat(c.as_ptr(), &mut st) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENOENT) {
            return Ok(None);
        }
        return Err(Error::os(format!("cannot stat '{path}'"), e));
    }
    Ok(Some((st.st_dev, st.st_ino)))
}

/// A shared mapping of a whole object file.
pub struct Map {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; all access to it goes through
// atomics or process-shared pthread/semaphore objects.
unsafe impl Send for Map {}
// SAFETY: as above.
unsafe impl Sync for Map {}

impl Map {
    fn new(fd: RawFd, len: usize) -> Result<Map> {
        // SAFETY: maps `len` bytes of an open file; the result is checked.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::last_os("mmap"));
        }
        Ok(Map { ptr: ptr as *mut u8, len })
    }

    pub fn header(&self) -> Header {
        // SAFETY: every map is at least HEADER_LEN bytes (checked on open).
        unsafe { std::ptr::read_volatile(self.ptr as *const Header) }
    }

    /// The body's first byte (64-byte aligned, as mappings are page aligned).
    pub fn body(&self) -> *mut u8 {
        // SAFETY: HEADER_LEN < len.
        unsafe { self.ptr.add(HEADER_LEN) }
    }

    pub fn body_len(&self) -> usize {
        self.len - HEADER_LEN
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what Map::new mapped.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

/// An opened object: its descriptor, mapping and identity.
pub struct Object {
    pub fd: OwnedFd,
    pub map: Map,
    pub id: (u64, u64),
    pub path: String,
}

impl Object {
    /// Remove the name, if it still names this very object.  Returns whether
    /// it removed anything.
    pub fn remove(&self) -> Result<bool> {
        remove_if(&self.path, self.id)
    }
}

/// Unlink `path` if it is the file `id`.
pub fn remove_if(path: &str, id: (u64, u64)) -> Result<bool> {
    match path_id(path)? {
        Some(now) if now == id => {
            let c = cpath(path)?;
            // SAFETY: unlink with a valid C string.
            if unsafe { libc::unlink(c.as_ptr()) } == 0 {
                Ok(true)
            } else {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::ENOENT) {
                    Ok(false)
                } else {
                    Err(Error::os(format!("cannot remove '{path}'"), e))
                }
            }
        }
        _ => Ok(false),
    }
}

fn open_fd(path: &str, flags: libc::c_int) -> std::result::Result<OwnedFd, std::io::Error> {
    let c = CString::new(path).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: open with a valid C string; the result is checked.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW, 0o600) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is fresh and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Open an existing object and check that it is a `kind`.
fn open_existing(name: &str, path: &str, kind: ObjKind) -> Result<Option<Object>> {
    let fd = match open_fd(path, libc::O_RDWR) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(Error::os(format!("cannot open {} '{name}' ({path})", kind.label()), e)),
    };
    // SAFETY: fstat fills the zeroed stat struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(Error::last_os(format!("cannot stat '{path}'")));
    }
    let len = st.st_size as usize;
    if len < HEADER_LEN + 8 {
        return Err(Error::new(Kind::WrongKind, format!("'{name}' ({path}) is not a rustipc object")));
    }
    let map = Map::new(fd.as_raw_fd(), len)?;
    let h = map.header();
    if h.magic != MAGIC || h.version != VERSION {
        return Err(Error::new(Kind::WrongKind, format!("'{name}' ({path}) is not a rustipc object")));
    }
    match ObjKind::from_u32(h.kind) {
        Some(k) if k == kind => {}
        Some(k) => {
            return Err(Error::new(
                Kind::WrongKind,
                format!("'{name}' is a {}, not a {}", k.label(), kind.label()),
            ))
        }
        None => return Err(Error::new(Kind::WrongKind, format!("'{name}' is an unknown kind of object"))),
    }
    Ok(Some(Object { id: file_id(fd.as_raw_fd())?, fd, map, path: path.to_string() }))
}

/// Open the object `name`, creating it when `assert` allows.  A new object
/// has a body of `body_len` bytes, filled by `init` before anyone can see it.
pub fn open(
    name: &str,
    kind: ObjKind,
    assert: Assert,
    params: [u32; 4],
    body_len: usize,
    init: &dyn Fn(*mut u8) -> Result<()>,
) -> Result<Object> {
    let path = path_of(name);
    for _attempt in 0..100 {
        if assert != Assert::Create {
            if let Some(obj) = open_existing(name, &path, kind)? {
                return Ok(obj);
            }
            if assert == Assert::Exists {
                return Err(Error::new(Kind::NotFound, format!("{} '{name}' does not exist", kind.label())));
            }
        }
        match create(name, &path, kind, params, body_len, init)? {
            Some(obj) => return Ok(obj),
            None if assert == Assert::Create => {
                return Err(Error::new(Kind::AlreadyExists, format!("'{name}' already exists")))
            }
            None => {} // somebody else created it first: open theirs
        }
    }
    Err(Error::new(Kind::OsError, format!("cannot open or create '{name}': it keeps appearing and vanishing")))
}

/// Create and publish a new object; None if the name exists already.
fn create(
    name: &str,
    path: &str,
    kind: ObjKind,
    params: [u32; 4],
    body_len: usize,
    init: &dyn Fn(*mut u8) -> Result<()>,
) -> Result<Option<Object>> {
    static N: AtomicU64 = AtomicU64::new(0);
    let tmp = format!("{DIR}/ripc~{}.{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let fd = open_fd(&tmp, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL)
        .map_err(|e| Error::os(format!("cannot create {} '{name}' in {DIR}", kind.label()), e))?;
    let ctmp = cpath(&tmp)?;
    let unlink_tmp = || {
        // SAFETY: unlink with a valid C string.
        unsafe { libc::unlink(ctmp.as_ptr()) };
    };
    let len = HEADER_LEN + body_len;
    let made = (|| -> Result<Map> {
        // SAFETY: fchmod/ftruncate on our own fresh descriptor.
        if unsafe { libc::fchmod(fd.as_raw_fd(), 0o600) } != 0 {
            return Err(Error::last_os("fchmod"));
        }
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } != 0 {
            return Err(Error::last_os(format!("cannot size {} '{name}'", kind.label())));
        }
        let map = Map::new(fd.as_raw_fd(), len)?;
        let h = Header { magic: MAGIC, version: VERSION, kind: kind as u32, params, _pad: [0; 32] };
        // SAFETY: the mapping is len >= HEADER_LEN bytes and page aligned.
        unsafe { std::ptr::write(map.ptr as *mut Header, h) };
        init(map.body())?;
        Ok(map)
    })();
    let map = match made {
        Ok(m) => m,
        Err(e) => {
            unlink_tmp();
            return Err(e);
        }
    };
    let cpath_final = cpath(path)?;
    // SAFETY: link with two valid C strings.
    let rc = unsafe { libc::link(ctmp.as_ptr(), cpath_final.as_ptr()) };
    let err = std::io::Error::last_os_error();
    unlink_tmp();
    if rc != 0 {
        if err.raw_os_error() == Some(libc::EEXIST) {
            return Ok(None);
        }
        return Err(Error::os(format!("cannot create {} '{name}' ({path})", kind.label()), err));
    }
    Ok(Some(Object { id: file_id(fd.as_raw_fd())?, fd, map, path: path.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_do_not_mix_and_remove_is_exact() {
        let name = format!("shmtest{}", std::process::id());
        let noop = |_: *mut u8| Ok(());
        let a = open(&name, ObjKind::Semaphore, Assert::Create, [0; 4], 64, &noop).unwrap();
        let e = open(&name, ObjKind::Mutex, Assert::None, [0; 4], 0, &noop).err().unwrap();
        assert_eq!(e.kind, Kind::WrongKind);
        let e = open(&name, ObjKind::Semaphore, Assert::Create, [0; 4], 64, &noop).err().unwrap();
        assert_eq!(e.kind, Kind::AlreadyExists);
        let b = open(&name, ObjKind::Semaphore, Assert::Exists, [0; 4], 64, &noop).unwrap();
        assert_eq!(a.id, b.id);
        assert!(a.remove().unwrap());
        assert!(!b.remove().unwrap());
        let e = open(&name, ObjKind::Semaphore, Assert::Exists, [0; 4], 64, &noop).err().unwrap();
        assert_eq!(e.kind, Kind::NotFound);
    }
}

/// Remove the object `name` if it is of `kind` (for `cleanup = TRUE`).
#[extendr_api::extendr]
fn rs_remove_name(name: &str, kind: &str) -> extendr_api::Robj {
    let want = match kind {
        "mutex" => ObjKind::Mutex,
        "semaphore" => ObjKind::Semaphore,
        _ => ObjKind::MsgQueue,
    };
    let path = path_of(name);
    let r = match open_existing(name, &path, want) {
        Ok(Some(obj)) => obj.remove(),
        Ok(None) => Ok(false),
        Err(e) => Err(e),
    };
    crate::error::to_r(r)
}

/// One row of `ipc_objects()`.
pub struct Listed {
    pub name: String,
    pub kind: String,
    pub size: f64,
    pub modified: f64,
    pub locked: Option<bool>,
}

/// The rustipc objects in /dev/shm this user can see.  `kind` is "mutex",
/// "semaphore", "msg_queue", "partial" (a creator's temporary file left by a
/// crash) or "unreadable".
pub fn list_objects() -> Result<Vec<Listed>> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let dir = std::fs::read_dir(DIR).map_err(|e| Error::os(format!("cannot list {DIR}"), e))?;
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let (name, partial) = if let Some(n) = file.strip_prefix(PREFIX) {
            (n.to_string(), false)
        } else if file.starts_with("ripc~") {
            (file.clone(), true)
        } else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        let mut kind = if partial { "partial".to_string() } else { "unreadable".to_string() };
        let mut locked = None;
        if !partial {
            let mut buf = [0u8; HEADER_LEN];
            if let Ok(mut f) = std::fs::File::open(entry.path()) {
                if f.read_exact(&mut buf).is_ok() && buf[..8] == MAGIC {
                    let k = u32::from_ne_bytes([buf[12], buf[13], buf[14], buf[15]]);
                    if let Some(k) = ObjKind::from_u32(k) {
                        kind = k.label().to_string();
                        if k == ObjKind::Mutex {
                            locked = crate::mutex::is_locked(&name).ok();
                        }
                    }
                }
            }
        }
        out.push(Listed { name, kind, size: meta.size() as f64, modified: meta.mtime() as f64, locked });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `ipc_objects()` as a list of columns.
#[extendr_api::extendr]
fn rs_objects() -> extendr_api::Robj {
    use extendr_api::prelude::*;
    match list_objects() {
        Ok(rows) => {
            let name: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
            let kind: Vec<String> = rows.iter().map(|r| r.kind.clone()).collect();
            let size: Vec<f64> = rows.iter().map(|r| r.size).collect();
            let modified: Vec<f64> = rows.iter().map(|r| r.modified).collect();
            let locked: Vec<Rbool> = rows
                .iter()
                .map(|r| match r.locked {
                    Some(true) => Rbool::true_value(),
                    Some(false) => Rbool::false_value(),
                    None => Rbool::na_value(),
                })
                .collect();
            list!(name = name, kind = kind, size = size, modified = modified, locked = locked).into()
        }
        Err(e) => e.into(),
    }
}

extendr_api::extendr_module! {
    mod shm;
    fn rs_remove_name;
    fn rs_objects;
}
