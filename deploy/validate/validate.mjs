// Offline validation of deploy/ (run it through deploy/validate.sh, which installs this folder's packages).
//
//   node validate.mjs kubernetes <dir|file|->...   every manifest, against the Kubernetes API schemas
//   node validate.mjs dockerfile <file> <context>   the image's stages: chiseled, non-root, restore in its own layer
//   node validate.mjs compose <compose.yaml>        YAML, the Compose shape, and the files it refers to
//   node validate.mjs prometheus <file>...          prometheus.yml and its rule files, or promtool's rule tests
//   node validate.mjs grafana <dashboard|dir>...    a dashboard JSON, or a provisioning folder
//   node validate.mjs metrics <url|file>            a scrape of a running relay against RELAY_METRICS (by hand)
//
// Kubernetes schemas, all shipped inside npm packages, nothing fetched at run time:
//  - kubernetes-models: the API's OpenAPI definitions compiled to JSON-schema validators (types, required
//    fields, enums, formats). The API's schemas do not forbid unknown fields (the API server drops or rejects
//    them depending on its field validation mode), so on their own they let `readinesProbe:` through.
//  - @kubernetes/client-node: the same OpenAPI definitions as a property list per type; a field that is not in
//    the list is reported, as `kubectl apply --validate=strict` would.
//  - @kubernetes-models/keda and @kubernetes-models/prometheus-operator: the same for the custom resources of the
//    optional components (ScaledObject, ServiceMonitor), from their CRDs; unknown fields from their type declarations.
// Then checks across the set that a schema cannot make: selectors that match the pod template, references to
// Secrets, ConfigMaps, ports and the scale target that exist, the drain budget of the relay's Deployment, the
// autoscaler's attach metric and target, the NetworkPolicy around the management port, the ServiceMonitor's job.
// Monitoring: every PromQL expression of the alert rules, their tests and the dashboard is parsed with the Prometheus
// project's grammar (@prometheus-io/lezer-promql) and may name only metrics, and labels, that the relay exports
// (RELAY_METRICS below, taken from a scrape); the alert rules may read a few named external series as well.
// Exits 1 when anything is wrong, printing one line per problem.

import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import * as openapiTypes from '@kubernetes/client-node/dist/gen/models/all.js';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';

const problems = [];
const report = (where, message) => problems.push(`${where}: ${message}`);

// ---------------------------------------------------------------------------------------------------------------
// YAML

function readYaml(file, text = readFileSync(file, 'utf8')) {
  // uniqueKeys: a repeated key is an error (the last one would silently win); merge: Compose's `<<:` anchors.
  const documents = parseAllDocuments(text, { uniqueKeys: true, merge: true, prettyErrors: true });
  const values = [];
  for (const document of documents) {
    for (const error of document.errors) report(file, `YAML: ${error.message.split('\n')[0]}`);
    for (const warning of document.warnings) report(file, `YAML: ${warning.message.split('\n')[0]}`);
    const value = document.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes

async function validateKubernetes(inputs) {
  const objects = [];
  for (const input of inputs) {
    if (input === '-') {
      collect('(rendered kustomization)', readFileSync(0, 'utf8'));
      continue;
    }

    const files = statSync(input).isDirectory()
      ? readdirSync(input).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(input, f))
      : [input];
    for (const file of files) {
      if (/^kustomization\.ya?ml$/.test(path.basename(file))) {
        validateKustomization(file);
      } else {
        collect(file, readFileSync(file, 'utf8'));
      }
    }
  }

  // A component's `$patch: delete` (components/keda removes hpa.yaml's autoscaler): checked file by file, the set
  // is what kustomize would render, without the deleted objects.
  const kept = objects.filter(({ object }) => !deletedByComponents.has(`${object?.kind}/${object?.metadata?.name}`));
  for (const { file, object } of kept) await validateObject(file, object);
  crossCheck(kept);
  if (problems.length === 0) {
    const files = new Set(kept.map((o) => o.file)).size;
    const deleted = objects.length - kept.length;
    console.log(`kubernetes: ${kept.length} objects in ${files} source(s) valid${deleted > 0 ? ` (${deleted} deleted by a component)` : ''}`);
  }

  function collect(file, text) {
    for (const object of readYaml(file, text)) objects.push({ file, object });
  }
}

function describe(object) {
  return `${object?.kind ?? '?'}/${object?.metadata?.name ?? '?'}`;
}

async function validateObject(file, object) {
  const where = `${file}: ${describe(object)}`;
  if (!isObject(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    report(file, 'a document without apiVersion and kind');
    return;
  }

  if (!isObject(object.metadata) || typeof object.metadata.name !== 'string' || object.metadata.name === '') {
    report(where, 'metadata.name is required');
  }

  // 1. The JSON schema of apiVersion/kind: types, required fields, enums and formats.
  const model = await modelOf(object.apiVersion, object.kind);
  if (model === undefined) {
    report(where, `no schema for apiVersion "${object.apiVersion}" kind "${object.kind}" (a typo, or an API this validator does not know)`);
    return;
  }

  try {
    new model(object).validate();
  } catch (error) {
    const errors = Array.isArray(error.errors) ? error.errors : [{ instancePath: '', message: error.message }];
    for (const e of errors) {
      const detail = e.params?.missingProperty ? `${e.message}` : e.message;
      report(where, `${pointerToPath(e.instancePath) || '(root)'}: ${detail}`);
    }
  }

  // 2. Unknown fields, from the OpenAPI property lists; for a custom resource, from its package's type declarations.
  const crd = crdDeclarations(object.apiVersion, object.kind);
  if (crd !== undefined) {
    checkDeclaredFields(object, crd, '', where);
    return;
  }

  const typeName = openapiTypeName(object.apiVersion, object.kind);
  if (typeName === undefined) {
    report(where, `no property list for ${object.apiVersion} ${object.kind}`);
    return;
  }

  checkFields(object, typeName, '', where);
}

const modelModules = new Map();

// Custom resources the optional components use (deploy/kubernetes/components), from the same project's packages:
// their CRDs' OpenAPI schemas compiled the same way. Their schemas do not forbid unknown fields either; the type
// declarations beside them list every field, and checkDeclaredFields reads those.
const CRD_PACKAGES = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

async function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const specifier = group === '' ? `kubernetes-models/${version}`
    : CRD_PACKAGES[group] !== undefined ? `${CRD_PACKAGES[group]}/${group}/${version}`
    : `kubernetes-models/${group}/${version}`;
  if (!modelModules.has(specifier)) {
    modelModules.set(specifier, await import(specifier).catch(() => null));
  }

  const module = modelModules.get(specifier);
  const model = module?.[kind];
  return typeof model === 'function' && model.kind === kind && model.apiVersion === apiVersion ? model : undefined;
}

function openapiTypeName(apiVersion, kind) {
  // client-node names a type by its version and kind ("apps/v1" Deployment is V1Deployment) and prefixes the group
  // when two groups share a kind (CoreV1Event, EventsV1Event).
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const versionPart = version.charAt(0).toUpperCase() + version.slice(1);
  const groupPart = group.split('.')[0].replace(/^./, (c) => c.toUpperCase());
  for (const candidate of [`${groupPart}${versionPart}${kind}`, `${versionPart}${kind}`]) {
    if (typeof openapiTypes[candidate]?.getAttributeTypeMap === 'function') return candidate;
  }

  return undefined;
}

function checkFields(value, type, at, where) {
  if (value === null || value === undefined) return;

  let match;
  if ((match = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((item, i) => checkFields(item, match[1], `${at}[${i}]`, where));
    return;
  }

  if ((match = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (isObject(value)) for (const [key, item] of Object.entries(value)) checkFields(item, match[1], `${at}.${key}`, where);
    return;
  }

  const model = openapiTypes[type];
  if (typeof model?.getAttributeTypeMap !== 'function' || !isObject(value)) {
    return; // a primitive, IntOrString, Quantity, any: the JSON schema above has checked its type
  }

  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const field = at === '' ? key : `${at}.${key}`;
    if (!attributes.has(key)) {
      report(where, `${field}: unknown field "${key}" (${type} has ${[...attributes.keys()].join(', ')})`);
      continue;
    }

    checkFields(item, attributes.get(key), field, where);
  }
}

const nodeModules = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules');

// The declaration file of a custom resource's kind (…/keda.sh/v1alpha1/ScaledObject.d.ts), or undefined for a kind
// of the Kubernetes API itself.
function crdDeclarations(apiVersion, kind) {
  const [group, version] = apiVersion.split('/');
  if (CRD_PACKAGES[group] === undefined || version === undefined) return undefined;
  return path.join(nodeModules, CRD_PACKAGES[group], group, version, `${kind}.d.ts`);
}

const declarations = new Map();

// The fields of the one interface a kubernetes-models declaration file declares (with those of the interfaces it
// extends): name -> its type as written, and how each imported type name resolves to a declaration file.
function declaredFields(file) {
  if (declarations.has(file)) return declarations.get(file);
  const text = existsSync(file) ? readFileSync(file, 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '') : '';
  const imports = new Map();
  for (const [, names, from] of text.matchAll(/import \{([^}]*)\} from "([^"]+)";/g)) {
    const target = from.startsWith('.') ? path.join(path.dirname(file), from.replace(/\.js$/, '.d.ts')) : path.join(nodeModules, `${from}.d.ts`);
    for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) imports.set(name, target);
  }

  const fields = new Map();
  const header = /export interface \w+(?: extends ([^{]+))? \{/.exec(text);
  if (header !== null) {
    for (const base of (header[1] ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '' && b !== 'TypeMeta')) {
      if (imports.has(base)) for (const [name, field] of declaredFields(imports.get(base)).fields) fields.set(name, field);
    }

    // The body up to its closing brace, then each `"name"?: type;` at depth 0 (types may hold braces and <…>).
    let depth = 1;
    let end = header.index + header[0].length;
    while (end < text.length && depth > 0) depth += { '{': 1, '}': -1 }[text[end++]] ?? 0;
    const body = text.slice(header.index + header[0].length, end - 1);
    const field = /"([^"]+)"\??:\s*/g;
    let match;
    while ((match = field.exec(body)) !== null) {
      let at = field.lastIndex;
      let level = 0;
      while (at < body.length && !(body[at] === ';' && level === 0)) level += { '{': 1, '<': 1, '}': -1, '>': -1 }[body[at++]] ?? 0;
      fields.set(match[1], { type: body.slice(field.lastIndex, at).replace(/\s+/g, ' ').trim(), imports });
      field.lastIndex = at + 1;
    }
  }

  const result = { fields, found: header !== null };
  declarations.set(file, result);
  return result;
}

