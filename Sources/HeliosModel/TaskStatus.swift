import Foundation

/// What an agent reports of a task (`/status/hosts/<host>/jobs/<jobId>`).
public struct TaskStatus: Sendable, Equatable, Codable {
    /// Helios' task states.
    public enum State: String, Sendable, Codable {
        case pullingImage = "PULLING_IMAGE"
        case creating = "CREATING"
        case starting = "STARTING"
        case healthChecking = "HEALTHCHECKING"
        case running = "RUNNING"
        case exited = "EXITED"
        case stopping = "STOPPING"
        case stopped = "STOPPED"
        case failed = "FAILED"
    }

    /// Why the agent holds back a task's restarts (Helios' throttle states).
    public enum Throttle: String, Sendable, Codable {
        /// The container keeps dying soon after it starts: restarts back off.
        case flapping = "FLAPPING"
        case imageMissing = "IMAGE_MISSING"
        case imagePullFailed = "IMAGE_PULL_FAILED"
        /// A host port the task publishes is held by another process: tried again after a back-off.
        case portInUse = "PORT_IN_USE"
        /// Docker refused the container's settings: the agent gave up until the job changes.
        case containerRefused = "CONTAINER_REFUSED"
        /// The host's policy refuses what the job asks (a host directory, a capability, …): not tried again.
        case refusedByPolicy = "REFUSED_BY_POLICY"
        /// A secret the job references is not in the host's secrets directory: tried again after a back-off.
        case secretMissing = "SECRET_MISSING"
    }

    public var jobID: JobID
    public var goal: Goal
    public var state: State
    public var containerID: String?
    /// Why the task failed, in Docker's or Helios' words.
    public var containerError: String?
    public var throttled: Throttle?
    /// When the agent saw the task in this state (nil from agents before this field). Not part
    /// of equality: the same status seen again is the same status.
    public var at: Date?

    public init(jobID: JobID, goal: Goal, state: State, containerID: String? = nil, containerError: String? = nil,
                throttled: Throttle? = nil) {
        self.jobID = jobID
        self.goal = goal
        self.state = state
        self.containerID = containerID
        self.containerError = containerError
        self.throttled = throttled
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "jobId", goal, state, containerID = "containerId", containerError, throttled, at
    }

    public static func == (lhs: TaskStatus, rhs: TaskStatus) -> Bool {
        lhs.jobID == rhs.jobID && lhs.goal == rhs.goal && lhs.state == rhs.state && lhs.containerID == rhs.containerID
            && lhs.containerError == rhs.containerError && lhs.throttled == rhs.throttled
    }
}
