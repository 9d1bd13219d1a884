// `helios-bench plan`: the planner benchmark (the default); `helios-bench store`: apply
// throughput against ZooKeeper (`HELIOS_TEST_ZK`), next to raw pipelined writes;
// `helios-bench agent`: the agent's overhead over raw `docker create` + `start`, and its idle cost;
// `helios-bench deploy`: the Engine API floors, then commit → RUNNING (new deployment, bump with the
// webhook and a 1 s poll, with overlap, an 8-host rolling update);
// `helios-bench scale`: a simulated fleet of 2,000 hosts (agents simulated on the real ZooKeeper
// protocol) under a real master: first deploy, a version bump at parallelism 100, the leader's load;
// `helios-bench swarm`: Docker Swarm on the same dockerd doing the same (a one-node swarm, left after);
// `helios-bench report`: every part's figures (bench/results/*.json) as bench/results.md and .json;
// `helios-bench master`: a one-file commit → applied through a real master on the 10,000-job
// repository, next to the full plan, and the leader's idle ZooKeeper load.
import DockerEngine
import Foundation

switch CommandLine.arguments.dropFirst().first ?? "plan" {
case "plan":
    try PlannerBenchmark.run()
case "store":
    guard let servers = ProcessInfo.processInfo.environment["HELIOS_TEST_ZK"] else {
        fatalError("helios-bench store needs HELIOS_TEST_ZK=host:port (make bench starts a ZooKeeper)")
    }
    try await StoreBenchmark.run(servers: servers)
case "agent":
    guard let servers = ProcessInfo.processInfo.environment["HELIOS_TEST_ZK"] else {
        fatalError("helios-bench agent needs HELIOS_TEST_ZK=host:port and DOCKER_HOST (make bench-agent starts both)")
    }
    try await AgentBenchmark.run(servers: servers, dockerSocket: DockerClient.defaultSocketPath)
case "deploy":
    guard let servers = ProcessInfo.processInfo.environment["HELIOS_TEST_ZK"] else {
        fatalError("helios-bench deploy needs HELIOS_TEST_ZK=host:port and DOCKER_HOST (make bench-deploy starts both)")
    }
    try await DeployBenchmark.run(servers: servers, dockerSocket: DockerClient.defaultSocketPath)
case "master":
    guard let servers = ProcessInfo.processInfo.environment["HELIOS_TEST_ZK"] else {
        fatalError("helios-bench master needs HELIOS_TEST_ZK=host:port (make bench-master starts a ZooKeeper)")
    }
    try await MasterBenchmark.run(servers: servers)
case "scale":
    guard let servers = ProcessInfo.processInfo.environment["HELIOS_TEST_ZK"] else {
        fatalError("helios-bench scale needs HELIOS_TEST_ZK=host:port (make bench-scale starts a ZooKeeper)")
    }
    try await FleetBenchmark.run(servers: servers)
case "swarm":
    try await SwarmBenchmark.run(dockerSocket: DockerClient.defaultSocketPath)
case "report":
    try Report.run()
case let other:
    fatalError("unknown benchmark '\(other)': plan, store, agent, deploy, swarm, master or report")
}
