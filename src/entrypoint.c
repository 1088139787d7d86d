// The one C function R needs: the package's init routine, which hands over
// to the routine extendr generates (it registers every `rs_*` entry point).
void R_init_rustipc_extendr(void *dll);

void R_init_rustipc(void *dll) {
    R_init_rustipc_extendr(dll);
}
