@testable import HeliosAgent
import Testing

/// The container's `HELIOS_PORT_<NAME>` variables: no port names, however they collide, can stop an agent.
struct PortEnvironmentTests {
    @Test func collidingPortNamesNeverTrapAndTheFirstByNameWins() {
        // Validation refuses such jobs; a task written by an older master must still not crash the agent.
        let environment = PortAllocator.environment(["http": 20001, "HTTP": 20002, "web-admin": 20003, "web_admin": 20004])
        #expect(environment == ["HELIOS_PORT_HTTP": "127.0.0.1:20002", "HELIOS_PORT_WEB_ADMIN": "127.0.0.1:20003"])
    }
}
