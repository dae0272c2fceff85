// The example, type-checked against the ESM declarations.
import { Sandbox, NotFoundError, RuntoolsError, type Status, type Metrics, type ExecResult } from 'runtools';

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
  sandbox.close();
}
