/**
 * Every route of the runtools API this SDK calls, in one table. All
 * requests go through it (no other file names a path), so the drift test
 * (test/openapi.test.mjs) can check it against api/openapi.yaml: each
 * route here is in the OpenAPI file, and each operation there is here or
 * in the test's list of deliberate omissions.
 */

/** One API operation: an HTTP method and an OpenAPI path template. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
}

function route(method: Route['method'], path: string): Route {
  return { method, path };
}

export const routes = {
  me: route('GET', '/v1/me'),

  createSandbox: route('POST', '/v1/sandboxes'),
  listSandboxes: route('GET', '/v1/sandboxes'),
  getSandbox: route('GET', '/v1/sandboxes/{ref}'),
  updateSandbox: route('PATCH', '/v1/sandboxes/{ref}'),
  setEgress: route('PUT', '/v1/sandboxes/{ref}/egress'),
  destroySandbox: route('DELETE', '/v1/sandboxes/{ref}'),
  pause: route('POST', '/v1/sandboxes/{ref}/pause'),
  resume: route('POST', '/v1/sandboxes/{ref}/resume'),
  stop: route('POST', '/v1/sandboxes/{ref}/stop'),
  start: route('POST', '/v1/sandboxes/{ref}/start'),
  events: route('GET', '/v1/sandboxes/{ref}/events'),

  takeSnapshot: route('POST', '/v1/sandboxes/{ref}/snapshots'),
  listSnapshots: route('GET', '/v1/sandboxes/{ref}/snapshots'),
  deleteSnapshot: route('DELETE', '/v1/sandboxes/{ref}/snapshots/{snap}'),
  rollback: route('POST', '/v1/sandboxes/{ref}/rollback'),
  fork: route('POST', '/v1/sandboxes/{ref}/fork'),
  saveSandbox: route('POST', '/v1/sandboxes/{ref}/save'),
  moveSandbox: route('POST', '/v1/sandboxes/{ref}/move'),

  expose: route('POST', '/v1/sandboxes/{ref}/ports'),
  unexpose: route('DELETE', '/v1/sandboxes/{ref}/ports/{port}'),
  signedLink: route('POST', '/v1/sandboxes/{ref}/links'),

  watchSandbox: route('GET', '/v1/sandboxes/{ref}/watch'),
  watchTeam: route('GET', '/v1/watch'),

  screenshot: route('GET', '/v1/sandboxes/{ref}/computer/screenshot'),
  screenSize: route('GET', '/v1/sandboxes/{ref}/computer/screen'),
  cursor: route('GET', '/v1/sandboxes/{ref}/computer/cursor'),
  windows: route('GET', '/v1/sandboxes/{ref}/computer/windows'),
  computerAction: route('POST', '/v1/sandboxes/{ref}/computer/actions'),

  exec: route('POST', '/v1/sandboxes/{ref}/exec'),
  execAttach: route('GET', '/v1/sandboxes/{ref}/exec/attach'),
  runCode: route('POST', '/v1/sandboxes/{ref}/code'),
  createCodeContext: route('POST', '/v1/sandboxes/{ref}/code/contexts'),
  listCodeContexts: route('GET', '/v1/sandboxes/{ref}/code/contexts'),
  deleteCodeContext: route('DELETE', '/v1/sandboxes/{ref}/code/contexts/{id}'),
  restartCodeContext: route('POST', '/v1/sandboxes/{ref}/code/contexts/{id}/restart'),
  startProcess: route('POST', '/v1/sandboxes/{ref}/processes'),
  listProcesses: route('GET', '/v1/sandboxes/{ref}/processes'),
  processOutput: route('GET', '/v1/sandboxes/{ref}/processes/{pid}/output'),
  signalProcess: route('POST', '/v1/sandboxes/{ref}/processes/{pid}/signal'),
  processStdin: route('POST', '/v1/sandboxes/{ref}/processes/{pid}/stdin'),

  readFile: route('GET', '/v1/sandboxes/{ref}/files'),
  writeFile: route('PUT', '/v1/sandboxes/{ref}/files'),
  removeFile: route('DELETE', '/v1/sandboxes/{ref}/files'),
  statFile: route('GET', '/v1/sandboxes/{ref}/files/stat'),
  listFiles: route('GET', '/v1/sandboxes/{ref}/files/list'),
  mkdir: route('POST', '/v1/sandboxes/{ref}/files/mkdir'),
  readArchive: route('GET', '/v1/sandboxes/{ref}/files/archive'),
  writeArchive: route('PUT', '/v1/sandboxes/{ref}/files/archive'),

  createVolume: route('POST', '/v1/volumes'),
  listVolumes: route('GET', '/v1/volumes'),
  getVolume: route('GET', '/v1/volumes/{ref}'),
  removeVolume: route('DELETE', '/v1/volumes/{ref}'),
  readVolumeFile: route('GET', '/v1/volumes/{ref}/files'),
  writeVolumeFile: route('PUT', '/v1/volumes/{ref}/files'),
  removeVolumeFile: route('DELETE', '/v1/volumes/{ref}/files'),
  statVolumeFile: route('GET', '/v1/volumes/{ref}/files/stat'),
  listVolumeFiles: route('GET', '/v1/volumes/{ref}/files/list'),
  mkdirVolume: route('POST', '/v1/volumes/{ref}/files/mkdir'),

  listSshKeys: route('GET', '/v1/ssh-keys'),
  addSshKey: route('POST', '/v1/ssh-keys'),
  removeSshKey: route('DELETE', '/v1/ssh-keys/{ref}'),

  listWebhooks: route('GET', '/v1/webhooks'),
  createWebhook: route('POST', '/v1/webhooks'),
  removeWebhook: route('DELETE', '/v1/webhooks/{id}'),
  webhookDeliveries: route('GET', '/v1/webhooks/{id}/deliveries'),

  listTemplates: route('GET', '/v1/templates'),
  getTemplate: route('GET', '/v1/templates/{name}'),
  removeTemplate: route('DELETE', '/v1/templates/{name}'),
  updateTemplate: route('PATCH', '/v1/templates/{name}'),
  templateHistory: route('GET', '/v1/templates/{name}/history'),
  buildTemplate: route('POST', '/v1/templates/{name}/build'),

  listTeams: route('GET', '/v1/teams'),
  createTeam: route('POST', '/v1/teams'),
  getTeam: route('GET', '/v1/teams/{name}'),
  updateTeam: route('PATCH', '/v1/teams/{name}'),
  usage: route('GET', '/v1/usage'),
  listNodes: route('GET', '/v1/nodes'),
  setNodeState: route('PATCH', '/v1/nodes/{name}'),
  drainNode: route('POST', '/v1/nodes/{name}/drain'),
  listKeys: route('GET', '/v1/keys'),
  createKey: route('POST', '/v1/keys'),
  deleteKey: route('DELETE', '/v1/keys/{ref}'),
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof routes;
