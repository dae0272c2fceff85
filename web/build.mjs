// Builds the dashboard into dist/: index.html, assets/app.js and
// assets/app.css (xterm.js's stylesheet with ours). `make dashboard` copies
// dist/ to internal/dashboard/dist, which the Go binary embeds.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/assets', { recursive: true });
await build({
  entryPoints: { app: 'src/main.ts' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: 'dist/assets',
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('src/index.html', 'dist/index.html');
