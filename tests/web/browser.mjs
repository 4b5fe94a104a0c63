// browser.mjs — Debian's headless Chromium driven by puppeteer-core, for the page tests.
// Exits the test with 77 (skipped) when either is missing.
import {existsSync} from "node:fs";

const chromium = "/usr/bin/chromium";

export async function launchOrSkip() {
  if (!existsSync(chromium)) {
    console.log("skipped: no /usr/bin/chromium (Debian's chromium package)");
    process.exit(77);
  }
  let puppeteer;
  try {
    puppeteer = (await import("puppeteer-core")).default;
  } catch {
    console.log("skipped: puppeteer-core is not installed (npm ci in tests/web)");
    process.exit(77);
  }
  return puppeteer.launch({executablePath: chromium, headless: true,
                           args: ["--no-sandbox", "--disable-gpu"]});
}
