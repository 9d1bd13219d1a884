import ArgumentParser
import Foundation
import Git
import HeliosManifests

/// A failure the person at the terminal can act on: one line saying what, and a hint saying
/// how to go on. Exit 1, never a usage text (that is for flags the parser refused).
struct CLIError: Error, CustomStringConvertible {
    let message: String
    var hint: String?

    init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    var description: String { message }

    /// What is printed for any error a command's run throws: Foundation's, libgit2's and
    /// decoding errors in words, not as dumps.
    static func explaining(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError:
            return error
        case let error as CocoaError:
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? error.errorUserInfo[NSFilePathErrorKey] as? String ?? "the file"
            switch error.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return CLIError("\(path): no such file or directory")
            case .fileReadNoPermission, .fileWriteNoPermission: return CLIError("\(path): permission denied")
            case .fileReadCorruptFile: return CLIError("\(path): unreadable")
            default: return CLIError("\(path): \(error.localizedDescription)")
            }
        case let error as DecodingError:
            return CLIError(describe(error))
        case let error as GitError:
            return CLIError("git: \(error.message) (while trying to \(error.operation))")
        default:
            return CLIError("\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the document" : "`" + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "`"
        }
        switch error {
        case .keyNotFound(let key, let context): return "unreadable JSON: \(at(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unreadable JSON: \(at(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context):
            return "unreadable JSON at \(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "unreadable JSON"
        }
    }
}

/// How every command ends: parse errors as ArgumentParser prints them (with the usage), run
/// errors as one line and a hint; exit codes 0 success, 1 error, 2 changes (`plan`).
enum CommandRunner {
    static func main(_ root: any (ParsableCommand.Type)) async {
        var command: any ParsableCommand
        do {
            command = try root.parseAsRoot()
        } catch {
            // --help and --version end here too, with status 0.
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            Output.error(root.fullMessage(for: error))
            Foundation.exit(1)
        }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let explained = CLIError.explaining(error)
            Output.error("error: " + Output.printable(explained.message))
            if let hint = explained.hint { Output.error("hint: " + hint) }
            Foundation.exit(1)
        }
    }
}
