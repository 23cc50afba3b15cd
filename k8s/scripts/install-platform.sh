#!/usr/bin/env bash
# Installs, at pinned versions: cert-manager, SpinKube (runtime-class-manager
# with the containerd-shim-spin Shim, spin-operator and its executor) and
# Dapr's control plane.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_tool kubectl helm

say "cert-manager $CERT_MANAGER_VERSION"
run kubectl apply -f "https://github.com/cert-manager/cert-manager/releases/download/$CERT_MANAGER_VERSION/cert-manager.yaml"
run kubectl wait --for=condition=available --timeout=300s deployment/cert-manager-webhook -n cert-manager

say "runtime-class-manager $RUNTIME_CLASS_MANAGER_VERSION and the Spin shim"
run helm upgrade --install runtime-class-manager --namespace runtime-class-manager --create-namespace \
    --version "$RUNTIME_CLASS_MANAGER_VERSION" --wait oci://ghcr.io/spinframework/charts/runtime-class-manager
run kubectl apply -f "https://raw.githubusercontent.com/spinframework/runtime-class-manager/refs/tags/v$RUNTIME_CLASS_MANAGER_VERSION/config/samples/sample_shim_spin.yaml"
# The Shim installs containerd-shim-spin on every node labelled spin=true
# and creates the RuntimeClass the SpinAppExecutor names.
run kubectl wait --for=create --timeout=300s runtimeclass/wasmtime-spin-v2

say "spin-operator $SPIN_OPERATOR_VERSION"
run kubectl apply -f "https://github.com/spinframework/spin-operator/releases/download/v$SPIN_OPERATOR_VERSION/spin-operator.crds.yaml"
run helm upgrade --install spin-operator --namespace spin-operator --create-namespace \
    --version "$SPIN_OPERATOR_VERSION" --wait oci://ghcr.io/spinframework/charts/spin-operator

say "Dapr $DAPR_VERSION"
run helm repo add dapr https://dapr.github.io/helm-charts/ --force-update
run helm upgrade --install dapr dapr/dapr --version "$DAPR_VERSION" --namespace dapr-system \
    --create-namespace --set global.ha.enabled=true --wait
