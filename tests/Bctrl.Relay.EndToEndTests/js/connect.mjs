// Playwright (JavaScript) against the relay, as the README's quickstart does it; run by PlaywrightJsTests.
//   node connect.mjs <endpoint (ws:// or http://)> <page url> <screenshot path>
// Prints one JSON line: { version, title, seed, scrollHeight, screenshotBytes }. Any failure exits non-zero.
import { chromium } from 'playwright-core';

const [endpoint, pageUrl, screenshotPath] = process.argv.slice(2);
if (!endpoint || !pageUrl || !screenshotPath) {
  console.error('usage: node connect.mjs <endpoint> <page url> <screenshot path>');
  process.exit(2);
}

const browser = await chromium.connectOverCDP(endpoint, { timeout: 30_000 });
try {
  const context = browser.contexts()[0] ?? await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(pageUrl);
    const evaluated = await page.evaluate(() => ({
      title: document.title,
      seed: window.noiseSeed,
      scrollHeight: document.documentElement.scrollHeight,
    }));
    const screenshot = await page.screenshot({ fullPage: true, path: screenshotPath });
    console.log(JSON.stringify({ version: browser.version(), ...evaluated, screenshotBytes: screenshot.length }));
  } finally {
    await page.close();
  }
} finally {
  // Over CDP, close() only disconnects: the browser is not Playwright's to end.
  await browser.close();
}
