#!/usr/bin/env bash
# Creates the DOKS cluster and its container registry, and points kubectl
# at the cluster. Settings: DO_CLUSTER (docket), DO_REGION (fra1),
# DO_K8S_VERSION (see `doctl kubernetes options versions`), DO_NODE_SIZE
# (s-4vcpu-8gb), DO_NODES (3), DO_REGISTRY (docket).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DO_CLUSTER="${DO_CLUSTER:-docket}"
DO_REGION="${DO_REGION:-fra1}"
DO_NODE_SIZE="${DO_NODE_SIZE:-s-4vcpu-8gb}"
DO_NODES="${DO_NODES:-3}"
DO_REGISTRY="${DO_REGISTRY:-docket}"
require_env DO_K8S_VERSION
require_tool doctl kubectl

say "cluster $DO_CLUSTER ($DO_K8S_VERSION, $DO_NODES x $DO_NODE_SIZE in $DO_REGION)"
# The label lets the runtime-class-manager find every node, recycled ones too.
run doctl kubernetes cluster create "$DO_CLUSTER" --region "$DO_REGION" --version "$DO_K8S_VERSION" \
    --node-pool "name=wasm;size=$DO_NODE_SIZE;count=$DO_NODES;label=spin=true" --wait
run doctl kubernetes cluster kubeconfig save "$DO_CLUSTER"
say "registry $DO_REGISTRY, readable from the cluster"
run doctl registry create "$DO_REGISTRY" --region "$DO_REGION"
run doctl kubernetes cluster registry add "$DO_CLUSTER"
