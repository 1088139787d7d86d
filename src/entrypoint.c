// The package's init routine: extendr's generated routine registers every
// `rs_*` .Call entry point; then the .External routines of with.c are
// registered.  R_registerRoutines() with only an .External table leaves
// the .Call table in place (it replaces only the tables it is given).
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

void R_init_rustipc_extendr(void *dll);

SEXP rs_with_mutex(SEXP args);
SEXP rs_with_semaphore(SEXP args);

static const R_ExternalMethodDef external_methods[] = {
    {"rs_with_mutex", (DL_FUNC) &rs_with_mutex, 5},
    {"rs_with_semaphore", (DL_FUNC) &rs_with_semaphore, 4},
    {NULL, NULL, 0}
};

void R_init_rustipc(DllInfo *dll) {
    R_init_rustipc_extendr(dll);
    R_registerRoutines(dll, NULL, NULL, NULL, external_methods);
    R_useDynamicSymbols(dll, FALSE);
}
