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

/// The event whose `buf` the page walk measures: ftrace/print's id and the field's offset.
struct walk_event {
    int id;
    int buf_offset;
};

/// Reads every record of the instance under `instance_dir` from its `cpus` per-CPU
/// `trace_pipe_raw` files, `page_size` bytes at a time, walking the sub-buffers itself (merged by
/// time stamp or CPU by CPU), and measures `buf` as baseline_iterate does. Returns the number of
/// records.
long baseline_page_walk(const char *instance_dir, int cpus, int page_size, int merged,
                        const struct walk_event *print, long long *checksum);

#endif
