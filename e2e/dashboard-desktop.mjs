// Opens a desktop sandbox's page in the web dashboard, in Debian's headless
// Chromium, and checks the page draws the desktop itself: noVNC's canvas,
// connected over the API's VNC WebSocket on the dashboard's origin, shows
// the remote screen (many colours, not one). Then it pauses the sandbox with
// the page's button, resumes it, and sees the desktop connect and draw
// again; and opens the sandbox's own noVNC page (port 6901) in a new tab
// with the page's button. Saves screenshots of each.
//
//   node e2e/dashboard-desktop.mjs URL KEY SANDBOX_ID SCREENSHOT-PREFIX
//
// Exits 0 when every step worked, 1 otherwise, saying which step failed.
import { args, launch, openPage } from './browser.mjs';

const [url, key, id, shot] = args('dashboard-desktop.mjs', 'URL', 'KEY', 'SANDBOX_ID', 'SCREENSHOT-PREFIX');
const browser = await launch();
const page = await openPage(browser, { width: 1280, height: 1400 });
let step = 'log in';

// drawn waits until the desktop's canvas is connected and shows the remote
// screen, and returns how many colours a sample of it has.
const drawn = () => page.waitForFunction(() => {
  const el = document.querySelector('#desktop');
  const c = el?.querySelector('canvas');
  if (el?.dataset.state !== 'connected' || !c || c.width < 100 || c.height < 100) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size >= 16 ? seen.size : 0;
}, null, { timeout: 60_000, polling: 250 }).then((h) => h.jsonValue());
const state = (want) => page.waitForFunction((w) => document.querySelector('#state')?.textContent === w, want, { timeout: 60_000 });

try {
  await page.goto(url, { waitUntil: 'load' });
  await page.fill('input[name=key]', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:has-text("Sandboxes")');

  step = 'see the desktop drawn in the page';
  await page.goto(`${url}#/sandbox/${id}`);
  const colours = await drawn();
  if (await page.$('iframe')) throw new Error('the page has a frame');
  const size = await page.$eval('#desktop canvas', (c) => `${c.width}x${c.height}`);
  await page.waitForTimeout(1000); // the rest of the screen's first update
  await page.screenshot({ path: `${shot}-page.png`, fullPage: true });
  console.log(`dashboard desktop: the canvas (${size}) shows ${colours} colours in a sample`);

  step = 'see the desktop again after a pause and a resume';
  await page.click('button:has-text("Pause")');
  await state('paused');
  await page.click('button:has-text("Resume")');
  await state('running');
  await drawn();
  await page.screenshot({ path: `${shot}-resumed.png`, fullPage: true });

  step = 'open noVNC in a new tab';
  const [tab] = await Promise.all([page.context().waitForEvent('page'), page.click('#desktop-tab')]);
  await tab.waitForFunction(() => document.documentElement.classList.contains('noVNC_connected'), null, { timeout: 30_000 });
  await tab.waitForTimeout(1000);
  await tab.screenshot({ path: `${shot}-tab.png` });
  console.log('dashboard desktop: drawn in the page, again after pause and resume, and connected in the tab its button opened');
} catch (e) {
  console.error(`dashboard desktop: ${step}: ${e.message}`);
  await page.screenshot({ path: `${shot}-failed.png`, fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