function checkDeclaredFields(value, file, at, where) {
  if (!isObject(value)) return;
  const { fields, found } = declaredFields(file);
  if (!found) {
    report(where, `${at || '(root)'}: no type declaration at ${path.relative(nodeModules, file)} to check its fields against`);
    return;
  }

  for (const [key, item] of Object.entries(value)) {
    const field = at === '' ? key : `${at}.${key}`;
    const declared = fields.get(key);
    if (declared === undefined) {
      report(where, `${field}: unknown field "${key}" (it has ${[...fields.keys()].join(', ')})`);
      continue;
    }

    checkDeclaredType(item, declared.type, declared.imports, field, where);
  }
}

function checkDeclaredType(value, type, imports, at, where) {
  let match;
  if ((match = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((item, i) => checkDeclaredType(item, match[1], imports, `${at}[${i}]`, where));
  } else if ((match = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (isObject(value)) for (const [key, item] of Object.entries(value)) checkDeclaredType(item, match[1], imports, `${at}.${key}`, where);
  } else if (imports.has(type) && !/apimachinery|\/base\.d\.ts$/.test(imports.get(type))) {
    // Types of this package and of kubernetes-models' API types (an HPA's behavior in KEDA's advanced config);
    // apimachinery's ObjectMeta and LabelSelector are left to the schema.
    checkDeclaredFields(value, imports.get(type), at, where);
  }
}

function pointerToPath(pointer) {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '');
}

// Objects that a component given on the command line deletes, as Kind/name; and the base's namespace, which the
// custom resources' queries must name (kustomize does not rewrite a query).
const deletedByComponents = new Set();
let kustomizationNamespace;

function validateKustomization(file) {
  const [kustomization] = readYaml(file);
  if (!isObject(kustomization)) {
    report(file, 'not a mapping');
    return;
  }

  const component = kustomization.kind === 'Component';
  if (component && kustomization.apiVersion !== 'kustomize.config.k8s.io/v1alpha1') report(file, 'a Component is kustomize.config.k8s.io/v1alpha1');
  if (!component && kustomization.kind !== 'Kustomization') report(file, `kind "${kustomization.kind}": Kustomization or Component`);
  if (typeof kustomization.namespace === 'string') kustomizationNamespace = kustomization.namespace;
  for (const patch of kustomization.patches ?? []) {
    if (!isObject(patch) || (patch.patch === undefined) === (patch.path === undefined)) {
      report(file, 'patches: each needs exactly one of patch and path');
      continue;
    }

    if (typeof patch.patch === 'string' && /\$patch:\s*delete/.test(patch.patch)) {
      if (typeof patch.target?.kind !== 'string' || typeof patch.target?.name !== 'string') report(file, 'patches: a delete needs target kind and name');
      else deletedByComponents.add(`${patch.target.kind}/${patch.target.name}`);
    }
  }

  for (const entry of component ? [] : kustomization.components ?? []) {
    if (typeof entry !== 'string' || !existsSync(path.join(path.dirname(file), entry, 'kustomization.yaml'))) report(file, `components: "${entry}" is no folder with a kustomization.yaml`);
  }

  const known = new Set(['apiVersion', 'kind', 'namespace', 'namePrefix', 'nameSuffix', 'resources', 'components',
    'images', 'labels', 'commonLabels', 'commonAnnotations', 'configMapGenerator', 'secretGenerator',
    'generatorOptions', 'patches', 'replicas', 'buildMetadata', 'openapi', 'crds', 'sortOptions']);
  for (const key of Object.keys(kustomization)) {
    if (!known.has(key)) report(file, `unknown kustomization field "${key}"`);
  }

  const directory = path.dirname(file);
  const listed = new Set();
  for (const resource of kustomization.resources ?? []) {
    if (typeof resource !== 'string') {
      report(file, 'resources: entries must be strings');
      continue;
    }

    listed.add(path.normalize(resource));
    if (!/^[a-z]+:\/\//.test(resource) && !existsSync(path.join(directory, resource))) {
      report(file, `resources: "${resource}" does not exist`);
    }
  }

  // A manifest in the folder that the kustomization forgets is silently never applied.
  for (const other of readdirSync(directory).filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f))) {
    if (!listed.has(other)) report(file, `resources: "${other}" is in the folder but not listed`);
  }

  for (const image of kustomization.images ?? []) {
    if (!isObject(image) || typeof image.name !== 'string') report(file, 'images: each entry needs a name');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks across the objects

function crossCheck(entries) {
  const objects = entries.map((e) => e.object).filter(isObject);
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const named = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
  const matches = (selector, labels) =>
    isObject(selector) && Object.keys(selector).length > 0
    && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

  for (const workload of workloads) {
    const where = `${describe(workload)}`;
    const pod = workload.spec?.template;
    if (!matches(workload.spec?.selector?.matchLabels, pod?.metadata?.labels)) {
      report(where, 'spec.selector.matchLabels does not match spec.template.metadata.labels');
    }

    const containers = [...(pod?.spec?.containers ?? []), ...(pod?.spec?.initContainers ?? [])];
    for (const container of containers) {
      const at = `${where}: container ${container.name}`;
      const portNames = new Set((container.ports ?? []).map((p) => p.name).filter(Boolean));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const port = container[probe]?.httpGet?.port ?? container[probe]?.tcpSocket?.port;
        if (typeof port === 'string' && !portNames.has(port)) report(at, `${probe} names port "${port}", which the container does not declare`);
      }

      for (const variable of container.env ?? []) {
        const secretRef = variable.valueFrom?.secretKeyRef;
        const configRef = variable.valueFrom?.configMapKeyRef;
        const ref = secretRef ?? configRef;
        if (ref === undefined || ref.optional === true) continue;
        const source = named(secretRef ? 'Secret' : 'ConfigMap', ref.name);
        if (source === undefined) {
          report(at, `env ${variable.name} reads ${secretRef ? 'Secret' : 'ConfigMap'} "${ref.name}", which is not in the set`);
        } else if (!(ref.key in { ...source.data, ...source.stringData })) {
          report(at, `env ${variable.name} reads key "${ref.key}", which ${describe(source)} does not have`);
        }
      }

      for (const from of container.envFrom ?? []) {
        const ref = from.configMapRef ?? from.secretRef;
        const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
        if (ref && ref.optional !== true && named(kind, ref.name) === undefined) {
          report(at, `envFrom reads ${kind} "${ref.name}", which is not in the set`);
        }
      }

      checkDrainBudget(workload, container, objects, at);
    }
  }

  const podTemplates = workloads.map((w) => w.spec?.template);
  for (const service of byKind('Service')) {
    const selected = podTemplates.filter((t) => matches(service.spec?.selector, t?.metadata?.labels));
    if (selected.length === 0) {
      report(describe(service), 'spec.selector matches no pod template in the set');
      continue;
    }

    for (const port of service.spec?.ports ?? []) {
      if (typeof port.targetPort !== 'string') continue;
      const declared = selected.some((t) => (t.spec?.containers ?? []).some((c) => (c.ports ?? []).some((p) => p.name === port.targetPort)));
      if (!declared) report(describe(service), `port ${port.name}: targetPort "${port.targetPort}" is no container port name`);
    }
  }

  for (const budget of byKind('PodDisruptionBudget')) {
    if (!podTemplates.some((t) => matches(budget.spec?.selector?.matchLabels, t?.metadata?.labels))) {
      report(describe(budget), 'spec.selector matches no pod template in the set');
    }
  }

  for (const autoscaler of byKind('HorizontalPodAutoscaler')) {
    const target = autoscaler.spec?.scaleTargetRef;
    const workload = workloads.find((w) => w.kind === target?.kind && w.metadata?.name === target?.name && w.apiVersion === target?.apiVersion);
    if (workload === undefined) {
      report(describe(autoscaler), `scaleTargetRef ${target?.apiVersion} ${target?.kind}/${target?.name} is not in the set`);
      continue;
    }

    const usesCpu = (autoscaler.spec?.metrics ?? []).some((m) => m.resource?.name === 'cpu');
    const requestsCpu = (workload.spec?.template?.spec?.containers ?? []).every((c) => c.resources?.requests?.cpu !== undefined);
    if (usesCpu && !requestsCpu) report(describe(autoscaler), 'scales on CPU utilisation, but a container of its target has no CPU request');
    if ((autoscaler.spec?.minReplicas ?? 1) > autoscaler.spec?.maxReplicas) report(describe(autoscaler), 'minReplicas exceeds maxReplicas');
  }

  checkAutoscaling(objects, workloads);
  checkNetworkPolicies(objects, workloads, matches);
  checkServiceMonitors(objects, workloads, matches);
}

