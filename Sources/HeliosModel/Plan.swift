/// One step of a plan; a plan's steps are applied in order, atomically.
public enum PlanAction: Sendable, Equatable {
    case createJob(Job)
    case createDeployment(Deployment)
    case updateDeployment(old: Deployment, new: Deployment)
    /// Assign a job to a host.
    case deployTask(host: String, HostTask)
    /// Change the goal of an assigned task.
    case updateTask(host: String, HostTask)
    /// Take a job off a host.
    case undeployTask(host: String, JobID)
    case removeDeployment(String)
    /// Only once no deployment and no host uses the job.
    case removeJob(JobID)
}

/// What applying a desired state to a cluster changes.
public struct Plan: Sendable, Equatable {
    public var actions: [PlanAction]

    public init(actions: [PlanAction]) {
        self.actions = actions
    }

    /// True when the cluster already matches.
    public var isEmpty: Bool { actions.isEmpty }
}
