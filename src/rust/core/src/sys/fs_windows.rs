//! The object directory and object files on Windows: the file-system half
//! of [`crate::store`] (which keeps the portable logic: headers, checks,
//! the creation and removal protocol).
//!
//! * **Storage: file-backed mappings.**  Every object is a file in the
//!   object directory, mapped with `CreateFileMappingW` (unnamed: the file
//!   is the name) and `MapViewOfFile`.  As with interprocess's objects, an
//!   object persists until it is removed (also across the processes that
//!   use it ending), and `ipc_objects()` can list it by listing the
//!   directory.  Named kernel sections (`Local\...`) would vanish with the
//!   last handle and cannot be listed, so the promises of `ipc_objects()`
//!   and `cleanup` could not hold.
//! * **The directory**: `%LOCALAPPDATA%\rustipc`, else
//!   `<temp dir>\rustipc-<USERNAME>`; `RUSTIPC_DIR` overrides as on Unix.
//!   What protects it is the default ACL of the user's profile (only the
//!   user, SYSTEM and administrators have access), which a new directory
//!   inherits.  No mode or owner is checked here (Windows has no modes;
//!   reading ACLs is not done), and [`Meta::private`] is always `Ok`: the
//!   Unix backends' owner and mode checks have no equivalent in this
//!   module.  What is checked: the directory must be a directory and not a
//!   reparse point (symlink or junction), and files are opened with
//!   `FILE_FLAG_OPEN_REPARSE_POINT` and refused when they are one.
//! * **Handles** are opened by std: not inheritable (a child process never
//!   gets one, so never a lock), and shared for reading, writing and
//!   deleting (`FILE_SHARE_DELETE`), so that a name can be renamed or
//!   deleted while other processes have the object open.
//! * **Created whole or not at all**: the temporary file is sized with
//!   `SetEndOfFile` (NTFS allocates the clusters then, so a full disk is an
//!   error now rather than an in-page error through the mapping later),
//!   initialised through its mapping, and published with `MoveFileExW`
//!   without `MOVEFILE_REPLACE_EXISTING`, which fails when the name exists
//!   (the analogue of `linkat`).
//! * **Removal** renames the object to `.gone-<pid>-<n>` (the name is free
//!   at once, whatever still has the file open or mapped) and then deletes
//!   that; a deletion Windows refuses while another process still maps the
//!   file leaves the `.gone-` file, which the next removal or
//!   `ipc_cleanup()` deletes.  (Under Wine the deletion always succeeds, so
//!   that path is not exercised by the tests.)
//!
//! Names are case-insensitive here (NTFS), unlike on Unix: `Foo` and
//! `foo` are one object.  What is per object in a process (a mutex's lock
//! state, a file lock) is keyed by the file's identity, not by its name.
//!
//! Checked under Wine 8 by the core's tests (`make test-wine`); not run on
//! a real Windows here.

use crate::error::{Error, Kind, Result};
use crate::store::GONE_PREFIX;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ALREADY_EXISTS, ERROR_DISK_FULL, ERROR_FILE_EXISTS, ERROR_HANDLE_DISK_FULL,
    ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED, ERROR_STOPPED_ON_SYMLINK, HANDLE,
};
use windows_sys::Win32::Storage::FileSystem::{
    GetDiskFreeSpaceExW, GetFileInformationByHandle, MoveFileExW, BY_HANDLE_FILE_INFORMATION,
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT,
};
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, MapViewOfFile, UnmapViewOfFile, FILE_MAP_READ, FILE_MAP_WRITE, MEMORY_MAPPED_VIEW_ADDRESS,
    PAGE_READWRITE,
};

/// What identifies a file (volume serial number, file index), whatever
/// name it has now.
pub type FileId = (u64, u64);

/// Where the object directory is when `RUSTIPC_DIR` does not say.
pub fn default_dir() -> PathBuf {
    match std::env::var_os("LOCALAPPDATA") {
        Some(d) if !d.is_empty() => Path::new(&d).join("rustipc"),
        _ => {
            let user = std::env::var("USERNAME").unwrap_or_else(|_| "user".to_string());
            std::env::temp_dir().join(format!("rustipc-{user}"))
        }
    }
}

