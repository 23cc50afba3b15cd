#!/usr/bin/env bash
# Runs the migration Job (applied by deploy.sh) again and waits for it: a
# Job's template cannot change, so the old one is replaced.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_tool kubectl

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
kubectl kustomize "$K8S_DIR/overlays/$OVERLAY" >"$work/rendered.yaml"
awk '/^---$/ { if (job) print doc; doc = ""; job = 0; next }
     { doc = doc $0 "\n"; if ($0 == "kind: Job") job = 1 }
     END { if (job) print doc }' "$work/rendered.yaml" >"$work/job.yaml"
[ -s "$work/job.yaml" ] || die "the $OVERLAY overlay has no Job"

run kubectl delete job docket-migrate -n "$NAMESPACE" --ignore-not-found
run kubectl apply -f "$work/job.yaml"
run kubectl wait --for=condition=complete --timeout=300s job/docket-migrate -n "$NAMESPACE"
run kubectl logs job/docket-migrate -n "$NAMESPACE"
