// `helios-bench plan`: the planner benchmark (the default); `helios-bench store`: apply
// throughput against ZooKeeper (`HELIOS_TEST_ZK`), next to raw pipelined writes.
import Foundation

switch CommandLine.arguments.dropFirst().first ?? "plan" {
case "plan":
    try PlannerBenchmark.run()
case "store":
    guard let servers = ProcessInfo.processInfo.environment["HELIOS_TEST_ZK"] else {
        fatalError("helios-bench store needs HELIOS_TEST_ZK=host:port (make bench starts a ZooKeeper)")
    }
    try await StoreBenchmark.run(servers: servers)
case let other:
    fatalError("unknown benchmark '\(other)': plan or store")
}
