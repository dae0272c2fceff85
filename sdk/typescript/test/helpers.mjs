// Shared by the tests that talk to a real server: where it is, and
// sandboxes that are destroyed when a test ends.
import { Client } from 'runtools';

/** Why the server tests cannot run, or '' when they can. */
export const noServer =
  process.env.RUNTOOLS_URL && process.env.RUNTOOLS_API_KEY
    ? ''
    : 'set RUNTOOLS_URL and RUNTOOLS_API_KEY to run the tests against a real server';

if (noServer && process.env.RUNTOOLS_SDK_REQUIRE_SERVER === '1') {
  throw new Error(noServer);
}

/** Options for test(): skipped without a server. */
export const needsServer = { skip: noServer || false, timeout: 180_000 };

/** A client of the server under test (RUNTOOLS_URL, RUNTOOLS_API_KEY). */
export function client() {
  return new Client();
}

let seq = 0;

/** A name no other test run uses. */
export function uniqueName(prefix) {
  seq++;
  return `${prefix}-${process.pid}-${seq}-${Date.now().toString(36)}`;
}

/** Destroys sb when the test t ends, whatever happened. */
export function cleanup(t, sb) {
  t.after(async () => {
    sb.close();
    await sb.destroy().catch(() => {});
  });
  return sb;
}

/** Resolves once ok() holds, polling; rejects after ms. */
export async function eventually(what, ok, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await ok();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
