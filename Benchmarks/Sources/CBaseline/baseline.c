#include "baseline.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct iterate_context {
    long records;
    long long checksum;
    int print_id;
    struct tep_format_field *buf;
};

static int read_buf(struct tep_event *event, struct tep_record *record, int cpu, void *data) {
    struct iterate_context *context = data;
    if (event->id != context->print_id) {
        context->print_id = event->id;
        context->buf = tep_find_field(event, "buf");
    }
    context->records++;
    if (context->buf && context->buf->offset <= record->size) {
        const char *text = (const char *)record->data + context->buf->offset;
        context->checksum += (long long)strnlen(text, (size_t)(record->size - context->buf->offset));
    }
    return 0;
}

long baseline_iterate(struct tep_handle *tep, struct tracefs_instance *instance, long long *checksum) {
    struct iterate_context context = { .print_id = -1 };
    if (tracefs_iterate_raw_events(tep, instance, NULL, 0, read_buf, &context) < 0)
        return -1;
    *checksum += context.checksum;
    return context.records;
}

long baseline_write_markers(struct tracefs_instance *instance, long count) {
    int fd = tracefs_instance_file_open(instance, "trace_marker", O_WRONLY);
    if (fd < 0)
        return -1;
    char text[32];
    long written = 0;
    for (long index = 0; index < count; index++) {
        int length = snprintf(text, sizeof(text), "bench %ld", index % 1000000);
        if (write(fd, text, (size_t)length) == length)
            written++;
    }
    close(fd);
    return written;
}

int baseline_uprobe_lifecycle(const char *system, const char *file, int count) {
    char event[32];
    for (int index = 0; index < count; index++) {
        snprintf(event, sizeof(event), "e%d", index);
        struct tracefs_dynevent *probe = tracefs_uprobe_alloc(system, event, file, 0x100 + (unsigned)index, NULL);
        if (!probe)
            return -1;
        if (tracefs_dynevent_create(probe) < 0 || tracefs_dynevent_destroy(probe, false) < 0) {
            tracefs_dynevent_free(probe);
            return -1;
        }
        tracefs_dynevent_free(probe);
    }
    return 0;
}
