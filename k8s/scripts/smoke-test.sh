#!/usr/bin/env bash
# Creates a task through the deployed API and waits until the notification
# service has delivered its notice: `sent` through SendGrid to SMOKE_EMAIL
# when set, otherwise to the user's mailbox. Uses port-forwards to the
# todo-api and notification-service Services and a token signed with the
# deployed jwt-secret.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_tool kubectl curl openssl python3

SMOKE_USER="smoke-$(date +%s)"
TIMEOUT_S="${TIMEOUT_S:-120}"
if [ "$DRY_RUN" = 1 ]; then
    echo "dry-run: port-forward todo-api and notification-service, create a task as $SMOKE_USER, wait for its notice"
    exit 0
fi

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
secret="$(kubectl get secret docket-app -n "$NAMESPACE" -o jsonpath='{.data.jwt-secret}' | base64 -d)"
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
claims=$(printf '{"sub":"%s","iat":%d,"exp":%d}' "$SMOKE_USER" "$now" $((now + 600)) | b64url)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)
token="$header.$claims.$signature"
unset secret

kubectl port-forward -n "$NAMESPACE" svc/todo-api 18080:80 >/dev/null &
api_forward=$!
kubectl port-forward -n "$NAMESPACE" svc/notification-service 18081:80 >/dev/null &
notify_forward=$!
trap 'kill $api_forward $notify_forward 2>/dev/null || true' EXIT
sleep 3

call() { # METHOD URL [BODY]
    curl -fsS -X "$1" "$2" -H "authorization: Bearer $token" -H 'content-type: application/json' ${3:+-d "$3"}
}

if [ -n "${SMOKE_EMAIL:-}" ]; then
    call PUT http://127.0.0.1:18081/api/notifications/preferences \
        "{\"email\":\"$SMOKE_EMAIL\",\"channels\":{\"email\":true,\"push\":false},\"events\":{\"task.created\":true,\"task.completed\":true,\"task.due\":true},\"device_tokens\":[]}" >/dev/null
fi
task=$(call POST "http://127.0.0.1:18080/api/$SMOKE_USER/tasks" '{"title":"Smoke test","priority":"High"}')
say "created $(printf '%s' "$task" | python3 -c 'import json,sys; print("task", json.load(sys.stdin)["id"])')"

deadline=$((SECONDS + TIMEOUT_S))
while [ $SECONDS -lt $deadline ]; do
    status=$(call GET http://127.0.0.1:18081/api/notifications/deliveries | python3 -c '
import json, sys
records = [r for r in json.load(sys.stdin) if r["event_type"] == "task.created"]
print(records[0]["status"] if records else "none")')
    case "$status" in
    sent) say "the notice was delivered"; exit 0 ;;
    failed | dead) die "the notice ended $status; see GET /api/notifications/deliveries" ;;
    esac
    sleep 2
done
die "no notice within $TIMEOUT_S s (last status: $status)"
