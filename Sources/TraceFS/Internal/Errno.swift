#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The errno a C call left. Call it first thing inside the `guard` that saw the failure, before
/// anything else (even `String(cString:)`) can overwrite it.
@inline(__always)
func currentErrno() -> Int32 {
    errno
}

/// Runs a C call with errno cleared first: several libtracefs calls fail without setting errno,
/// and a stale value from an earlier, unrelated call must not be reported as this call's cause.
@inline(__always)
func withClearedErrno<Result>(_ call: () throws -> Result) rethrows -> Result {
    errno = 0
    return try call()
}

/// The errno to report: `nil` when the failing call left none.
@inline(__always)
func reportableErrno(_ value: Int32) -> Int32? {
    value == 0 ? nil : value
}
