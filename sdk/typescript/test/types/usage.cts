// The same through require(), type-checked against the CommonJS declarations.
import runtools = require('runtools');

export async function example(): Promise<void> {
  const client = new runtools.Client({ url: 'http://127.0.0.1:7070', apiKey: 'key' });
  const sandbox = await client.create({ template: 'base' });
  const p = await sandbox.start(['sleep', '1']);
  const out: { exitCode: number } = await p.wait();
  const png: Uint8Array = await sandbox.computer.screenshot();
  const info = await sandbox.files.write('/root/a', 'x', { mode: 0o644 });
  console.log(out.exitCode, png.length, info.modTime.toISOString());
  const err: runtools.RuntoolsError = new runtools.UnavailableError('x', { code: 'unavailable', status: 503 });
  console.log(err instanceof runtools.RuntoolsError);
  const s: runtools.AttachSession = await sandbox.attach('cat');
  s.closeStdin();
  const r: { exitCode: number; timedOut: boolean } = await s.wait();
  console.log(r.exitCode, new runtools.UnsupportedRuntimeError('x', { code: 'unsupported_runtime', status: 0 }));
}
