/// An error reported by ZooKeeper or by the client library, with ZooKeeper's code.
public struct ZooKeeperError: Error, Sendable, Equatable, CustomStringConvertible {
    /// ZooKeeper's error code (`ZOO_ERRORS` in the C client).
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let systemError = Code(rawValue: -1)
        public static let runtimeInconsistency = Code(rawValue: -2)
        public static let dataInconsistency = Code(rawValue: -3)
        public static let connectionLoss = Code(rawValue: -4)
        public static let marshallingError = Code(rawValue: -5)
        public static let unimplemented = Code(rawValue: -6)
        public static let operationTimeout = Code(rawValue: -7)
        public static let badArguments = Code(rawValue: -8)
        public static let invalidState = Code(rawValue: -9)
        public static let noNode = Code(rawValue: -101)
        public static let noAuth = Code(rawValue: -102)
        public static let badVersion = Code(rawValue: -103)
        public static let noChildrenForEphemerals = Code(rawValue: -108)
        public static let nodeExists = Code(rawValue: -110)
        public static let notEmpty = Code(rawValue: -111)
        public static let sessionExpired = Code(rawValue: -112)
        public static let invalidACL = Code(rawValue: -114)
        public static let authFailed = Code(rawValue: -115)
        public static let closing = Code(rawValue: -116)
        public static let sessionMoved = Code(rawValue: -118)
        public static let notReadOnly = Code(rawValue: -119)

        /// ZooKeeper's name for the code, e.g. `ZNONODE`.
        public var name: String {
            switch self {
            case .systemError: "ZSYSTEMERROR"
            case .runtimeInconsistency: "ZRUNTIMEINCONSISTENCY"
            case .dataInconsistency: "ZDATAINCONSISTENCY"
            case .connectionLoss: "ZCONNECTIONLOSS"
            case .marshallingError: "ZMARSHALLINGERROR"
            case .unimplemented: "ZUNIMPLEMENTED"
            case .operationTimeout: "ZOPERATIONTIMEOUT"
            case .badArguments: "ZBADARGUMENTS"
            case .invalidState: "ZINVALIDSTATE"
            case .noNode: "ZNONODE"
            case .noAuth: "ZNOAUTH"
            case .badVersion: "ZBADVERSION"
            case .noChildrenForEphemerals: "ZNOCHILDRENFOREPHEMERALS"
            case .nodeExists: "ZNODEEXISTS"
            case .notEmpty: "ZNOTEMPTY"
            case .sessionExpired: "ZSESSIONEXPIRED"
            case .invalidACL: "ZINVALIDACL"
            case .authFailed: "ZAUTHFAILED"
            case .closing: "ZCLOSING"
            case .sessionMoved: "ZSESSIONMOVED"
            case .notReadOnly: "ZNOTREADONLY"
            default: "ZERROR(\(rawValue))"
            }
        }

        /// True for errors after which the same request may succeed on a healthy session.
        public var isTransient: Bool {
            self == .connectionLoss || self == .operationTimeout
        }
    }

    /// What went wrong.
    public let code: Code
    /// The operation that failed, e.g. `create`.
    public let operation: String
    /// The node the operation addressed, when there is one.
    public let path: String?

    public init(code: Code, operation: String, path: String? = nil) {
        self.code = code
        self.operation = operation
        self.path = path
    }

    public var description: String {
        var text = "ZooKeeper \(operation)"
        if let path { text += " \(path)" }
        text += " failed: \(code.name)"
        switch code {
        case .connectionLoss, .operationTimeout:
            text += " (is the ZooKeeper server reachable?)"
        case .sessionExpired:
            text += " (the session expired; a new session is needed)"
        case .badVersion:
            text += " (the node changed since it was read)"
        default:
            break
        }
        return text
    }
}