// Autoscaling on live attaches (deploy/README.md, "Autoscaling on live attaches"): the HPA's Pods metric, or KEDA's
// ScaledObject, against the metrics the relay exports, prometheus-adapter's rules when they are in the set, and the
// per-pod limit the ConfigMap gives (a target above Relay__Limits__MaxAttaches is never reached: pods refuse first).
function checkAutoscaling(objects, workloads) {
  const named = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const catalogue = seriesCatalogue(RELAY_METRICS);
  const adapterMetrics = adapterRules(objects, catalogue);
  const targetOf = (ref, defaults) => workloads.find((w) => w.kind === (ref?.kind ?? defaults.kind)
    && w.metadata?.name === ref?.name && w.apiVersion === (ref?.apiVersion ?? defaults.apiVersion));
  const maxAttaches = (workload) => {
    for (const from of workload.spec?.template?.spec?.containers?.flatMap((c) => c.envFrom ?? []) ?? []) {
      const value = from.configMapRef ? named('ConfigMap', from.configMapRef.name)?.data?.Relay__Limits__MaxAttaches : undefined;
      if (value !== undefined) return Number(value);
    }

    return 0;
  };
  const checkTarget = (where, workload, value) => {
    const limit = maxAttaches(workload);
    if (!(Number(value) > 0)) report(where, `attach target "${value}": a positive number of live attaches per pod`);
    else if (limit > 0 && Number(value) >= limit) report(where, `attach target ${value} per pod is not below Relay__Limits__MaxAttaches (${limit}): pods would refuse attaches before the autoscaler adds any`);
  };

  const scaled = new Map();
  const claim = (object, workload) => {
    const key = `${workload.kind}/${workload.metadata?.name}`;
    if (scaled.has(key)) report(describe(object), `${key} is already scaled by ${scaled.get(key)}: two autoscalers on one workload fight`);
    scaled.set(key, describe(object));
  };

  for (const autoscaler of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const workload = targetOf(autoscaler.spec?.scaleTargetRef, {});
    if (workload === undefined) continue; // crossCheck reported it
    claim(autoscaler, workload);
    for (const metric of autoscaler.spec?.metrics ?? []) {
      if (metric.type !== 'Pods') continue;
      const name = metric.pods?.metric?.name;
      if (adapterMetrics !== undefined && !adapterMetrics.has(name)) {
        report(describe(autoscaler), `Pods metric ${name} is served by no prometheus-adapter rule in the set (they serve ${[...adapterMetrics].join(', ') || 'nothing'})`);
      } else if (adapterMetrics === undefined && catalogue.get(name)?.type !== 'gauge') {
        report(describe(autoscaler), `Pods metric ${name} is no gauge the relay exports${closest(String(name), catalogue.keys())}`);
      }

      if (metric.pods?.target?.type !== 'AverageValue') report(describe(autoscaler), `Pods metric ${name}: target type AverageValue (per pod)`);
      if (name === 'bctrl_relay_attach_live') checkTarget(describe(autoscaler), workload, metric.pods?.target?.averageValue);
    }
  }

  for (const scaledObject of objects.filter((o) => o.kind === 'ScaledObject')) {
    const where = describe(scaledObject);
    const spec = scaledObject.spec ?? {};
    const workload = targetOf(spec.scaleTargetRef, { kind: 'Deployment', apiVersion: 'apps/v1' });
    if (workload === undefined) {
      report(where, `scaleTargetRef ${spec.scaleTargetRef?.kind ?? 'Deployment'}/${spec.scaleTargetRef?.name} is not in the set`);
      continue;
    }

    claim(scaledObject, workload);
    if ((spec.minReplicaCount ?? 0) > (spec.maxReplicaCount ?? 100)) report(where, 'minReplicaCount exceeds maxReplicaCount');
    const namespace = workload.metadata?.namespace ?? kustomizationNamespace;
    for (const [i, trigger] of (spec.triggers ?? []).entries()) {
      const at = `${where}: triggers[${i}] (${trigger?.type})`;
      const metadata = trigger?.metadata ?? {};
      if (trigger?.type === 'prometheus') {
        for (const key of ['serverAddress', 'query', 'threshold']) if (typeof metadata[key] !== 'string' || metadata[key] === '') report(at, `metadata.${key}: missing`);
        for (const key of Object.keys(metadata)) {
          if (!['serverAddress', 'query', 'threshold', 'activationThreshold', 'namespace', 'customHeaders', 'ignoreNullValues', 'unsafeSsl', 'queryParameters', 'authModes'].includes(key)) report(at, `metadata.${key}: not a Prometheus scaler parameter`);
        }

        if (!/^https?:\/\/[^/\s]+/.test(String(metadata.serverAddress))) report(at, `metadata.serverAddress "${metadata.serverAddress}": an http(s) URL`);
        if ((trigger.metricType ?? 'AverageValue') !== 'AverageValue') report(at, 'metricType: AverageValue, so that the fleet\'s sum is divided by the pods');
        checkPromQL(metadata.query, at, catalogue);
        const queried = /namespace="([^"]*)"/.exec(String(metadata.query))?.[1];
        if (namespace !== undefined && queried !== namespace) report(at, `query selects namespace="${queried}", but the relay runs in ${namespace}: kustomize does not rewrite queries`);
        if (/bctrl_relay_attach_live/.test(String(metadata.query))) checkTarget(at, workload, metadata.threshold);
      } else if (trigger?.type === 'cpu' || trigger?.type === 'memory') {
        if (!(Number(metadata.value) > 0)) report(at, 'metadata.value: a positive number');
        if (trigger.type === 'cpu' && (workload.spec?.template?.spec?.containers ?? []).some((c) => c.resources?.requests?.cpu === undefined)) {
          report(at, 'scales on CPU utilisation, but a container of its target has no CPU request');
        }
      }
    }
  }
}

// prometheus-adapter's configuration, from a ConfigMap of the set holding config.yaml with rules: the custom
// metrics they serve (undefined when the set has none). Each rule's queries are PromQL over the relay's series once
// the adapter's templates are filled in, and the labels it maps to namespace and pod must be on those series.
function adapterRules(objects, catalogue) {
  const configs = objects.filter((o) => o.kind === 'ConfigMap' && typeof o.data?.['config.yaml'] === 'string' && /^\s*rules:/m.test(o.data['config.yaml']));
  if (configs.length === 0) return undefined;
  const served = new Set();
  for (const config of configs) {
    const where = `${describe(config)}: config.yaml`;
    const [adapter] = readYaml(where, config.data['config.yaml']);
    for (const key of Object.keys(adapter ?? {})) if (!['rules', 'externalRules', 'resourceRules'].includes(key)) report(where, `unknown key "${key}"`);
    for (const [i, rule] of (adapter?.rules ?? []).entries()) {
      const at = `${where}: rules[${i}]`;
      for (const key of Object.keys(rule ?? {})) if (!['seriesQuery', 'seriesFilters', 'resources', 'name', 'metricsQuery'].includes(key)) report(at, `unknown key "${key}"`);
      checkPromQL(rule?.seriesQuery, `${at}: seriesQuery`, catalogue);
      const series = /^\s*'?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(String(rule?.seriesQuery))?.[1];
      const labels = catalogue.get(series)?.labels ?? [];
      const overrides = rule?.resources?.overrides ?? {};
      for (const [label, target] of Object.entries(overrides)) {
        if (!labels.includes(label)) report(at, `resources.overrides: ${series} has no label ${label}`);
        if (!['namespace', 'pod'].includes(target?.resource)) report(at, `resources.overrides.${label}: resource namespace or pod`);
      }

      if (!Object.values(overrides).some((t) => t?.resource === 'pod')) report(at, 'resources.overrides: no label maps to pod, so the metric is no per-pod metric');
      const templates = (query) => String(query)
        .replace(/<<\s*\.Series\s*>>/g, series ?? 'missing')
        .replace(/<<\s*\.LabelMatchers\s*>>/g, 'namespace="bctrl-relay",pod=~"a|b"')
        .replace(/<<\s*\.GroupBy\s*>>/g, 'pod');
      if (!/<<\s*\.Series\s*>>/.test(String(rule?.metricsQuery)) || !/<<\s*\.LabelMatchers\s*>>/.test(String(rule?.metricsQuery))) {
        report(at, 'metricsQuery: must use <<.Series>> and <<.LabelMatchers>>, or every pod reads the same value');
      }

      checkPromQL(templates(rule?.metricsQuery), `${at}: metricsQuery`, catalogue);
      let name = series;
      if (rule?.name !== undefined) {
        try {
          const matches = new RegExp(rule.name.matches ?? '(.*)');
          if (!matches.test(String(series))) report(at, `name.matches ${rule.name.matches} does not match ${series}`);
          name = String(series).replace(matches, String(rule.name.as ?? '$1').replace(/\$\{?(\d+)\}?/g, '$$$1'));
        } catch (error) {
          report(at, `name.matches: ${error.message}`);
        }
      }

      served.add(name);
    }
  }

  return served;
}

