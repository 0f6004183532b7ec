// Offline validation of deploy/ (run it through deploy/validate.sh, which installs this folder's packages).
//
//   node validate.mjs kubernetes <dir|file|->...   every manifest, against the Kubernetes API schemas
//   node validate.mjs compose <compose.yaml>        YAML, the Compose shape, and the files it refers to
//
// Kubernetes schemas, all shipped inside npm packages, nothing fetched at run time:
//  - kubernetes-models: the API's OpenAPI definitions compiled to JSON-schema validators (types, required
//    fields, enums, formats). The API's schemas do not forbid unknown fields (the API server drops or rejects
//    them depending on its field validation mode), so on their own they let `readinesProbe:` through.
//  - @kubernetes/client-node: the same OpenAPI definitions as a property list per type; a field that is not in
//    the list is reported, as `kubectl apply --validate=strict` would.
// Then checks across the set that a schema cannot make: selectors that match the pod template, references to
// Secrets, ConfigMaps, ports and the scale target that exist, and the drain budget of the relay's Deployment.
// Exits 1 when anything is wrong, printing one line per problem.

import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import * as openapiTypes from '@kubernetes/client-node/dist/gen/models/all.js';

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

  for (const { file, object } of objects) await validateObject(file, object);
  crossCheck(objects);
  if (problems.length === 0) {
    const files = new Set(objects.map((o) => o.file)).size;
    console.log(`kubernetes: ${objects.length} objects in ${files} source(s) valid`);
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

  // 2. Unknown fields, from the OpenAPI property lists.
  const typeName = openapiTypeName(object.apiVersion, object.kind);
  if (typeName === undefined) {
    report(where, `no property list for ${object.apiVersion} ${object.kind}`);
    return;
  }

  checkFields(object, typeName, '', where);
}

const modelModules = new Map();

async function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const specifier = group === '' ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
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

function pointerToPath(pointer) {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '');
}

function validateKustomization(file) {
  const [kustomization] = readYaml(file);
  if (!isObject(kustomization)) {
    report(file, 'not a mapping');
    return;
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
// Compose

function validateCompose(file) {
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
      if (typeof source === 'string' && /prometheus\.ya?ml$/.test(source) && existsSync(path.resolve(directory, source))) {
        validatePrometheus(path.resolve(directory, source), services);
      }
    }
  }

  if (problems.length === 0) console.log(`compose: ${file} valid (${Object.keys(services).length} services)`);
}

function validatePrometheus(file, services) {
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
}

// ---------------------------------------------------------------------------------------------------------------
// Main (last, so that every declaration above is initialised)

const [mode, ...targets] = process.argv.slice(2);
if (mode === 'kubernetes') {
  await validateKubernetes(targets);
} else if (mode === 'compose') {
  for (const file of targets) validateCompose(file);
} else {
  console.error('usage: validate.mjs kubernetes <dir|file|->... | compose <file>...');
  process.exit(2);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`INVALID ${problem}`);
  console.error(`${problems.length} problem(s) found.`);
  process.exit(1);
}
