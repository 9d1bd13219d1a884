import ArgumentParser
import Foundation
import HeliosModel
import Git
import HeliosManifests
import HeliosAgentCommand

extension CLIError {
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
    static func main<Root: ParsableCommand>(_ root: Root.Type) async {
        let command: any ParsableCommand
        do {
            command = try root.parseAsRoot()
        } catch {
            // --help and --version end here too, with status 0.
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            Output.error(root.fullMessage(for: error))
            if let hint = suggestion(root) { Output.error("hint: did you mean '\(hint)'?") }
            Foundation.exit(1)
        }
        do {
            if let command = command as? any AsyncParsableCommand {
                try await runAsync(command)
            } else {
                try run(command)
            }
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            if !(error is CLIError) && root.exitCode(for: error) == .success {
                root.exit(withError: error) // help asked of a subcommand
            }
            let explained = CLIError.explaining(error)
            Output.error("error: " + Printable.lines(explained.message))
            if let hint = explained.hint { Output.error("hint: " + hint) }
            Foundation.exit(1)
        }
    }

    private static func runAsync<Command: AsyncParsableCommand>(_ command: Command) async throws {
        var command = command
        try await command.run()
    }

    private static func run<Command: ParsableCommand>(_ command: Command) throws {
        var command = command
        try command.run()
    }

    /// The subcommand meant by an unknown one (ArgumentParser suggests flags itself).
    private static func suggestion<Root: ParsableCommand>(_ root: Root.Type) -> String? {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var subcommands = root.configuration.subcommands
        while let first = arguments.first, let sub = subcommands.first(where: { name(of: $0) == first }) {
            subcommands = sub.configuration.subcommands
            arguments.removeFirst()
        }
        guard let first = arguments.first, !first.hasPrefix("-"), !subcommands.isEmpty else { return nil }
        return Suggestions.closest(to: first, among: subcommands.map { name(of: $0) })
    }

    private static func name<Command: ParsableCommand>(of command: Command.Type) -> String {
        Command._commandName
    }
}
