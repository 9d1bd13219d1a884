import Foundation

/// The test registry (`make test` runs Debian's docker-registry on loopback, with a password):
/// images pushed there exist nowhere else, so a host must pull them.
public enum LocalRegistry {
    /// A docker config file with the registry's credentials, as `docker login` writes it.
    public static func writeDockerConfig(in directory: TemporaryDirectory) throws -> String {
        let registry = try TestServices.requireRegistry()
        let auth = Data("\(registry.user):\(registry.password)".utf8).base64EncodedString()
        try directory.write(#"{"auths": {"\#(registry.address)": {"auth": "\#(auth)"}}}"#, to: "docker/config.json")
        return directory.path + "/docker/config.json"
    }

    /// Pushes the test image, with one layer of its own on top, to the registry under a name no
    /// other test uses and removes it locally, so the engine has to pull (and download that
    /// layer) to run it. Returns the image reference.
    public static func pushTestImage(label: String = "test") throws -> String {
        let registry = try TestServices.requireRegistry()
        let directory = try TemporaryDirectory("docker-config")
        defer { directory.remove() }
        let config = try writeDockerConfig(in: directory)
        let reference = "\(registry.address)/helios-test/\(label)-\(UUID().uuidString.prefix(8).lowercased()):1"
        let docker = ["docker", "--config", (config as NSString).deletingLastPathComponent]
        let builder = "helios-test-build-\(UUID().uuidString.prefix(8))"
        try run(docker + ["run", "--name", builder, TestServices.image, "sh", "-c", "echo \(reference) > /helios-image"])
        try run(docker + ["commit", builder, reference])
        try run(docker + ["rm", builder])
        try run(docker + ["push", reference])
        try run(docker + ["rmi", reference])
        return reference
    }
}
