// Builds the dashboard into dist/: index.html, assets/app.js and
// assets/app.css (xterm.js's stylesheet with ours). `make dashboard` copies
// dist/ to internal/dashboard/dist, which the Go binary embeds.
import { build } from 'esbuild';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

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

// noVNC's files carry their licence (MPL 2.0) in plain comments, which
// esbuild does not keep: say where its source and licence are.
const novnc = JSON.parse(readFileSync('node_modules/@novnc/novnc/package.json', 'utf8'));
appendFileSync('dist/assets/app.js.LEGAL.txt', `
@novnc/novnc ${novnc.version} (core/, the RFB client), ${novnc.license}:
  Source: the npm package @novnc/novnc ${novnc.version}, or ${novnc.homepage ?? 'https://github.com/novnc/noVNC'}
  (unmodified; bundled and minified here).

${readFileSync('node_modules/@novnc/novnc/LICENSE.txt', 'utf8')}`);
