// Opens a desktop sandbox's noVNC page in Debian's headless Chromium,
// waits until the VNC session is connected and the remote screen is drawn
// on the canvas, and saves a screenshot of the page.
//
//   node e2e/novnc.mjs URL SCREENSHOT.png
//
// URL is the sandbox's port-6901 URL (a signed link for a private sandbox).
// The proxy is reached through --host-resolver-rules, so *.localhost needs
// no DNS. Exits 0 when connected and drawn, 1 otherwise, saying why.
import { args, launch, openPage } from './browser.mjs';

const [url, shot] = args('novnc.mjs', 'URL', 'SCREENSHOT.png');
const browser = await launch();
let ok = false;
try {
  const page = await openPage(browser, { width: 1280, height: 860 }, { requests: false });
  // Chromium aborts requests with ERR_NETWORK_CHANGED whenever a network
  // interface comes or goes on the host, as sandboxes' veths do: load the
  // page again until the session connects.
  let colours;
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt === 1) await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
      else await page.reload({ waitUntil: 'load', timeout: 60_000 });
      // noVNC marks the document once the RFB session is up.
      await page.waitForFunction(() => document.documentElement.classList.contains('noVNC_connected'), null, { timeout: 20_000 });
      // The canvas shows the remote screen: many distinct colours, not one.
      colours = await page.waitForFunction(() => {
        const c = document.querySelector('#noVNC_container canvas, canvas');
        if (!c || c.width < 100 || c.height < 100) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        return seen.size >= 16 ? seen.size : 0;
      }, null, { timeout: 20_000, polling: 250 });
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      console.error(`attempt ${attempt}: ${String(err).split('\n')[0]}; loading again`);
    }
  }
  const size = await page.evaluate(() => { const c = document.querySelector('canvas'); return `${c.width}x${c.height}`; });
  await page.screenshot({ path: shot });
  console.log(`connected; canvas ${size}, ${await colours.jsonValue()} colours sampled; screenshot ${shot}`);
  ok = true;
} catch (err) {
  console.error(String(err));
  try { const [p] = browser.contexts()[0]?.pages() ?? []; if (p) await p.screenshot({ path: shot }); } catch {}
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
