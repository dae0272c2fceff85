// Drives the dashboard's template pages in Debian's headless Chromium:
// lists the templates, builds one from a Dockerfile with a context file
// (watching its steps and progress bar), sees a bad Dockerfile refused
// with its line while what was typed stays, opens the template's page
// (Dockerfile, layers, config, versions), makes it public, creates a
// sandbox from it, and saves that sandbox as another template. Screenshots
// go into SHOTDIR.
//
//   node e2e/dashboard-templates.mjs URL KEY SHOTDIR
//
// Exits 0 when every step worked, 1 otherwise, saying which step failed.
import { join } from 'node:path';
import { args, launch, openPage } from './browser.mjs';

const [url, key, dir] = args('dashboard-templates.mjs', 'URL', 'KEY', 'SHOTDIR');
const browser = await launch();
let step = 'start';
// A refused build answers 400: expected, so failed requests are not logged.
const page = await openPage(browser, { width: 1280, height: 1100 }, { requests: false });
page.on('dialog', (d) => d.accept());
const shot = (name) => page.screenshot({ path: join(dir, `templates-${name}.png`), fullPage: true });
const text = (sel) => page.textContent(sel);
const dockerfile = 'FROM base\nCOPY note.txt /note.txt\nRUN grep -q dashboard /note.txt\nENV GREETING=hi\n';
try {
  step = 'log in and list the templates';
  await page.goto(url, { waitUntil: 'load' });
  await page.fill('input[name=key]', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:has-text("Sandboxes")');
  await page.click('header a:has-text("Templates")');
  await page.waitForSelector('tr[data-name=base] td:has-text("built in")');
  await shot('1-list');

  step = 'refuse a bad Dockerfile, keeping what was typed';
  await page.click('text=Build a template');
  await page.fill('input[name=template-name]', 'dash-built');
  const bad = 'FROM base\nHEALTHCHECK NONE\n';
  await page.fill('textarea[name=dockerfile]', bad);
  await page.click('form button[type=submit]');
  await page.waitForFunction(() => /line 2/.test(document.querySelector('.error').textContent), null, { timeout: 60_000 });
  if (await page.inputValue('textarea[name=dockerfile]') !== bad) throw new Error('the Dockerfile typed was lost');
  await shot('2-refused');

  step = 'build from a Dockerfile and a context file';
  await page.fill('textarea[name=dockerfile]', dockerfile);
  await page.setInputFiles('input[name=context]', { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('from the dashboard\n') });
  await page.click('form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#build-result').textContent.includes('ready: version 1'), null, { timeout: 180_000 });
  const log = await text('#build-log');
  for (const want of ['COPY note.txt /note.txt', 'RUN grep -q dashboard /note.txt']) {
    if (!log.includes(want)) throw new Error(`the build log lacks ${want}: ${log}`);
  }
  const bar = await page.evaluate(() => { const p = document.querySelector('#build-progress'); return [p.value, p.max]; });
  if (bar[0] !== bar[1] || bar[1] < 3) throw new Error(`the progress bar ended at ${bar}`);
  if (await text('.error') !== '') throw new Error(`an error stayed after the build: ${await text('.error')}`);
  await shot('3-built');

  step = "open the template's page";
  await page.click('#build-result a:has-text("open dash-built")');
  await page.waitForSelector('#dockerfile');
  if (await text('#dockerfile') !== dockerfile) throw new Error(`the page shows the Dockerfile ${await text('#dockerfile')}`);
  if (!(await text('#layers')).includes('COPY note.txt')) throw new Error(`the layers: ${await text('#layers')}`);
  if (!(await text('#versions')).includes('version 1')) throw new Error(`the versions: ${await text('#versions')}`);
  if (!(await text('main')).includes('GREETING=hi')) throw new Error('the config lacks its ENV');
  await shot('4-template');

  step = 'make it public';
  await page.click('#template-public:has-text("Make public")');
  await page.waitForSelector('#template-public:has-text("Make private")');

  step = 'create a sandbox from it';
  await page.click('a:has-text("New sandbox")');
  await page.waitForFunction(() => document.querySelector('select[name=template]')?.value === 'dash-built', null, { timeout: 30_000 });
  await page.fill('input[name=name]', 'from-dash-built');
  await page.click('button[type=submit]');
  await page.waitForURL(/#\/sandbox\//, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'running', null, { timeout: 60_000 });

  step = 'save the sandbox as a template';
  await page.fill('input[name=save-as]', 'dash-saved');
  await page.click('#save-template');
  await page.waitForURL(/#\/template\/dash-saved/, { timeout: 180_000 });
  await page.waitForSelector('#template-status:has-text("ready")');
  await shot('5-saved');
  console.log('dashboard templates: every step passed');
} catch (e) {
  console.error(`dashboard templates: ${step}: ${e.message}`);
  await shot('failed').catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
