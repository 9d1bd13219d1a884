import BlockingIO
import DockerEngine
import Foundation
import HeliosModel

/// Runs a job's health check once against its container. HTTP and TCP checks connect to the
/// port's host port on 127.0.0.1 (where the agent publishes it); exec checks run in the container.
struct HealthProbe {
    let docker: DockerClient
    var timeout: Duration = .seconds(5)

    /// nil when healthy, else why not.
    func check(_ check: HealthCheck, container: String, hostPorts: [String: Int], job: Job) async -> String? {
        if let command = check.exec {
            do {
                let result = try await docker.exec(command, in: container, timeout: timeout)
                if result.exitCode == 0 { return nil }
                let output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                return "health check `\(command.joined(separator: " "))` exited \(result.exitCode)" + (output.isEmpty ? "" : ": \(output.suffix(200))")
            } catch {
                return "health check could not run: \(error)"
            }
        }
        guard let name = check.portName else { return nil }
        guard let port = hostPorts[name] ?? job.ports?[name].map({ $0.external ?? $0.internal }) else {
            return "health check port \(name) is not a port of the job"
        }
        let request = check.http.map { "GET \($0.path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: helios-agent\r\n\r\n" }
        let timeout = self.timeout
        do {
            return try await BlockingPool.shared.run { Self.probe(port: port, request: request, timeout: timeout) }
        } catch {
            return "health check could not run: \(error)"
        }
    }

    /// Connects to 127.0.0.1:`port`; with a request, sends it and wants a 2xx or 3xx status.
    /// Docker's proxy accepts a published port's connection even when nothing listens in the
    /// container, then closes it: a TCP check counts a connection closed at once as refused.
    static func probe(port: Int, request: String?, timeout: Duration) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "health check: socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var time = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        guard withLoopbackAddress(port: port, { connect(fd, $0, $1) }) == 0 else { return "health check: connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))" }

        guard let request else {
            // Healthy unless the peer hangs up within a moment.
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { return nil }
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, Int32(MSG_PEEK)) == 0 ? "health check: 127.0.0.1:\(port) closed the connection" : nil
        }
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            return "health check: sending to 127.0.0.1:\(port) failed: \(String(cString: strerror(errno)))"
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while !reply.contains(UInt8(ascii: "\n")) && reply.count < 4096 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            reply += buffer[..<count]
        }
        let statusLine = String(decoding: reply.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return "health check: no HTTP reply from 127.0.0.1:\(port)"
        }
        return (200..<400).contains(status) ? nil : "health check: HTTP \(status) from 127.0.0.1:\(port)"
    }
}
