import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// The API's certificate chain and private key, PEM files: the API serves HTTPS only.
public struct TLSFiles: Sendable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }

    /// The HTTP/1.1 server over TLS 1.2 or newer; unreadable files fail the start-up.
    func server() throws -> HTTPServerBuilder {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem)))
        configuration.minimumTLSVersion = TLSVersion.tlsv12
        return try .tls(.http1(), tlsConfiguration: configuration)
    }
}
