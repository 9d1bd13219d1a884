/// A job's canonical JSON written by hand, as its `Encodable` conformance would through the
/// generic encoder (tested): hashing every job of a 10,000-job repository through that
/// encoder's tree of boxes was about a third of a cold load's parse. Keys in code-point
/// order; unset fields left out.
extension Job: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.object { writer in
            writer.field("addCapabilities", addCapabilities)
            writer.field("command", command)
            writer.field("dropCapabilities", dropCapabilities)
            writer.field("env", env)
            writer.field("expires", expires?.formatted(.iso8601))
            writer.field("gracePeriod", gracePeriod)
            writer.object("healthCheck", healthCheck) { writer, check in
                writer.field("exec", check.exec)
                writer.object("http", check.http) { writer, http in
                    writer.field("path", http.path)
                    writer.field("port", http.port)
                }
                writer.object("tcp", check.tcp) { $0.field("port", $1.port) }
            }
            writer.field("hostname", hostname)
            writer.field("image", image)
            writer.field("labels", labels)
            writer.field("metadata", metadata)
            writer.field("name", name)
            writer.field("networkMode", networkMode)
            writer.dictionary("ports", ports) { writer, port in
                writer.object { writer in
                    writer.field("external", port.external)
                    writer.field("internal", port.internal)
                    writer.field("protocol", port.protocol)
                }
            }
            writer.field("ramdisks", ramdisks)
            writer.dictionary("registration", registration) { writer, registration in
                writer.object { $0.field("port", registration.port) }
            }
            writer.object("resources", resources) { writer, resources in
                writer.field("cpuShares", resources.cpuShares)
                writer.field("cpuset", resources.cpuset)
                writer.field("memory", resources.memory)
                writer.field("memorySwap", resources.memorySwap)
            }
            writer.field("secrets", secrets)
            writer.field("securityOpt", securityOpt)
            writer.field("sensitive", sensitive)
            writer.field("stopTimeout", stopTimeout)
            writer.field("version", version)
            writer.field("volumes", volumes)
        }
    }
}
