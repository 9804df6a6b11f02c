import Testing

/// The parent of every suite that changes the kernel's global tracing state (dynamic events,
/// instances, the error log). `.serialized` here runs all of them one after another, so a test
/// that proves "nothing was written" never sees another suite's events.
@Suite(.serialized) enum KernelSuite {}
