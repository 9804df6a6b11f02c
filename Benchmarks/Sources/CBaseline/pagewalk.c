#include "baseline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The same page walk as the overlay's PageCursor, in C, for the rawread cases' swift/c ratio. */

struct cpu_reader {
    int fd;
    unsigned char *page;
    const unsigned char *data;
    int length;
    int offset;
    uint64_t timestamp;
    const unsigned char *event;
    int event_size;
    int has_event;
};

static int next_event(struct cpu_reader *reader) {
    while (reader->offset + 4 <= reader->length) {
        uint32_t header;
        memcpy(&header, reader->data + reader->offset, 4);
        uint32_t type = header & 0x1f;
        uint64_t delta = header >> 5;
        int position = reader->offset + 4;
        if (type != 0 && type <= 28) {
            int size = (int)type << 2;
            if (position + size > reader->length) break;
            reader->timestamp += delta;
            reader->event = reader->data + position;
            reader->event_size = size;
            reader->offset = position + size;
            return 1;
        }
        if (position + 4 > reader->length) break;
        uint32_t word;
        memcpy(&word, reader->data + position, 4);
        switch (type) {
        case 0: {
            int size = ((int)word - 4 + 3) & ~3;
            if (size < 0 || position + 4 + size > reader->length) { reader->offset = reader->length; return 0; }
            reader->timestamp += delta;
            reader->event = reader->data + position + 4;
            reader->event_size = size;
            reader->offset = position + 4 + size;
            return 1;
        }
        case 29:
            reader->timestamp += delta;
            reader->offset = position + (int)word;
            break;
        case 30:
            reader->timestamp += ((uint64_t)word << 27) + delta;
            reader->offset = position + 4;
            break;
        default:
            reader->timestamp = (((uint64_t)word << 27) + delta) | (reader->timestamp & (0xf8ULL << 56));
            reader->offset = position + 4;
        }
    }
    reader->offset = reader->length;
    return 0;
}

static int fill(struct cpu_reader *reader, int page_size) {
    for (;;) {
        ssize_t count = read(reader->fd, reader->page, (size_t)page_size);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 16) { reader->has_event = 0; return 0; }
        uint64_t commit;
        memcpy(&reader->timestamp, reader->page, 8);
        memcpy(&commit, reader->page + 8, 8);
        reader->data = reader->page + 16;
        reader->length = (int)(commit & ((1 << 27) - 1));
        if (reader->length > count - 16) reader->length = (int)count - 16;
        reader->offset = 0;
        if (next_event(reader)) { reader->has_event = 1; return 1; }
    }
}

static void take(const struct cpu_reader *reader, const struct walk_event *print, long *records, long long *checksum) {
    uint16_t id;
    memcpy(&id, reader->event, 2);
    (*records)++;
    if (id == print->id && print->buf_offset <= reader->event_size)
        *checksum += (long long)strnlen((const char *)reader->event + print->buf_offset,
                                        (size_t)(reader->event_size - print->buf_offset));
}

long baseline_page_walk(const char *instance_dir, int cpus, int page_size, int merged,
                        const struct walk_event *print, long long *checksum) {
    struct cpu_reader readers[64];
    if (cpus > 64) return -1;
    long records = 0;
    for (int cpu = 0; cpu < cpus; cpu++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw", instance_dir, cpu);
        readers[cpu].fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        readers[cpu].page = aligned_alloc(4096, (size_t)page_size);
        readers[cpu].has_event = 0;
    }
    if (merged) {
        for (int cpu = 0; cpu < cpus; cpu++) fill(&readers[cpu], page_size);
        for (;;) {
            int oldest = -1;
            uint64_t oldest_time = UINT64_MAX;
            for (int cpu = 0; cpu < cpus; cpu++)
                if (readers[cpu].has_event && readers[cpu].timestamp < oldest_time) {
                    oldest = cpu;
                    oldest_time = readers[cpu].timestamp;
                }
            if (oldest < 0) break;
            take(&readers[oldest], print, &records, checksum);
            if (!next_event(&readers[oldest])) fill(&readers[oldest], page_size);
        }
    } else {
        for (int cpu = 0; cpu < cpus; cpu++) {
            fill(&readers[cpu], page_size);
            while (readers[cpu].has_event) {
                take(&readers[cpu], print, &records, checksum);
                if (!next_event(&readers[cpu])) fill(&readers[cpu], page_size);
            }
        }
    }
    for (int cpu = 0; cpu < cpus; cpu++) {
        close(readers[cpu].fd);
        free(readers[cpu].page);
    }
    return records;
}
