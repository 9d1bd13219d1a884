import Foundation
import HeliosModel

/// Reads a `kind: Job` document.
enum JobReader {
    static let fields = ["kind", "name", "version", "image", "command", "env", "ports", "healthCheck", "gracePeriod",
                         "stopTimeout", "volumes", "ramdisks", "resources", "networkMode", "hostname", "labels",
                         "metadata", "addCapabilities", "dropCapabilities", "securityOpt", "registration", "expires", "sensitive"]

    /// `env`: plain values, and `NAME: {secret: name}` references to a secret on each host.
    static func environment(_ reader: MappingReader) -> (env: [String: String]?, secrets: [String: String]?) {
        guard let value = reader.value("env"), let env = MappingReader(file: reader.file, node: value, what: "'env'", sink: reader.sink)
        else { return (nil, nil) }
        var plain: [String: String] = [:], secrets: [String: String] = [:]
        for (name, keyNode, valueNode) in env.entries {
            guard case .scalar = keyNode else { continue }
            if !isEnvName(name) {
                env.report(keyNode, "invalid env name '\(Printable.escape(name))' (letters, digits and '_', not starting with a digit)")
            }
            guard case .mapping = valueNode else {
                if let text = env.scalarString(valueNode, name) { plain[name] = text }
                continue
            }
            let reference = MappingReader(file: reader.file, node: valueNode, what: "env '\(name)'", sink: reader.sink)!
            reference.checkFields(["secret"])
            guard let secret = reference.string("secret", required: true) else { continue }
            if Names.isValid(secret) {
                secrets[name] = secret
            } else {
                reference.report(reference.value("secret")!,
                                 "invalid secret name '\(Printable.escape(secret))' (letters, digits, '.', '_' and '-': a file in the agent's --secrets-dir)")
            }
        }
        return (plain, secrets)
    }

    /// The job, when it has a name, version and image: also when other fields are wrong, so
    /// that references to it are still checked (any diagnostic fails the load anyway).
    static func read(_ document: MappingReader) -> Job? {
        let name = document.name("name", required: true)
        let what = "Job '\(name ?? "?")'"
        let reader = MappingReader(file: document.file, node: document.node, what: what, sink: document.sink)!
        reader.checkFields(fields)
        let version = reader.name("version", required: true)
        let image = reader.string("image", required: true)
        if let image, !ImageReference.isValid(image) {
            reader.report(reader.value("image")!, "invalid image reference '\(Printable.escape(image))'")
        }
        var job = Job(name: name ?? "", version: version ?? "", image: image ?? "", command: reader.strings("command"))
        (job.env, job.secrets) = environment(reader)
        job.ports = ports(reader)
        let declaredPorts = Set(reader.mapping("ports")?.entries.map(\.name) ?? [])
        job.healthCheck = healthCheck(reader, ports: declaredPorts)
        job.gracePeriod = reader.duration("gracePeriod")
        job.stopTimeout = reader.duration("stopTimeout")
        job.volumes = reader.strings("volumes")
        for volume in job.volumes ?? [] where !isVolume(volume) {
            reader.report(reader.value("volumes")!,
                          "invalid volume '\(Printable.escape(volume))' (use /container, or /host:/container[:ro|rw])")
        }
        job.ramdisks = reader.stringMap("ramdisks")
        for path in (job.ramdisks ?? [:]).keys.sorted() where !path.hasPrefix("/") {
            reader.report(reader.value("ramdisks")!, "ramdisk mount point '\(Printable.escape(path))' must be an absolute path")
        }
        job.resources = resources(reader)
        job.networkMode = reader.string("networkMode")
        if let mode = job.networkMode, !["bridge", "host", "none"].contains(mode),
           !(mode.hasPrefix("container:") && Names.isValid(String(mode.dropFirst("container:".count)))) {
            reader.report(reader.value("networkMode")!,
                          "invalid networkMode '\(Printable.escape(mode))' (bridge, host, none or container:<name>)")
        }
        job.hostname = reader.string("hostname")
        if let hostname = job.hostname, !isHostname(hostname) {
            reader.report(reader.value("hostname")!, "invalid hostname '\(Printable.escape(hostname))'")
        }
        job.labels = reader.stringMap("labels")
        for key in (job.labels ?? [:]).keys.sorted() {
            if key.hasPrefix("helios.") {
                reader.report(reader.value("labels")!, "label '\(key)' is reserved: Helios sets helios.* labels itself")
            } else if !Names.isValidLabelKey(key) {
                reader.report(reader.value("labels")!, "invalid label key '\(Printable.escape(key))'")
            }
        }
        job.metadata = reader.stringMap("metadata")
        job.addCapabilities = capabilities(reader, "addCapabilities")
        job.dropCapabilities = capabilities(reader, "dropCapabilities")
        job.securityOpt = securityOptions(reader)
        job.registration = registration(reader, ports: declaredPorts)
        job.sensitive = reader.strings("sensitive")
        for name in job.sensitive ?? [] where !isEnvName(name) {
            reader.report(reader.value("sensitive")!, "invalid env name '\(Printable.escape(name))' in sensitive")
        }
        if let text = reader.string("expires") {
            if let date = ISO8601DateFormatter().date(from: text) {
                job.expires = date // whether it is past is checked at each load, against its clock
            } else {
                reader.report(reader.value("expires")!,
                              "invalid expires '\(Printable.escape(text))' (use ISO 8601, e.g. 2027-01-01T00:00:00Z)")
            }
        }
        guard name != nil, version != nil, image != nil else { return nil }
        return job.normalised()
    }

