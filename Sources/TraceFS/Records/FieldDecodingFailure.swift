/// Why ``DecodableFields`` could not read a field; the keyed container turns it into the
/// `DecodingError` that names the key.
@usableFromInline
enum FieldDecodingFailure: Error {
    case missing
    case typeMismatch(fieldType: String, type: Any.Type)
    case doesNotFit(value: String, type: Any.Type)

    /// The `DecodingError` for `key`.
    @usableFromInline
    func decodingError(for key: some CodingKey) -> DecodingError {
        switch self {
        case .missing:
            .keyNotFound(key, .init(codingPath: [key], debugDescription: ""))
        case .typeMismatch(let fieldType, let type):
            .typeMismatch(type, .init(codingPath: [key], debugDescription: "it is `\(fieldType)`, not \(type)"))
        case .doesNotFit(let value, let type):
            .dataCorrupted(.init(codingPath: [key], debugDescription: "its value \(value) does not fit \(type)"))
        }
    }
}
