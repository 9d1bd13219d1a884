import ArgumentParser
import Foundation
import HeliosManifests

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a manifest directory and print every diagnostic (exit 0 valid, 1 invalid).")

    @Argument(help: "The manifest directory.")
    var directory = "."

    func run() throws {
        let files = try ManifestSource.directory(directory)
        let (result, warnings) = ManifestLoader.check(files, now: Date())
        for warning in warnings { FileHandle.standardError.write(Data((warning.description + "\n").utf8)) }
        switch result {
        case .success(let desired):
            print("\(files.count) file(s) valid: \(desired.jobs.count) job(s), \(desired.deployments.count) deployment(s)")
        case .failure(let error):
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode.failure
        }
    }
}
