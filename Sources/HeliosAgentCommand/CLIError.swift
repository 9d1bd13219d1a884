/// A failure the person at the terminal can act on: one line saying what, and a hint saying
/// how to go on. Exit 1, never a usage text (that is for flags the parser refused).
public struct CLIError: Error, CustomStringConvertible {
    public let message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}
