import Foundation

/// The one JSON encoding Helios hashes and stores, after RFC 8785 (JSON Canonicalization):
/// object keys sorted by code point (their UTF-8 bytes), no whitespace, strings escaped only where
/// JSON requires it (`/` is not), integers in decimal, dates as ISO 8601 strings. The same
/// value always gives the same bytes, on every machine and toolchain.
///
/// Not `JSONEncoder`'s `.sortedKeys`: its order is locale-aware, case-insensitive and
/// numeric ("a9" before "a10"), documented as subject to change — a job's id must not move
/// with a Foundation upgrade. It is also several times slower, and every applied plan
/// encodes each of its jobs, deployments and tasks. `JSONDecoder` reads the output.
public enum CanonicalJSON {
    /// The values every applied plan writes by the thousand write themselves: no generic
    /// encoder in between. Their output equals the generic one (tested).
    public static func encode(_ value: some CanonicalJSONWritable & Encodable) -> Data {
        var writer = CanonicalJSONWriter()
        value.write(to: &writer)
        return Data(writer.bytes)
    }

    public static func encode(_ value: some Encodable) -> Data {
        encodeGenerically(value)
    }

    /// Any `Encodable`; also what tests compare the hand-written encodings with.
    static func encodeGenerically(_ value: some Encodable) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        // Helios' own value types hold strings, integers, booleans, dates and collections of
        // them: encoding them cannot fail.
        try! TreeEncoder.node(for: value).write(into: &bytes)
        return Data(bytes)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: data)
    }
}

/// A type that writes its own canonical JSON, keys in code-point order, as its `Encodable`
/// conformance would.
public protocol CanonicalJSONWritable {
    func write(to writer: inout CanonicalJSONWriter)
}

/// Bytes of canonical JSON, written by hand.
public struct CanonicalJSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {
        bytes.reserveCapacity(256)
    }

    /// Punctuation and keys, as they are.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ text: String) { Node.write(string: text, into: &bytes) }
    public mutating func number(_ value: some BinaryInteger) { bytes.append(contentsOf: String(value).utf8) }
    public mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

    public mutating func strings(_ values: [String]) {
        raw("[")
        for (index, value) in values.enumerated() {
            if index > 0 { raw(",") }
            string(value)
        }
        raw("]")
    }

    // Objects member by member: the writer puts the commas. Members must come in key order.

    /// Whether each object open, innermost last, has no member yet.
    private var empty: [Bool] = []

    /// A member's key (a plain identifier: nothing to escape), then its value is written.
    private mutating func key(_ name: StaticString) {
        separate()
        raw("\"")
        raw(name)
        raw("\":")
    }

    private mutating func key(_ name: String) {
        separate()
        string(name)
        raw(":")
    }

    private mutating func separate() {
        if empty[empty.count - 1] { empty[empty.count - 1] = false } else { raw(",") }
    }

    /// Members whose value is nil are left out, as `encodeIfPresent` does.
    public mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func field(_ name: StaticString, _ value: (some BinaryInteger)?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    public mutating func field(_ name: StaticString, _ values: [String]?) {
        guard let values else { return }
        key(name)
        strings(values)
    }

    /// An object whose members `write` writes.
    public mutating func object(_ write: (inout CanonicalJSONWriter) -> Void) {
        raw("{")
        empty.append(true)
        write(&self)
        raw("}")
        empty.removeLast()
    }

    /// A member that is an object, its members written by `write`; left out when nil.
    public mutating func object<Value>(_ name: StaticString, _ value: Value?,
                                       _ write: (inout CanonicalJSONWriter, Value) -> Void) {
        guard let value else { return }
        key(name)
        object { write(&$0, value) }
    }

    /// A dictionary: an object with its keys in code-point order; left out when nil.
    public mutating func dictionary<Value>(_ name: StaticString, _ values: [String: Value]?,
                                           _ write: (inout CanonicalJSONWriter, Value) -> Void) {
        guard let values else { return }
        key(name)
        object { writer in
            for (member, value) in values.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                writer.key(member)
                write(&writer, value)
            }
        }
    }

    public mutating func field(_ name: StaticString, _ values: [String: String]?) {
        dictionary(name, values) { $0.string($1) }
    }
}

