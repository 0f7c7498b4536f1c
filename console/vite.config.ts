import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console's build: static files in dist/console/ that the server serves (`GET /` the
 * page, `/console/assets/` the hashed scripts and styles). Each screen and the chart library
 * are chunks of their own, loaded when first shown.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  mode: 'production',
  // React's production build whatever NODE_ENV the building process has (vitest sets `test`).
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1200,
  },
});
