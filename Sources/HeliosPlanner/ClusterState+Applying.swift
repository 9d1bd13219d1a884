import HeliosModel

extension ClusterState {
    /// The cluster once `plan` is written, as the store writes it: the changes, the task writes
    /// made now, the rollout statuses; a job a rollout still needs stays, and a removed
    /// deployment takes its rollout status with it. The check index moves on by one.
    public func applying(_ plan: Plan) -> ClusterState {
        var state = self
        for change in plan.changes {
            switch change {
            case .createJob(let job, _): state.config.jobs[job.id] = job
            case .removeJob(_, afterRollout: true): continue
            case .removeJob(let id, afterRollout: false): state.config.jobs[id] = nil
            case .createDeployment(let deployment, _), .updateDeployment(_, let deployment, _, _):
                state.config.deployments[deployment.name] = deployment
            case .removeDeployment(let deployment, _):
                state.config.deployments[deployment.name] = nil
                state.rollouts[deployment.name] = nil
            }
        }
        for task in plan.tasks {
            switch task {
            case .deploy(let host, let task), .update(let host, let task):
                state.config.tasks[host, default: [:]][task.jobID] = task
            case .undeploy(let host, let id):
                state.config.tasks[host]?[id] = nil
                if state.config.tasks[host]?.isEmpty == true { state.config.tasks[host] = nil }
            }
        }
        state.rollouts = state.rollouts.merging(plan.rollouts)
        if !plan.isEmpty, let checkIndex { state.checkIndex = checkIndex + 1 }
        return state
    }
}
