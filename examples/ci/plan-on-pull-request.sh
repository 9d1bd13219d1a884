#!/usr/bin/env bash
# A CI step for pull requests to a manifest repository: plan the change offline against the
# branch it merges into (its merge-base, as the pull request is compared), and leave the plan
# in plan.md for a pull-request comment.
#
# Exit codes, as `helios plan --detailed-exitcode`: 0 nothing to deploy, 2 changes (plan.md
# says what), 1 invalid manifests or a refused plan (the reason is in the log, with
# `file:line:column: error: …` for manifests). See github-actions.yml beside this file.
set -uo pipefail
base=${BASE_REF:-origin/main}
branch=${base#origin/}

# A shallow or single-branch clone may lack the base: fetch it under its usual name.
if ! git fetch --quiet origin "+refs/heads/$branch:refs/remotes/origin/$branch"; then
    echo "cannot fetch $base from origin" >&2
    exit 1
fi
helios plan "${MANIFESTS:-.}" --base "$base" --format markdown --out plan.md --detailed-exitcode
status=$?
case $status in
    0) echo "No changes to deploy." ;;
    2) echo "This pull request changes the cluster:"; cat plan.md ;;
    *) echo "The plan failed: the errors are above." >&2 ;;
esac
exit $status
