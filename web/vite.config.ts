// Vite config of the browser demo: `npm run web` (dev server) or `npm run web:build` (static site in web/dist).
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/**
 * The library reaches two Node-only packages through dynamic imports on Node code paths only
 * (src/report/plot.ts: linkedom for a DOM, @resvg/resvg-js for PNG). The browser never takes those
 * paths, so they resolve to stubs that throw a clear error instead of being bundled.
 */
const NODE_ONLY: Record<string, string> = {
  linkedom: 'export function parseHTML() { throw new Error("linkedom is Node-only: in a browser pass the page\'s document"); }',
  '@resvg/resvg-js':
    'export class Resvg { constructor() { throw new Error("@resvg/resvg-js is Node-only: PNG rendering is not available in a browser"); } }',
};

function nodeOnlyStubs(): Plugin {
  const prefix = '\0matgrad-node-only:';
  return {
    name: 'matgrad-node-only-stubs',
    enforce: 'pre',
    resolveId(id) {
      return id in NODE_ONLY ? prefix + id : null;
    },
    load(id) {
      return id.startsWith(prefix) ? NODE_ONLY[id.slice(prefix.length)] : null;
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [nodeOnlyStubs()],
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
