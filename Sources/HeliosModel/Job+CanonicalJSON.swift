/// A job's canonical JSON written by hand, as its `Encodable` conformance would through the
/// generic encoder (tested): hashing every job of a 10,000-job repository through that
/// encoder's tree of boxes was about a third of a cold load's parse. Keys in code-point
/// order; unset fields left out.
extension Job: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.open()
        writer.field("addCapabilities", addCapabilities)
        writer.field("command", command)
        writer.field("dropCapabilities", dropCapabilities)
        writer.field("env", env)
        writer.field("expires", expires?.formatted(.iso8601))
        writer.field("gracePeriod", gracePeriod)
        if let healthCheck {
            writer.key("healthCheck")
            writer.open()
            writer.field("exec", healthCheck.exec)
            if let http = healthCheck.http {
                writer.key("http")
                writer.open()
                writer.field("path", http.path)
                writer.field("port", http.port)
                writer.close()
            }
            if let tcp = healthCheck.tcp {
                writer.key("tcp")
                writer.open()
                writer.field("port", tcp.port)
                writer.close()
            }
            writer.close()
        }
        writer.field("hostname", hostname)
        writer.field("image", image)
        writer.field("labels", labels)
        writer.field("metadata", metadata)
        writer.field("name", name)
        writer.field("networkMode", networkMode)
        writer.field("ports", ports) { writer, port in
            writer.open()
            writer.field("external", port.external)
            writer.field("internal", port.internal)
            writer.field("protocol", port.protocol)
            writer.close()
        }
        writer.field("ramdisks", ramdisks)
        writer.field("registration", registration) { writer, registration in
            writer.open()
            writer.field("port", registration.port)
            writer.close()
        }
        if let resources {
            writer.key("resources")
            writer.open()
            writer.field("cpuShares", resources.cpuShares)
            writer.field("cpuset", resources.cpuset)
            writer.field("memory", resources.memory)
            writer.field("memorySwap", resources.memorySwap)
            writer.close()
        }
        writer.field("secrets", secrets)
        writer.field("securityOpt", securityOpt)
        writer.field("sensitive", sensitive)
        writer.field("stopTimeout", stopTimeout)
        writer.field("version", version)
        writer.field("volumes", volumes)
        writer.close()
    }
}
