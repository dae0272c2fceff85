// The dashboard's template pages: every template the team may use, one
// template's versions, layers and Dockerfile, and a form that builds a
// template from a Dockerfile (with files for its context) or an image,
// showing the build's steps as they run.
import { api, build, type BuildProgress, type Template } from './api';
import { errorBox, h, megabytes, show } from './dom';
import { tarOf } from './tar';

const when = (t?: string) => (t ? new Date(t).toLocaleString() : '–');
const kind = (t: Template) => (t.custom ? (t.public ? 'custom, public' : 'custom') : 'built in');

// templatesPage lists the templates: built in, the team's own, and those
// other teams made public.
export async function templatesPage(): Promise<void> {
  const err = errorBox();
  const body = h('tbody');
  show(h('h1', {}, 'Templates ', h('a', { href: '#/build', className: 'button' }, 'Build a template')), err.el,
    h('table', {}, h('thead', {}, h('tr', {}, ...['Name', 'Kind', 'Version', 'Status', 'Size', 'Built'].map((t) => h('th', {}, t)))), body));
  await err.run(async () => {
    const list = await api.templates();
    body.replaceChildren(...list.map((t) => h('tr', { 'data-name': t.name },
      h('td', {}, h('a', { href: `#/template/${encodeURIComponent(t.name)}` }, t.name)), h('td', {}, kind(t)),
      h('td', {}, t.version ? String(t.version) : '–'), h('td', {}, h('span', { className: `state ${t.status}` }, t.status)),
      h('td', {}, t.size_bytes ? megabytes(t.size_bytes) : '–'), h('td', {}, when(t.built_at)))));
  });
}

// templatePage shows one template: what it has, and for a custom one its
// config, layers, Dockerfile and versions, with its buttons.
export async function templatePage(name: string): Promise<void> {
  const err = errorBox();
  let t: Template;
  try { t = await api.template(name); } catch (e) { show(h('p', { className: 'error' }, e instanceof Error ? e.message : String(e))); return; }
  const tracked = (t.tracked ?? []).map((p) => `${p} ${t.packages?.[p] ?? '?'}`).join(', ');
  const sections: Node[] = [
    h('h1', {}, t.name, ' ', h('span', { className: `state ${t.status}`, id: 'template-status' }, t.status)),
    h('p', { className: 'meta' }, [t.description, kind(t), t.version ? `version ${t.version}` : '', t.size_bytes ? megabytes(t.size_bytes) : '',
      `built ${when(t.built_at)}`, t.built_by ? `by ${t.built_by}` : ''].filter(Boolean).join(' · ')),
    ...(tracked ? [h('p', { className: 'meta' }, `Has ${tracked}`)] : []),
    ...(t.error ? [h('p', { className: 'error' }, t.error)] : []),
    h('div', { className: 'actions' }, h('a', { className: 'button', href: `#/new?template=${encodeURIComponent(t.name)}` }, 'New sandbox'),
      ...(t.custom ? customActions(t, err.run) : [])),
    err.el,
  ];
  if (t.custom) sections.push(...await customSections(t));
  show(...sections);
}

function customActions(t: Template, run: (f: () => Promise<unknown>) => Promise<void>): Node[] {
  return [
    h('a', { className: 'button', href: `#/build/${encodeURIComponent(t.name)}` }, 'Rebuild'),
    h('button', { id: 'template-public', onclick: () => run(async () => { await api.setPublic(t.name, !t.public); await templatePage(t.name); }) },
      t.public ? 'Make private' : 'Make public'),
    h('button', { className: 'danger', onclick: () => confirm(`Remove every version of ${t.name}?`) &&
      run(async () => { await api.removeTemplate(t.name); location.hash = '#/templates'; }) }, 'Remove'),
  ];
}

async function customSections(t: Template): Promise<Node[]> {
  const c = t.config ?? {};
  const facts: [string, string | undefined][] = [['From', t.from], ['Workdir', c.workdir], ['User', c.user],
    ['Entrypoint', c.entrypoint?.join(' ')], ['Cmd', c.cmd?.join(' ')], ['Ports', c.ports?.join(', ')], ['Env', c.env?.join('\n')]];
  const versions = await api.history(t.name).catch(() => [] as Template[]);
  return [
    h('section', {}, h('h2', {}, 'Config'), h('table', {}, h('tbody', {},
      ...facts.filter(([, v]) => v).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { className: 'pre' }, v!)))))),
    h('section', {}, h('h2', {}, 'Layers'), h('table', { id: 'layers' }, h('tbody', {},
      ...(t.layers ?? []).map((l) => h('tr', {}, h('td', { className: 'pre' }, l.created_by), h('td', {}, megabytes(l.size_bytes))))))),
    ...(t.dockerfile ? [h('section', {}, h('h2', {}, 'Dockerfile'), h('pre', { className: 'code', id: 'dockerfile' }, t.dockerfile))] : []),
    h('section', {}, h('h2', {}, 'Versions'), h('table', { id: 'versions' }, h('tbody', {},
      ...versions.map((v) => h('tr', {}, h('td', {}, `version ${v.version}`), h('td', {}, megabytes(v.size_bytes)),
        h('td', {}, when(v.built_at)), h('td', {}, v.built_by ?? '')))))),
  ];
}

