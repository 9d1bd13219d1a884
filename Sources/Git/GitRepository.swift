internal import CGit2
import Foundation
import Synchronization

/// A file in a commit's tree.
public struct TreeFile: Sendable, Equatable {
    /// The path from the tree's root, `/`-separated.
    public let path: String
    /// The blob holding the file's content: equal ids mean equal content.
    public let blob: ObjectID
}

/// A commit's people and subject.
public struct CommitInfo: Sendable, Equatable {
    public let author: String
    public let committer: String
    public let summary: String
}

/// A file that differs between two trees: added (no `old`), removed (no `new`) or changed.
public struct TreeChange: Sendable, Equatable {
    public let path: String
    public let old: ObjectID?
    public let new: ObjectID?
}

/// A git repository opened with libgit2.
///
/// libgit2 objects must not be used from two threads at once: every call takes the
/// repository's lock, and network calls run on the blocking pool, never on a cooperative thread.
public final class GitRepository: Sendable {
    private let repository: Mutex<Pointer>
    /// Where the repository lives on disk.
    public let path: String

    /// The `git_repository*`; only touched under the lock.
    private struct Pointer: @unchecked Sendable {
        let raw: OpaquePointer
    }

    private init(raw: OpaquePointer, path: String) {
        repository = Mutex(Pointer(raw: raw))
        self.path = path
    }

    deinit {
        repository.withLock { git_repository_free($0.raw) }
    }

    /// Opens an existing repository (bare or not).
    public static func open(at path: String) throws -> GitRepository {
        Libgit2.initialize()
        var raw: OpaquePointer?
        try check("open \(path)") { git_repository_open(&raw, path) }
        return GitRepository(raw: raw!, path: path)
    }

    /// Opens the repository that contains `path` (the folder itself or any parent).
    public static func discover(from path: String) throws -> GitRepository {
        Libgit2.initialize()
        var raw: OpaquePointer?
        try check("find a git repository at \(path)") { git_repository_open_ext(&raw, path, 0, nil) }
        let workdir = git_repository_workdir(raw).map { String(cString: $0) }
        return GitRepository(raw: raw!, path: workdir ?? String(cString: git_repository_path(raw)))
    }

    /// The work tree's root, with a trailing `/`; nil for a bare repository.
    public var workTree: String? {
        repository.withLock { git_repository_workdir($0.raw).map { String(cString: $0) } }
    }

    /// The commit a revision names, or nil when it names nothing (an unborn HEAD, a branch
    /// without upstream).
    public func resolveIfPresent(_ revision: String) -> ObjectID? {
        try? resolve(revision)
    }

    /// Opens the bare mirror at `path` whose `origin` is `remoteURL`, creating it when missing.
    /// The master keeps one such mirror and fetches into it; it never checks anything out.
    public static func mirror(of remoteURL: String, at path: String) throws -> GitRepository {
        Libgit2.initialize()
        var raw: OpaquePointer?
        if git_repository_open_bare(&raw, path) < 0 {
            try check("init \(path)") { git_repository_init(&raw, path, 1) }
        }
        let repository = GitRepository(raw: raw!, path: path)
        try repository.repository.withLock { pointer in
            var remote: OpaquePointer?
            if git_remote_lookup(&remote, pointer.raw, "origin") == 0 {
                defer { git_remote_free(remote) }
                if String(cString: git_remote_url(remote)) != remoteURL {
                    try check("set origin to \(remoteURL)") { git_remote_set_url(pointer.raw, "origin", remoteURL) }
                }
            } else {
                try check("add origin \(remoteURL)") { git_remote_create(&remote, pointer.raw, "origin", remoteURL) }
                git_remote_free(remote)
            }
        }
        return repository
    }

