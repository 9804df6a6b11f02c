#ifndef BASELINE_H
#define BASELINE_H

#include <tracefs.h>

/// Reads every record of `instance` with tracefs_iterate_raw_events and a C callback that reads
/// the `buf` field of ftrace/print. Returns the number of records; adds the string lengths to
/// `*checksum`.
long baseline_iterate(struct tep_handle *tep, struct tracefs_instance *instance, long long *checksum);

/// Writes `count` markers "<prefix><index>" through the instance's trace_marker. Returns the number
/// written.
long baseline_write_markers(struct tracefs_instance *instance, long count);

/// Allocates, creates, destroys and frees `count` uprobes `system/e<i>` on `file`. Returns 0, or
/// -1 at the first failure.
int baseline_uprobe_lifecycle(const char *system, const char *file, int count);

#endif