// The management port stays inside the cluster (deploy/README.md, "Network policy"): the port that
// Relay__ManagementUrls names is the container's `management` port, the data plane is open, every ingress rule
// that reaches management names its sources (no rule open to all ports, no ipBlock), and egress lets DNS and the
// Redis that Relay__Redis names out.
function checkNetworkPolicies(objects, workloads, matches) {
  const named = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    const where = describe(policy);
    const selected = workloads.filter((w) => matches(policy.spec?.podSelector?.matchLabels, w.spec?.template?.metadata?.labels));
    if (selected.length === 0) {
      report(where, 'spec.podSelector matches no pod template in the set');
      continue;
    }

    for (const workload of selected) {
      const containers = workload.spec?.template?.spec?.containers ?? [];
      const ports = new Map(containers.flatMap((c) => c.ports ?? []).map((p) => [p.name, p.containerPort]));
      const config = Object.assign({}, ...containers.flatMap((c) => c.envFrom ?? []).map((f) => (f.configMapRef ? named('ConfigMap', f.configMapRef.name)?.data ?? {} : {})));
      const managementUrls = config.Relay__ManagementUrls;
      if (managementUrls === undefined) {
        report(where, `${describe(workload)} sets no Relay__ManagementUrls: the control API shares the data port, which this policy opens to everyone`);
        continue;
      }

      const managementPort = Number(/:(\d+)\/?$/.exec(String(managementUrls).split(/[;,]/)[0].trim())?.[1]);
      if (ports.get('management') !== managementPort) report(where, `Relay__ManagementUrls listens on ${managementPort}, but the container port named management is ${ports.get('management')}`);
      const portOf = (p) => (typeof p.port === 'string' ? ports.get(p.port) : p.port);
      for (const rule of policy.spec?.ingress ?? []) {
        for (const p of rule.ports ?? []) if (typeof p.port === 'string' && !ports.has(p.port)) report(where, `ingress port "${p.port}" is no container port name`);
        const reachesManagement = !Array.isArray(rule.ports) || rule.ports.length === 0 || rule.ports.some((p) => portOf(p) === managementPort);
        if (!reachesManagement) continue;
        if (!Array.isArray(rule.from) || rule.from.length === 0) report(where, 'an ingress rule opens the management port (or every port) to every source');
        else if (rule.from.some((peer) => peer.ipBlock !== undefined)) report(where, 'an ingress rule opens the management port to an ipBlock: only pods and namespaces of the cluster may reach it');
      }

      const dataOpen = (policy.spec?.ingress ?? []).some((rule) => (rule.from ?? []).length === 0 && (rule.ports ?? []).some((p) => portOf(p) === ports.get('data')));
      if (ports.has('data') && !dataOpen) report(where, 'no ingress rule opens the data port to every source: clients come through the load balancer from anywhere');

      if (!(policy.spec?.policyTypes ?? []).includes('Egress')) continue;
      const egress = policy.spec?.egress ?? [];
      const allows = (port, protocol) => egress.filter((rule) => (rule.ports ?? []).length === 0
        || rule.ports.some((p) => p.port === port && (p.protocol ?? 'TCP') === protocol));
      if (allows(53, 'UDP').length === 0) report(where, 'egress: no rule lets DNS (53/UDP) out, so no name resolves');
      const redis = /^\s*([^,:\s]+):(\d+)/.exec(String(config.Relay__Redis ?? ''));
      if (redis !== null) {
        const rules = allows(Number(redis[2]), 'TCP');
        const namespace = /^[^.]+\.([^.]+)\.svc(\.|$)/.exec(redis[1])?.[1];
        if (rules.length === 0) report(where, `egress: no rule lets Redis (${redis[1]}:${redis[2]}, Relay__Redis) out`);
        else if (namespace !== undefined && !rules.some((rule) => (rule.to ?? []).length === 0
          || rule.to.some((peer) => peer.ipBlock !== undefined || [undefined, namespace].includes(peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'])))) {
          report(where, `egress: Relay__Redis is in namespace ${namespace}, which no rule for port ${redis[2]} reaches`);
        }
      }
    }
  }
}

// A ServiceMonitor scrapes the management port's /metrics under job="bctrl-relay", which the alerts select on.
function checkServiceMonitors(objects, workloads, matches) {
  for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    const where = describe(monitor);
    const services = objects.filter((o) => o.kind === 'Service' && matches(monitor.spec?.selector?.matchLabels, o.metadata?.labels));
    if (services.length === 0) {
      report(where, 'spec.selector matches no Service in the set');
      continue;
    }

    for (const endpoint of monitor.spec?.endpoints ?? []) {
      if ((endpoint.path ?? '/metrics') !== '/metrics') report(where, `endpoint ${endpoint.port}: the relay serves /metrics, not ${endpoint.path}`);
      const scraped = services.filter((service) => (service.spec?.ports ?? []).some((p) => p.name === endpoint.port));
      if (scraped.length === 0) report(where, `endpoint port "${endpoint.port}" is no port of the selected Services`);
      for (const service of scraped) {
        const port = service.spec.ports.find((p) => p.name === endpoint.port);
        if (port.targetPort !== 'management' && port.targetPort !== workloads.flatMap((w) => w.spec?.template?.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => p.name === 'management')?.containerPort) {
          report(where, `endpoint port "${endpoint.port}" of ${describe(service)} is not the management port, where /metrics is served`);
        }

        const job = monitor.spec?.jobLabel !== undefined ? service.metadata?.labels?.[monitor.spec.jobLabel] : service.metadata?.name;
        if (job !== 'bctrl-relay') report(where, `the job label would be "${job}": the alerts select job="bctrl-relay" (set jobLabel to a label of the Service whose value is bctrl-relay)`);
      }
    }
  }
}

// The relay drains on SIGTERM within the host's shutdown bound (DOTNET_shutdownTimeoutSeconds, .NET's default 30 s);
// the preStop pause comes first. Both must fit in the grace period, or the kubelet kills a drain half-way.
function checkDrainBudget(workload, container, objects, where) {
  const spec = workload.spec?.template?.spec ?? {};
  const preStop = container.lifecycle?.preStop;
  let pause = 0;
  if (preStop?.sleep?.seconds !== undefined) {
    pause = Number(preStop.sleep.seconds);
  } else if (Array.isArray(preStop?.exec?.command) && preStop.exec.command[0] === 'sleep') {
    pause = Number(preStop.exec.command[1]);
  }

  if (!Number.isFinite(pause) || pause <= 0) return; // no pause (or one the schema check reported): nothing to budget

  let shutdown = 30;
  const direct = (container.env ?? []).find((v) => v.name === 'DOTNET_shutdownTimeoutSeconds' && v.value !== undefined);
  if (direct) {
    shutdown = Number(direct.value);
  } else {
    for (const from of container.envFrom ?? []) {
      const source = from.configMapRef
        ? objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === from.configMapRef.name)
        : undefined;
      const value = source?.data?.DOTNET_shutdownTimeoutSeconds;
      if (value !== undefined) shutdown = Number(value);
    }
  }

  const grace = spec.terminationGracePeriodSeconds ?? 30;
  if (!(pause + shutdown < grace)) {
    report(where, `terminationGracePeriodSeconds ${grace} does not cover the preStop pause (${pause} s) plus the shutdown bound (${shutdown} s)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile (deploy/README.md, "The image"): its structure, since no image can be pulled or built offline.

const CHISELED = /^mcr\.microsoft\.com\/dotnet\/aspnet:10\.0(-[a-z]+)?-chiseled(-extra)?$/;
const RESTORE_INPUTS = /(\.csproj|\.sln|\.slnx|^Directory\.(Build|Packages)\.(props|targets)|^\.editorconfig|^NuGet\.config|^global\.json)$/i;

function validateDockerfile(file, context) {
  const where = (line) => `${file}:${line}`;
  const instructions = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let text = lines[i];
    while (/\\\s*$/.test(text) && i + 1 < lines.length) text = text.replace(/\\\s*$/, ' ') + lines[++i].trim();
    if (/^\s*(#|$)/.test(text)) continue;
    const [, keyword, rest] = /^\s*(\S+)\s*(.*)$/.exec(text);
    instructions.push({ line: start, keyword: keyword.toUpperCase(), args: rest.trim() });
  }

  // Stages, with ARG defaults declared before the first FROM substituted into FROM lines.
  const globalArgs = new Map();
  const stages = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = instruction.args.split('=');
      globalArgs.set(name.trim(), (value ?? '').trim());
    } else if (instruction.keyword === 'FROM') {
      const [image, , name] = instruction.args.replace(/--platform=\S+\s+/, '')
        .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, arg) => globalArgs.get(arg) ?? '').split(/\s+/);
      stages.push({ image, name, line: instruction.line, steps: [] });
    } else if (stages.length === 0) {
      report(where(instruction.line), `${instruction.keyword} before the first FROM`);
    } else {
      stages.at(-1).steps.push(instruction);
    }
  }

  const final = stages.at(-1);
  if (final === undefined) {
    report(file, 'no FROM');
    return;
  }

  // The runtime stage: chiseled (no shell, no package manager), non-root, exec-form entry point.
  if (!CHISELED.test(final.image)) report(where(final.line), `the final stage runs on ${final.image}: mcr.microsoft.com/dotnet/aspnet:10.0-…-chiseled (or -chiseled-extra)`);
  if (!final.image.endsWith('-extra')) {
    const props = path.join(context, 'Directory.Build.props');
    if (!existsSync(props) || !/<InvariantGlobalization>\s*true\s*<\/InvariantGlobalization>/.test(readFileSync(props, 'utf8'))) {
      report(where(final.line), 'the chiseled image has no ICU: Directory.Build.props must set InvariantGlobalization, or use the -extra variant');
    }
  }

  const user = final.steps.filter((s) => s.keyword === 'USER').at(-1);
  if (user === undefined || /^(0|root)(:|$)/.test(user.args)) report(where(user?.line ?? final.line), 'the final stage must end on a non-root USER');
  else if (!/^\d+(:\d+)?$/.test(user.args)) report(where(user.line), `USER ${user.args}: numeric, so that Kubernetes' runAsNonRoot can verify it`);
  const runAsUser = readYaml(path.join(path.dirname(file), 'kubernetes', 'deployment.yaml'))[0]?.spec?.template?.spec?.securityContext?.runAsUser;
  if (/^\d+/.test(user?.args ?? '') && runAsUser !== undefined && Number(user.args.split(':')[0]) !== runAsUser) {
    report(where(user.line), `USER ${user.args}, but kubernetes/deployment.yaml runs as ${runAsUser}`);
  }

  for (const step of final.steps) {
    if (step.keyword === 'RUN') report(where(step.line), 'RUN in the chiseled stage: it has no shell');
    if (['ENTRYPOINT', 'CMD'].includes(step.keyword) && !step.args.startsWith('[')) report(where(step.line), `${step.keyword} in shell form: the chiseled image has no shell, use ["…"]`);
  }

  if (!final.steps.some((s) => s.keyword === 'ENTRYPOINT')) report(where(final.line), 'the final stage has no ENTRYPOINT');
  const from = final.steps.find((s) => s.keyword === 'COPY' && /--from=/.test(s.args));
  const build = stages.find((stage) => stage.name !== undefined && stage.name === /--from=(\S+)/.exec(from?.args ?? '')?.[1]);
  if (build === undefined) {
    report(where(final.line), 'the final stage copies from no build stage of this file');
    return;
  }

  // The build stage: project files, then restore, then sources, then publish without restoring again.
  const restore = build.steps.findIndex((s) => s.keyword === 'RUN' && /\bdotnet restore\b/.test(s.args));
  const publish = build.steps.findIndex((s) => s.keyword === 'RUN' && /\bdotnet publish\b/.test(s.args));
  if (restore < 0) report(where(build.line), 'no RUN dotnet restore: the restore belongs in its own layer');
  if (publish < 0) {
    report(where(build.line), 'no RUN dotnet publish');
    return;
  }

  if (restore >= 0 && publish < restore) report(where(build.steps[publish].line), 'dotnet publish before dotnet restore');
  if (restore >= 0 && !/--no-restore\b/.test(build.steps[publish].args)) report(where(build.steps[publish].line), 'dotnet publish without --no-restore restores again, in the source layer');
  let project = /dotnet publish\s+([^\s-]\S*)/.exec(build.steps[publish].args)?.[1]?.replace(/\/$/, '');
  if (project !== undefined && !project.endsWith('.csproj')) project = `${project}/${path.posix.basename(project)}.csproj`;
  if (project === undefined || !existsSync(path.join(context, project))) {
    report(where(build.steps[publish].line), `dotnet publish names no project of the build context (${project})`);
    return;
  }

  const copies = (steps) => steps.filter((s) => s.keyword === 'COPY' && !/--from=/.test(s.args)).map((s) => {
    const parts = s.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    return { line: s.line, sources: parts.slice(0, -1), destination: parts.at(-1) };
  });
  const before = restore >= 0 ? copies(build.steps.slice(0, restore)) : [];
  const workdir = build.steps.filter((s, i) => s.keyword === 'WORKDIR' && (restore < 0 || i < restore)).at(-1)?.args ?? '/';
  const restored = new Set();
  for (const copy of before) {
    for (const source of copy.sources) {
      if (!existsSync(path.join(context, source))) report(where(copy.line), `COPY ${source}: not in the build context`);
      if (!RESTORE_INPUTS.test(path.basename(source))) report(where(copy.line), `COPY ${source} before the restore: only project files and Directory.*.props, or every source change redoes the restore`);
      // Relative to the WORKDIR: `COPY a/b.csproj a/` keeps the path, which the ProjectReferences need.
      const destination = copy.destination.endsWith('/') ? path.posix.join(copy.destination, path.basename(source)) : copy.destination;
      if (path.posix.normalize(destination) !== path.posix.normalize(source)) {
        report(where(copy.line), `COPY ${source} to ${copy.destination}: keep the repository's layout (${source}), or the project references do not resolve`);
      }

      restored.add(path.posix.normalize(source));
    }
  }

  if (!/^\/\w*/.test(workdir)) report(where(build.line), 'WORKDIR of the build stage: an absolute path');
  for (const needed of restore < 0 ? [] : ['Directory.Build.props', 'Directory.Packages.props', ...projectClosure(context, project)]) {
    if (!restored.has(needed)) report(where(build.steps[restore]?.line ?? build.line), `${needed} is not copied before the restore (the relay's project and every project it references, with the central props)`);
  }

  const after = copies(build.steps.slice(restore + 1, publish));
  const sources = after.flatMap((c) => c.sources);
  if (!sources.some((s) => s === 'src/' || s === 'src' || s === '.' || s === path.posix.dirname(project))) report(where(build.steps[publish].line), 'no COPY of the sources between the restore and the publish');
  if (problems.length === 0) console.log(`dockerfile: ${file} valid (final stage ${final.image}, user ${user?.args}, restore of ${restored.size} files in its own layer)`);
}

// A project and every project it references, transitively, as paths relative to the build context.
function projectClosure(context, project) {
  const seen = new Set();
  const visit = (relative) => {
    const normalized = path.posix.normalize(relative);
    if (seen.has(normalized)) return;
    seen.add(normalized);
    const file = path.join(context, normalized);
    if (!existsSync(file)) {
      report(file, 'referenced, but it does not exist');
      return;
    }

    for (const [, reference] of readFileSync(file, 'utf8').matchAll(/<ProjectReference\s+Include="([^"]+)"/g)) {
      visit(path.posix.join(path.posix.dirname(normalized), reference.replace(/\\/g, '/')));
    }
  };
  visit(project);
  return [...seen];
}

// ---------------------------------------------------------------------------------------------------------------
// Compose

let composeFile;

function validateCompose(file) {
  composeFile = file;
  const [compose] = readYaml(file);
  if (!isObject(compose)) {
    report(file, 'not a mapping');
    return;
  }

  const directory = path.dirname(file);
  const topLevel = new Set(['name', 'services', 'networks', 'volumes', 'configs', 'secrets', 'include', 'version']);
  for (const key of Object.keys(compose)) {
    if (!topLevel.has(key) && !key.startsWith('x-')) report(file, `unknown top-level key "${key}"`);
  }

  const services = compose.services;
  if (!isObject(services) || Object.keys(services).length === 0) {
    report(file, 'services: none defined');
    return;
  }

  const serviceKeys = new Set(['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose',
    'volumes', 'depends_on', 'healthcheck', 'restart', 'networks', 'read_only', 'tmpfs', 'user', 'init', 'shm_size',
    'cap_drop', 'cap_add', 'security_opt', 'stop_grace_period', 'stop_signal', 'labels', 'working_dir', 'profiles',
    'deploy', 'ulimits', 'hostname', 'container_name', 'logging', 'extra_hosts', 'configs', 'secrets', 'mem_limit',
    'cpus', 'pull_policy']);
  const networks = new Set(Object.keys(compose.networks ?? {}));
  const volumes = new Set(Object.keys(compose.volumes ?? {}));
  for (const [name, service] of Object.entries(services)) {
    const where = `${file}: service ${name}`;
    if (!isObject(service)) {
      report(where, 'not a mapping');
      continue;
    }

    for (const key of Object.keys(service)) {
      if (!serviceKeys.has(key) && !key.startsWith('x-')) report(where, `unknown key "${key}"`);
    }

    if (service.image === undefined && service.build === undefined) report(where, 'needs image or build');
    if (service.build !== undefined) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build;
      const context = path.resolve(directory, build.context ?? '.');
      if (!existsSync(context)) report(where, `build context ${build.context} does not exist`);
      const dockerfile = path.resolve(context, build.dockerfile ?? 'Dockerfile');
      if (!existsSync(dockerfile)) report(where, `Dockerfile ${build.dockerfile ?? 'Dockerfile'} does not exist in ${build.context}`);
    }

    const environment = service.environment ?? {};
    const variables = Array.isArray(environment) ? environment.map((e) => [String(e).split('=')[0], '']) : Object.entries(environment);
    for (const [key, value] of variables) {
      if (value !== null && typeof value === 'object') report(where, `environment ${key}: must be a string, number or boolean`);
    }

    const dependsOn = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
    for (const dependency of dependsOn) {
      if (!(dependency in services)) report(where, `depends_on names "${dependency}", which is no service`);
    }

    const serviceNetworks = Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});
    for (const network of serviceNetworks) {
      if (network !== 'default' && !networks.has(network)) report(where, `network "${network}" is not declared`);
    }

    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume?.source;
      if (typeof source !== 'string') continue;
      if (source.startsWith('.') || source.startsWith('/')) {
        if (source.startsWith('.') && !existsSync(path.resolve(directory, source))) report(where, `bind mount ${source} does not exist`);
      } else if (!volumes.has(source)) {
        report(where, `volume "${source}" is not declared`);
      }
    }

    for (const port of service.ports ?? []) {
      if (typeof port === 'string' && !/^(\d{1,3}(\.\d{1,3}){3}:)?(\d+:)?\d+(\/(tcp|udp))?$/.test(port)) report(where, `port "${port}" is malformed`);
    }

    // Prometheus's configuration mounted from this folder: every scrape target must be a service of this file.
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume?.source;
      const target = typeof volume === 'string' ? volume.split(':')[1] : volume?.target;
      if (typeof source === 'string' && /prometheus\.ya?ml$/.test(source) && existsSync(path.resolve(directory, source))) {
        validatePrometheus(path.resolve(directory, source), services, service, target);
      }
    }
  }

  checkRedisStory(file, services);
  if (problems.length === 0) console.log(`compose: ${file} valid (${Object.keys(services).length} services)`);
}

