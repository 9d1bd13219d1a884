import Foundation
import HeliosTestSupport
import HTTPTransport
import Testing

/// The unix-socket HTTP client against a peer that replies with exactly the bytes a test
/// scripts, in the pieces and at the pace it scripts: framings and failures dockerd does not
/// produce on demand. (The Docker engine tests cover it against the real engine.)
@Suite struct HTTPTransportTests {
    /// A one-connection server on a unix socket: it reads the request's head, then sends each
    /// piece with a pause before it, then holds the connection open if `hold`, else closes it.
    final class ScriptedPeer {
        let directory: TemporaryDirectory
        let process = Process()
        var socketPath: String { directory.path + "/peer.sock" }

        /// Starts the peer and waits until it listens; `stop` it when done.
        init(_ pieces: [String], pause: Double = 0.05, hold: Bool = false) async throws {
            directory = try TemporaryDirectory()
            let script = """
                import socket, sys, time, os
                server = socket.socket(socket.AF_UNIX); server.bind(sys.argv[1]); server.listen(1)
                open(sys.argv[1] + ".ready", "w").close()
                connection, _ = server.accept()
                request = b""
                while b"\\r\\n\\r\\n" not in request:
                    request += connection.recv(65536)
                for piece in sys.argv[4:]:
                    time.sleep(float(sys.argv[2])); connection.sendall(piece.encode().decode("unicode_escape").encode("latin-1"))
                if sys.argv[3] == "hold":
                    time.sleep(60)
                connection.close()
                """
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, socketPath, String(pause), hold ? "hold" : "close"] + pieces
            try process.run()
            let ready = socketPath + ".ready"
            let deadline = ContinuousClock.now + .seconds(30)
            while !FileManager.default.fileExists(atPath: ready) {
                guard ContinuousClock.now < deadline else { throw Failure("the scripted peer did not start") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        func stop() {
            process.terminate()
            directory.remove()
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func readsAChunkedReplyWhateverPiecesItArrivesIn() async throws {
        // Chunk sizes split from their data and their line ends, an extension and a trailer.
        let peer = try await ScriptedPeer(["HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n", "\\r\\n5", ";name=x\\r\\nhel",
                                     "lo\\r", "\\n6\\r\\n world\\r\\n0\\r\\nX-Trailer: 1\\r\\n", "\\r\\n"])
        defer { peer.stop() }
        let reply = try await HTTPTransport(unixSocket: peer.socketPath).send(.init(method: "GET", path: "/", timeout: .seconds(10)))
        #expect(reply.status == 200)
        #expect(String(decoding: reply.body, as: UTF8.self) == "hello world")
    }

    @Test func readsALengthOrUpToTheEnd() async throws {
        let sized = try await ScriptedPeer(["HTTP/1.1 404 Not Found\\r\\nContent-Length: 18\\r\\n\\r\\n{\"message\":", "\"gone\"}"])
        defer { sized.stop() }
        let notFound = try await HTTPTransport(unixSocket: sized.socketPath).send(.init(method: "GET", path: "/x", timeout: .seconds(10)))
        #expect(notFound.status == 404)
        #expect(String(decoding: notFound.body, as: UTF8.self) == "{\"message\":\"gone\"}")

        // Docker's reply to a started exec: no length, the output up to the end of the connection.
        let unsized = try await ScriptedPeer(["HTTP/1.1 200 OK\\r\\nContent-Type: application/vnd.docker.raw-stream\\r\\n\\r\\nab", "cd"])
        defer { unsized.stop() }
        let raw = try await HTTPTransport(unixSocket: unsized.socketPath).send(.init(method: "POST", path: "/exec", timeout: .seconds(10)))
        #expect(String(decoding: raw.body, as: UTF8.self) == "abcd")
    }

    @Test func aReplyCutShortIsAFailureNotATruncatedBody() async throws {
        let peer = try await ScriptedPeer(["HTTP/1.1 200 OK\\r\\nContent-Length: 100\\r\\n\\r\\npartial"])
        defer { peer.stop() }
        await #expect {
            _ = try await HTTPTransport(unixSocket: peer.socketPath).send(.init(method: "GET", path: "/", timeout: .seconds(10)))
        } throws: { error in
            "\(error)".contains("GET /") && "\(error)".contains("ended 93 bytes early")
        }
    }

    @Test func aSilentServerTimesOut() async throws {
        let peer = try await ScriptedPeer([], hold: true)
        defer { peer.stop() }
        await #expect {
            _ = try await HTTPTransport(unixSocket: peer.socketPath).send(.init(method: "GET", path: "/slow", timeout: .milliseconds(300)))
        } throws: { error in
            "\(error)".contains("no reply within the timeout")
        }
    }

    @Test func anAbsentSocketNamesItsPath() async throws {
        let directory = try TemporaryDirectory()
        await #expect {
            _ = try await HTTPTransport(unixSocket: directory.path + "/none.sock").send(.init(method: "GET", path: "/", timeout: .seconds(5)))
        } throws: { error in
            "\(error)".contains("connect to \(directory.path)/none.sock: No such file or directory")
        }
    }

    @Test func streamsLinesAsTheyArriveAndStopsWhenCancelled() async throws {
        let peer = try await ScriptedPeer(["HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n",
                                     "8\\r\\n{\"a\":1}\\n\\r\\n", "4\\r\\n{\"b\"\\r\\n", "4\\r\\n:2}\\n\\r\\n"], hold: true)
        defer { peer.stop() }
        let lines = Recorder<String>()
        let transport = HTTPTransport(unixSocket: peer.socketPath)
        let streaming = Task {
            try await transport.streamLines(.init(method: "GET", path: "/events")) { lines.append(String(decoding: $0, as: UTF8.self)) }
        }
        // Both lines arrive while the stream stays open.
        #expect(await eventually(every: .milliseconds(20)) { lines.all == ["{\"a\":1}", "{\"b\":2}"] }, "\(lines.all)")
        streaming.cancel()
        // The peer holds the connection for a minute: only the cancellation ends the read.
        let result = await streaming.result
        #expect(throws: CancellationError.self) { try result.get() }
    }
}
