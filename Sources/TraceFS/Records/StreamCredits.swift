import Dispatch

/// How many batches a ``RecordStream``'s reader may hand over before its consumer takes them:
/// the reader takes a credit per batch and waits when none is left, so that it stops reading and
/// the kernel's own buffer (and its count of lost events) takes the excess, not this process's
/// memory.
@usableFromInline
final class StreamCredits: Sendable {
    private let semaphore: DispatchSemaphore

    init(batches: Int) {
        semaphore = DispatchSemaphore(value: batches)
    }

    /// Waits for a credit (the reader, before handing over a batch).
    func acquire() {
        semaphore.wait()
    }

    /// Gives a credit back (the consumer took a batch, or the reader is being stopped).
    func release() {
        semaphore.signal()
    }
}
