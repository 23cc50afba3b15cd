#!/usr/bin/env bash
# Creates, on the Redpanda Cloud cluster `rpk` is logged in to (`rpk cloud
# login`, then `rpk cloud cluster select`): the topics `task-events` and its
# dead-letter topic (Dapr never creates topics), a SCRAM-SHA-256 user for
# Docket, and ACLs on both topics and on the services' consumer groups.
# Settings: REDPANDA_USERNAME (docket), REDPANDA_PASSWORD, PARTITIONS (6).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDPANDA_USERNAME="${REDPANDA_USERNAME:-docket}"
PARTITIONS="${PARTITIONS:-6}"
require_env REDPANDA_PASSWORD
require_tool rpk

say "topics task-events and task-events-dlq, $PARTITIONS partitions each"
for topic in task-events task-events-dlq; do
    run rpk topic create "$topic" --partitions "$PARTITIONS" --if-not-exists
done

say "SCRAM-SHA-256 user $REDPANDA_USERNAME"
if [ "$DRY_RUN" = 1 ]; then
    echo "dry-run: rpk security user create $REDPANDA_USERNAME --password <redacted> --mechanism SCRAM-SHA-256"
else
    # rpk takes a new user's password only as a flag; it is not echoed here.
    rpk security user create "$REDPANDA_USERNAME" --password "$REDPANDA_PASSWORD" \
        --mechanism SCRAM-SHA-256 >/dev/null
fi

say "ACLs: the topics, and the consumer groups (one per app-id)"
run rpk security acl create --allow-principal "User:$REDPANDA_USERNAME" --operation all \
    --topic task-events --topic task-events-dlq
for group in todo-api notification-service recurring-task-service; do
    run rpk security acl create --allow-principal "User:$REDPANDA_USERNAME" --operation all --group "$group"
done
