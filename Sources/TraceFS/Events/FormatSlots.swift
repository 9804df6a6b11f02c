import Synchronization

/// The formats by event id for the reading hot path: found with three atomic loads, without a lock,
/// an allocation or a dictionary lookup.
///
/// Ids are the kernel's 16-bit event types, so the table is 256 pages of 256 slots, a page allocated
/// when an id in it is first stored. A slot holds a retained ``Entry``; an entry that is replaced
/// (its id now means another event) is kept until the table goes, since a reader may be using it.
/// Only the owning catalog stores, under its lock; anyone loads.
final class FormatSlots {
    /// A format, and the reading pass in which the kernel last confirmed that its id means it.
    final class Entry {
        let format: EventFormat
        let confirmedPass: Atomic<UInt64>

        init(format: EventFormat, confirmedPass: UInt64) {
            self.format = format
            self.confirmedPass = Atomic(confirmedPass)
        }
    }

    private static let slotsPerPage = 256
    private static let pageCount = 256
    /// The pages' addresses, 0 for a page not allocated yet.
    private let pages: UnsafeMutablePointer<Atomic<UInt>>
    /// Entries taken out of their slots, alive until `deinit`.
    private var replaced: [Entry] = []

    init() {
        pages = .allocate(capacity: Self.pageCount)
        for index in 0..<Self.pageCount { (pages + index).initialize(to: Atomic(0)) }
    }

    deinit {
        for index in 0..<Self.pageCount {
            guard let page = page(index) else { continue }
            for slot in 0..<Self.slotsPerPage {
                let raw = page[slot].load(ordering: .relaxed)
                if raw != 0 { Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: raw)!).release() }
            }
            page.deinitialize(count: Self.slotsPerPage)
            page.deallocate()
        }
        pages.deinitialize(count: Self.pageCount)
        pages.deallocate()
    }

    /// The entry stored for `id`, if any. Lock-free.
    @inline(__always)
    func entry(_ id: Int32) -> Entry? {
        guard id >= 0 && Int(id) < Self.slotsPerPage * Self.pageCount,
              let page = page(Int(id) / Self.slotsPerPage) else { return nil }
        let raw = page[Int(id) % Self.slotsPerPage].load(ordering: .acquiring)
        guard raw != 0 else { return nil }
        return Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: raw)!).takeUnretainedValue()
    }

    /// Stores `entry` (or clears the slot) for `id`. Only under the owning catalog's lock.
    func store(_ entry: Entry?, for id: Int32) {
        guard id >= 0 && Int(id) < Self.slotsPerPage * Self.pageCount else { return }
        let pageIndex = Int(id) / Self.slotsPerPage
        let page: UnsafeMutablePointer<Atomic<UInt>>
        if let existing = self.page(pageIndex) {
            page = existing
        } else {
            page = .allocate(capacity: Self.slotsPerPage)
            for slot in 0..<Self.slotsPerPage { (page + slot).initialize(to: Atomic(0)) }
            pages[pageIndex].store(UInt(bitPattern: page), ordering: .releasing)
        }
        let new = entry.map { UInt(bitPattern: Unmanaged.passRetained($0).toOpaque()) } ?? 0
        let old = page[Int(id) % Self.slotsPerPage].exchange(new, ordering: .acquiringAndReleasing)
        if old != 0 { replaced.append(Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: old)!).takeRetainedValue()) }
    }

    private func page(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt>>? {
        UnsafeMutablePointer(bitPattern: pages[index].load(ordering: .acquiring))
    }
}

// Sendable: slots and page addresses are atomics, loaded with acquire ordering after a release
// store; stores and `replaced` are only touched by the owning catalog under its lock; entries are
// never freed before the table, so a loaded entry stays valid.
extension FormatSlots: @unchecked Sendable {}
// Sendable: `format` is an immutable Sendable class, `confirmedPass` an atomic.
extension FormatSlots.Entry: @unchecked Sendable {}
