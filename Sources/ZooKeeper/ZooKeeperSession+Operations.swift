internal import CZooKeeper
import Foundation

extension ZooKeeperSession {
    /// Creates a node and returns its path (with the sequence number for sequential modes).
    /// `acl` defaults to the session's policy (`ZooKeeperAccess`), else open to everyone.
    @discardableResult
    public func create(_ path: String, data: Data = Data(), mode: CreateMode = .persistent,
                       acl: [ACLEntry]? = nil) async throws -> String {
        // The request is serialised during the call: the vector may go once it returns.
        let vector = (acl ?? access.acl(path)).map(ACLVector.init)
        return try await withCompletion(of: String.self, .create, path: path) { handle, box in
            data.withUnsafeBytes { bytes in
                zoo_acreate(handle, path, bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                            Int32(bytes.count), vector?.pointer ?? OpenACL.pointer, mode.flags, stringCompletion,
                            box)
            }
        }
    }

    /// Creates an ephemeral node this client keeps: when the session expires, the renewed
    /// session creates it again, until `delete` removes it.
    public func createEphemeral(_ path: String, data: Data = Data()) async throws {
        core.own(ephemeral: path, data: data)
        do {
            try await create(path, data: data, mode: .ephemeral)
        } catch {
            // "Exists" is this session's own node (or one a renewal will find gone): keep it owned.
            if (error as? ZooKeeperError)?.code != .nodeExists { core.own(ephemeral: path, data: nil) }
            throw error
        }
    }

    /// Adds credentials to the session, e.g. scheme `digest` with `user:password`. ZooKeeper
    /// checks them against `digest` ACLs and records them for `ACLEntry.creator()`.
    public func addAuth(scheme: String, credentials: String) async throws {
        let bytes = Array(credentials.utf8)
        try await withCompletion(of: Void.self, .addauth, path: nil) { handle, box in
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    zoo_add_auth(handle, scheme, chars.baseAddress, Int32(chars.count), voidCompletion, box)
                }
            }
        }
    }

    /// A node's access control list and stat.
    public func acl(of path: String) async throws -> (acl: [ACLEntry], stat: NodeStat) {
        try await withCompletion(of: ([ACLEntry], NodeStat).self, .getacl, path: path) { handle, box in
            zoo_aget_acl(handle, path, aclCompletion, box)
        }
    }

    /// Replaces a node's access control list; with `version` (the stat's `aclVersion`), only if
    /// it was not changed since.
    public func setACL(_ path: String, _ acl: [ACLEntry], version: Int32? = nil) async throws {
        let vector = ACLVector(acl)
        try await withCompletion(of: Void.self, .setacl, path: path) { handle, box in
            zoo_aset_acl(handle, path, version ?? -1, vector.pointer, voidCompletion, box)
        }
    }

    /// Creates `path` and each missing ancestor as empty persistent nodes; existing ones are kept.
    public func createPath(_ path: String) async throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do {
                try await create(prefix)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            } catch let error as ZooKeeperError where error.code == .noAuth {
                // The server checks the right to create under the parent before it looks for the
                // node: a node that exists where this session may not create is fine too.
                guard try await exists(prefix) != nil else { throw error }
            }
        }
    }

    /// Reads a node's data and stat; `watch` arms a data watch on it.
    public func get(_ path: String, watch: Bool = false) async throws -> (data: Data, stat: NodeStat) {
        if watch { core.armed(ArmedWatch(path: path, children: false)) }
        return try await withCompletion(of: (Data, NodeStat).self, .get, path: path) { handle, box in
            zoo_aget(handle, path, watch ? 1 : 0, dataCompletion, box)
        }
    }

    /// Replaces a node's data; with `version`, only if the node is still at that version.
    @discardableResult
    public func set(_ path: String, data: Data, version: Int32? = nil) async throws -> NodeStat {
        try await withCompletion(of: NodeStat.self, .set, path: path) { handle, box in
            data.withUnsafeBytes { bytes in
                zoo_aset(handle, path, bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                         Int32(bytes.count), version ?? -1, statCompletion, box)
            }
        }
    }

    /// Deletes a node; with `version`, only if the node is still at that version.
    public func delete(_ path: String, version: Int32? = nil) async throws {
        try await withCompletion(of: Void.self, .delete, path: path) { handle, box in
            zoo_adelete(handle, path, version ?? -1, voidCompletion, box)
        }
        core.own(ephemeral: path, data: nil)
    }

    /// The node's stat, or nil when it does not exist; `watch` arms a watch for its
    /// creation, deletion or change.
    public func exists(_ path: String, watch: Bool = false) async throws -> NodeStat? {
        if watch { core.armed(ArmedWatch(path: path, children: false)) }
        do {
            return try await withCompletion(of: NodeStat.self, .exists, path: path) { handle, box in
                zoo_aexists(handle, path, watch ? 1 : 0, statCompletion, box)
            }
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }

    /// The names of a node's children, sorted; `watch` arms a child watch.
    public func children(_ path: String, watch: Bool = false) async throws -> [String] {
        if watch { core.armed(ArmedWatch(path: path, children: true)) }
        let names = try await withCompletion(of: [String].self, .children, path: path) { handle, box in
            zoo_aget_children(handle, path, watch ? 1 : 0, stringsCompletion, box)
        }
        return names.sorted()
    }

    /// Sends a request through the session's C handle; its completion resumes the box,
    /// handed to `submit` retained. When the C call itself fails (or the session is closed),
    /// the completion never runs: the box is released here instead.
    func withCompletion<T>(
        of type: T.Type, _ request: NodeRequest, path: String?,
        _ submit: (OpaquePointer, UnsafeRawPointer) -> Int32
    ) async throws -> T {
        switch request {
        case .get, .exists, .children, .getacl: count(reads: 1)
        case .create, .set, .delete, .setacl: count(writes: 1)
        case .addauth: break
        }
        let operation = request.rawValue
        return try await withCheckedThrowingContinuation { continuation in
            let box = CompletionBox<T>(operation: operation, path: path, continuation: continuation)
            let retained = box.retained()
            let rc = withHandle(closed: ZCLOSING.rawValue) { submit($0, retained) }
            if rc != ZOK.rawValue {
                box.releaseUnused()
                continuation.resume(throwing: ZooKeeperError(code: .init(rawValue: rc), operation: operation, path: path))
            }
        }
    }
}

