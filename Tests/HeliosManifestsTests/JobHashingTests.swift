import Foundation
import HeliosManifests
import HeliosModel
import Testing

/// A job's id survives every way of writing the same job, and changes with every real change.
struct JobHashingTests {
    static let full = """
        kind: Job
        name: web
        version: 1.4.2
        image: example/web:1.4.2
        command: [/bin/web, --port, "8080"]
        env: { LOG_LEVEL: info, API_TOKEN: abc }
        ports:
          http: { internal: 8080, external: 18080 }
        healthCheck: { http: { port: http, path: /healthz } }
        gracePeriod: 5s
        stopTimeout: 30s
        volumes: ["/data:/var/lib/web:rw"]
        ramdisks: { /tmp: "rw,size=64m" }
        resources: { memory: 256Mi, cpuShares: 512 }
        networkMode: host
        hostname: web
        labels: { team: web }
        metadata: { owner: web-team }
        addCapabilities: [NET_ADMIN]
        securityOpt: ["no-new-privileges"]
        registration: { web/http: { port: http } }
        expires: 2099-01-01T00:00:00Z
        """

    func id(_ yaml: String) throws -> JobID {
        let desired = try ManifestLoader.load([ManifestFile(path: "j.yaml", content: Data(yaml.utf8))]).get()
        return try #require(desired.jobs.keys.first)
    }

    @Test func reformattingAndReorderingKeepTheID() throws {
        let reordered = """
            expires: "2099-01-01T00:00:00Z"
            registration:
              web/http:
                port: http
            securityOpt:
              - no-new-privileges
            addCapabilities: ["NET_ADMIN"]
            metadata:
              owner: web-team
            labels:
              team: web
            hostname: 'web'
            networkMode: "host"
            resources:
              cpuShares: 512
              memory: 256Mi
            ramdisks:
              /tmp: rw,size=64m
            volumes:
              - /data:/var/lib/web:rw
            stopTimeout: 30000ms
            gracePeriod: 5000ms
            healthCheck:
              http:
                path: /healthz
                port: http
            ports:
              http:
                external: 18080
                internal: 8080
            env:
              API_TOKEN: abc
              LOG_LEVEL: info
            command:
              - /bin/web
              - --port
              - '8080'
            image: example/web:1.4.2
            version: "1.4.2"
            name: web
            kind: Job   # comments change nothing
            """
        #expect(try id(Self.full) == id(reordered))
    }

    @Test func spellingADefaultOutKeepsTheID() throws {
        let minimal = "kind: Job\nname: web\nversion: '1'\nimage: busybox\n"
        let explicit = minimal + """
            command: []
            env: {}
            stopTimeout: 10s
            gracePeriod: 0s
            networkMode: bridge
            labels: {}
            volumes: []
            ports: { http: { internal: 80, protocol: tcp } }
            """
        let implicitPort = minimal + "ports: { http: { internal: 80 } }\n"
        #expect(try id(minimal + "ports: { http: { internal: 80 } }\n") == id(explicit))
        #expect(try id(implicitPort) != id(minimal))
    }

    @Test(arguments: [
        ("image", "example/web:1.4.2", "example/web:1.4.3"),
        ("LOG_LEVEL", "info", "debug"),
        ("API_TOKEN", "abc", "abd"),
        ("internal: 8080", "internal: 8080", "internal: 8081"),
        ("stopTimeout", "30s", "31s"),
        ("memory", "256Mi", "257Mi"),
        ("networkMode", "networkMode: host", "networkMode: none"),
        ("/healthz", "/healthz", "/health"),
        ("team", "team: web", "team: api"),
        ("expires", "2099-01-01", "2098-01-01"),
    ])
    func everyRealChangeChangesTheID(field: String, old: String, new: String) throws {
        let changed = Self.full.replacingOccurrences(of: old, with: new)
        #expect(changed != Self.full, "the test did not change \(field)")
        #expect(try id(changed) != id(Self.full), "changing \(field) kept the id")
    }
}
