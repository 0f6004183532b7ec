#!/usr/bin/env bash
# Validates deploy/ offline; exits non-zero on the first invalid file set, printing every problem found in it.
#
#  - every manifest under deploy/kubernetes, one by one and as kustomize renders them (`kubectl kustomize`, when
#    kubectl is installed), against the Kubernetes API schemas: types, required fields, enums and unknown fields,
#    plus references across the set (selectors, Secret and ConfigMap keys, port names, the scale target, the drain
#    budget). The schemas come inside npm packages (deploy/validate/package.json: kubernetes-models and
#    @kubernetes/client-node, both generated from the Kubernetes OpenAPI definitions); nothing is downloaded at run
#    time except those packages, installed once into deploy/validate/node_modules.
#    Beside them, prometheus-adapter's rule for the autoscaler's attach metric, and the optional components
#    (components/keda, components/servicemonitor, components/cpu-only) rendered with the base; their custom
#    resources against the schemas and type declarations of @kubernetes-models/keda and
#    @kubernetes-models/prometheus-operator. Across the set: the autoscaler's metric is one the adapter serves and
#    the relay exports, its per-pod target is below Relay__Limits__MaxAttaches, one autoscaler per workload, the
#    NetworkPolicy keeps the management port (Relay__ManagementUrls) to named in-cluster sources and lets DNS and
#    Redis out, and the ServiceMonitor scrapes the management port as job bctrl-relay.
#  - the Dockerfile's structure (no image can be pulled here): a chiseled, non-root final stage with an exec-form
#    entry point, and a restore of the relay's project files in a layer of its own before the sources.
#  - compose.yaml as YAML (no repeated keys), its shape, the files and services it refers to, and the Prometheus
#    configuration it mounts (its targets, and its rule files mounted beside it); its Redis and fleet.sh's with an
#    append-only file and no eviction.
#  - monitoring: prometheus.yml, the alert rules and their tests, the Grafana dashboard and its provisioning. Every
#    PromQL expression is parsed with the Prometheus project's grammar (npm @prometheus-io/lezer-promql) and may
#    name only the metrics and labels the relay exports (validate.mjs's RELAY_METRICS). Then, with promtool,
#    `promtool check config` and `promtool test rules` (the alerts fire on the series of their unit tests): promtool
#    from PROMTOOL=/path, from PATH, or, as root with apt-get, unpacked once from Debian's prometheus package into
#    validate/.promtool (the one static binary: nothing installed, no service started). Without it, those two are
#    skipped with a note.
#  - the shell scripts' syntax.
#
# Needs Node.js 20 or later and npm. Usage: deploy/validate.sh
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f validate/node_modules/.package-lock.json ] || [ validate/package-lock.json -nt validate/node_modules/.package-lock.json ]; then
  npm ci --prefix validate --no-audit --no-fund --ignore-scripts --loglevel=error
fi

# The base with prometheus-adapter's rule (its HPA reads the metric the rule serves), then the base with each
# optional component (components/*: a component's `$patch: delete` is applied).
node validate/validate.mjs kubernetes kubernetes kubernetes/prometheus-adapter
for component in kubernetes/components/*/; do
  echo "with ${component%/}, file by file:"
  node validate/validate.mjs kubernetes kubernetes kubernetes/prometheus-adapter "${component%/}"
done

if command -v kubectl >/dev/null 2>&1; then
  rendered=$(kubectl kustomize kubernetes)
  node validate/validate.mjs kubernetes - kubernetes/prometheus-adapter <<<"$rendered"
  # Each component as a user enables it: listed in a kustomization beside the base's resources, same namespace.
  overlay=$(mktemp -d validate/.render.XXXXXX)
  trap 'rm -rf "$overlay"' EXIT
  namespace=$(sed -n 's/^namespace: *//p' kubernetes/kustomization.yaml)
  for component in kubernetes/components/*/; do
    printf 'namespace: %s\nresources: [../../kubernetes]\ncomponents: [../../%s]\n' "$namespace" "${component%/}" >"$overlay/kustomization.yaml"
    rendered=$(kubectl kustomize "$overlay")
    echo "with ${component%/}, rendered:"
    node validate/validate.mjs kubernetes - kubernetes/prometheus-adapter <<<"$rendered"
  done
else
  echo "kubectl not found: the kustomization and its components were checked file by file only, not rendered"
fi

node validate/validate.mjs dockerfile Dockerfile ..

node validate/validate.mjs compose compose.yaml
node validate/validate.mjs prometheus prometheus/prometheus.yml prometheus/alerts.test.yml
node validate/validate.mjs grafana grafana/bctrl-relay.json grafana/provisioning

promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$promtool" ] && [ ! -x validate/.promtool/promtool ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  rm -rf validate/.promtool && mkdir -p validate/.promtool
  if (cd validate/.promtool && apt-get download -qq prometheus >/dev/null 2>&1 \
      && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x --strip-components=3 ./usr/bin/promtool); then
    rm -f validate/.promtool/prometheus_*.deb
  else
    echo "could not unpack promtool from Debian's prometheus package (apt-get update first?)"
    rm -rf validate/.promtool
  fi
fi
if [ -z "$promtool" ] && [ -x validate/.promtool/promtool ]; then
  promtool=validate/.promtool/promtool
fi

if [ -n "$promtool" ]; then
  "$promtool" check config prometheus/prometheus.yml
  "$promtool" test rules prometheus/alerts.test.yml
else
  echo "promtool not found: the alert rules were checked by validate.mjs only, their unit tests not run"
fi

bash -n fleet.sh
sh -n chromium/entrypoint.sh
echo "deploy/: valid"