/// The requests sent through `withCompletion`, by the names errors give them; each is counted
/// as a read or a write (`requests`), or not at all.
enum NodeRequest: String {
    case create, delete, set, setacl, get, exists, children, getacl, addauth
}

extension CreateMode {
    var flags: Int32 {
        switch self {
        case .persistent: ZOO_PERSISTENT
        case .ephemeral: ZOO_EPHEMERAL
        case .persistentSequential: ZOO_PERSISTENT_SEQUENTIAL
        case .ephemeralSequential: ZOO_EPHEMERAL_SEQUENTIAL
        }
    }
}

extension NodeStat {
    init(_ stat: Stat) {
        self.init(createdZxid: stat.czxid, modifiedZxid: stat.mzxid, createdTime: stat.ctime,
                  modifiedTime: stat.mtime, version: stat.version, childVersion: stat.cversion,
                  aclVersion: stat.aversion, ephemeralOwner: stat.ephemeralOwner,
                  dataLength: stat.dataLength, numberOfChildren: stat.numChildren)
    }
}

/// The continuation of one request, passed to the C client as the completion's `data`.
/// Retained when the request is sent, released exactly once: by the completion, or by
/// `releaseUnused()` when the request was never sent.
final class CompletionBox<T>: @unchecked Sendable {
    // @unchecked: the continuation is touched once, by whichever of the completion thread
    // or the submitting task ends the request.
    let operation: String
    let path: String?
    let continuation: CheckedContinuation<T, any Error>

    init(operation: String, path: String?, continuation: CheckedContinuation<T, any Error>) {
        self.operation = operation
        self.path = path
        self.continuation = continuation
    }

    func retained() -> UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passRetained(self).toOpaque())
    }

    func releaseUnused() {
        Unmanaged.passUnretained(self).release()
    }

    static func take(_ data: UnsafeRawPointer?) -> CompletionBox<T> {
        Unmanaged<CompletionBox<T>>.fromOpaque(data!).takeRetainedValue()
    }

    func complete(_ rc: Int32, _ value: @autoclosure () -> T) {
        if rc == ZOK.rawValue {
            continuation.resume(returning: value())
        } else {
            continuation.resume(throwing: ZooKeeperError(code: .init(rawValue: rc), operation: operation, path: path))
        }
    }
}

private let stringCompletion: string_completion_t = { rc, value, data in
    CompletionBox<String>.take(data).complete(rc, value.map { String(cString: $0) } ?? "")
}

private let dataCompletion: data_completion_t = { rc, value, length, stat, data in
    let bytes = (value != nil && length > 0) ? Data(bytes: value!, count: Int(length)) : Data()
    let nodeStat = stat.map { NodeStat($0.pointee) }
    CompletionBox<(Data, NodeStat)>.take(data).complete(rc, (bytes, nodeStat!))
}

private let statCompletion: stat_completion_t = { rc, stat, data in
    let nodeStat = stat.map { NodeStat($0.pointee) }
    CompletionBox<NodeStat>.take(data).complete(rc, nodeStat!)
}

private let voidCompletion: void_completion_t = { rc, data in
    CompletionBox<Void>.take(data).complete(rc, ())
}

private let stringsCompletion: strings_completion_t = { rc, strings, data in
    var names: [String] = []
    if let strings {
        for index in 0..<Int(strings.pointee.count) {
            if let name = strings.pointee.data[index] { names.append(String(cString: name)) }
        }
    }
    CompletionBox<[String]>.take(data).complete(rc, names)
}

private let aclCompletion: acl_completion_t = { rc, vector, stat, data in
    var entries: [ACLEntry] = []
    if let vector {
        for index in 0..<Int(vector.pointee.count) {
            let entry = vector.pointee.data[index]
            entries.append(ACLEntry(permissions: .init(rawValue: entry.perms),
                                    scheme: entry.id.scheme.map { String(cString: $0) } ?? "",
                                    id: entry.id.id.map { String(cString: $0) } ?? ""))
        }
    }
    let nodeStat = stat.map { NodeStat($0.pointee) }
    CompletionBox<([ACLEntry], NodeStat)>.take(data).complete(rc, (entries, nodeStat!))
}

/// The world:anyone ACL with every permission, for every create that names none.
/// `ZOO_OPEN_ACL_UNSAFE` is a mutable C global that Swift 6 rejects: the same vector is built
/// once here and never freed.
enum OpenACL {
    private struct Vector: @unchecked Sendable {
        // @unchecked: written once at initialisation, then only read by the C client.
        let acl: ACLVector
    }

    private static let vector = Vector(acl: ACLVector([.anyone]))

    static var pointer: UnsafeMutablePointer<ACL_vector> { vector.acl.pointer }
}
