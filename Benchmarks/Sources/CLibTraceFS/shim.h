#include <tracefs.h>
#include <event-parse.h>
