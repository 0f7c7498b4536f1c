import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs the `chromium` package when it is missing). */
export const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';

/** Builds the console (and the server) when a source changed: quick when nothing did. */
export function buildConsole(): void {
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`scripts/build.mjs failed (${result.status})`);
}

/** One headless Chromium for a whole suite; fails with the way to get one when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium), as .ci/run does`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

/**
 * A page of a fresh context (its own session storage), collecting every console error and
 * uncaught exception, except Chromium's line for a request answered 429 or 503: the console
 * asks such a read again after its Retry-After (console/src/ui.tsx `useLoad`), so a busy
 * server is a wait, not an error of the page; those lines are kept apart (`takeRetryable`).
 */
export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Errors the page logged so far; `take` empties the list. */
  take(): string[];
  /** Chromium's lines for requests answered 429 or 503 so far; empties the list. */
  takeRetryable(): string[];
  close(): Promise<void>;
}

const RETRYABLE_STATUS = /^Failed to load resource: the server responded with a status of (429|503)\b/;

export async function openWatchedPage(browser: Browser, options: { locale?: string } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: options.locale ?? 'en-US', timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  const errors: string[] = [];
  const retryable: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    (RETRYABLE_STATUS.test(message.text()) ? retryable : errors).push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  return {
    page,
    context,
    take: () => errors.splice(0, errors.length),
    takeRetryable: () => retryable.splice(0, retryable.length),
    close: () => context.close(),
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is (WCAG 2 A and AA rules and best practices). */
export async function seriousAxeViolations(page: Page): Promise<{ id: string; help: string; targets: string[] }[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) does not apply.
  await page.evaluate(axeSource);
  const violations = await page.evaluate<{ id: string; help: string; impact: string | null; nodes: { target: string[] }[] }[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations)",
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}

/** Where screenshots go when `STRATA_CONSOLE_SCREENSHOTS=1` (the README shows them); otherwise none are written. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.STRATA_CONSOLE_SCREENSHOTS !== '1') return;
  mkdirSync('docs/screenshots', { recursive: true });
  await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: false });
}
