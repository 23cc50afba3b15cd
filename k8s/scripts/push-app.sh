#!/usr/bin/env bash
# Builds the components and pushes the Spin app (spin.toml and the .wasm
# files) as an OCI artifact: IMAGE=registry.digitalocean.com/<registry>/docket-app:<tag>.
# Log in first: `spin registry login registry.digitalocean.com -u <token> -p <token>`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env IMAGE
require_tool spin
case "$IMAGE" in
*:*) ;;
*) die "IMAGE needs an explicit tag (Spin infers none)" ;;
esac

say "building and pushing $IMAGE"
run spin registry push --build --file "$REPO_ROOT/spin.toml" "$IMAGE"