    /// Fetches `branch` from `origin` and returns the commit it points at. When the remote's
    /// branch is where the mirror already has it, nothing is fetched: only the refs are listed.
    ///
    /// Bounded by `timeout` (libgit2 1.5 has none of its own): a remote that accepts the
    /// connection and then says nothing fails the fetch with `GitError.isTimeout`. The fetch runs
    /// on a thread of its own with a repository handle of its own, so a stalled one holds up
    /// nothing else of this repository; once abandoned it aborts at the first data that arrives.
    public func fetch(branch: String, credentials: GitCredentials? = nil, timeout: Duration = .seconds(60)) async throws -> ObjectID {
        guard Self.stalledFetches.load(ordering: .relaxed) < Self.stalledFetchLimit else {
            throw GitError(code: GitError.timeoutCode, operation: "fetch origin \(branch)",
                           message: "\(Self.stalledFetchLimit) earlier fetches are still stalled")
        }
        let path = self.path
        let attempt = FetchAttempt()
        let fetched: ObjectID = try await withCheckedThrowingContinuation { continuation in
            let outcome = Once(continuation)
            let finished = DispatchSemaphore(value: 0)
            let thread = Thread {
                let result = Result { try Self.fetch(branch: branch, into: path, credentials: credentials, attempt: attempt) }
                if !outcome.resume(with: result) { Self.stalledFetches.subtract(1, ordering: .relaxed) }
                finished.signal()
            }
            thread.name = "git-fetch"
            thread.start()
            // The deadline on a thread of its own too: a timer on a shared queue fires only once
            // one of that queue's threads is free, and a busy process may have none for a while.
            let deadline = DispatchTime.now() + .nanoseconds(Int(timeout.components.seconds) * 1_000_000_000
                                                             + Int(timeout.components.attoseconds / 1_000_000_000))
            let watchdog = Thread {
                guard finished.wait(timeout: deadline) == .timedOut else { return }
                attempt.abandon()
                if outcome.resume(with: .failure(GitError(code: GitError.timeoutCode, operation: "fetch origin \(branch)",
                                                          message: "no answer from the remote within \(timeout)"))) {
                    Self.stalledFetches.add(1, ordering: .relaxed)
                }
            }
            watchdog.name = "git-fetch-deadline"
            watchdog.start()
        }
        return fetched
    }

    /// Fetches abandoned whose threads are still blocked on their remote, and how many may be.
    private static let stalledFetches = Atomic<Int>(0)
    private static let stalledFetchLimit = 4

