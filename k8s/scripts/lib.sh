# shellcheck shell=bash
# Shared by the deployment scripts: dry runs, required tools and settings.
# DRY_RUN=1 prints each command that would change something instead of
# running it, with secret values replaced by <redacted>.

DRY_RUN="${DRY_RUN:-0}"
NAMESPACE="${NAMESPACE:-docket}"
OVERLAY="${OVERLAY:-doks}"
K8S_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC2034
REPO_ROOT="$(cd "$K8S_DIR/.." && pwd)"

# Pinned versions of what the cluster runs (read by the sourcing scripts).
export CERT_MANAGER_VERSION="v1.20.0"
export RUNTIME_CLASS_MANAGER_VERSION="0.2.0"
export SPIN_OPERATOR_VERSION="0.6.1"
export DAPR_VERSION="1.16.2"

say() { printf '==> %s\n' "$*" >&2; }

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# run CMD...: runs it, or prints it under DRY_RUN=1.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        printf 'dry-run:'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}

# require_env NAME...: every NAME must be set and non-empty.
require_env() {
    local missing=()
    local name
    for name in "$@"; do
        [ -n "${!name:-}" ] || missing+=("$name")
    done
    [ "${#missing[@]}" -eq 0 ] || die "set ${missing[*]} first (see docs/deploy.md)"
}

# require_tool NAME...: every NAME must be on PATH (not checked in dry runs).
require_tool() {
    [ "$DRY_RUN" = 1 ] && return 0
    local name
    for name in "$@"; do
        command -v "$name" >/dev/null || die "$name is not installed (see docs/deploy.md)"
    done
}

# apply_secret NAME KEY=ENV_VAR...: creates or replaces the Secret NAME with
# each KEY taken from the environment variable ENV_VAR. Values never reach
# the command line or the log.
apply_secret() {
    local name=$1
    shift
    local dir
    dir="$(mktemp -d)"
    trap 'rm -rf "$dir"' RETURN
    local pair key var keys=""
    for pair in "$@"; do
        key=${pair%%=*}
        var=${pair#*=}
        keys="$keys $key"
        require_env "$var"
        printf '%s' "${!var}" >"$dir/$key"
        chmod 600 "$dir/$key"
    done
    if [ "$DRY_RUN" = 1 ]; then
        printf 'dry-run: kubectl create secret generic %s -n %s --from-file=<redacted:%s> | kubectl apply -f -\n' \
            "$name" "$NAMESPACE" "$keys"
        return 0
    fi
    kubectl create secret generic "$name" -n "$NAMESPACE" --from-file="$dir" \
        --dry-run=client -o yaml | kubectl apply -f -
}
