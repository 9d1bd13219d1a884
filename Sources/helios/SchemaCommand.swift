import ArgumentParser
import HeliosManifests

/// `helios schema`: the manifests' JSON Schema, for editors and linters.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema", abstract: "Print the JSON Schema (draft 2020-12) of a manifest document.",
        discussion: "Save it and point yaml-language-server at it: `# yaml-language-server: $schema=./manifest.schema.json`. The field reference: docs/manifests.md.")

    func run() {
        print(ManifestSchema.json)
    }
}
