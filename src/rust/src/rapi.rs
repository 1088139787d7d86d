//! The part of R's C API that the hot entry points ([`crate::fast`],
//! [`crate::filelock`]) call directly, without extendr's `Robj` (each `Robj`
//! costs an update of a global protection table).  SEXPs are untyped
//! pointers here (extendr's `SEXPREC` is not FFI-safe).  Every function
//! below can allocate or raise an R error only where R's documentation
//! says so: callers check types before `XLENGTH`, `LOGICAL`, `REAL`,
//! `INTEGER` or `STRING_ELT`, and allocate only with R's interrupts
//! suspended (src/entrypoint.c).

use std::ffi::{c_char, c_void};

pub type Sexp = *mut c_void;

extern "C" {
    pub static R_NilValue: Sexp;
    pub static R_NaString: Sexp;
    pub fn TYPEOF(x: Sexp) -> i32;
    pub fn OBJECT(x: Sexp) -> i32;
    pub fn XLENGTH(x: Sexp) -> isize;
    pub fn LOGICAL(x: Sexp) -> *mut i32;
    pub fn INTEGER(x: Sexp) -> *mut i32;
    pub fn REAL(x: Sexp) -> *mut f64;
    pub fn STRING_ELT(x: Sexp, i: isize) -> Sexp;
    pub fn SET_STRING_ELT(x: Sexp, i: isize, v: Sexp);
    pub fn SET_VECTOR_ELT(x: Sexp, i: isize, v: Sexp) -> Sexp;
    pub fn R_CHAR(x: Sexp) -> *const c_char;
    pub fn Rf_getCharCE(x: Sexp) -> u32;
    pub fn Rf_mkCharLenCE(s: *const c_char, n: i32, enc: u32) -> Sexp;
    pub fn Rf_ScalarLogical(x: i32) -> Sexp;
    pub fn Rf_ScalarString(x: Sexp) -> Sexp;
    pub fn Rf_allocVector(kind: u32, n: isize) -> Sexp;
    pub fn Rf_install(name: *const c_char) -> Sexp;
    pub fn Rf_protect(s: Sexp) -> Sexp;
    pub fn Rf_unprotect(n: i32);
    pub fn R_MakeExternalPtr(p: *mut c_void, tag: Sexp, prot: Sexp) -> Sexp;
    pub fn R_ExternalPtrAddr(s: Sexp) -> *mut c_void;
    pub fn R_ExternalPtrTag(s: Sexp) -> Sexp;
    pub fn R_ExternalPtrProtected(s: Sexp) -> Sexp;
    pub fn R_ClearExternalPtr(s: Sexp);
    pub fn R_RegisterCFinalizerEx(s: Sexp, fun: extern "C" fn(Sexp), onexit: i32);
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
