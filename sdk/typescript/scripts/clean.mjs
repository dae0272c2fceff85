// Removes dist/ so a build never ships files of a source that is gone.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
