import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ensureChromium } from './chromium.js';

/** Debian's Chromium (installed on first use where allowed), headless, with the network-quiet flags this machine needs. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await ensureChromium(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run'
    ]
  });
}

/** A signed-in browser context: goes through the real login page. */
export async function signInPage(
  browser: Browser,
  baseUrl: string,
  email: string,
  password: string
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto('/login');
  await fillSignIn(page, email, password);
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  return { context, page };
}

/** Fills the login form on the current page and presses Sign in. */
export async function fillSignIn(page: Page, email: string, password: string) {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Waits (up to `timeout` ms) for the page's connection badge to show it is live. */
export async function expectLive(page: Page, timeout = 30_000) {
  await expect
    .poll(
      () =>
        page
          .locator('[data-state="live"]:visible')
          .count()
          .then((n) => n > 0),
      { timeout }
    )
    .toBe(true);
}

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2 A/AA rules) on the page as it stands, or within `selector`; returns the
 * serious and critical findings.
 */
export async function seriousAxeFindings(page: Page, selector?: string): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath });
  return page.evaluate(async (within) => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: object) => Promise<any> } }).axe;
    const result = await axe.run(within ? { include: [within] } : document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }
    });
    return result.violations
      .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: any) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n: any) => String(n.target))
      }));
  }, selector ?? null);
}

/**
 * The page (or the part `selector` names) has no serious or critical accessibility findings
 * (axe-core), judged once it has settled: nothing busy loading, and finite animations finished (a
 * dialog or report fading in is half transparent, so its colours would fail contrast mid-fade;
 * a spinner's endless animation is not waited for).
 */
export async function expectAccessible(page: Page, selector?: string) {
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), undefined, {
    timeout: 10_000
  });
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime)))
        .map((a) => a.finished.catch(() => undefined))
    )
  );
  expect(await seriousAxeFindings(page, selector)).toEqual([]);
}

/** Nothing on the page is wider than the viewport: a phone never scrolls sideways. */
export async function expectNoSidewaysScroll(page: Page) {
  const { scroll, viewport } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    viewport: window.innerWidth
  }));
  expect(scroll).toBeLessThanOrEqual(viewport);
}

/**
 * Waits until `check` holds, polling every 50 ms. The deadline is a net for a loaded machine (the
 * e2e project's `expect.poll` timeout), not the assertion: a test that promises a latency passes
 * its own `timeout` and says so.
 */
export const within = (check: () => Promise<boolean>, timeout?: number) =>
  expect.poll(check, { ...(timeout === undefined ? {} : { timeout }), interval: 50 }).toBe(true);
