// The runtools dashboard: log in with an API key, list sandboxes with live
// CPU and memory, create one, and open one for its charts, URLs, terminal,
// desktop, network and egress policy, snapshots, lifecycle buttons and
// save-as-template; list, build and manage templates (templates.ts); see
// the team's use of its quotas (usage.ts).
// Routes live in the URL's hash.
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { api, ApiError, key, setKey, watch, type Egress, type Metrics, type Sandbox } from './api';
import { Chart } from './chart';
import { errorBox, h, megabytes, show } from './dom';
import { openDesktop, type Desktop } from './desktop';
import { buildPage, templatePage, templatesPage } from './templates';
import { usagePage } from './usage';
import { openTerminal } from './terminal';

let leave: (() => void)[] = []; // what the current page must stop when left

// egressFields builds the inputs of an egress policy: its default and its
// allow and deny lists, one rule per line; policy() reads them back.
function egressFields(): { el: HTMLElement; set: (e?: Egress) => void; policy: () => Required<Egress> } {
  const def = h('select', { name: 'egress-default' },
    h('option', { value: 'allow' }, 'allow (all but the deny rules)'), h('option', { value: 'deny' }, 'deny (only the allow rules)'));
  const rules = (name: string) => h('textarea', { name, rows: 3, placeholder: 'one per line: api.github.com, *.pypi.org, 10.0.0.0/8' });
  const allow = rules('egress-allow'), deny = rules('egress-deny');
  const lines = (t: HTMLTextAreaElement) => t.value.split('\n').map((l) => l.trim()).filter(Boolean);
  return {
    el: h('div', { className: 'egress' }, h('label', {}, 'Default ', def), h('label', {}, 'Allow ', allow), h('label', {}, 'Deny ', deny)),
    set: (e) => { def.value = e?.default ?? 'allow'; allow.value = (e?.allow ?? []).join('\n'); deny.value = (e?.deny ?? []).join('\n'); },
    policy: () => ({ default: def.value === 'deny' ? 'deny' : 'allow', allow: lines(allow), deny: lines(deny) }),
  };
}

// egressText says an egress policy in plain words.
function egressText(e?: Egress): string {
  const allow = e?.allow ?? [], deny = e?.deny ?? [];
  const deniedByDefault = e?.default === 'deny';
  if (!allow.length && !deny.length) return deniedByDefault ? 'Egress: denied everywhere outside the team' : 'Egress: allowed everywhere';
  return [`Egress: ${deniedByDefault ? 'denied' : 'allowed'} by default`,
    ...(allow.length ? [`allowed: ${allow.join(', ')}`] : []), ...(deny.length ? [`denied: ${deny.join(', ')}`] : [])].join('; ');
}

async function route(): Promise<void> {
  leave.forEach((f) => f());
  leave = [];
  const who = document.getElementById('who')!;
  const logout = document.getElementById('logout')!;
  if (!key()) { who.textContent = ''; logout.hidden = true; return login(); }
  try {
    who.textContent = `team ${(await api.me()).team}`;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { setKey(''); return login('That key was not accepted.'); }
  }
  logout.hidden = false;
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const [page, ref] = path.split('/');
  if (page === 'sandbox' && ref) return sandboxPage(decodeURIComponent(ref));
  if (page === 'new') return createPage(new URLSearchParams(query).get('template') ?? 'base');
  if (page === 'templates') return templatesPage();
  if (page === 'template' && ref) return templatePage(decodeURIComponent(ref));
  if (page === 'build') return buildPage(ref ? decodeURIComponent(ref) : '');
  if (page === 'usage') return usagePage();
  return listPage();
}

function login(message = ''): void {
  const input = h('input', { type: 'password', name: 'key', placeholder: 'rt_…', autocomplete: 'off', required: true });
  const form = h('form', { className: 'card' }, h('h1', {}, 'Log in'),
    h('label', {}, 'API key ', input), h('button', { type: 'submit' }, 'Log in'), h('p', { className: 'error' }, message));
  form.onsubmit = (e) => { e.preventDefault(); setKey(input.value.trim()); location.hash = '#/'; route(); };
  show(form);
}