/// A JSON value while it is built. Objects and arrays are boxes: containers fill them in.
private enum Node {
    case null
    case bool(Bool)
    /// The number as written.
    case number(String)
    case string(String)
    case object(ObjectBox)
    case array(ArrayBox)

    func write(into bytes: inout [UInt8]) {
        switch self {
        case .null: bytes += Array("null".utf8)
        case .bool(let value): bytes += Array((value ? "true" : "false").utf8)
        case .number(let text): bytes += Array(text.utf8)
        case .string(let text): Self.write(string: text, into: &bytes)
        case .array(let box):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in box.elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                element.write(into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let box):
            bytes.append(UInt8(ascii: "{"))
            let members = box.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.write(string: member.key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                member.value.write(into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: `"`, `\` and control characters escaped, everything else as UTF-8.
    static func write(string: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        let utf8 = string.utf8
        if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: utf8) // nothing to escape, the common case
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: bytes += Array(String(format: "\\u%04x", byte).utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// An object's members in the order they were encoded; a key set twice keeps its last value.
private final class ObjectBox {
    private(set) var members: [(key: String, value: Node)] = []

    subscript(key: String) -> Node? {
        get { members.last { $0.key == key }?.value }
        set {
            members.removeAll { $0.key == key }
            if let newValue { members.append((key, newValue)) }
        }
    }
}

private final class ArrayBox {
    var elements: [Node] = []
}

/// An `Encoder` that builds a `Node` tree.
private final class TreeEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var root: Node?

    /// The node for `value`; dates become ISO 8601 strings, as `JSONDecoder`'s `.iso8601` reads them.
    static func node(for value: some Encodable) throws -> Node {
        // Concrete casts first: a cast to an existential (`any BinaryInteger`) is slow.
        switch value {
        case let text as String: return .string(text)
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .number(String(number))
        case let number as Int64: return .number(String(number))
        case let number as any BinaryInteger: return .number(String(describing: number))
        case let number as Double: return .number(number.rounded() == number ? String(Int64(number)) : String(number))
        case let number as Float: return try node(for: Double(number))
        case let date as Date: return .string(date.formatted(.iso8601))
        default:
            let encoder = TreeEncoder()
            try value.encode(to: encoder)
            return encoder.root ?? .object(ObjectBox())
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let box) = root { return KeyedEncodingContainer(KeyedContainer<Key>(box: box)) }
        let box = ObjectBox()
        root = .object(box)
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let box) = root { return UnkeyedContainer(box: box) }
        let box = ArrayBox()
        root = .array(box)
        return UnkeyedContainer(box: box)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(encoder: self)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    var codingPath: [any CodingKey] = []

    mutating func encodeNil(forKey key: Key) throws { box[key.stringValue] = .null }
    // The types Helios' models hold, without a dynamic cast each.
    mutating func encode(_ value: String, forKey key: Key) throws { box[key.stringValue] = .string(value) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { box[key.stringValue] = .bool(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { box[key.stringValue] = .number(String(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { box[key.stringValue] = .number(String(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { box[key.stringValue] = .number(String(value)) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box[key.stringValue] = try TreeEncoder.node(for: value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                       forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        box[key.stringValue] = .object(nested)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box[key.stringValue] = .array(nested)
        return UnkeyedContainer(box: nested)
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

    private func superEncoder(named name: String) -> any Encoder {
        let encoder = TreeEncoder()
        let nested = ObjectBox()
        encoder.root = .object(nested)
        box[name] = .object(nested)
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: ArrayBox
    var codingPath: [any CodingKey] = []
    var count: Int { box.elements.count }

    mutating func encodeNil() throws { box.elements.append(.null) }
    mutating func encode(_ value: String) throws { box.elements.append(.string(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        box.elements.append(try TreeEncoder.node(for: value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        box.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box.elements.append(.array(nested))
        return UnkeyedContainer(box: nested)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = TreeEncoder()
        let nested = ObjectBox()
        encoder.root = .object(nested)
        box.elements.append(.object(nested))
        return encoder
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] = []

    mutating func encodeNil() throws { encoder.root = .null }
    mutating func encode(_ value: String) throws { encoder.root = .string(value) }
    mutating func encode(_ value: Bool) throws { encoder.root = .bool(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.root = try TreeEncoder.node(for: value)
    }
}
