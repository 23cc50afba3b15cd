#!/usr/bin/env bash
# Creates (or replaces) every Secret Docket reads, from environment
# variables; nothing is written to disk outside a private temp folder.
#   docket-app:        JWT_SECRET, DATABASE_URL, LLM_API_KEY (optional)
#   docket-redpanda:   REDPANDA_BROKERS, REDPANDA_USERNAME, REDPANDA_PASSWORD
#   docket-redis:      REDIS_HOST (host:port), REDIS_USERNAME, REDIS_PASSWORD
#   sendgrid-api-key:  SENDGRID_API_KEY (optional)
#   fcm-service-account: FCM_SERVICE_ACCOUNT_FILE (optional, the key's path)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_tool kubectl

run kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | run kubectl apply -f -

app_keys=(jwt-secret=JWT_SECRET database-url=DATABASE_URL)
[ -n "${LLM_API_KEY:-}" ] && app_keys+=(llm-api-key=LLM_API_KEY)
say "docket-app"
apply_secret docket-app "${app_keys[@]}"
say "docket-redpanda"
apply_secret docket-redpanda brokers=REDPANDA_BROKERS username=REDPANDA_USERNAME password=REDPANDA_PASSWORD
say "docket-redis"
apply_secret docket-redis host=REDIS_HOST username=REDIS_USERNAME password=REDIS_PASSWORD

if [ -n "${SENDGRID_API_KEY:-}" ]; then
    say "sendgrid-api-key"
    apply_secret sendgrid-api-key sendgrid-api-key=SENDGRID_API_KEY
fi
if [ -n "${FCM_SERVICE_ACCOUNT_FILE:-}" ]; then
    say "fcm-service-account"
    FCM_SERVICE_ACCOUNT="$(cat "$FCM_SERVICE_ACCOUNT_FILE")"
    export FCM_SERVICE_ACCOUNT
    apply_secret fcm-service-account fcm-service-account=FCM_SERVICE_ACCOUNT
fi
