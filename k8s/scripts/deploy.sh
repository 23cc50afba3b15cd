#!/usr/bin/env bash
# Applies an overlay (OVERLAY=doks) with the app image IMAGE (name:tag or
# name@sha256:digest), in the order
# Dapr wants: the Dapr resources before the pods that use them. Pods that
# started before their components existed are restarted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env IMAGE
require_tool kubectl

case "$IMAGE" in
*@sha256:* | *:*) ;;
*) die "IMAGE needs a tag or a digest" ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A SpinApp's `spec.image` is the only top-level `image:` in the output.
kubectl kustomize "$K8S_DIR/overlays/$OVERLAY" |
    sed "s|^  image: .*docket-app.*\$|  image: $IMAGE|" >"$work/rendered.yaml"
[ "$(grep -c "^  image: $IMAGE\$" "$work/rendered.yaml")" = 4 ] ||
    die "the rendered SpinApps do not all use $IMAGE"
# The SpinApps last, so their sidecars find every Dapr resource at start.
awk -v apps="$work/spinapps.yaml" -v rest="$work/platform.yaml" '
    /^---$/ { flush(); next }
    { doc = doc $0 "\n"; if ($0 == "kind: SpinApp") app = 1 }
    function flush() { if (doc != "") printf "---\n%s", doc > (app ? apps : rest); doc = ""; app = 0 }
    END { flush() }' "$work/rendered.yaml"

say "namespace, executor, Dapr resources, migrations ConfigMap and Job"
run kubectl apply -f "$work/platform.yaml"
say "the services"
run kubectl apply -f "$work/spinapps.yaml"
say "waiting for the services"
for app in todo-api notification-service recurring-task-service web; do
    run kubectl rollout status "deployment/$app" -n "$NAMESPACE" --timeout=300s
done