// One story about Redis (deploy/README.md, "Redis"): every Redis that deploy/ starts, compose's and fleet.sh's, keeps
// an append-only file (a restart keeps the lease records) and never evicts (an evicted record refuses its lease).
const REDIS_SETTINGS = [['--appendonly', 'yes'], ['--maxmemory-policy', 'noeviction']];

function checkRedisStory(file, services) {
  for (const [name, service] of Object.entries(services)) {
    if (!/^redis[:@]/.test(String(service?.image))) continue;
    const command = Array.isArray(service.command) ? service.command.map(String) : String(service.command ?? '').split(/\s+/);
    for (const [flag, value] of REDIS_SETTINGS) {
      if (command[command.indexOf(flag) + 1] !== value || !command.includes(flag)) report(`${file}: service ${name}`, `command: ${flag} ${value} (deploy/README.md, "Redis")`);
    }

    const data = (service.volumes ?? []).some((v) => (typeof v === 'string' ? v.split(':')[1] : v?.target) === '/data');
    if (!data) report(`${file}: service ${name}`, 'the append-only file is in /data: mount a volume there, or a new container starts empty');
  }

  const fleet = path.join(path.dirname(file), 'fleet.sh');
  if (!existsSync(fleet)) return;
  const launch = readFileSync(fleet, 'utf8').replace(/\\\n\s*/g, ' ').split('\n').find((line) => /^\s*launch redis redis-server /.test(line));
  if (launch === undefined) {
    report(fleet, 'no `launch redis redis-server …` line to check');
    return;
  }

  for (const [flag, value] of REDIS_SETTINGS) {
    if (!new RegExp(`${flag}\\s+${value}\\b`).test(launch)) report(fleet, `redis-server: ${flag} ${value}, as compose.yaml (deploy/README.md, "Redis")`);
  }
}

