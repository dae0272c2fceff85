// Opens a desktop sandbox's page in the web dashboard, in Debian's headless
// Chromium, checks the page embeds its noVNC (a frame of a signed link to
// port 6901), and opens the desktop in a new tab with the page's button,
// waiting until noVNC has connected there; saves screenshots of both.
// (This Chromium denies frames from another site their storage, which
// noVNC needs, so the test does not ask the frame to connect.)
//
//   node e2e/dashboard-desktop.mjs URL KEY SANDBOX_ID SCREENSHOT-PREFIX
//
// Exits 0 when the desktop is connected, 1 otherwise.
import { chromium } from 'playwright-core';

const [url, key, id, shot] = process.argv.slice(2);
if (!url || !key || !id || !shot) {
  console.error('usage: node e2e/dashboard-desktop.mjs URL KEY SANDBOX_ID SCREENSHOT-PREFIX');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
try {
  await page.goto(url, { waitUntil: 'load' });
  await page.fill('input[name=key]', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:has-text("Sandboxes")');
  await page.goto(`${url}#/sandbox/${id}`);
  const frame = await (await page.waitForSelector('iframe.desktop', { timeout: 30_000 })).contentFrame();
  await frame.waitForLoadState('load');
  if (!frame.url().includes('6901-')) throw new Error(`the frame shows ${frame.url()}, not port 6901`);
  const [tab] = await Promise.all([page.context().waitForEvent('page'), page.click('#desktop-tab')]);
  await tab.waitForFunction(() => document.documentElement.classList.contains('noVNC_connected'), null, { timeout: 30_000 });
  await tab.waitForTimeout(1000);
  await tab.screenshot({ path: `${shot}-tab.png` });
  console.log('dashboard desktop: the page embeds port 6901, and noVNC connected in the tab its button opened');
} catch (e) {
  console.error(`dashboard desktop: ${e.message}`);
  process.exitCode = 1;
} finally {
  await page.screenshot({ path: `${shot}-page.png`, fullPage: true }).catch(() => {});
  await browser.close();
}
