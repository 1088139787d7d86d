//! The boundary: the part of R's C API the glue uses, and the only way it
//! makes R objects.
//!
//! Reading R objects (`TYPEOF`, `XLENGTH`, `REAL`, `STRING_ELT`, ...) never
//! allocates and never raises an error once the type is checked, so those
//! calls are made directly.  Everything that allocates goes through the
//! jump-safe helpers of src/entrypoint.c: an R longjmp there (an interrupt
//! acted on at the end of a garbage collection, an allocation error) is
//! caught in C, the helper returns NULL, and the builders below return
//! [`Jumped`], which entry points pass up with `?` after undoing what they
//! took; the C shim then continues R's jump with no Rust frame left.  What
//! the builders make stays protected until the entry point has returned
//! (the call's keep slots), so the glue never uses R's protection stack.
//!
//! SEXPs are untyped pointers here (R's `SEXPREC` is opaque).
//!
//! Why not extendr: extendr-api 0.9 allocates through R directly (so an
//! interrupt at the end of a garbage collection longjmps through its Rust
//! frames), turns a panic into `Rf_error` (a longjmp through the wrapper's
//! frames) and uses entry points outside R's API; this module is the few
//! hundred lines rustipc needs, with one rule for every entry point.

use std::ffi::{c_char, c_void};

pub type Sexp = *mut c_void;

extern "C" {
    pub static R_NilValue: Sexp;
    pub static R_NaString: Sexp;
    pub fn TYPEOF(x: Sexp) -> i32;
    pub fn Rf_isObject(x: Sexp) -> i32;
    pub fn XLENGTH(x: Sexp) -> isize;
    pub fn LOGICAL(x: Sexp) -> *mut i32;
    pub fn INTEGER(x: Sexp) -> *mut i32;
    pub fn REAL(x: Sexp) -> *mut f64;
    pub fn STRING_ELT(x: Sexp, i: isize) -> Sexp;
    pub fn SET_STRING_ELT(x: Sexp, i: isize, v: Sexp);
    pub fn SET_VECTOR_ELT(x: Sexp, i: isize, v: Sexp) -> Sexp;
    pub fn R_CHAR(x: Sexp) -> *const c_char;
    pub fn Rf_getCharCE(x: Sexp) -> u32;
    pub fn R_ExternalPtrAddr(s: Sexp) -> *mut c_void;
    pub fn R_ExternalPtrTag(s: Sexp) -> Sexp;
    pub fn R_ExternalPtrProtected(s: Sexp) -> Sexp;
    pub fn R_ClearExternalPtr(s: Sexp);

    // src/entrypoint.c: jump-safe; NULL means "stop" (see the module docs).
    fn rustipc_alloc(kind: u32, n: isize) -> Sexp;
    fn rustipc_mkchar(s: *const c_char, n: i32) -> Sexp;
    fn rustipc_extptr(p: *mut c_void, tag: i32, prot: Sexp, fin: Option<extern "C" fn(Sexp)>) -> Sexp;
    fn rustipc_set_names(x: Sexp, names: Sexp) -> Sexp;
    fn rustipc_lock_object(
        own: *mut c_void,
        addr: *mut c_void,
        path: *const c_char,
        n: i32,
        fin: extern "C" fn(Sexp),
        registered: *mut i32,
    ) -> Sexp;
    fn rustipc_tag(which: i32) -> Sexp;
    fn rustipc_lgl(x: i32) -> Sexp;
    fn rustipc_interrupted() -> i32;
}

// SEXPTYPEs (Rinternals.h) and encodings (cetype_t).
pub const LGLSXP: i32 = 10;
pub const INTSXP: i32 = 13;
pub const REALSXP: i32 = 14;
pub const STRSXP: i32 = 16;
pub const VECSXP: i32 = 19;
pub const EXTPTRSXP: i32 = 22;
pub const CE_NATIVE: u32 = 0;
pub const CE_UTF8: u32 = 1;
pub const NA_INTEGER: i32 = i32::MIN;

/// External pointer tags (symbols made once at load, src/entrypoint.c).
#[derive(Clone, Copy)]
pub enum Tag {
    /// A mutex, semaphore or queue handle: a `Box<Box<dyn Any>>`.
    Handle = 0,
    /// A lock object's outer pointer (see crate::filelock).
    Lock = 1,
    /// A lock object's own handle: a `Box<LockHandle>`.
    LockHandle = 2,
}

pub fn tag(t: Tag) -> Sexp {
    // SAFETY: returns a symbol made at load.
    unsafe { rustipc_tag(t as i32) }
}

/// R jumped out of an allocation: stop, undo, return (the C shim continues
/// the jump).
#[derive(Debug, Clone, Copy)]
pub struct Jumped;

pub type Built = Result<Sexp, Jumped>;

fn nonnull(x: Sexp) -> Built {
    if x.is_null() {
        Err(Jumped)
    } else {
        Ok(x)
    }
}

/// `NULL`.
pub fn nil() -> Sexp {
    // SAFETY: a constant.
    unsafe { R_NilValue }
}

/// `TRUE` or `FALSE` (values made once at load).
pub fn lgl(b: bool) -> Sexp {
    // SAFETY: returns a preserved value.
    unsafe { rustipc_lgl(b as i32) }
}

/// A new vector of `n` elements, kept until the call returns.
pub fn alloc(kind: i32, n: usize) -> Built {
    // SAFETY: a C helper that allocates under R_UnwindProtect.
    nonnull(unsafe { rustipc_alloc(kind as u32, n as isize) })
}

