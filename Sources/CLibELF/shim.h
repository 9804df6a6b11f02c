#ifndef CLIBELF_SHIM_H
#define CLIBELF_SHIM_H

/* elfutils' libelf (Debian: libelf-dev), for reading executables' and libraries' symbol tables. */
#include <libelf.h>
#include <gelf.h>

#endif