// Prometheus's configuration as compose mounts it: every scrape target must be a service of this file, and every rule
// file it names must be mounted beside it in the container (an unmatched rule_files glob loads nothing, silently).
function validatePrometheus(file, services, service, mountedAt) {
  const [config] = readYaml(file);
  const jobs = config?.scrape_configs;
  if (!Array.isArray(jobs) || jobs.length === 0) {
    report(file, 'scrape_configs: none defined');
    return;
  }

  for (const job of jobs) {
    if (typeof job?.job_name !== 'string') report(file, 'a scrape config without job_name');
    for (const group of job?.static_configs ?? []) {
      for (const target of group?.targets ?? []) {
        const host = String(target).split(':')[0];
        if (!(host in services) && host !== 'localhost') report(file, `job ${job.job_name}: target ${target} is no compose service`);
      }
    }
  }

  const mounts = (service.volumes ?? []).map((volume) => (typeof volume === 'string'
    ? { source: volume.split(':')[0], target: volume.split(':')[1] }
    : { source: volume?.source, target: volume?.target }));
  for (const ruleFile of config.rule_files ?? []) {
    const inContainer = path.posix.resolve(path.posix.dirname(mountedAt), String(ruleFile));
    const onHost = path.resolve(path.dirname(file), String(ruleFile));
    const mount = mounts.find((m) => m.target === inContainer);
    if (mount === undefined) {
      report(file, `rule_files: ${ruleFile} is ${inContainer} in the container, which compose does not mount`);
    } else if (path.resolve(path.dirname(composeFile), String(mount.source)) !== onHost) {
      report(file, `rule_files: ${inContainer} is mounted from ${mount.source}, not from ${path.relative(path.dirname(composeFile), onHost)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Monitoring: the metrics the relay exports, and the PromQL that Prometheus's rules and Grafana's dashboard read

// Every series the relay exports at /metrics, as the OpenTelemetry Prometheus exporter names them (the meter
// Bctrl.Relay: src/Bctrl.Relay/Metrics/RelayMetrics.cs, FleetMetrics.cs, Observation/RecordQueue.cs). Taken from a
// scrape of a running relay with Relay:Redis set; `validate.mjs metrics <url|file>` compares a scrape with this
// list, both ways, so that a renamed metric is found here and not by a silent dashboard. A histogram stands for its
// _bucket (with le), _sum and _count series; every series also carries otel_scope_name="Bctrl.Relay".
const RELAY_METRICS = {
  bctrl_relay_attach_attempts_total: { type: 'counter', labels: ['result'] },
  bctrl_relay_attach_closes_total: { type: 'counter', labels: ['reason', 'code'] },
  bctrl_relay_attach_live: { type: 'gauge', labels: [] },
  bctrl_relay_attach_setup_duration_seconds: { type: 'histogram', labels: [] },
  bctrl_relay_io_bytes_total: { type: 'counter', labels: ['direction'] },
  bctrl_relay_frames_total: { type: 'counter', labels: ['direction'] },
  bctrl_relay_messages_total: { type: 'counter', labels: ['direction'] },
  bctrl_relay_buffered_bytes: { type: 'gauge', labels: ['direction'] },
  bctrl_relay_cdp_command_duration_seconds: { type: 'histogram', labels: ['cdp_domain'] },
  bctrl_relay_observation_dropped_total: { type: 'counter', labels: [] },
  bctrl_relay_observation_queued: { type: 'gauge', labels: [] },
  bctrl_relay_revocations_age_seconds: { type: 'gauge', labels: [] },
  bctrl_relay_connections: { type: 'gauge', labels: [] },
  bctrl_relay_connections_limit: { type: 'gauge', labels: [] },
  bctrl_relay_connections_refused_total: { type: 'counter', labels: [] },
  bctrl_relay_io_loop_attaches: { type: 'gauge', labels: ['loop'] },
  bctrl_relay_discovery_refusals_total: { type: 'counter', labels: ['result'] },
  bctrl_relay_build_info: { type: 'gauge', labels: ['version'] },
  // The live view (docs/live-view.md).
  bctrl_relay_live_viewers: { type: 'gauge', labels: [] },
  bctrl_relay_live_frames_total: { type: 'counter', labels: ['result'] },
  bctrl_relay_live_screencasts_total: { type: 'counter', labels: [] },
  bctrl_relay_live_input_total: { type: 'counter', labels: ['result'] },
  // Only with Relay:Redis.
  bctrl_relay_redis_up: { type: 'gauge', labels: ['connection'], redis: true },
  bctrl_relay_revocations_resyncs_total: { type: 'counter', labels: ['reason'], redis: true },
  bctrl_relay_revocations_held: { type: 'gauge', labels: [], redis: true },
  // The OpenTelemetry resource (service_name="bctrl-relay", the SDK, the instance id).
  target_info: { type: 'gauge', labels: ['service_name', 'service_instance_id', 'telemetry_sdk_name', 'telemetry_sdk_language', 'telemetry_sdk_version'], scope: false },
};

// Families of the meters the relay exports beside its own (docs/operations.md): .NET's System.Runtime (dotnet_*) and
// Kestrel's (kestrel_*). Their names follow the .NET release; the scrape comparison leaves them out.
const OTHER_METERS = /^(dotnet|kestrel)_/;

// Series that Prometheus makes for every target.
const PROMETHEUS_METRICS = {
  up: { type: 'gauge', labels: [] },
};

// Series the relay does not export, read by alert rules only (never by the dashboard): the CPU of the relay's
// container, from the kubelet's cAdvisor and from kube-state-metrics, which a Kubernetes Prometheus scrapes anyway.
const EXTERNAL_METRICS = {
  container_cpu_usage_seconds_total: { type: 'counter', labels: ['namespace', 'pod', 'container', 'cpu', 'id', 'image', 'name'], target: false },
  kube_pod_container_resource_limits: { type: 'gauge', labels: ['namespace', 'pod', 'container', 'resource', 'unit', 'node'], target: false },
};

// Labels Prometheus adds to every series of a target: job and instance, the static labels of prometheus.yml, and
// those a Kubernetes scrape job usually copies from the pod.
const TARGET_LABELS = ['job', 'instance', 'fleet', 'namespace', 'pod'];

const RATE_FUNCTIONS = new Set(['Rate', 'Irate', 'Increase', 'Resets']);
const RANGE_FUNCTIONS = new Set(['Rate', 'Irate', 'Increase', 'Resets', 'Delta', 'Idelta', 'Deriv', 'Changes',
  'PredictLinear', 'HoltWinters', 'DoubleExponentialSmoothing', 'AvgOverTime', 'MinOverTime', 'MaxOverTime',
  'SumOverTime', 'CountOverTime', 'QuantileOverTime', 'StddevOverTime', 'StdvarOverTime', 'LastOverTime',
  'PresentOverTime', 'AbsentOverTime', 'MadOverTime']);

// Series name -> { type, labels, metric }, with each histogram expanded into its three series.
function seriesCatalogue(...sets) {
  const series = new Map();
  for (const set of sets) {
    for (const [name, metric] of Object.entries(set)) {
      const labels = [...metric.labels, ...(metric.scope === false || set !== RELAY_METRICS ? [] : ['otel_scope_name']),
        ...(metric.target === false ? [] : TARGET_LABELS)];
      if (metric.type === 'histogram') {
        series.set(`${name}_bucket`, { type: 'counter', labels: [...labels, 'le'], metric: name });
        series.set(`${name}_sum`, { type: 'counter', labels, metric: name });
        series.set(`${name}_count`, { type: 'counter', labels, metric: name });
      } else {
        series.set(name, { type: metric.type, labels, metric: name });
      }
    }
  }

  return series;
}

function editDistance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }

  return row[b.length];
}

function closest(name, names) {
  const [best] = [...names].map((n) => [n, editDistance(name, n)]).sort((x, y) => x[1] - y[1]);
  return best !== undefined && best[1] <= Math.max(3, name.length / 4) ? ` (did you mean ${best[0]}?)` : '';
}

// Parses one PromQL expression with the Prometheus project's own grammar (@prometheus-io/lezer-promql) and checks
// what a grammar cannot: that every metric is one of `series`, every matcher's label one that metric has, every
// grouping label one that some series has, and counters, gauges and ranges are used as such. Returns the labels
// named in by (...) clauses, for the callers' template checks, or undefined when it did not parse.
function checkPromQL(expr, where, series) {
  if (typeof expr !== 'string' || expr.trim() === '') {
    report(where, 'expr: missing');
    return undefined;
  }

  const tree = promqlParser.parse(expr);
  let syntaxError;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError && syntaxError === undefined) syntaxError = node.from;
    },
  });
  if (syntaxError !== undefined) {
    const line = expr.slice(0, syntaxError).split('\n').length;
    const near = expr.slice(Math.max(0, syntaxError - 20), syntaxError + 20).replace(/\s+/g, ' ');
    report(where, `PromQL syntax error at line ${line} of the expression, near "${near}"`);
    return undefined;
  }

  const text = (node) => expr.slice(node.from, node.to);
  const allLabels = new Set([...series.values()].flatMap((s) => s.labels));
  const byLabels = new Set();
  const cursor = tree.cursor();
  do {
    const node = cursor.node;
    if (node.name === 'VectorSelector') {
      const identifier = node.getChild('Identifier');
      if (identifier === null) {
        report(where, `${text(node)}: select metrics by name, not by a {__name__} matcher`);
        continue;
      }

      const name = text(identifier);
      const known = series.get(name);
      if (known === undefined) {
        report(where, `unknown metric ${name}${closest(name, series.keys())}`);
        continue;
      }

      for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = text(matcher.getChild('LabelName'));
        if (!known.labels.includes(label)) report(where, `${name} has no label ${label} (it has ${known.labels.join(', ')})`);
      }
    } else if (node.name === 'GroupingLabels') {
      for (const label of node.getChildren('LabelName').map(text)) {
        if (node.parent?.name === 'AggregateModifier' && node.parent.firstChild?.name === 'By') byLabels.add(label);
        if (!allLabels.has(label)) report(where, `grouping by ${label}, which no series has${closest(label, allLabels)}`);
      }
    } else if (node.name === 'FunctionCall') {
      const fn = node.getChild('FunctionIdentifier')?.firstChild?.name;
      const args = argumentsOf(node);
      if (RANGE_FUNCTIONS.has(fn) && args[0] !== undefined && !['MatrixSelector', 'SubqueryExpr'].includes(args[0].name)) {
        report(where, `${text(node.getChild('FunctionIdentifier'))}() needs a range, like metric[5m], not ${text(args[0])}`);
      }

      if (RATE_FUNCTIONS.has(fn) && args[0]?.name === 'MatrixSelector') {
        const name = text(args[0].getChild('VectorSelector')?.getChild('Identifier') ?? args[0]);
        if (series.get(name)?.type === 'gauge') report(where, `${text(node.getChild('FunctionIdentifier'))}() of ${name}, a gauge: use it as is, or deriv()/delta()`);
      }

      if (fn === 'HistogramQuantile') {
        let grouped = true;
        let bucket = false;
        const inner = args[1];
        if (inner?.name === 'AggregateExpr') {
          const modifier = inner.getChild('AggregateModifier');
          const labels = modifier?.getChild('GroupingLabels')?.getChildren('LabelName').map(text) ?? [];
          grouped = modifier?.firstChild?.name === 'Without' ? !labels.includes('le') : labels.includes('le');
        }

        const sub = inner?.cursor();
        if (sub) {
          do {
            if (sub.name === 'Identifier' && sub.node.parent?.name === 'VectorSelector' && text(sub.node).endsWith('_bucket')) bucket = true;
          } while (sub.next() && sub.from < inner.to);
        }

        if (!grouped) report(where, 'histogram_quantile() over an aggregation that drops le');
        if (!bucket) report(where, 'histogram_quantile() of no _bucket series');
      }
    }
  } while (cursor.next());

  return byLabels;
}

function argumentsOf(call) {
  const body = call.getChild('FunctionCallBody');
  const args = [];
  for (let child = body?.firstChild; child; child = child.nextSibling) {
    if (!['(', ')', ','].includes(child.name)) args.push(child);
  }

  return args;
}

const DURATION = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkStringMap(value, where, field) {
  if (value === undefined) return {};
  if (!isObject(value)) {
    report(where, `${field}: must be a mapping`);
    return {};
  }

  for (const [key, item] of Object.entries(value)) {
    if (!LABEL_NAME.test(key)) report(where, `${field}.${key}: not a valid label name`);
    if (typeof item !== 'string') report(where, `${field}.${key}: must be a string (quote it)`);
  }

  return value;
}

// Alert templates: {{ $labels.x }} must name a label the alert's series can have, {{ $value }} and the humanize
// functions are Prometheus's; the braces must balance.
function checkTemplates(text, where, labels) {
  if ((text.match(/\{\{/g) ?? []).length !== (text.match(/\}\}/g) ?? []).length) report(where, 'unbalanced {{ }} in a template');
  for (const [, label] of text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
    if (!labels.has(label)) report(where, `template reads $labels.${label}, which the expression's result does not have`);
  }
}

// A Prometheus rules file: groups of recording and alerting rules.
function validateRules(file, records) {
  const [rules] = readYaml(file);
  if (!isObject(rules) || !Array.isArray(rules.groups) || rules.groups.length === 0) {
    report(file, 'groups: none defined');
    return;
  }

  for (const key of Object.keys(rules)) if (key !== 'groups') report(file, `unknown top-level key "${key}"`);

  // Recording rules first: an expression may read a rule recorded in another group.
  for (const group of rules.groups) {
    for (const rule of group?.rules ?? []) if (typeof rule?.record === 'string') records.set(rule.record, { type: 'gauge', labels: [...TARGET_LABELS], metric: rule.record });
  }

  // The capacity the alerts assume is the per-pod limit the Kubernetes ConfigMap sets (deploy/README.md, "Sizing").
  const capacity = rules.groups.flatMap((g) => g?.rules ?? []).find((r) => r?.record === 'bctrl_relay:attach_capacity');
  const configMap = path.join(path.dirname(file), '..', 'kubernetes', 'configmap.yaml');
  const limit = existsSync(configMap) ? readYaml(configMap)[0]?.data?.Relay__Limits__MaxAttaches : undefined;
  const recorded = /^\s*vector\((\d+)\)\s*$/.exec(String(capacity?.expr))?.[1];
  if (capacity !== undefined && Number(limit) > 0 && recorded !== limit) {
    report(file, `bctrl_relay:attach_capacity is ${capacity.expr}, but kubernetes/configmap.yaml sets Relay__Limits__MaxAttaches ${limit}`);
  }

  const series = new Map([...seriesCatalogue(RELAY_METRICS, PROMETHEUS_METRICS, EXTERNAL_METRICS), ...records]);
  const groupNames = new Set();
  const alertNames = new Set();
  for (const group of rules.groups) {
    const where = `${file}: group ${group?.name ?? '?'}`;
    if (!isObject(group) || typeof group.name !== 'string' || group.name === '') {
      report(file, 'a group without a name');
      continue;
    }

    if (groupNames.has(group.name)) report(where, 'group name repeated');
    groupNames.add(group.name);
    for (const key of Object.keys(group)) {
      if (!['name', 'interval', 'limit', 'rules', 'query_offset', 'labels'].includes(key)) report(where, `unknown key "${key}"`);
    }

    if (group.interval !== undefined && !DURATION.test(String(group.interval))) report(where, `interval: "${group.interval}" is no duration`);
    if (!Array.isArray(group.rules) || group.rules.length === 0) {
      report(where, 'rules: none defined');
      continue;
    }

    for (const rule of group.rules) {
      const name = rule?.alert ?? rule?.record;
      const at = `${where}: ${rule?.alert !== undefined ? 'alert' : 'record'} ${name ?? '?'}`;
      if (!isObject(rule) || (rule.alert === undefined) === (rule.record === undefined)) {
        report(where, 'a rule needs exactly one of alert and record');
        continue;
      }

      const known = rule.alert !== undefined
        ? ['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']
        : ['record', 'expr', 'labels'];
      for (const key of Object.keys(rule)) if (!known.includes(key)) report(at, `unknown key "${key}"`);

      if (rule.record !== undefined && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(rule.record)) report(at, 'record: not a valid metric name');
      if (rule.record !== undefined && !rule.record.includes(':')) report(at, 'record: name recorded series level:metric:operation, with a colon, so that they are never taken for exported metrics');
      if (rule.alert !== undefined && !/^[A-Za-z][A-Za-z0-9_]*$/.test(rule.alert)) report(at, 'alert: name alerts in CamelCase');
      if (rule.alert !== undefined) {
        if (alertNames.has(rule.alert)) report(at, 'alert name repeated');
        alertNames.add(rule.alert);
      }

      for (const field of ['for', 'keep_firing_for']) {
        if (rule[field] !== undefined && !DURATION.test(String(rule[field]))) report(at, `${field}: "${rule[field]}" is no duration`);
      }

      const byLabels = checkPromQL(rule.expr, at, series);
      const labels = checkStringMap(rule.labels, at, 'labels');
      if (rule.alert === undefined) continue;

      const annotations = checkStringMap(rule.annotations, at, 'annotations');
      if (!['critical', 'warning', 'info'].includes(labels.severity)) report(at, 'labels.severity: critical, warning or info');
      for (const required of ['summary', 'description']) {
        if (typeof annotations[required] !== 'string' || annotations[required].trim() === '') report(at, `annotations.${required}: missing`);
      }

      // Labels an alert can carry: those it keeps by (...), or, with no by clause, any label of any series.
      const available = new Set([...Object.keys(labels),
        ...(byLabels && byLabels.size > 0 ? byLabels : [...series.values()].flatMap((s) => s.labels))]);
      for (const [key, value] of [...Object.entries(annotations), ...Object.entries(labels)]) {
        if (typeof value === 'string') checkTemplates(value, `${at}: ${key}`, available);
      }
    }
  }

  return alertNames;
}

// promtool's unit tests of the rules: shape, and input series of known metrics, so that a test cannot pass on a
// metric that does not exist. promtool itself runs them when installed (validate.sh).
function validateRuleTests(file, config) {
  const directory = path.dirname(file);
  const records = new Map();
  const alerts = new Set();
  for (const ruleFile of config.rule_files ?? []) {
    const resolved = path.join(directory, String(ruleFile));
    if (!existsSync(resolved)) {
      report(file, `rule_files: ${ruleFile} does not exist`);
      continue;
    }

    for (const alert of validateRules(resolved, records) ?? []) alerts.add(alert);
  }

  const series = new Map([...seriesCatalogue(RELAY_METRICS, PROMETHEUS_METRICS, EXTERNAL_METRICS), ...records]);
  if (!Array.isArray(config.tests) || config.tests.length === 0) report(file, 'tests: none defined');
  const tested = new Set();
  for (const [i, test] of (config.tests ?? []).entries()) {
    const where = `${file}: test ${test?.name ?? i}`;
    for (const input of test?.input_series ?? []) checkPromQL(input?.series, `${where}: series`, series);
    for (const check of test?.alert_rule_test ?? []) {
      if (!alerts.has(check?.alertname)) report(where, `alert_rule_test names ${check?.alertname}, which is no alert of the rule files${closest(String(check?.alertname), alerts)}`);
      if (!DURATION.test(String(check?.eval_time))) report(where, `eval_time "${check?.eval_time}" is no duration`);
      if ((check?.exp_alerts ?? []).length > 0) tested.add(check.alertname);
    }

    for (const check of test?.promql_expr_test ?? []) checkPromQL(check?.expr, `${where}: promql_expr_test`, series);
  }

  for (const alert of alerts) if (!tested.has(alert)) report(file, `alert ${alert} has no test that expects it to fire`);
  if (problems.length === 0) console.log(`prometheus: ${file}: ${(config.tests ?? []).length} tests of ${alerts.size} alerts valid`);
}

// prometheus.yml (its shape and rule files), a rules file, or a file of rule tests, told apart by their content.
function validatePrometheusFile(file) {
  const [config] = readYaml(file);
  if (!isObject(config)) {
    report(file, 'not a mapping');
    return;
  }

  if (Array.isArray(config.tests)) {
    validateRuleTests(file, config);
    return;
  }

  if (Array.isArray(config.groups)) {
    const alerts = validateRules(file, new Map());
    if (problems.length === 0) console.log(`prometheus: ${file}: ${alerts?.size ?? 0} alerts valid`);
    return;
  }

  for (const key of Object.keys(config)) {
    if (!['global', 'rule_files', 'scrape_configs', 'alerting', 'remote_write', 'remote_read', 'storage', 'tracing', 'scrape_config_files', 'runtime', 'otlp'].includes(key)) {
      report(file, `unknown top-level key "${key}"`);
    }
  }

  for (const field of ['scrape_interval', 'evaluation_interval', 'scrape_timeout']) {
    const value = config.global?.[field];
    if (value !== undefined && !DURATION.test(String(value))) report(file, `global.${field}: "${value}" is no duration`);
  }

  const jobNames = new Set();
  for (const job of config.scrape_configs ?? []) {
    if (jobNames.has(job?.job_name)) report(file, `job_name ${job?.job_name} repeated`);
    jobNames.add(job?.job_name);
    if (job?.metrics_path !== undefined && job.metrics_path !== '/metrics') report(file, `job ${job.job_name}: the relay serves its metrics at /metrics, not ${job.metrics_path}`);
  }

  if (!jobNames.has('bctrl-relay')) report(file, 'no scrape job named bctrl-relay: the alert BctrlRelayDown selects up{job="bctrl-relay"}');
  if (!Array.isArray(config.rule_files) || config.rule_files.length === 0) report(file, 'rule_files: none, so no alert is ever evaluated');
  const records = new Map();
  let alerts = 0;
  for (const ruleFile of config.rule_files ?? []) {
    const resolved = path.join(path.dirname(file), String(ruleFile));
    if (/[*?[]/.test(String(ruleFile))) continue; // a glob: promtool check config resolves it
    if (!existsSync(resolved)) {
      report(file, `rule_files: ${ruleFile} does not exist beside it`);
      continue;
    }

    alerts += validateRules(resolved, records)?.size ?? 0;
  }

  if (problems.length === 0) console.log(`prometheus: ${file} valid (${jobNames.size} scrape job(s), ${alerts} alerts)`);
}

// ---------------------------------------------------------------------------------------------------------------
// Grafana

const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'gauge', 'bargauge', 'table', 'heatmap', 'state-timeline', 'status-history', 'text', 'piechart', 'histogram']);
const UNITS = new Set(['short', 'none', 's', 'ms', 'Bps', 'bytes', 'ops', 'reqps', 'percent', 'percentunit']);
const GRAFANA_VARIABLES = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms', '__dashboard', '__from', '__to']);

// A dashboard JSON: the layout, the data sources, the variables, and every query as PromQL over the series the
// relay exports (no external series: the dashboard is the relay's own).
function validateDashboard(file) {
  let dashboard;
  try {
    dashboard = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    report(file, `JSON: ${error.message}`);
    return;
  }

  for (const field of ['uid', 'title']) if (typeof dashboard[field] !== 'string' || dashboard[field] === '') report(file, `${field}: missing`);
  if (!Number.isInteger(dashboard.schemaVersion)) report(file, 'schemaVersion: missing');
  if (!Array.isArray(dashboard.panels) || dashboard.panels.length === 0) {
    report(file, 'panels: none');
    return;
  }

  const series = seriesCatalogue(RELAY_METRICS, PROMETHEUS_METRICS);
  const variables = new Map((dashboard.templating?.list ?? []).map((v) => [v?.name, v]));
  const datasourceVariables = [...variables.values()].filter((v) => v?.type === 'datasource');
  for (const v of datasourceVariables) if (v.query !== 'prometheus') report(file, `variable ${v.name}: a datasource variable of type prometheus`);

  // $name, ${name} and ${name:format} must be variables of the dashboard or Grafana's own.
  const checkVariables = (text, where) => {
    for (const [, a, b] of String(text).matchAll(/\$(?:([a-zA-Z_][a-zA-Z0-9_]*)|\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\})/g)) {
      const name = a ?? b;
      if (!variables.has(name) && !GRAFANA_VARIABLES.has(name)) report(where, `uses $${name}, which is no variable of the dashboard`);
    }
  };

  // Grafana replaces its interval variables before Prometheus sees the query; a duration stands in for them here.
  const promql = (expr) => String(expr).replace(/\$\{?__(rate_interval|interval|range)\}?/g, '5m');
  const checkDatasource = (datasource, where) => {
    if (!isObject(datasource)) return;
    if (datasource.type !== undefined && !['prometheus', 'grafana'].includes(datasource.type)) report(where, `datasource type ${datasource.type}: the dashboard reads Prometheus`);
    if (typeof datasource.uid === 'string' && datasource.uid.startsWith('$')) checkVariables(datasource.uid, where);
  };

  for (const variable of variables.values()) {
    const where = `${file}: variable ${variable?.name}`;
    if (variable?.type !== 'query') continue;
    checkDatasource(variable.datasource, where);
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    if (variable.definition !== undefined && variable.definition !== query) report(where, 'definition (what Grafana shows) differs from query (what it runs)');
    const match = /^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(String(query));
    if (match === null) {
      report(where, `query "${query}": label_values(selector, label) expected`);
      continue;
    }

    checkPromQL(match[1], where, series);
    checkVariables(match[1], where);
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(match[1])?.[0];
    if (series.has(name) && !series.get(name).labels.includes(match[2])) report(where, `${name} has no label ${match[2]}`);
  }

  const flat = [];
  for (const panel of dashboard.panels) {
    flat.push(panel);
    for (const inner of panel?.panels ?? []) flat.push(inner);
  }

  const ids = new Set();
  const cells = new Map();
  let queries = 0;
  for (const panel of flat) {
    const where = `${file}: panel ${panel?.id ?? '?'} "${panel?.title ?? ''}"`;
    if (!isObject(panel)) {
      report(file, 'a panel that is not an object');
      continue;
    }

    if (!Number.isInteger(panel.id)) report(where, 'id: missing');
    if (ids.has(panel.id)) report(where, 'id repeated');
    ids.add(panel.id);
    if (!PANEL_TYPES.has(panel.type)) report(where, `type "${panel.type}" is not a panel type this validator knows`);
    if (typeof panel.title !== 'string' || panel.title === '') report(where, 'title: missing');

    const { x, y, w, h } = panel.gridPos ?? {};
    if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) {
      report(where, `gridPos ${JSON.stringify(panel.gridPos)}: integers, within the 24 columns`);
    } else if (!dashboard.panels.some((p) => p.collapsed && p.panels?.includes(panel))) {
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          const other = cells.get(`${row},${column}`);
          if (other !== undefined) report(where, `overlaps panel ${other}`);
          cells.set(`${row},${column}`, panel.id);
        }
      }
    }

    if (panel.type === 'row' || panel.type === 'text') continue;
    checkDatasource(panel.datasource, where);
    const unit = panel.fieldConfig?.defaults?.unit;
    if (unit !== undefined && !UNITS.has(unit)) report(where, `unit "${unit}" is not one this validator knows`);
    if (!Array.isArray(panel.targets) || panel.targets.length === 0) {
      report(where, 'targets: none');
      continue;
    }

    const refIds = new Set();
    for (const target of panel.targets) {
      const at = `${where}: ${target?.refId ?? '?'}`;
      if (refIds.has(target?.refId)) report(at, 'refId repeated');
      refIds.add(target?.refId);
      checkDatasource(target?.datasource, at);
      checkVariables(target?.expr, at);
      const byLabels = checkPromQL(promql(target?.expr), at, series);
      queries++;

      // A legend's {{label}} must survive the query's aggregation.
      const legend = String(target?.legendFormat ?? '');
      for (const [, label] of legend.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) {
        if (byLabels && byLabels.size > 0 && !byLabels.has(label)) report(at, `legend {{${label}}}: the query keeps only ${[...byLabels].join(', ')}`);
      }
    }
  }

  if (problems.length === 0) console.log(`grafana: ${file} valid (${flat.length} panels, ${queries} queries over relay metrics)`);
}