    /// The fetch itself, blocking, on a handle of its own.
    private static func fetch(branch: String, into path: String, credentials: GitCredentials?,
                              attempt: FetchAttempt) throws -> ObjectID {
        var raw: OpaquePointer?
        try check("open \(path)") { git_repository_open_bare(&raw, path) }
        defer { git_repository_free(raw) }
        var remote: OpaquePointer?
        try check("find origin") { git_remote_lookup(&remote, raw, "origin") }
        defer { git_remote_free(remote) }
        let tracking = "refs/remotes/origin/\(branch)"
        // Credentials are offered once per connection: the ref listing and the fetch each get theirs.
        if let local = try? resolve(tracking, in: raw!),
           try remoteHead(of: branch, remote: remote, offer: CredentialOffer(credentials, attempt: attempt)) == local {
            return local
        }
        let offer = CredentialOffer(credentials, attempt: attempt)
        var options = git_fetch_options()
        try check("fetch options") { git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)) }
        options.prune = GIT_FETCH_PRUNE
        offer.install(in: &options.callbacks)
        let refspec = "+refs/heads/\(branch):\(tracking)"
        try withExtendedLifetime(offer) {
            try withStringArray([refspec]) { refspecs in
                try check("fetch origin \(branch)") { git_remote_fetch(remote, refspecs, &options, "fetch") }
            }
        }
        return try resolve(tracking, in: raw!)
    }

    /// The commit the remote's `branch` points at, from its ref advertisement (no objects move).
    private static func remoteHead(of branch: String, remote: OpaquePointer?, offer: CredentialOffer) throws -> ObjectID? {
        var callbacks = git_remote_callbacks()
        try check("remote callbacks") { git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION)) }
        offer.install(in: &callbacks)
        return try withExtendedLifetime(offer) {
            try check("connect to origin") { git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nil, nil) }
            defer { git_remote_disconnect(remote) }
            var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
            var count = 0
            try check("list origin's refs") { git_remote_ls(&heads, &count, remote) }
            let name = "refs/heads/\(branch)"
            for index in 0..<count {
                guard let head = heads?[index], String(cString: head.pointee.name) == name else { continue }
                return ObjectID(head.pointee.oid)
            }
            return nil
        }
    }

    /// The commit a revision names (`HEAD`, a branch, `origin/main`, an id, `HEAD~1`).
    public func resolve(_ revision: String) throws -> ObjectID {
        try repository.withLock { try resolveLocked($0.raw, revision) }
    }

    private func resolveLocked(_ raw: OpaquePointer, _ revision: String) throws -> ObjectID {
        try Self.resolve(revision, in: raw)
    }

    private static func resolve(_ revision: String, in raw: OpaquePointer) throws -> ObjectID {
        var object: OpaquePointer?
        try check("resolve \(revision)") { git_revparse_single(&object, raw, revision) }
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try check("resolve \(revision) to a commit") { git_object_peel(&commit, object, GIT_OBJECT_COMMIT) }
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit).pointee)
    }

    /// Who wrote and who committed a commit, and its subject line.
    public func commitInfo(_ id: ObjectID) throws -> CommitInfo {
        try repository.withLock { repository in
            var oid = id.oid
            var commit: OpaquePointer?
            try check("read commit \(id.short)") { git_commit_lookup(&commit, repository.raw, &oid) }
            defer { git_commit_free(commit) }
            func person(_ signature: UnsafePointer<git_signature>?) -> String {
                guard let signature = signature?.pointee else { return "?" }
                return "\(String(cString: signature.name)) <\(String(cString: signature.email))>"
            }
            let summary = git_commit_summary(commit).map { String(cString: $0) } ?? ""
            return CommitInfo(author: person(git_commit_author(commit)), committer: person(git_commit_committer(commit)),
                              summary: summary)
        }
    }

    /// A commit's signature (an armored SSH or OpenPGP signature) and the bytes it signs; nil
    /// for an unsigned commit.
    public func signature(of id: ObjectID) throws -> (signature: Data, signed: Data)? {
        try repository.withLock { repository in
            var oid = id.oid
            var signature = git_buf(), signed = git_buf()
            defer { git_buf_dispose(&signature); git_buf_dispose(&signed) }
            let code = git_commit_extract_signature(&signature, &signed, repository.raw, &oid, nil)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            if code < 0 { throw GitError.last(code, "read the signature of \(id.short)") }
            return (Data(bytes: signature.ptr, count: signature.size), Data(bytes: signed.ptr, count: signed.size))
        }
    }

    /// The best common ancestor of two commits (what a pull request is compared with); nil
    /// when they share none.
    public func mergeBase(_ one: ObjectID, _ other: ObjectID) throws -> ObjectID? {
        try repository.withLock { repository in
            var base = git_oid()
            var (first, second) = (one.oid, other.oid)
            let code = git_merge_base(&base, repository.raw, &first, &second)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            if code < 0 { throw GitError.last(code, "find the merge-base of \(one.short) and \(other.short)") }
            return ObjectID(base)
        }
    }

    /// The paths the index tracks (staged additions included), from the work tree's root: what
    /// a commit made now would hold, as far as which files it has.
    public func trackedPaths() throws -> Set<String> {
        try repository.withLock { pointer in
            var index: OpaquePointer?
            try check("read the index") { git_repository_index(&index, pointer.raw) }
            defer { git_index_free(index) }
            var paths: Set<String> = []
            for position in 0..<git_index_entrycount(index) {
                guard let entry = git_index_get_byindex(index, position)?.pointee else { continue }
                paths.insert(String(cString: entry.path))
            }
            return paths
        }
    }

    /// Every regular file of the commit's tree, recursively, in path order. Symbolic links and
    /// submodules are not files here: their content is no file's content.
    public func files(at commit: ObjectID) throws -> [TreeFile] {
        try repository.withLock { pointer in
            let tree = try tree(of: commit, repository: pointer.raw)
            defer { git_tree_free(tree) }
            var files: [TreeFile] = []
            try collect(tree: tree, prefix: "", repository: pointer.raw, into: &files)
            return files.sorted { $0.path < $1.path }
        }
    }

    private func collect(tree: OpaquePointer, prefix: String, repository raw: OpaquePointer,
                         into files: inout [TreeFile]) throws {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let path = prefix + String(cString: git_tree_entry_name(entry))
            let id = git_tree_entry_id(entry)!
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_BLOB where git_tree_entry_filemode(entry) != GIT_FILEMODE_LINK:
                files.append(TreeFile(path: path, blob: ObjectID(id.pointee)))
            case GIT_OBJECT_TREE:
                var subtree: OpaquePointer?
                try check("read tree \(path)") { git_tree_lookup(&subtree, raw, id) }
                defer { git_tree_free(subtree) }
                try collect(tree: subtree!, prefix: path + "/", repository: raw, into: &files)
            default:
                continue // submodules are not manifests
            }
        }
    }

    /// The files that differ between two commits' trees, in path order. libgit2 compares
    /// subtrees by id, so the cost follows the directories the change touches, not the
    /// repository's size. A rename is a removal and an addition.
    public func changes(from old: ObjectID, to new: ObjectID) throws -> [TreeChange] {
        try repository.withLock { pointer in
            let oldTree = try tree(of: old, repository: pointer.raw)
            defer { git_tree_free(oldTree) }
            let newTree = try tree(of: new, repository: pointer.raw)
            defer { git_tree_free(newTree) }
            var diff: OpaquePointer?
            try check("compare \(old.short) with \(new.short)") {
                git_diff_tree_to_tree(&diff, pointer.raw, oldTree, newTree, nil)
            }
            defer { git_diff_free(diff) }
            return (0..<git_diff_num_deltas(diff)).compactMap { index -> TreeChange? in
                guard let delta = git_diff_get_delta(diff, index)?.pointee else { return nil }
                // As in `files(at:)`: a symbolic link is no file (one that replaces a file removes it).
                let isFile = { (file: git_diff_file) in file.mode == GIT_FILEMODE_BLOB.rawValue
                    || file.mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue }
                let before = isFile(delta.old_file) ? ObjectID(delta.old_file.id) : nil
                let after = isFile(delta.new_file) ? ObjectID(delta.new_file.id) : nil
                guard before != nil || after != nil else { return nil }
                let path = String(cString: (after != nil ? delta.new_file : delta.old_file).path)
                return TreeChange(path: path, old: before, new: after)
            }.sorted { $0.path < $1.path }
        }
    }

    private func tree(of commit: ObjectID, repository raw: OpaquePointer) throws -> OpaquePointer {
        var oid = commit.oid
        var commitObject: OpaquePointer?
        try check("read commit \(commit.short)") { git_commit_lookup(&commitObject, raw, &oid) }
        defer { git_commit_free(commitObject) }
        var tree: OpaquePointer?
        try check("read tree of \(commit.short)") { git_commit_tree(&tree, commitObject) }
        return tree!
    }

    /// A blob's content.
    public func blob(_ id: ObjectID) throws -> Data {
        try repository.withLock { try Self.blob(id, in: $0.raw) }
    }

    /// The contents of `ids`, in order. Enough of them (a commit's every manifest) are read on
    /// every core, each worker through a repository handle of its own (a libgit2 object is
    /// used by one thread at a time): inflating 10,000 objects is a cold load's other half.
    public func blobs(_ ids: [ObjectID]) throws -> [Data] {
        let workers = ids.count < 256 ? 1 : ProcessInfo.processInfo.activeProcessorCount
        guard workers > 1 else { return try ids.map(blob) }
        let directory = repository.withLock { String(cString: git_repository_path($0.raw)) }
        let results = UnsafeMutableBufferPointer<Result<Data, any Error>>.allocate(capacity: ids.count)
        defer { results.deallocate() }
        // Each worker initializes its own run of slots; the buffer outlives them.
        nonisolated(unsafe) let slots = results
        let run = (ids.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = worker * run..<min(ids.count, (worker + 1) * run)
            var raw: OpaquePointer?
            let opened = Result { try check("open \(directory)") { git_repository_open(&raw, directory) } }
            defer { git_repository_free(raw) }
            for index in range {
                (slots.baseAddress! + index).initialize(to: opened.flatMap { Result { try Self.blob(ids[index], in: raw!) } })
            }
        }
        let contents = (0..<ids.count).map { (results.baseAddress! + $0).move() }
        return try contents.map { try $0.get() }
    }

    private static func blob(_ id: ObjectID, in raw: OpaquePointer) throws -> Data {
        var oid = id.oid
        var blob: OpaquePointer?
        try check("read blob \(id.short)") { git_blob_lookup(&blob, raw, &oid) }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let content = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: content, count: size)
    }
}

/// Passes `strings` to libgit2 as a `git_strarray`.
private func withStringArray<T>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) throws -> T) rethrows -> T {
    var pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: strings.count)
        return try body(&array)
    }
}

/// `git_libgit2_init` must run once per process before any other call.
enum Libgit2 {
    private static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    static func initialize() { _ = initialized }
}

/// One fetch's fate, shared with libgit2's callbacks: abandoned once its time is up.
final class FetchAttempt: Sendable {
    private let abandoned = Atomic(false)

    func abandon() { abandoned.store(true, ordering: .relaxed) }
    var isAbandoned: Bool { abandoned.load(ordering: .relaxed) }
}

/// A continuation resumed once, by whichever comes first; `resume` says whether it was this call.
final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        guard let continuation = continuation.withLock({ value -> CheckedContinuation<T, any Error>? in
            defer { value = nil }
            return value
        }) else { return false }
        continuation.resume(with: result)
        return true
    }
}
