import ArgumentParser
import HeliosAgentCommand

/// `helios version`: what is installed, and the revision it was built from.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Helios' version.")

    /// `helios 0.1.0 (3f2a1bc)`.
    static var text: String { BuildVersion.text(of: "helios") }

    func run() {
        print(Self.text)
    }
}

/// `helios completion bash|zsh|fish`: the shell completion script, to source or install.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion", abstract: "Print the shell completion script.",
        discussion: "e.g. `helios completion bash > /etc/bash_completion.d/helios`, or `source <(helios completion zsh)`.")

    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, zsh, fish
    }

    @Argument(help: "bash, zsh or fish.")
    var shell: Shell

    func run() {
        let kind: CompletionShell = switch shell {
        case .bash: .bash
        case .zsh: .zsh
        case .fish: .fish
        }
        print(Helios.completionScript(for: kind))
    }
}