    static func ports(_ reader: MappingReader) -> [String: PortMapping]? {
        guard let ports = reader.mapping("ports") else { return nil }
        var result: [String: PortMapping] = [:]
        for (name, keyNode, value) in ports.entries {
            guard Names.isValid(name) else {
                ports.report(keyNode, "invalid port name '\(Printable.escape(name))' (allowed: letters, digits, '_', '.', '-')")
                continue
            }
            guard let port = MappingReader(file: reader.file, node: value, what: "port '\(name)'", sink: reader.sink) else { continue }
            port.checkFields(["internal", "external", "protocol"])
            let internalPort = port.int("internal", in: 1...65535, required: true)
            let external = port.int("external", in: 1...65535)
            let proto = port.string("protocol")
            if let proto, proto != "tcp", proto != "udp" {
                port.report(port.value("protocol")!, "invalid protocol '\(Printable.escape(proto))' for port '\(name)' (tcp or udp)")
            }
            if let internalPort { result[name] = PortMapping(internal: internalPort, external: external, protocol: proto) }
        }
        // Each name must give its own HELIOS_PORT_ variable in the container.
        var variables: [String: String] = [:]
        for (name, keyNode, _) in ports.entries where result[name] != nil {
            let variable = PortMapping.environmentName(name)
            if let other = variables[variable] {
                let pair = [other, name].sorted()
                ports.report(keyNode, "ports '\(pair[0])' and '\(pair[1])' both become \(variable) in the container: rename one")
            } else {
                variables[variable] = name
            }
        }
        var seen: [String: String] = [:]
        for name in result.keys.sorted() {
            guard let external = result[name]?.external else { continue }
            let key = "\(external)/\(result[name]!.effectiveProtocol)"
            if let other = seen[key] {
                reader.report(reader.value("ports")!, "ports '\(other)' and '\(name)' both claim external port \(key)")
            }
            seen[key] = name
        }
        return result
    }

    static func healthCheck(_ reader: MappingReader, ports: Set<String>) -> HealthCheck? {
        guard let check = reader.mapping("healthCheck") else { return nil }
        check.checkFields(["http", "tcp", "exec"])
        let kinds = ["http", "tcp", "exec"].filter { check.value($0) != nil }
        guard kinds.count == 1 else {
            check.report(check.node, "healthCheck needs exactly one of http, tcp or exec")
            return nil
        }
        var result = HealthCheck()
        switch kinds[0] {
        case "http":
            guard let http = check.mapping("http", what: "healthCheck.http") else { return nil }
            http.checkFields(["port", "path"])
            guard let port = http.string("port", required: true), let path = http.string("path", required: true) else { return nil }
            if !path.hasPrefix("/") { http.report(http.value("path")!, "health check path '\(Printable.escape(path))' must start with '/'") }
            result.http = .init(port: port, path: path)
            checkPortName(port, http, ports)
        case "tcp":
            guard let tcp = check.mapping("tcp", what: "healthCheck.tcp") else { return nil }
            tcp.checkFields(["port"])
            guard let port = tcp.string("port", required: true) else { return nil }
            result.tcp = .init(port: port)
            checkPortName(port, tcp, ports)
        default:
            guard let command = check.strings("exec"), !command.isEmpty else {
                if check.value("exec")?.sequence?.isEmpty == true {
                    check.report(check.value("exec")!, "healthCheck.exec needs a command")
                }
                return nil
            }
            result.exec = command
        }
        return result
    }