/// A NUL-terminated UTF-16 path, absolute; beyond `MAX_PATH` it gets the
/// `\\?\` prefix (as std gives its own paths), so that a 255-character
/// name in a deep directory still works.
fn wide(p: &Path) -> Vec<u16> {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let v: Vec<u16> = OsStr::new(&abs).encode_wide().collect();
    let bs = b'\\' as u16;
    let mut out: Vec<u16> = if v.len() < 248 || v.starts_with(&[bs, bs, b'?' as u16, bs]) {
        v
    } else if v.starts_with(&[bs, bs]) {
        // \\server\share\... becomes \\?\UNC\server\share\...
        OsStr::new("\\\\?\\UNC").encode_wide().chain(v[1..].iter().copied()).collect()
    } else {
        OsStr::new("\\\\?\\").encode_wide().chain(v.iter().copied()).collect()
    };
    out.push(0);
    out
}

/// Why `name` cannot be a file name in the directory beyond what every OS
/// forbids (the caller checks '/', NUL, empty, over 255 bytes): characters
/// that would name another directory, an alternate data stream (`a:b`) or
/// a pattern, control characters, a trailing dot or space (which Windows
/// drops, so two names would be one file), and device names (`CON`,
/// `NUL.txt`, `COM1`, ...), which name devices in every directory.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.chars().any(|c| matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || (c as u32) < 32) {
        return Some("on Windows it may not contain \\ : * ? \" < > | or control characters");
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("on Windows it may not end with a dot or a space");
    }
    let stem = name.split('.').next().unwrap_or("").trim_end().to_ascii_uppercase();
    let cs: Vec<char> = stem.chars().collect();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$")
        || (cs.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && matches!(cs[3], '0'..='9' | '\u{b9}' | '\u{b2}' | '\u{b3}'));
    device.then_some("on Windows it is a device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)")
}

fn handle(f: &File) -> HANDLE {
    f.as_raw_handle() as HANDLE
}

fn info(f: &File) -> std::io::Result<BY_HANDLE_FILE_INFORMATION> {
    // SAFETY: plain old data; zeroed is valid.
    let mut bi: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: a valid open handle and a valid out pointer.
    if unsafe { GetFileInformationByHandle(handle(f), &mut bi) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(bi)
}

fn id_from(bi: &BY_HANDLE_FILE_INFORMATION) -> FileId {
    (bi.dwVolumeSerialNumber as u64, ((bi.nFileIndexHigh as u64) << 32) | bi.nFileIndexLow as u64)
}

/// What [`meta`] tells about an open file.
pub struct Meta {
    pub regular: bool,
    pub size: u64,
    /// Seconds since 1970.
    pub modified: f64,
    pub id: FileId,
    /// Always `Ok` here: see the module docs (the directory's ACL protects).
    pub private: std::result::Result<(), String>,
    /// Always true here (as `private`).
    pub mine: bool,
}

pub fn meta(f: &File) -> std::io::Result<Meta> {
    let bi = info(f)?;
    let m = f.metadata()?;
    let modified = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    Ok(Meta {
        regular: m.is_file() && m.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT == 0,
        size: m.len(),
        modified,
        id: id_from(&bi),
        private: Ok(()),
        mine: true,
    })
}

/// The identity of an open file.
pub fn file_id(f: &File) -> Result<FileId> {
    info(f).map(|bi| id_from(&bi)).map_err(|e| Error::os("GetFileInformationByHandle", e))
}

/// Whether an error means "no space left".
pub fn is_no_space(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(c) if c as u32 == ERROR_DISK_FULL || c as u32 == ERROR_HANDLE_DISK_FULL)
}

/// Whether an error from opening a name means "it is a symbolic link" (or
/// another reparse point).
pub fn is_symlink_error(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(ERROR_STOPPED_ON_SYMLINK as i32)
}

/// Refuse reparse points: what a name opened without following them is.
fn no_reparse(f: File) -> std::io::Result<File> {
    if f.metadata()?.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        return Err(std::io::Error::from_raw_os_error(ERROR_STOPPED_ON_SYMLINK as i32));
    }
    Ok(f)
}

/// Numbers this process's `.gone-` names.
static GONE: AtomicU64 = AtomicU64::new(0);

/// The object directory, opened and verified.
pub struct Dir {
    pub path: String,
}

