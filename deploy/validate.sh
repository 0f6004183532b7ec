#!/usr/bin/env bash
# Validates deploy/ offline; exits non-zero on the first invalid file set, printing every problem found in it.
#
#  - every manifest under deploy/kubernetes, one by one and as kustomize renders them (`kubectl kustomize`, when
#    kubectl is installed), against the Kubernetes API schemas: types, required fields, enums and unknown fields,
#    plus references across the set (selectors, Secret and ConfigMap keys, port names, the scale target, the drain
#    budget). The schemas come inside npm packages (deploy/validate/package.json: kubernetes-models and
#    @kubernetes/client-node, both generated from the Kubernetes OpenAPI definitions); nothing is downloaded at run
#    time except those packages, installed once into deploy/validate/node_modules.
#  - compose.yaml as YAML (no repeated keys), its shape, the files and services it refers to, and the Prometheus
#    configuration it mounts.
#  - the shell scripts' syntax.
#
# Needs Node.js 20 or later and npm. Usage: deploy/validate.sh
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f validate/node_modules/.package-lock.json ] || [ validate/package-lock.json -nt validate/node_modules/.package-lock.json ]; then
  npm ci --prefix validate --no-audit --no-fund --ignore-scripts --loglevel=error
fi

node validate/validate.mjs kubernetes kubernetes

if command -v kubectl >/dev/null 2>&1; then
  rendered=$(kubectl kustomize kubernetes)
  node validate/validate.mjs kubernetes - <<<"$rendered"
else
  echo "kubectl not found: the kustomization was checked file by file only, not rendered"
fi

node validate/validate.mjs compose compose.yaml

bash -n fleet.sh
sh -n chromium/entrypoint.sh
echo "deploy/: valid"
