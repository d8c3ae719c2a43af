// Drives the OHIF viewer in Debian's headless Chromium (playwright-core)
// for gdpr-gateway's browser tests: one fresh browser profile per run, an
// access token of the real OpenID provider on every request of the page
// (the context's extra HTTP headers), each step a page to open and a
// thing to wait for. The provider's tokens live seconds (scripts/oidc.sh),
// so a fresh one is fetched every 3 s while the browser runs, as a
// viewer's own token renewal would.
//
//   node drive.mjs '<json>'   (written by gdpr-gateway/tests/ohif.rs)
//
// The job: { chromium, auth: { issuer, client, secretFile, resource }, out,
// steps: [{ name, url, wait, timeoutMs }] }
// where `wait` is { text: "…" } (the page shows it), { noRows: true } (the
// study list says it has no studies), { status: 403 } (a DICOMweb answer
// had that status) or { image: true } (the first viewport
// shows an image: a screenshot of it whose pixels are not uniform). Every
// step saves `<out>/<name>.png` (the page) and, for `image`, also
// `<out>/<name>-viewport.png` (the viewport alone).
// Prints one JSON line: { steps: [{ name, ok, text, screenshot, viewport,
// stddev }], responses: [{ url, status }], errors: [...] }. Exit 0 when the
// browser ran (the test judges the result), 2 on a bad job.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

// A client-credentials token of job.auth.client for job.auth.resource.
async function token() {
  const { issuer, client, secretFile, resource } = job.auth;
  const secret = readFileSync(secretFile, 'utf8').trim();
  const answer = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'dicomweb', resource }),
  });
  const body = await answer.json();
  if (!body.access_token) {
    throw new Error(`the provider gave no token (${answer.status} ${body.error ?? ''})`);
  }
  return body.access_token;
}
async function renew() {
  await context.setExtraHTTPHeaders({ authorization: `Bearer ${await token()}` });
}
await renew();
const renewal = setInterval(() => renew().catch((e) => errors.push(`token: ${e.message}`)), 3000);
context.on('response', (r) => {
  if (r.url().includes('/dicom-web/')) {
    responses.push({ url: r.url(), status: r.status() });
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

async function waitFor(step) {
  const deadline = Date.now() + (step.timeoutMs ?? 60000);
  const result = { ok: false };
  while (Date.now() < deadline) {
    const text = await page.evaluate(() => document.body?.innerText ?? '');
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
    if (step.wait.image) {
      // The viewer's guided tour pops up over the image: hidden.
      await page.addStyleTag({ content: '.shepherd-element, .shepherd-modal-overlay-container { display: none !important; }' });
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
    await page.screenshot({ path: screenshot });
    const text = await page.evaluate(() => document.body?.innerText ?? '');
    steps.push({ name: step.name, ...result, text, screenshot, ms: Date.now() - started });
  }
} finally {
  clearInterval(renewal);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify({ steps, responses, errors }));