async function listPage(): Promise<void> {
  const err = errorBox();
  const body = h('tbody');
  show(h('h1', {}, 'Sandboxes ', h('a', { href: '#/new', className: 'button' }, 'New sandbox')), err.el,
    h('table', {}, h('thead', {}, h('tr', {}, ...['Name', 'ID', 'Template', 'State', 'CPU', 'Memory'].map((t) => h('th', {}, t)))), body));
  const ctl = new AbortController();
  leave.push(() => ctl.abort());
  // The last metrics of each running sandbox, from the team's one stream:
  // status changes and, every second, the metrics of every running sandbox.
  const last = new Map<string, Metrics>();
  const fill = (row: Element | null, m: Metrics | undefined) => {
    if (!row) return;
    row.querySelector('.cpu')!.textContent = m ? `${m.cpu_percent.toFixed(1)} %` : '–';
    row.querySelector('.mem')!.textContent = m ? `${m.mem_percent.toFixed(1)} %` : '–';
  };
  const refresh = () => err.run(async () => {
    const list = await api.list();
    body.replaceChildren(...list.map((s) => h('tr', { 'data-id': s.id },
      h('td', {}, h('a', { href: `#/sandbox/${s.id}` }, s.name || s.id)), h('td', {}, s.id), h('td', {}, s.template),
      h('td', {}, h('span', { className: `state ${s.state}` }, s.state)), h('td', { className: 'cpu' }, '–'), h('td', { className: 'mem' }, '–'))));
    for (const s of list) {
      if (s.state === 'running') fill(body.querySelector(`tr[data-id="${s.id}"]`), last.get(s.id));
      else last.delete(s.id);
    }
  });
  await refresh();
  let pending = 0;
  watch('', (ev) => {
    if (ev.metrics) {
      last.set(ev.metrics.sandbox_id, ev.metrics);
      fill(body.querySelector(`tr[data-id="${ev.metrics.sandbox_id}"]`), ev.metrics);
    }
    if (ev.status) {
      if (ev.status.state !== 'running') last.delete(ev.status.sandbox_id);
      clearTimeout(pending);
      pending = window.setTimeout(refresh, 300);
    }
  }, ctl.signal, { metrics: true });
}

async function createPage(template: string): Promise<void> {
  const err = errorBox();
  const tpl = h('select', { name: 'template' });
  const num = (name: string, value: number, min: number) => h('input', { type: 'number', name, value: String(value), min: String(min) });
  const name = h('input', { name: 'name', placeholder: 'optional' });
  const vcpus = num('vcpus', 2, 1), memory = num('memory', 1024, 128), idle = num('idle', 600, 0);
  const egress = egressFields();
  const form = h('form', { className: 'card' }, h('h1', {}, 'New sandbox'),
    h('label', {}, 'Name ', name), h('label', {}, 'Template ', tpl), h('label', {}, 'vCPUs ', vcpus),
    h('label', {}, 'Memory (MB) ', memory), h('label', {}, 'Idle timeout (s, 0 = never) ', idle),
    h('details', {}, h('summary', {}, 'Egress'), egress.el),
    h('button', { type: 'submit' }, 'Create'), err.el);
  show(form);
  await err.run(async () => {
    const list = await api.templates();
    tpl.replaceChildren(...list.map((t) => h('option', { value: t.name, disabled: t.status !== 'ready' }, `${t.name} — ${t.description}`)));
    tpl.value = list.find((t) => t.name === template)?.name ?? list[0]?.name ?? '';
  });
  form.onsubmit = (e) => {
    e.preventDefault();
    err.run(async () => {
      form.querySelector('button')!.disabled = true;
      try {
        // Left as it is (allow, no rules), the egress is the server's default: not sent.
        const eg = egress.policy();
        const untouched = eg.default === 'allow' && !eg.allow.length && !eg.deny.length;
        const sb = await api.create({ name: name.value || undefined, template: tpl.value, vcpus: +vcpus.value, memory_mb: +memory.value, idle_timeout: +idle.value,
          egress: untouched ? undefined : eg });
        location.hash = `#/sandbox/${sb.id}`;
      } finally { form.querySelector('button')!.disabled = false; }
    });
  };
}

