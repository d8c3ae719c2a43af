// Drives the OHIF viewer in Debian's headless Chromium (playwright-core)
// for gdpr-gateway's browser tests: one fresh browser profile per run, each
// step a page to open and a thing to wait for. OHIF logs in itself (its
// OIDC client: authorization code with PKCE); when the browser lands on
// the provider's log-in or consent page, the driver fills in the account
// and confirms, as a person would.
//
//   node drive.mjs '<json>'   (written by gdpr-gateway/tests/ohif.rs)
//
// The job: { chromium, login: { issuer, account }, out,
// steps: [{ name, url, wait, timeoutMs }] }
// where `wait` is { text: "…" } (the page shows it), { noRows: true } (the
// study list says it has no studies), { status: 403 } (a DICOMweb answer
// had that status) or { image: true } (the first viewport shows an image:
// a screenshot of it whose pixels are not uniform). Every step saves
// `<out>/<name>.png` (the page) and, for `image`, also
// `<out>/<name>-viewport.png` (the viewport alone).
// Prints one JSON line: { steps: [{ name, ok, text, screenshot, viewport,
// stddev }], responses: [{ url, status, auth }], errors: [...] }. Exit 0
// when the browser ran (the test judges the result), 2 on a bad job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

let job;
try {
  job = JSON.parse(process.argv[2]);
} catch (e) {
  console.error(`drive.mjs: the job is not JSON: ${e.message}`);
  process.exit(2);
}

const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
];
const profile = mkdtempSync(join(tmpdir(), 'gdpr-ohif-profile.'));
const responses = [];
const errors = [];
const context = await chromium.launchPersistentContext(profile, {
  executablePath: job.chromium,
  headless: true,
  args,
  viewport: { width: 1280, height: 800 },
});

// The provider's log-in and consent pages (its development interactions):
// any account name is taken, the password is not checked.
async function logIn() {
  if (!page.url().startsWith(job.login.issuer)) {
    return;
  }
  const login = page.locator('input[name="login"]');
  if ((await login.count()) > 0) {
    await login.fill(job.login.account);
    await page.locator('input[name="password"]').fill('any');
  }
  const submit = page.locator('button[type="submit"]').first();
  if ((await submit.count()) > 0) {
    await submit.click();
    await page.waitForLoadState('domcontentloaded').catch(() => {});
  }
}
context.on('response', (r) => {
  if (r.url().includes('/dicom-web/')) {
    const auth = r.request().headers().authorization ?? '';
    responses.push({ url: r.url(), status: r.status(), auth: auth.startsWith('Bearer ') });
  }
});
const page = context.pages()[0] ?? (await context.newPage());
page.on('pageerror', (e) => errors.push(String(e.message).slice(0, 300)));

// Standard deviation of the grey levels of a PNG, decoded by the browser.
async function stddev(png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    let sum = 0;
    let sq = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] + d[i + 1] + d[i + 2]) / 3;
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    return Math.sqrt(Math.max(0, sq / n - mean * mean));
  }, png.toString('base64'));
}

const viewportSelector = '[data-cy="viewport-pane"] canvas, .cornerstone-viewport-element canvas, canvas.cornerstone-canvas';

// The page's text ('' while it navigates: the log-in redirects).
async function bodyText() {
  return page.evaluate(() => document.body?.innerText ?? '').catch(() => '');
}

async function waitFor(step) {
  const deadline = Date.now() + (step.timeoutMs ?? 60000);
  const result = { ok: false };
  while (Date.now() < deadline) {
    try {
      await logIn().catch((e) => errors.push(`log-in: ${e.message.slice(0, 200)}`));
      const text = await bodyText();
      if (step.wait.text && text.includes(step.wait.text)) {
        return { ok: true };
      }
      if (step.wait.noRows && /no studies available/i.test(text)) {
        return { ok: true };
      }
      if (step.wait.status && responses.some((r) => r.status === step.wait.status)) {
        await page.waitForTimeout(1000);
        return { ok: true };
      }
      // The viewer's guided tour pops up over the image: hidden.
      await page.addStyleTag({ content: '.shepherd-element, .shepherd-modal-overlay-container { display: none !important; }' });
      if (step.wait.image) {
        const canvas = page.locator(viewportSelector).first();
        if ((await canvas.count()) > 0 && (await canvas.isVisible())) {
          const shot = await canvas.screenshot({ path: join(job.out, `${step.name}-viewport.png`) });
          result.viewport = join(job.out, `${step.name}-viewport.png`);
          result.stddev = await stddev(shot);
          if (result.stddev > (step.wait.minStddev ?? 2)) {
            // One more second for the last tiles, then the final shot.
            await page.waitForTimeout(1000);
            const last = await canvas.screenshot({ path: result.viewport });
            result.stddev = await stddev(last);
            return { ...result, ok: true };
          }
        }
      }
    } catch (e) {
      // The page navigated under us (a log-in redirect): look again.
      if (!/context was destroyed|navigat/i.test(e.message)) {
        throw e;
      }
    }
    await page.waitForTimeout(500);
  }
  return result;
}

const steps = [];
try {
  for (const step of job.steps) {
    const started = Date.now();
    await page.goto(step.url, { waitUntil: 'domcontentloaded' });
    const result = await waitFor(step);
    const screenshot = join(job.out, `${step.name}.png`);
    await page.screenshot({ path: screenshot }).catch((e) => errors.push(`screenshot: ${e.message.slice(0, 200)}`));
    const text = await bodyText();
    steps.push({ name: step.name, ...result, text, screenshot, url: page.url(), ms: Date.now() - started });
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify({ steps, responses, errors }));
