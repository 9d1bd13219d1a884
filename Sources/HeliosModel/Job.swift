import Foundation

/// An immutable, versioned container spec (`kind: Job`).
public struct Job: Sendable, Equatable, Codable {
    public var name: String
    public var version: String
    /// A Docker image reference.
    public var image: String
    /// The container's command; nil runs the image's default.
    public var command: [String]?

    public init(name: String, version: String, image: String, command: [String]? = nil) {
        self.name = name
        self.version = version
        self.image = image
        self.command = command
    }

    /// `name:version:hash`, where the hash covers the normalised job: reformatting,
    /// reordering or spelling a default never changes it; any real change does.
    public var id: JobID {
        JobID(name: name, version: version, hash: SHA1.hex(canonicalJSON))
    }

    /// The normalised job as canonical JSON: sorted keys, empty values left out.
    public var canonicalJSON: Data {
        var normalised = self
        if normalised.command?.isEmpty == true { normalised.command = nil }
        return CanonicalJSON.encode(normalised)
    }
}

/// A job's identity: `name:version:hash`.
public struct JobID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let name: String
    public let version: String
    /// The SHA-1 of the job's canonical JSON, as hex.
    public let hash: String

    public init(name: String, version: String, hash: String) {
        self.name = name
        self.version = version
        self.hash = hash
    }

    /// Parses `name:version:hash`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, Names.isValid(parts[0]), Names.isValid(parts[1]),
              !parts[2].isEmpty, parts[2].allSatisfy(\.isHexDigit) else { return nil }
        self.init(name: parts[0], version: parts[1], hash: parts[2])
    }

    public var description: String { "\(name):\(version):\(hash)" }

    /// The form shown to people: the hash cut to 8 digits.
    public var short: String { "\(name):\(version):\(hash.prefix(8))" }

    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = JobID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a job id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