/// Store `s` as element `i` of the character vector `v` (UTF-8; `None` is
/// NA).  Strings are shorter than 2^31 bytes (names, paths, messages of at
/// most 2^30 bytes).
fn set_string(v: Sexp, i: usize, s: Option<&str>) -> Result<(), Jumped> {
    let c = match s {
        None => unsafe { R_NaString },
        // SAFETY: a C helper; the bytes live across the call.
        Some(s) => nonnull(unsafe { rustipc_mkchar(s.as_ptr().cast(), s.len().min(i32::MAX as usize) as i32) })?,
    };
    // SAFETY: `v` is a kept character vector longer than `i`, `c` a CHARSXP
    // (nothing allocated since it was made).
    unsafe { SET_STRING_ELT(v, i as isize, c) };
    Ok(())
}

/// `character(1)`.
pub fn string(s: &str) -> Built {
    let v = alloc(STRSXP, 1)?;
    set_string(v, 0, Some(s))?;
    Ok(v)
}

/// A character vector (`None` is NA).
pub fn strings(items: &[Option<&str>]) -> Built {
    let v = alloc(STRSXP, items.len())?;
    for (i, s) in items.iter().enumerate() {
        set_string(v, i, *s)?;
    }
    Ok(v)
}

/// A double vector.
pub fn doubles(items: &[f64]) -> Built {
    let v = alloc(REALSXP, items.len())?;
    // SAFETY: a kept double vector of that length.
    unsafe { std::slice::from_raw_parts_mut(REAL(v), items.len()).copy_from_slice(items) };
    Ok(v)
}

/// An integer vector (`None` is NA).
pub fn integers(items: &[Option<i32>]) -> Built {
    let v = alloc(INTSXP, items.len())?;
    // SAFETY: a kept integer vector of that length.
    let out = unsafe { std::slice::from_raw_parts_mut(INTEGER(v), items.len()) };
    for (o, x) in out.iter_mut().zip(items) {
        *o = x.unwrap_or(NA_INTEGER);
    }
    Ok(v)
}

/// A logical vector (`None` is NA).
pub fn logicals(items: &[Option<bool>]) -> Built {
    let v = alloc(LGLSXP, items.len())?;
    // SAFETY: a kept logical vector of that length.
    let out = unsafe { std::slice::from_raw_parts_mut(LOGICAL(v), items.len()) };
    for (o, x) in out.iter_mut().zip(items) {
        *o = x.map_or(NA_INTEGER, i32::from);
    }
    Ok(v)
}

/// A list of `values`, named by `names` when given (same length).
pub fn list(names: Option<&[&str]>, values: &[Sexp]) -> Built {
    let v = alloc(VECSXP, values.len())?;
    for (i, x) in values.iter().enumerate() {
        // SAFETY: a kept list of that length; the values are kept or constants.
        unsafe { SET_VECTOR_ELT(v, i as isize, *x) };
    }
    if let Some(names) = names {
        let n: Vec<Option<&str>> = names.iter().map(|s| Some(*s)).collect();
        let n = strings(&n)?;
        // SAFETY: a C helper; both are kept.
        nonnull(unsafe { rustipc_set_names(v, n) })?;
    }
    Ok(v)
}

/// An external pointer to `p`, with a tag, a protected value and a
/// finalizer (run at collection and at exit).  On `Jumped` the finalizer
/// was not registered: the caller still owns `p`.
///
/// # Safety
/// `prot` must be a valid SEXP, and `fin` must accept this pointer.
pub unsafe fn extptr(p: *mut c_void, t: Tag, prot: Sexp, fin: Option<extern "C" fn(Sexp)>) -> Built {
    // SAFETY: a C helper; per the contract.
    nonnull(unsafe { rustipc_extptr(p, t as i32, prot, fin) })
}

/// lock()'s object in one allocation step (see src/entrypoint.c):
/// `list(<outer pointer to addr, protecting a handle pointer to own>,
/// path)`.  `Err((Jumped, owned))`: `owned` says whether the caller still
/// owns `own` (the finalizer was not registered).
///
/// # Safety
/// `fin` must free what `own` points to, once.
pub unsafe fn lock_object(
    own: *mut c_void,
    addr: *mut c_void,
    path: &str,
    fin: extern "C" fn(Sexp),
) -> Result<Sexp, (Jumped, bool)> {
    let mut registered = 0;
    // SAFETY: a C helper; the path's bytes live across the call.
    let x = unsafe {
        rustipc_lock_object(own, addr, path.as_ptr().cast(), path.len().min(i32::MAX as usize) as i32, fin, &mut registered)
    };
    if x.is_null() {
        Err((Jumped, registered == 0))
    } else {
        Ok(x)
    }
}

/// Whether the user asked R to interrupt, consuming the request (see
/// src/entrypoint.c).  Only on R's main thread.
///
/// The check evaluates a little R code (about as much as a call to an R
/// function), so within a burst of wake-ups it runs at most once per
/// [`CHECK_EVERY`]: a hand-off does not pay for it, and Ctrl-C is still
/// seen within a wait's slice plus that.
pub fn interrupted() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = START.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1;
    let last = LAST.load(Relaxed);
    if last != 0 && now.saturating_sub(last) < CHECK_EVERY.as_nanos() as u64 {
        return false;
    }
    LAST.store(now, Relaxed);
    // SAFETY: a C helper, on R's main thread (the only one that runs waits).
    unsafe { rustipc_interrupted() != 0 }
}

/// See [`interrupted`].
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(5);
