import CBuildInfo
import HeliosAgent

/// What a binary says it is: `helios 0.1.0 (3f2a1bc)`, the revision it was built from.
public enum BuildVersion {
    public static func text(of program: String) -> String {
        "\(program) \(Agent.version) (\(String(cString: helios_build_revision())))"
    }
}
