#!/usr/bin/env bash
# Rotates credentials without touching any YAML: replaces the Secrets from
# the environment (as create-secrets.sh does), then restarts the services so
# the apps and their Dapr sidecars read the new values.
#   rotate-secret.sh              every Secret
#   SERVICES="notification-service" rotate-secret.sh   restart only these
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_tool kubectl

SERVICES="${SERVICES:-todo-api notification-service recurring-task-service}"
"$(dirname "${BASH_SOURCE[0]}")/create-secrets.sh"
for app in $SERVICES; do
    say "restarting $app"
    run kubectl rollout restart "deployment/$app" -n "$NAMESPACE"
done
for app in $SERVICES; do
    run kubectl rollout status "deployment/$app" -n "$NAMESPACE" --timeout=300s
done