// Grafana provisioning files: a Prometheus data source, and a dashboard provider reading files.
function validateProvisioning(directory) {
  const files = ['datasources', 'dashboards'].flatMap((kind) => {
    const folder = path.join(directory, kind);
    return existsSync(folder) ? readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).map((f) => [kind, path.join(folder, f)]) : [];
  });
  if (files.length === 0) report(directory, 'no datasources/*.yaml or dashboards/*.yaml');
  for (const [kind, file] of files) {
    const [config] = readYaml(file);
    if (config?.apiVersion !== 1) report(file, 'apiVersion: 1');
    if (kind === 'datasources') {
      for (const source of config?.datasources ?? []) {
        if (typeof source?.name !== 'string' || typeof source?.url !== 'string') report(file, 'each data source needs a name and a url');
        if (source?.type !== 'prometheus') report(file, `data source ${source?.name}: type prometheus`);
      }
    } else {
      for (const provider of config?.providers ?? []) {
        if (typeof provider?.name !== 'string') report(file, 'each provider needs a name');
        if (provider?.type !== 'file' || typeof provider?.options?.path !== 'string') report(file, `provider ${provider?.name}: type file with options.path`);
      }
    }
  }

  if (problems.length === 0) console.log(`grafana: ${directory} provisioning valid (${files.length} files)`);
}