impl Dir {
    /// Open (creating it if missing) and verify the directory `path`.
    pub fn open(path: String) -> Result<Dir> {
        if let Err(e) = std::fs::create_dir(&path) {
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(Error::os(format!("cannot create the object directory '{path}'"), e));
            }
        }
        let m = std::fs::symlink_metadata(&path)
            .map_err(|e| Error::os(format!("cannot open the object directory '{path}'"), e))?;
        if !m.is_dir() || m.file_type().is_symlink() || m.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
            return Err(Error::new(
                Kind::Permission,
                format!(
                    "the object directory '{path}' is not a plain directory (it is a file, a symlink or a \
                     junction); rustipc will not use it"
                ),
            ));
        }
        Ok(Dir { path })
    }

    fn at(&self, name: &str) -> PathBuf {
        Path::new(&self.path).join(name)
    }

    fn options(write: bool) -> OpenOptions {
        let mut o = OpenOptions::new();
        o.read(true).write(write).custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
        o
    }

    /// Remove the name `name` (not following links).
    pub fn unlink(&self, name: &str) -> std::io::Result<()> {
        std::fs::remove_file(self.at(name))
    }

    /// The identity of `name` in the directory, None when absent.
    pub fn id_of(&self, name: &str) -> Result<Option<FileId>> {
        // Access 0: only attributes; backup semantics: directories too.
        let f = OpenOptions::new()
            .access_mode(0)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS)
            .open(self.at(name));
        match f {
            Ok(f) => file_id(&f).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::os(format!("cannot look at '{name}' in '{}'", self.path), e)),
        }
    }

    /// Open a file of this directory without following links, read-only or
    /// read-write; a missing name is `Ok(None)`.
    pub fn open_file(&self, name: &str, write: bool) -> std::io::Result<Option<File>> {
        match Self::options(write).open(self.at(name)) {
            Ok(f) => no_reparse(f).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Create (or open) a small private file, for tokens such as uid blocks.
    pub fn open_private(&self, name: &str) -> std::io::Result<File> {
        no_reparse(Self::options(true).create(true).truncate(false).open(self.at(name))?)
    }

    /// Create a new file; an `AlreadyExists` error if the name exists.
    pub fn create_new(&self, name: &str) -> std::io::Result<File> {
        Self::options(true).create_new(true).open(self.at(name))
    }

    /// Give the complete file `tmp` the name `name`, atomically and only if
    /// `name` does not exist (`Ok(false)` then).  The caller removes `tmp`
    /// afterwards when it is still there.
    pub fn publish(&self, tmp: &str, name: &str) -> std::io::Result<bool> {
        let (from, to) = (wide(&self.at(tmp)), wide(&self.at(name)));
        // SAFETY: two NUL-terminated UTF-16 paths; flags 0: no replacing.
        if unsafe { MoveFileExW(from.as_ptr(), to.as_ptr(), 0) } != 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error().map(|c| c as u32) {
            Some(ERROR_ALREADY_EXISTS) | Some(ERROR_FILE_EXISTS) => Ok(false),
            _ => Err(e),
        }
    }

    /// Take the name `name` away from the object it names (whose identity
    /// the caller checked); processes that have it open keep using it.
    pub fn retire(&self, name: &str) -> std::io::Result<()> {
        let gone = format!("{GONE_PREFIX}{}-{}", std::process::id(), GONE.fetch_add(1, Ordering::Relaxed));
        let (from, to) = (wide(&self.at(name)), wide(&self.at(&gone)));
        // SAFETY: two NUL-terminated UTF-16 paths; flags 0: no replacing.
        if unsafe { MoveFileExW(from.as_ptr(), to.as_ptr(), 0) } == 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Best effort (see the module docs); earlier ones whose last
        // mapping has gone since are deleted now too.
        let _ = self.unlink(&gone);
        if let Ok(names) = self.names() {
            for n in names.iter().filter(|n| n.starts_with(GONE_PREFIX)) {
                let _ = self.unlink(n);
            }
        }
        Ok(())
    }

    /// The names in the directory.
    pub fn names(&self) -> Result<Vec<String>> {
        let rd = std::fs::read_dir(&self.path).map_err(|e| Error::os(format!("cannot list '{}'", self.path), e))?;
        let mut out: Vec<String> =
            rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        out.sort();
        Ok(out)
    }

    /// Bytes free for this user on the directory's volume.
    pub fn free_bytes(&self) -> Option<u64> {
        let p = wide(Path::new(&self.path));
        let mut free = 0u64;
        // SAFETY: a NUL-terminated path and valid (or null) out pointers.
        let ok = unsafe { GetDiskFreeSpaceExW(p.as_ptr(), &mut free, std::ptr::null_mut(), std::ptr::null_mut()) };
        (ok != 0).then_some(free)
    }
}

/// Open `path` for [`crate::filelock`]; creates it if missing.  A shared
/// lock only needs read access, so a file this user cannot write is opened
/// read-only for one.  The handle is not inheritable.
/// Also returns the file's identity (as on Unix).
pub fn open_lock_file(path: &str, exclusive: bool) -> Result<(File, FileId)> {
    let mut r = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path);
    if !exclusive && matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied) {
        r = OpenOptions::new().read(true).open(path);
    }
    let f = match r {
        Ok(f) => f,
        Err(e) => {
            let p = Path::new(path);
            let why = if p.is_dir() {
                "it is a directory".to_string()
            } else if e.kind() == std::io::ErrorKind::NotFound {
                "its directory does not exist".to_string()
            } else if e.kind() == std::io::ErrorKind::PermissionDenied {
                format!("permission denied ({e})")
            } else {
                e.to_string()
            };
            let perm = e.kind() == std::io::ErrorKind::PermissionDenied && !p.is_dir();
            let mut err = Error::os(format!("cannot open lock file '{path}': {why}"), e);
            err.message = format!("cannot open lock file '{path}': {why}");
            if perm {
                err.kind = Kind::Permission;
            }
            return Err(err);
        }
    };
    let m = f.metadata().map_err(|e| Error::os(format!("cannot look at lock file '{path}'"), e))?;
    if !m.is_file() {
        return Err(Error::new(
            Kind::InvalidArgument,
            format!("cannot lock '{path}': it is not a regular file; lock a regular file (such as '<file>.lock')"),
        ));
    }
    let id = file_id(&f)?;
    Ok((f, id))
}

