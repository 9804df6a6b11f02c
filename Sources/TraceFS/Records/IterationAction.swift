/// What a record-reading callback wants next.
public enum IterationAction: Sendable {
    /// Go on with the next record.
    case `continue`
    /// Stop reading; records not yet read stay in the buffer.
    case stop
}
