/// The rules for names Helios turns into ZooKeeper paths and container names.
public enum Names {
    /// Job names, versions, deployment and host names: `[0-9A-Za-z_.-]+`, never `.` or `..`
    /// (they would escape a ZooKeeper path).
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "0"..."9", "A"..."Z", "a"..."z", "_", ".", "-": true
                default: false
                }
            }
    }

    /// Label keys as Docker and Helios accept them: names, optionally with `/` prefixes
    /// (`example.com/role`).
    public static func isValidLabelKey(_ key: String) -> Bool {
        !key.isEmpty && key.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { isValid(String($0)) }
    }
}
