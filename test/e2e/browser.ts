/** Debian's Chromium, headless, as every end-to-end test starts it. */
import * as fs from 'fs';
import { Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.EDGESPEC_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What is missing to start it, with the command that installs it. */
export function missingChromium(): string[] {
  return fs.existsSync(CHROMIUM) ? [] : [`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set EDGESPEC_CHROMIUM)`];
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}
