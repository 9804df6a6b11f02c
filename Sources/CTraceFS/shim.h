#ifndef CTRACEFS_SHIM_H
#define CTRACEFS_SHIM_H

#include <tracefs.h>
#include <event-parse.h>
#include <kbuffer.h>
#include <sys/prctl.h>
/* mallinfo2, for the memory tests: bytes in use rather than the resident set. */
#include <malloc.h>

/// Swift cannot call the variadic tracefs_printf: write one preformatted string through "%s".
static inline int ctracefs_print(struct tracefs_instance *instance, const char *text) {
    return tracefs_printf(instance, "%s", text);
}

/// TRACEFS_DYNEVENT_ALL is a macro whose type Swift would guess; give it the C API's type.
static inline unsigned int ctracefs_dynevent_all(void) {
    return TRACEFS_DYNEVENT_ALL;
}

/// Names the calling thread for top -H, ps -L and debuggers (the kernel keeps 15 bytes). Swift
/// cannot call the variadic prctl, and Glibc's module does not export pthread_setname_np.
static inline int ctracefs_name_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#endif