/// What a lock error means, when it means something more specific than
/// its OS message ("" otherwise).
pub fn lock_error_reason(e: &std::io::Error) -> &'static str {
    match e.raw_os_error().map(|c| c as u32) {
        Some(ERROR_INVALID_FUNCTION) | Some(ERROR_NOT_SUPPORTED) => "the file system refuses locks",
        _ => "",
    }
}

/// Read exactly `buf.len()` bytes at `off`.
pub fn read_at(f: &File, buf: &mut [u8], off: u64) -> bool {
    let mut done = 0;
    while done < buf.len() {
        match f.seek_read(&mut buf[done..], off + done as u64) {
            Ok(0) | Err(_) => return false,
            Ok(n) => done += n,
        }
    }
    true
}

/// Write all of `buf` at `off`.
pub fn write_at(f: &File, buf: &[u8], off: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match f.seek_write(&buf[done..], off + done as u64)? {
            0 => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero)),
            n => done += n,
        }
    }
    Ok(())
}

/// Give the new (empty) file `len` bytes (see the module docs).
pub fn allocate(f: &File, len: usize) -> std::io::Result<()> {
    f.set_len(len as u64)
}

/// A shared mapping of a whole object file.
pub struct Map {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; all access to it goes through
// atomics or process-shared synchronisation objects.
unsafe impl Send for Map {}
// SAFETY: as above.
unsafe impl Sync for Map {}

impl Map {
    /// Map the first `len` bytes of `f` (its whole size), read-write and
    /// shared; the address is aligned to the allocation granularity (64 KiB).
    /// The words in it wait on events named after the file's identity and
    /// the object's `incarnation` ([`crate::store::Header::incarnation`]).
    pub fn new(f: &File, len: usize, incarnation: u64) -> Result<Map> {
        // SAFETY: a valid file handle; no security attributes (so the
        // section handle is not inheritable) and no name; sizes 0: the
        // file's size.
        let section = unsafe { CreateFileMappingW(handle(f), std::ptr::null(), PAGE_READWRITE, 0, 0, std::ptr::null()) };
        if section.is_null() {
            return Err(Error::last_os("CreateFileMappingW"));
        }
        // SAFETY: a valid section handle of at least `len` bytes.
        let view = unsafe { MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, len) };
        let err = std::io::Error::last_os_error();
        // SAFETY: the view (if any) keeps the section alive; the handle is ours.
        unsafe { CloseHandle(section) };
        if view.Value.is_null() {
            return Err(Error::os("MapViewOfFile", err));
        }
        let ptr = view.Value as *mut u8;
        // The identity that names the object's wait events: the file's, and
        // the object's incarnation, so a re-created object has other events
        // even if it got a recycled file index.  (Not the file's creation
        // time: NTFS may give a new file the time of a deleted one of the
        // same name, and Wine derives it from the inode's change time.)
        if let Ok((vol, idx)) = file_id(f) {
            crate::sys::addr::register(ptr, len, format!("{vol:x}-{idx:x}-{incarnation:x}"));
        }
        Ok(Map { ptr, len })
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub fn size(&self) -> usize {
        self.len
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        crate::sys::addr::unregister(self.ptr);
        // SAFETY: unmaps exactly the view Map::new mapped.
        unsafe { UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS { Value: self.ptr as *mut core::ffi::c_void }) };
    }
}
