import Foundation

/// The one JSON encoding Helios hashes and stores: sorted keys, no escaped slashes.
/// The same value always gives the same bytes.
public enum CanonicalJSON {
    public static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Encoding Helios' own value types cannot fail: they hold strings, numbers and arrays.
        return try! encoder.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: data)
    }
}
