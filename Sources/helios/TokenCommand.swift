import HeliosAgentCommand
import ArgumentParser
import Foundation
import HeliosMaster

/// `helios token create`: a new API token, its hash appended to the master's tokens file.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "API tokens for the master.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token: its hash goes into FILE (the master's --api-tokens), the token is printed once.")

        @Argument(help: "The token's name, as the master's logs and refusals say it.")
        var name: String

        @Option(help: "read, deploy (plan, apply, sync; reads too) and/or admin, comma-separated.")
        var scopes: String

        @Option(help: "The tokens file to append to (created if missing, readable by its owner only).")
        var file: String

        func run() throws {
            let scopes = try Set(self.scopes.split(separator: ",").map { text in
                guard let scope = APIScope(rawValue: String(text)) else { throw CLIError("unknown scope '\(text)'", hint: "read, deploy or admin") }
                return scope
            })
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw CLIError("a token name is letters, digits, '-', '_' and '.'")
            }
            let existing = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            if !existing.isEmpty {
                let tokens = try APITokens.parse(existing, file: file)
                if tokens.tokens.contains(where: { $0.name == name }) { throw CLIError("\(file) already has a token named '\(name)'") }
            }
            let (token, line) = APITokens.create(name: name, scopes: scopes)
            let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + line + "\n"
            guard FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CLIError("cannot write \(file)")
            }
            Output.error("token '\(name)' (\(APIScope.allCases.filter(scopes.contains).map(\.rawValue).joined(separator: ","))) added to \(file); "
                + "it is shown once, here — keep it in your secret store:")
            print(token)
        }
    }
}