    static func checkPortName(_ port: String, _ reader: MappingReader, _ ports: Set<String>) {
        guard !ports.contains(port) else { return }
        let declared = ports.sorted().joined(separator: ", ")
        reader.report(reader.value("port")!, "port '\(Printable.escape(port))' is not declared in 'ports'"
            + (declared.isEmpty ? " (the job declares no ports)" : " (declared: \(declared))"))
    }

    static func resources(_ reader: MappingReader) -> Resources? {
        guard let resources = reader.mapping("resources") else { return nil }
        resources.checkFields(["memory", "memorySwap", "cpuShares", "cpuset"])
        var result = Resources(memory: resources.size("memory"), memorySwap: resources.size("memorySwap"),
                               cpuShares: resources.int("cpuShares", in: 2...262_144).map(Int64.init),
                               cpuset: resources.string("cpuset"))
        if let cpuset = result.cpuset, cpuset.isEmpty || !cpuset.allSatisfy({ $0.isNumber || $0 == "," || $0 == "-" }) {
            resources.report(resources.value("cpuset")!, "invalid cpuset '\(Printable.escape(cpuset))' (e.g. 0-3 or 0,2)")
            result.cpuset = nil
        }
        if let memory = result.memory, let swap = result.memorySwap, swap != -1, swap < memory {
            resources.report(resources.value("memorySwap")!, "memorySwap must be at least memory (it counts memory plus swap)")
        }
        return result
    }

    /// The Linux capabilities (capabilities(7), Linux 6.x), as Docker names them without `CAP_`.
    static let linuxCapabilities: Set<String> = [
        "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
        "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
        "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST",
        "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT",
        "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME",
        "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
    ]

    /// Capability names Docker takes: a Linux capability, with or without `CAP_`, or `ALL`.
    static func capabilities(_ reader: MappingReader, _ key: String) -> [String]? {
        guard let capabilities = reader.strings(key) else { return nil }
        let items = reader.value(key)?.sequence.map(Array.init) ?? []
        for (index, capability) in capabilities.enumerated() {
            let name = capability.hasPrefix("CAP_") ? String(capability.dropFirst(4)) : capability
            guard name != "ALL", !linuxCapabilities.contains(name) else { continue }
            var message = "unknown capability '\(Printable.escape(capability))' in \(key)"
            if let suggestion = Suggestions.closest(to: name.uppercased(), among: linuxCapabilities.sorted()) {
                message += " (did you mean '\(suggestion)'?)"
            }
            reader.report(index < items.count ? items[index] : reader.value(key)!, message) // at the item itself
        }
        return capabilities
    }

    /// Docker's `--security-opt` grammar: `no-new-privileges[:true|false]`, `label=…` (or `label:…`),
    /// `apparmor=PROFILE`, `seccomp=PROFILE|unconfined`, `systempaths=unconfined`.
    static func securityOptions(_ reader: MappingReader) -> [String]? {
        guard let options = reader.strings("securityOpt") else { return nil }
        let items = reader.value("securityOpt")?.sequence.map(Array.init) ?? []
        for (index, option) in options.enumerated() where !isSecurityOption(option) {
            reader.report(index < items.count ? items[index] : reader.value("securityOpt")!, "invalid securityOpt '\(Printable.escape(option))' "
                + "(expected no-new-privileges, label=…, apparmor=PROFILE, seccomp=PROFILE|unconfined or systempaths=unconfined)")
        }
        return options
    }