async function sandboxPage(ref: string): Promise<void> {
  const err = errorBox();
  let sb: Sandbox;
  try { sb = await api.get(ref); } catch (e) { show(h('p', { className: 'error' }, String(e instanceof Error ? e.message : e))); return; }
  const state = h('span', { className: `state ${sb.state}`, id: 'state' }, sb.state);
  const action = (label: string, f: () => Promise<unknown>) =>
    h('button', { onclick: () => err.run(async () => { await f(); await reload(); }) }, label);
  const cpu = new Chart('CPU', ' %'), mem = new Chart('Memory', ' %');
  const urls = h('ul', { className: 'urls' });
  const snaps = h('tbody');
  const snapName = h('input', { placeholder: 'snapshot name (optional)' });
  const saveName = h('input', { name: 'save-as', placeholder: 'template name' });
  const termEl = h('div', { className: 'terminal', id: 'terminal' });
  const desktop = h('div', { className: 'desktop' });
  let screen: Desktop | undefined;
  // The network panel: the sandbox's address and names in its team's
  // network, its egress policy, and an editor for it whose errors (a bad
  // rule) show beside it, leaving what was typed.
  const netInfo = h('p', { className: 'meta', id: 'network-info' });
  const egressNow = h('p', { id: 'egress' });
  const egress = egressFields();
  const egressErr = errorBox();
  const egressForm = h('form', { className: 'card' }, egress.el, h('button', { type: 'submit' }, 'Save'), egressErr.el);
  const showNetwork = () => {
    const names = [...(sb.name ? [`${sb.name}.internal`] : []), `${sb.id}.internal`];
    netInfo.textContent = `IP ${sb.ip || '–'} · in the team's network as ${names.join(', ')}`;
    egressNow.textContent = egressText(sb.egress);
  };
  showNetwork();
  egress.set(sb.egress);
  egressForm.onsubmit = (e) => {
    e.preventDefault();
    egressErr.run(async () => {
      egressForm.querySelector('button')!.disabled = true;
      try {
        sb = await api.setEgress(sb.id, egress.policy());
        egress.set(sb.egress);
        showNetwork();
      } finally { egressForm.querySelector('button')!.disabled = false; }
    });
  };
  show(
    h('h1', {}, sb.name || sb.id, ' ', state),
    h('p', { className: 'meta' }, `${sb.id} · ${sb.template} · ${sb.vcpus} vCPU · ${sb.memory_mb} MB · ${sb.disk ?? 'durable'} disk · idle timeout ${sb.idle_timeout || 'never'}${sb.idle_timeout ? ' s' : ''}`),
    h('div', { className: 'actions' },
      action('Pause', () => api.pause(sb.id)), action('Resume', () => api.resume(sb.id)),
      action('Stop', () => api.stop(sb.id)), action('Start', () => api.start(sb.id)),
      h('button', { className: 'danger', onclick: () => confirm(`Destroy ${sb.name || sb.id}?`) && err.run(async () => { await api.destroy(sb.id); location.hash = '#/'; }) }, 'Destroy')),
    err.el,
    h('section', {}, h('h2', {}, 'Metrics'), h('div', { className: 'charts' }, cpu.canvas, mem.canvas)),
    h('section', {}, h('h2', {}, 'Terminal'), termEl),
    desktop,
    h('section', {}, h('h2', {}, 'Dev-server URLs'), urls),
    h('section', { id: 'network' }, h('h2', {}, 'Network'), netInfo, egressNow, egressForm),
    h('section', {}, h('h2', {}, 'Snapshots'),
      h('div', { className: 'actions' }, snapName, action('Take snapshot', async () => { await api.snapshot(sb.id, snapName.value); snapName.value = ''; })),
      h('table', {}, h('thead', {}, h('tr', {}, ...['Name', 'Size', 'Taken', ''].map((t) => h('th', {}, t)))), snaps)),
    h('section', {}, h('h2', {}, 'Save as a template'),
      h('p', { className: 'meta' }, 'Its files become the next version of a template of your team; the sandbox runs on.'),
      h('div', { className: 'actions' }, saveName, Object.assign(action('Save as template', async () => {
        const t = await api.save(sb.id, saveName.value.trim());
        location.hash = `#/template/${encodeURIComponent(t.name)}`;
      }), { id: 'save-template' }))),
  );
  const reload = async () => {
    sb = await api.get(sb.id);
    state.textContent = sb.state;
    state.className = `state ${sb.state}`;
    showNetwork();
    // A private sandbox's URLs need its access token: a signed link has it.
    const open = (port: number) => err.run(async () => { window.open((await api.link(sb.id, port)).url, '_blank', 'noopener'); });
    urls.replaceChildren(...(sb.urls ?? []).map((u) => h('li', {}, `${u.port}: `, h('a', { href: u.url, target: '_blank', rel: 'noopener' }, u.url),
      ' ', h('button', { onclick: () => open(u.port), title: 'Open with a signed link that expires in an hour' }, 'Open signed link'))));
    const list = await api.snapshots(sb.id);
    snaps.replaceChildren(...list.map((s) => h('tr', {}, h('td', {}, s.name), h('td', {}, megabytes(s.size_bytes)),
      h('td', {}, new Date(s.created_at).toLocaleString()),
      h('td', {}, action('Roll back', () => confirm(`Roll back to ${s.name}?`) ? api.rollback(sb.id, s.name) : Promise.resolve()),
        h('button', { onclick: () => err.run(async () => { const f = await api.fork(sb.id, s.name, ''); location.hash = `#/sandbox/${f.id}`; }) }, 'Fork')))));
  };
  await err.run(reload);
  const ctl = new AbortController();
  leave.push(() => ctl.abort());
  watch(sb.id, (ev) => {
    if (ev.metrics) { cpu.push(ev.metrics.cpu_percent); mem.push(ev.metrics.mem_percent); }
    if (ev.status) {
      state.textContent = ev.status.state;
      state.className = `state ${ev.status.state}`;
      if (ev.status.vnc_ready) showDesktop();
    }
  }, ctl.signal);
  if (sb.state !== 'stopped' && sb.state !== 'destroyed') leave.push(openTerminal(termEl, sb.id));
  // A desktop sandbox's desktop, drawn here by noVNC over the API's VNC
  // WebSocket once it is up; its own noVNC page (port 6901) opens in a tab
  // with a signed link.
  function showDesktop(): void {
    if (!sb.desktop) return;
    if (screen) { screen.connect(); return; }
    const el = h('div', { className: 'screen', id: 'desktop' });
    const note = h('span', { className: 'meta', id: 'desktop-note' });
    const connect = h('button', { onclick: () => screen?.connect(), id: 'desktop-connect', disabled: true }, 'Connect');
    const tab = () => err.run(async () => { window.open((await api.link(sb.id, 6901)).url, '_blank'); });
    desktop.replaceChildren(h('h2', {}, 'Desktop'),
      h('div', { className: 'actions' }, connect, h('button', { onclick: tab, id: 'desktop-tab' }, 'Open in a new tab'), note),
      el);
    screen = openDesktop(el, sb.id, (state, text) => { note.textContent = text; connect.disabled = state !== 'disconnected'; });
    leave.push(() => screen?.close());
  }
  if (sb.vnc_ready) showDesktop();
}

document.getElementById('logout')!.onclick = () => { setKey(''); location.hash = '#/'; route(); };
window.addEventListener('hashchange', route);
route();