// buildPage builds a template, a new one or (with name) the next version
// of one, from a Dockerfile and context files or from an image.
export async function buildPage(name = ''): Promise<void> {
  const err = errorBox();
  const nameIn = h('input', { name: 'template-name', value: name, required: true, pattern: '[a-z0-9][a-z0-9\\-]*', placeholder: 'my-env' });
  const source = h('select', { name: 'source' }, h('option', { value: 'dockerfile' }, 'a Dockerfile'), h('option', { value: 'image' }, 'an image'));
  const dockerfile = h('textarea', { name: 'dockerfile', rows: 12, value: 'FROM base\nRUN apt-get update && apt-get install -y --no-install-recommends jq\n' });
  const files = h('input', { type: 'file', name: 'context', multiple: true });
  const image = h('input', { name: 'image', placeholder: 'python:3.12-slim' });
  const args = h('textarea', { name: 'build-args', rows: 2, placeholder: 'one NAME=value per line' });
  const noCache = h('input', { type: 'checkbox', name: 'no-cache' });
  const fromFile = h('fieldset', {}, h('label', {}, 'Dockerfile ', dockerfile), h('label', {}, 'Context files ', files),
    h('label', {}, 'Build args ', args), h('label', {}, 'Run every step again ', noCache));
  const fromImage = h('fieldset', { hidden: true }, h('label', {}, 'Image ', image));
  source.onchange = () => { fromFile.hidden = source.value !== 'dockerfile'; fromImage.hidden = !fromFile.hidden; };
  const submit = h('button', { type: 'submit' }, 'Build');
  const form = h('form', { className: 'card wide' }, h('h1', {}, name ? `Rebuild ${name}` : 'Build a template'),
    h('label', {}, 'Name ', nameIn), h('label', {}, 'From ', source), fromFile, fromImage, submit, err.el);
  const bar = h('progress', { id: 'build-progress', max: 1, value: 0 });
  const log = h('pre', { className: 'code', id: 'build-log' });
  const result = h('p', { id: 'build-result' });
  show(form, h('section', {}, h('h2', {}, 'Progress'), bar, log, result));
  if (name) await err.run(async () => { dockerfile.value = (await api.template(name)).dockerfile ?? dockerfile.value; });
  form.onsubmit = (e) => {
    e.preventDefault();
    submit.disabled = true;
    log.textContent = '';
    result.replaceChildren();
    err.run(async () => {
      const q = new URLSearchParams();
      let body: Uint8Array<ArrayBuffer> | undefined;
      if (source.value === 'image') q.set('image', image.value.trim());
      else {
        for (const kv of args.value.split('\n').map((l) => l.trim()).filter(Boolean)) q.append('build_arg', kv);
        if (noCache.checked) q.set('no_cache', 'true');
        body = tarOf([{ name: 'Dockerfile', data: new TextEncoder().encode(dockerfile.value) },
          ...await Promise.all([...files.files ?? []].map(async (f) => ({ name: f.name, data: new Uint8Array(await f.arrayBuffer()) })))]);
      }
      const last = await build(nameIn.value.trim(), q, body, progressShower(bar, log));
      if (last.error) throw new Error(last.error);
      const n = nameIn.value.trim();
      result.replaceChildren(`${last.step} in ${(last.elapsed_ms / 1000).toFixed(1)} s · `,
        h('a', { href: `#/template/${encodeURIComponent(n)}` }, `open ${n}`), ' · ',
        h('a', { href: `#/new?template=${encodeURIComponent(n)}` }, 'new sandbox from it'));
    }).finally(() => { submit.disabled = false; });
  };
}

// progressShower shows each step of a build once, as it comes, and the
// lines it prints under it, moving the bar on to the step that runs.
function progressShower(bar: HTMLProgressElement, log: HTMLElement): (p: BuildProgress) => void {
  let step = '';
  return (p) => {
    if (p.total) { bar.max = p.total; bar.value = (p.index ?? 1) - 1; }
    if (p.done) { if (!p.error) bar.value = bar.max; log.textContent += p.error ? `failed: ${p.error}\n` : `${p.step}\n`; }
    else if (p.step !== step) { step = p.step; log.textContent += `[${(p.elapsed_ms / 1000).toFixed(0)}s] ${p.step}\n`; }
    if (p.detail && !p.done) log.textContent += `       ${p.detail}\n`;
    log.scrollTop = log.scrollHeight;
  };
}
