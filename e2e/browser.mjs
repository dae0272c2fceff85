// The start every e2e script shares: its arguments, Debian's headless
// Chromium (or $CHROMIUM), and a page that reports the page's errors and
// failed requests on stderr.
import { chromium } from 'playwright-core';

// args returns the script's arguments, or exits 2 with its usage when one
// of names is missing.
export function args(script, ...names) {
  const got = process.argv.slice(2);
  if (got.length < names.length || got.slice(0, names.length).some((a) => !a)) {
    console.error(`usage: node e2e/${script} ${names.join(' ')}`);
    process.exit(2);
  }
  return got;
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// openPage opens a page of viewport size that logs its console errors and,
// with requests, every response of 400 or more.
export async function openPage(browser, viewport, { requests = true } = {}) {
  const page = await browser.newPage({ viewport });
  page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
  if (requests) page.on('response', (r) => { if (r.status() >= 400) console.error(`page: ${r.request().method()} ${new URL(r.url()).pathname}: ${r.status()}`); });
  return page;
}
