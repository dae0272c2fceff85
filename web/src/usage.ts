// The dashboard's usage page: what each team the key sees (its own, or
// every team for an admin key) uses against each of its limits, with a bar
// per limit. An admin changes a team's limits with runtools team update.
import { api, type Quota, type TeamUsage } from './api';
import { errorBox, h, megabytes, show } from './dom';

const label: Record<string, string> = {
  sandboxes: 'Running sandboxes', vcpus: 'vCPUs', memory_mb: 'Memory', disk_bytes: 'Disk', builds: 'Builds at once',
};

// amount says n in q's unit.
const amount = (q: Quota, n: number) => (q.unit === 'bytes' ? megabytes(n) : q.unit === 'MB' ? megabytes(n * 1048576) : String(n));

export async function usagePage(): Promise<void> {
  const err = errorBox();
  const body = h('div');
  show(h('h1', {}, 'Usage'), h('p', { className: 'meta' }, 'What each team uses against its limits. An admin raises a limit with runtools team update.'), err.el, body);
  await err.run(async () => body.replaceChildren(...(await api.usage()).map(teamSection)));
}

function teamSection(t: TeamUsage): HTMLElement {
  const d = t.disk;
  return h('section', { 'data-team': t.team }, h('h2', {}, `Team ${t.team}`),
    h('table', {}, h('tbody', {}, ...t.quotas.map(quotaRow))),
    h('p', { className: 'meta' }, `Disk: paused sandboxes ${megabytes(d.paused_bytes)}, snapshots ${megabytes(d.snapshot_bytes)}, ` +
      `volumes ${megabytes(d.volume_bytes)}, custom templates ${megabytes(d.template_bytes)}`));
}

function quotaRow(q: Quota): HTMLElement {
  const bar = q.limit ? h('meter', { min: 0, max: q.limit, value: Math.min(q.used, q.limit), high: q.limit * 0.9 }) : '';
  return h('tr', { 'data-quota': q.name }, h('th', {}, label[q.name] ?? q.name), h('td', { className: 'used' }, amount(q, q.used)),
    h('td', { className: 'limit' }, q.limit ? `of ${amount(q, q.limit)}` : 'no limit'), h('td', {}, bar));
}
