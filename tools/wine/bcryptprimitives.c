/* A stand-in for Windows' bcryptprimitives.dll, for running Rust test
 * binaries under Wine 8 (Debian 12), which lacks that DLL.  Rust's standard
 * library (since 1.78) takes its random bytes (HashMap seeds) from
 * ProcessPrng; without this DLL every Rust program fails to start there.
 * ProcessPrng forwards to advapi32's SystemFunction036 (RtlGenRandom), which
 * Wine has.  Built by tools/wine/setup.sh with x86_64-w64-mingw32-gcc; used
 * only for tests, never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Like the real one: fills the buffer and always returns TRUE. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
