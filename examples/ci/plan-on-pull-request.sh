#!/usr/bin/env bash
# A CI step for pull requests to a manifest repository: plan the change offline against the
# branch it merges into, and leave the plan as a pull-request comment.
#
# Exit codes: 0 nothing to deploy, 2 changes (the comment says what), 1 invalid manifests or a
# refused plan (the job fails, and the diagnostics are in the log, `file:line:column: error: …`).
set -uo pipefail
base=${BASE_REF:-origin/main}

git fetch --quiet origin "${base#origin/}"
helios validate . || exit 1
helios plan . --base "$base" --format markdown --out plan.md --detailed-exitcode
status=$?
case $status in
    0) echo "No changes to deploy." ;;
    2) echo "This pull request changes the cluster:"; cat plan.md
       # Post plan.md with your CI's tool, e.g.: gh pr comment "$PR_NUMBER" --body-file plan.md
       status=0 ;;
esac
exit $status
