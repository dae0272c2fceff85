// The example, type-checked against the ESM declarations.
import { Sandbox, NotFoundError, RuntoolsError, UnsupportedRuntimeError, type AttachSession, type Status, type Metrics, type ExecResult } from 'runtools';

export async function example(): Promise<void> {
  const sandbox = await Sandbox.create({ name: 'my-env', template: 'base', vcpus: 2, memory: 1024, idleTimeout: 600 });
  const result: ExecResult = await sandbox.exec('ls -la');
  console.log(result.stdout, result.exitCode);
  sandbox.on('status', (state: Status) => console.log(state.status, state.sshReady, state.vncReady));
  sandbox.on('metrics', (m: Metrics) => console.log(m.cpuPercent, m.memPercent, m.netRxBytesPerSec));
  await sandbox.pause();
  await sandbox.resume();
  await sandbox.snapshot('before');
  await sandbox.rollback('before');
  try {
    await Sandbox.get('nope');
  } catch (err) {
    if (err instanceof NotFoundError) console.log(err.code satisfies string, err.status satisfies number);
    if (err instanceof RuntoolsError) console.log(err.message);
  }
  // @ts-expect-error: not an event of a sandbox
  sandbox.on('stdout', () => {});
  const session: AttachSession = await sandbox.attach(['cat'], { tty: true, cols: 80, rows: 24, onStdout: (t: string) => console.log(t), signal: AbortSignal.timeout(60_000) });
  session.write('hello\n');
  session.write(new Uint8Array([4]));
  session.resize(100, 30);
  session.signal('INT');
  session.closeStdin();
  const attached: ExecResult = await session.wait();
  console.log(attached.exitCode, attached.timedOut);
  session.close();
  try {
    await sandbox.attach('sh');
  } catch (err) {
    if (err instanceof UnsupportedRuntimeError) console.log(err.message);
  }
  sandbox.close();
}
