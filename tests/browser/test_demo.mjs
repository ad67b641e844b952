// SPDX-License-Identifier: Apache-2.0
// The demo page in a real browser: join the queue, watch the position
// fall, get the confirmation. Debian's chromium, driven by playwright-core.
//
//   node test_demo.mjs URL SCREENSHOT.png
import { chromium } from "playwright-core";

const [url, shot] = process.argv.slice(2);
const fail = (msg) => { console.error(`test_demo: ${msg}`); process.exitCode = 1; };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 420, height: 820 } });
  page.on("console", (m) => console.log(`page: ${m.text()}`));
  await page.goto(url);
  await page.click("#join");
  await page.waitForSelector('#status[data-state="waiting"]', { timeout: 15000 });
  await page.waitForSelector('#status[data-state="admitted"]', { timeout: 120000 });
  const ranks = await page.$$eval("#history li[data-rank]",
                                  (els) => els.map((e) => Number(e.dataset.rank)));
  const token = await page.textContent("#token");
  console.log(`positions seen: ${ranks.join(" ")}; admission token ${token}`);
  if (ranks.length < 3) fail(`only ${ranks.length} positions seen`);
  for (let i = 1; i < ranks.length; i++)
    if (!(ranks[i] < ranks[i - 1])) fail(`position went from ${ranks[i - 1]} to ${ranks[i]}`);
  if (!/^[\w-]+\.[\w-]+\.\d+\.[\w-]+$/.test(token || "")) fail(`no admission token: "${token}"`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
} catch (e) {
  fail(e.message);
} finally {
  await browser.close();
}
