// Marks each build's module system, so Node and TypeScript read dist/esm
// as ES modules and dist/cjs as CommonJS whatever the root package.json says.
import { writeFileSync } from 'node:fs';

for (const [dir, type] of [['esm', 'module'], ['cjs', 'commonjs']]) {
  writeFileSync(new URL(`../dist/${dir}/package.json`, import.meta.url), JSON.stringify({ type }) + '\n');
}