// ---------------------------------------------------------------------------------------------------------------
// A scrape of a running relay against RELAY_METRICS, both ways (by hand: validate.sh runs no relay).

async function compareScrape(source) {
  const text = /^https?:\/\//.test(source) ? await (await fetch(source)).text() : readFileSync(source, 'utf8');
  const types = new Map();
  const labels = new Map();
  for (const line of text.split('\n')) {
    let match;
    if ((match = /^# TYPE (\S+) (\S+)/.exec(line))) {
      types.set(match[1], match[2]);
    } else if ((match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line))) {
      const family = [...types.keys()].find((name) => match[1] === name || (types.get(name) === 'histogram' && /^(.*)_(bucket|sum|count)$/.exec(match[1])?.[1] === name)) ?? match[1];
      const names = labels.get(family) ?? new Set();
      for (const [, label] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) if (label !== 'le') names.add(label);
      labels.set(family, names);
    }
  }

  for (const [name, type] of types) {
    // The runtime's (System.Runtime) and Kestrel's own meters, exported beside the relay's: theirs to name.
    if (OTHER_METERS.test(name)) continue;
    const listed = RELAY_METRICS[name];
    if (listed === undefined) {
      report(source, `${name} (${type}) is exported but not in validate.mjs's RELAY_METRICS`);
      continue;
    }

    if (listed.type !== type) report(source, `${name} is a ${type}, RELAY_METRICS says ${listed.type}`);
    const expected = new Set([...listed.labels, ...(listed.scope === false ? [] : ['otel_scope_name'])]);
    const actual = labels.get(name) ?? new Set();
    for (const label of actual) if (!expected.has(label)) report(source, `${name} has label ${label}, not in RELAY_METRICS`);
    for (const label of expected) if (actual.size > 0 && !actual.has(label)) report(source, `${name} has no label ${label}, which RELAY_METRICS lists`);
  }

  const redis = types.has('bctrl_relay_redis_up');
  for (const [name, metric] of Object.entries(RELAY_METRICS)) {
    if (!types.has(name) && (redis || !metric.redis)) report(source, `${name} is in RELAY_METRICS but not exported`);
  }

  if (problems.length === 0) console.log(`metrics: ${source} exports exactly RELAY_METRICS${redis ? '' : ' (no Redis: fleet metrics not checked)'}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Main (last, so that every declaration above is initialised)

const [mode, ...targets] = process.argv.slice(2);
if (mode === 'kubernetes') {
  await validateKubernetes(targets);
} else if (mode === 'dockerfile') {
  // dockerfile <Dockerfile> <build context>
  validateDockerfile(targets[0], targets[1] ?? '.');
} else if (mode === 'compose') {
  for (const file of targets) validateCompose(file);
} else if (mode === 'prometheus') {
  for (const file of targets) validatePrometheusFile(file);
} else if (mode === 'grafana') {
  for (const target of targets) {
    if (statSync(target).isDirectory()) validateProvisioning(target);
    else validateDashboard(target);
  }
} else if (mode === 'metrics') {
  for (const source of targets) await compareScrape(source);
} else {
  console.error('usage: validate.mjs kubernetes <dir|file|->... | compose <file>... | prometheus <prometheus.yml|rules|tests>...');
  console.error('       | grafana <dashboard.json|provisioning dir>... | metrics <http://relay/metrics|file>...');
  process.exit(2);
}

if (problems.length > 0) {
  // A rules file read through prometheus.yml and through its tests reports its problems once.
  const unique = [...new Set(problems)];
  for (const problem of unique) console.error(`INVALID ${problem}`);
  console.error(`${unique.length} problem(s) found.`);
  process.exit(1);
}