    static func isSecurityOption(_ option: String) -> Bool {
        if ["no-new-privileges", "no-new-privileges:true", "no-new-privileges:false", "no-new-privileges=true",
            "no-new-privileges=false"].contains(option) { return true }
        guard let separator = option.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return false }
        let key = option[..<separator]
        let value = option[option.index(after: separator)...]
        guard !value.isEmpty, !value.contains(where: \.isWhitespace) else { return false }
        switch key {
        case "label":
            let kind = value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            return ["user", "role", "type", "level", "disable", "filetype", "nested"].contains(kind)
        case "apparmor", "seccomp": return true
        case "systempaths": return value == "unconfined"
        default: return false
        }
    }

    static func registration(_ reader: MappingReader, ports: Set<String>) -> [String: Registration]? {
        guard let registrations = reader.mapping("registration") else { return nil }
        var result: [String: Registration] = [:]
        for (service, keyNode, value) in registrations.entries {
            let parts = service.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ Names.isValid(String($0)) }) else {
                registrations.report(keyNode, "invalid registration '\(Printable.escape(service))' (use service/protocol, e.g. web/http)")
                continue
            }
            guard let entry = MappingReader(file: reader.file, node: value, what: "registration '\(service)'",
                                            sink: reader.sink) else { continue }
            entry.checkFields(["port"])
            guard let port = entry.string("port", required: true) else { continue }
            checkPortName(port, entry, ports)
            result[service] = Registration(port: port)
        }
        return result
    }

    static func isEnvName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isVolume(_ spec: String) -> Bool {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: return parts[0].hasPrefix("/")
        case 2: return parts[0].hasPrefix("/") && parts[1].hasPrefix("/")
        case 3: return parts[0].hasPrefix("/") && parts[1].hasPrefix("/") && (parts[2] == "ro" || parts[2] == "rw")
        default: return false
        }
    }

    static func isHostname(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 253 && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { ($0.isLetter || $0.isNumber) && $0.isASCII || $0 == "-" }
        }
    }
}

/// Docker's image reference rules: `[registry[:port]/]path[:tag][@digest]`, all ASCII. Read as
/// bytes: every job of a repository is checked at each cold load.
enum ImageReference {
    static func isValid(_ reference: String) -> Bool {
        let bytes = Array(reference.utf8)
        guard !bytes.isEmpty, bytes.count <= 512 else { return false }
        var rest = bytes[...]
        if let at = rest.firstIndex(of: UInt8(ascii: "@")) {
            let digest = rest[(at + 1)...]
            guard let colon = digest.firstIndex(of: UInt8(ascii: ":")), colon > digest.startIndex else { return false }
            let hex = digest[(colon + 1)...]
            guard hex.count >= 32, hex.allSatisfy(isHexDigit) else { return false }
            rest = rest[..<at]
        }
        var components = rest.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if let last = components.last, let colon = last.lastIndex(of: UInt8(ascii: ":")) {
            let tag = last[(colon + 1)...]
            guard let first = tag.first, tag.count <= 128, first != UInt8(ascii: "."), first != UInt8(ascii: "-"),
                  tag.allSatisfy({ isAlphanumeric($0) || "_.-".utf8.contains($0) }) else { return false }
            components[components.count - 1] = last[..<colon]
        }
        if components.count > 1, let registry = components.first,
           registry.contains(UInt8(ascii: ".")) || registry.contains(UInt8(ascii: ":")) || registry.elementsEqual("localhost".utf8) {
            guard registry.allSatisfy({ isAlphanumeric($0) || ".-:".utf8.contains($0) }) else { return false }
            components.removeFirst()
        }
        return !components.isEmpty && components.allSatisfy { component in
            guard let first = component.first, let last = component.last,
                  isLowercaseAlphanumeric(first), isLowercaseAlphanumeric(last) else { return false }
            var dots = 0, underscores = 0
            for byte in component {
                guard isLowercaseAlphanumeric(byte) || "._-".utf8.contains(byte) else { return false }
                dots = byte == UInt8(ascii: ".") ? dots + 1 : 0
                underscores = byte == UInt8(ascii: "_") ? underscores + 1 : 0
                if dots == 2 || underscores == 3 { return false } // no `..`, no `___`
            }
            return true
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func isLowercaseAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowercaseAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
