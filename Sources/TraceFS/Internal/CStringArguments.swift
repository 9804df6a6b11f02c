/// Calls `body` with `const char *` versions of up to five arguments; `nil` stays `NULL`.
///
/// Swift's implicit conversion of a `String` argument to `const char *` copies a short string
/// (one stored inline, up to 15 bytes) into a new heap array on every call; `withCString` copies it
/// onto the stack instead, and hands a long string's own storage over without copying.
func withCStrings<Result>(
    _ first: String?, _ second: String?, _ third: String?, _ fourth: String?, _ fifth: String? = nil,
    _ body: (
        UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?
    ) -> Result
) -> Result {
    withOptionalCString(first) { first in
        withOptionalCString(second) { second in
            withOptionalCString(third) { third in
                withOptionalCString(fourth) { fourth in
                    withOptionalCString(fifth) { fifth in body(first, second, third, fourth, fifth) }
                }
            }
        }
    }
}

private func withOptionalCString<Result>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let string else { return body(nil) }
    return string.withCString(body)
}
