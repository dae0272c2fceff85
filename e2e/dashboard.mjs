// Drives the web dashboard in Debian's headless Chromium: logs in with an
// API key, creates a sandbox, types `echo hi` in its terminal and sees `hi`,
// watches a metric chart update, sets its egress policy in its network
// panel (and sees a bad rule refused beside the editor), pauses and resumes
// it with the buttons,
// takes a snapshot, rolls back to it and forks it, and sees live CPU and
// memory of every running sandbox in the list (the original and its fork),
// and sees them counted on the usage page, saving a screenshot after each
// step into SHOTDIR.
//
//   node e2e/dashboard.mjs URL KEY SHOTDIR
//
// Exits 0 when every step worked, 1 otherwise, saying which step failed.
import { join } from 'node:path';
import { args, launch, openPage } from './browser.mjs';

const [url, key, dir] = args('dashboard.mjs', 'URL', 'KEY', 'SHOTDIR');
const browser = await launch();
let step = 'start';
const page = await openPage(browser, { width: 1280, height: 1100 });
const shot = (name) => page.screenshot({ path: join(dir, `dashboard-${name}.png`), fullPage: true });
const state = (want) => page.waitForFunction((w) => document.querySelector('#state')?.textContent === w, want, { timeout: 60_000 });
try {
  step = 'log in';
  await page.goto(url, { waitUntil: 'load' });
  await page.fill('input[name=key]', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:has-text("Sandboxes")');
  await shot('1-list');

  step = 'create a sandbox';
  await page.click('text=New sandbox');
  await page.waitForSelector('select[name=template] option[value=base]', { state: 'attached' });
  await page.fill('input[name=name]', 'from-the-dashboard');
  await page.fill('input[name=vcpus]', '1');
  await page.fill('input[name=memory]', '512');
  await shot('2-create');
  // The egress fields, left closed and untouched, send no egress.
  const created = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/v1/sandboxes');
  await page.click('button[type=submit]');
  const sent = (await created).postDataJSON();
  if ('egress' in sent) throw new Error(`the untouched form sent egress: ${JSON.stringify(sent.egress)}`);
  await page.waitForURL(/#\/sandbox\//, { timeout: 120_000 });
  await state('running');

  step = 'type echo hi in the terminal';
  await page.waitForSelector('#terminal .xterm-rows');
  await page.waitForFunction(() => /[#$] *$/m.test(document.querySelector('#terminal .xterm-rows').innerText), null, { timeout: 30_000 });
  await page.click('#terminal');
  await page.keyboard.type('echo hi\n');
  await page.waitForFunction(() => [...document.querySelectorAll('#terminal .xterm-rows > div')].some((r) => r.textContent.trim() === 'hi'), null, { timeout: 30_000 });

  step = 'watch a metric update';
  // A busy loop for a few seconds: the CPU chart climbs.
  await page.keyboard.type("timeout 8 sh -c 'while :; do :; done'\n");
  await page.waitForFunction(() => Number(document.querySelector('canvas[data-label=CPU]')?.dataset.last ?? 0) > 30, null, { timeout: 30_000 });
  await shot('3-sandbox');

  step = 'set the egress policy in the network panel';
  const egress = (want) => page.waitForFunction((w) => document.querySelector('#egress')?.textContent === w, want, { timeout: 30_000 });
  await egress('Egress: allowed everywhere');
  const info = await page.textContent('#network-info');
  if (!/^IP \d+\.\d+\.\d+\.\d+ · /.test(info) || !info.includes('from-the-dashboard.internal, sandbox-')) throw new Error(`the network panel says: ${info}`);
  await page.selectOption('select[name=egress-default]', 'deny');
  await page.fill('textarea[name=egress-allow]', 'API.github.com');
  await page.click('#network button:has-text("Save")');
  await egress('Egress: denied by default; allowed: api.github.com');
  // A bad rule: the server's message shows beside the editor, and what was
  // typed stays.
  await page.fill('textarea[name=egress-deny]', '10.0.0.0/8\n10.0.0.0/33');
  await page.click('#network button:has-text("Save")');
  await page.waitForFunction(() => document.querySelector('#network .error').textContent.includes('10.0.0.0/33'), null, { timeout: 30_000 });
  if (await page.inputValue('textarea[name=egress-deny]') !== '10.0.0.0/8\n10.0.0.0/33') throw new Error('the deny rules typed were lost');
  if (await page.textContent('#egress') !== 'Egress: denied by default; allowed: api.github.com') throw new Error('a refused policy changed the panel');
  await shot('4-egress');
  await page.selectOption('select[name=egress-default]', 'allow');
  await page.fill('textarea[name=egress-allow]', '');
  await page.fill('textarea[name=egress-deny]', '');
  await page.click('#network button:has-text("Save")');
  await egress('Egress: allowed everywhere');
  if (await page.textContent('#network .error') !== '') throw new Error('the error stayed after a good save');
  const now = await page.evaluate(async (k) => (await (await fetch(`/v1/sandboxes/${location.hash.split('/')[2]}`, { headers: { Authorization: `Bearer ${k}` } })).json()).egress, key);
  if (JSON.stringify(now) !== '{"default":"allow"}') throw new Error(`the server has the egress ${JSON.stringify(now)}`);

  step = 'pause with the button';
  await page.click('button:has-text("Pause")');
  await state('paused');
  await shot('5-paused');

  step = 'resume with the button';
  await page.click('button:has-text("Resume")');
  await state('running');
  // The terminal lives on across the pause (the busy loop may still run
  // first: the shell reads the line after it).
  await page.click('#terminal');
  await page.keyboard.type('echo again\n');
  await page.waitForFunction(() => [...document.querySelectorAll('#terminal .xterm-rows > div')].some((r) => r.textContent.trim() === 'again'), null, { timeout: 30_000 });
  // After the shell exits, a key press opens a new terminal.
  await page.keyboard.type('exit\n');
  await page.waitForFunction(() => document.querySelector('#terminal .xterm-rows').textContent.includes('terminal closed: exit 0'), null, { timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#terminal .xterm-rows > div')].map((r) => r.textContent.trim()).filter(Boolean);
    return rows.at(-1).startsWith('root@') && rows.at(-2).includes('terminal closed');
  }, null, { timeout: 30_000 });
  await page.keyboard.type('echo back\n');
  await page.waitForFunction(() => [...document.querySelectorAll('#terminal .xterm-rows > div')].some((r) => r.textContent.trim() === 'back'), null, { timeout: 30_000 });
  await shot('6-resumed');

  step = 'take a snapshot, roll back to it and fork it';
  page.on('dialog', (d) => d.accept());
  await page.fill('input[placeholder^="snapshot name"]', 'before');
  await page.click('button:has-text("Take snapshot")');
  await page.waitForSelector('td:has-text("before")', { timeout: 60_000 });
  await page.click('button:has-text("Roll back")');
  await state('running');
  const first = page.url();
  await page.click('button:has-text("Fork")');
  await page.waitForURL((u) => u.href !== first && /#\/sandbox\//.test(u.href), { timeout: 60_000 });
  await state('running');
  await shot('7-fork');

  step = 'see live CPU and memory of every running sandbox in the list';
  const watches = [];
  page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname.endsWith('/watch')) watches.push(u.pathname + u.search); });
  await page.click('a.brand');
  await page.waitForSelector('h1:has-text("Sandboxes")');
  await page.waitForFunction(() => {
    const running = [...document.querySelectorAll('tbody tr')].filter((tr) => tr.querySelector('.state')?.textContent === 'running');
    return running.length >= 2 && running.every((tr) => tr.querySelector('.cpu').textContent.endsWith('%') && tr.querySelector('.mem').textContent.endsWith('%'));
  }, null, { timeout: 30_000 });
  // One stream brings them all: the team's, with metrics.
  if (watches.join(' ') !== '/v1/watch?metrics=true') throw new Error(`the list opened these watches: ${watches.join(', ')}`);
  await shot('8-list');

  step = "see the team's use of its quotas on the usage page";
  await page.click('header a:has-text("Usage")');
  await page.waitForSelector('tr[data-quota=sandboxes] td.used', { timeout: 30_000 });
  const running = await page.textContent('section[data-team=default] tr[data-quota=sandboxes] td.used');
  if (Number(running) < 2) throw new Error(`the usage page shows ${running} running sandboxes, want 2 or more`);
  await shot('9-usage');
  console.log('dashboard: every step passed');
} catch (e) {
  console.error(`dashboard: ${step}: ${e.message}`);
  await shot('failed').catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
