import HeliosModel
import Testing

/// What a host lets a job do, decided once, as data: the agents and validation call it.
struct HostPolicyTests {
    func job(volumes: [String] = [], capabilities: [String] = [], securityOpt: [String] = [], network: String? = nil) -> Job {
        var job = Job(name: "web", version: "1", image: "busybox")
        job.volumes = volumes
        job.addCapabilities = capabilities
        job.securityOpt = securityOpt
        job.networkMode = network
        return job
    }

    @Test func byDefaultNothingBeyondDockersDefaults() {
        let policy = HostPolicy()
        #expect(policy.violations(of: job(volumes: ["/cache"], securityOpt: ["no-new-privileges"], network: "bridge")).isEmpty)
        #expect(policy.violations(of: job(volumes: ["/data:/data"])).count == 1)
        #expect(policy.violations(of: job(capabilities: ["NET_ADMIN"])).count == 1)
        #expect(policy.violations(of: job(network: "host")).count == 1)
        #expect(policy.violations(of: job(network: "container:db")).count == 1)
        #expect(policy.violations(of: job(securityOpt: ["seccomp=unconfined"])).count == 1)
    }

    @Test(arguments: [
        ("/data/app", true), ("/data", true), ("/srv/x/../y", true), ("/datax", false), ("/data/../etc", false),
        ("/etc", false), ("/etc/ssl", false), ("/var/run/docker.sock", false), ("/", false), ("/proc/1", false),
    ])
    func volumeRootsOpenWhatIsBelowThemButNeverTheHostItself(source: String, allowed: Bool) {
        let policy = HostPolicy(volumeRoots: ["/data", "/srv"])
        #expect(policy.violations(of: job(volumes: ["\(source):/mnt"])).isEmpty == allowed, "\(source)")
    }

    @Test func aGuardedPathOpensOnlyWhenNamedExactly() {
        let policy = HostPolicy(volumeRoots: ["/etc/ssl", "/var/run/docker.sock"])
        #expect(policy.violations(of: job(volumes: ["/etc/ssl/certs:/certs:ro"])).isEmpty)
        #expect(policy.violations(of: job(volumes: ["/var/run/docker.sock:/var/run/docker.sock"])).isEmpty)
        #expect(!policy.violations(of: job(volumes: ["/etc/passwd:/x"])).isEmpty)
        #expect(HostPolicy(volumeRoots: ["/"]).violations(of: job(volumes: ["/:/host"])).isEmpty, "/ named exactly")
        // A root of / opens the host's other directories, never the guarded ones.
        #expect(HostPolicy(volumeRoots: ["/"]).violations(of: job(volumes: ["/opt/app:/app"])).isEmpty)
        #expect(!HostPolicy(volumeRoots: ["/"]).violations(of: job(volumes: ["/etc:/etc"])).isEmpty)
    }

    @Test func capabilitiesComeFromTheAllowedListAndPrivilegedOnesNeedTheirOwnYes() {
        let policy = HostPolicy(capabilities: ["NET_ADMIN", "cap_sys_time"])
        #expect(policy.violations(of: job(capabilities: ["CAP_NET_ADMIN", "SYS_TIME"])).isEmpty)
        #expect(policy.violations(of: job(capabilities: ["SYS_ADMIN"])) == ["capability SYS_ADMIN is as good as privileged, which the host does not allow"])
        #expect(HostPolicy(allowPrivileged: true).violations(of: job(capabilities: ["SYS_ADMIN", "ALL"], securityOpt: ["apparmor=unconfined"])).isEmpty)
        #expect(HostPolicy(networkModes: ["host"]).violations(of: job(network: "host")).isEmpty)
    }
}
