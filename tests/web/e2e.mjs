#!/usr/bin/env node
// The dashboard end to end, as an operator uses it (docs/dashboard.md):
// a real `tinymlops server` on a temporary SQLite database, real signed
// bundles (key gen/certify, model train, bundle pack, model push), a real
// simulated fleet (`tinymlops sim`: agents that enroll, check in, download,
// verify, install and report), and Debian's Chromium driven by
// playwright-core. In the browser: sign in, see the fleet, start a
// deployment with the form and watch its waves complete as devices report,
// tag a device, acknowledge and resolve an alert; then as a viewer: no
// control is offered and the server refuses the same requests (403).
// Server-provided strings are checked to render as text (XSS).
//
//   node e2e.mjs --cli build/cli/tinymlops --web web --work DIR [--screenshots DIR] [--keep]
//
// Exits 0 on success, 1 on failure, 77 (skip) when Chromium, web/node_modules
// or the digits data set is missing. --screenshots DIR runs a larger fleet a
// little longer and saves one PNG per page there (cmake target web_screenshots).

import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const DIGITS = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';
const CHROMIUM = process.env.TMO_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const XSS_NAME = '<img src=x onerror="window.__xss=1">';

// ---- arguments, skips, bookkeeping ----

const args = { keep: false, screenshots: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--keep') args.keep = true;
  else if (a.startsWith('--')) args[a.slice(2)] = process.argv[++i];
}
for (const need of ['cli', 'web', 'work']) {
  if (!args[need]) {
    console.error(`usage: e2e.mjs --cli TINYMLOPS --web WEB_DIR --work DIR [--screenshots DIR] [--keep]`);
    process.exit(2);
  }
}
args.cli = path.resolve(args.cli);
const shots = args.screenshots ? path.resolve(args.screenshots) : null;
const DEVICES = shots ? 40 : 8;

function skip(why) {
  console.log(`web_e2e: SKIP: ${why}`);
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (scripts/deps.sh installs Debian's chromium)`);
if (!fs.existsSync(path.join(args.web, 'node_modules', 'playwright-core'))) skip(`${args.web}/node_modules not installed (scripts/deps.sh runs npm ci there)`);
if (!fs.existsSync(DIGITS)) skip(`${DIGITS} not found (python3-sklearn)`);
if (!fs.existsSync(args.cli)) skip(`${args.cli} not built`);
const { chromium } = createRequire(path.resolve(args.web, 'package.json'))('playwright-core');

const t0 = Date.now();
const work = path.resolve(args.work);
const children = [];
let failures = 0;

function log(msg) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}
function check(ok, what) {
  if (ok) {
    log(`ok   ${what}`);
  } else {
    failures++;
    log(`FAIL ${what}`);
  }
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, timeoutMs = 30000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

function stopChildren() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try { c.kill('SIGTERM'); } catch { /* gone */ }
    }
  }
}
process.on('exit', stopChildren);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopChildren(); process.exit(1); });

// ---- the platform: keys, server, bundles, fleet ----

function cli(...argv) {
  return execFileSync(args.cli, argv, { cwd: work, encoding: 'utf8', env: { ...process.env, ...cliEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
}
const cliEnv = {};

// A background process, bounded by timeout(1) so nothing outlives a killed test.
function background(name, argv) {
  const out = fs.openSync(path.join(work, `${name}.log`), 'w');
  const c = spawn('timeout', ['-k', '5', shots ? '600' : '280', args.cli, ...argv], { cwd: work, stdio: ['ignore', out, out] });
  children.push(c);
  return c;
}

// 300 digits rows quantized with the model's input scale and zero point: the
// representative data of the bundle's monitoring profile and known answers.
function profileData(scale, zeroPoint) {
  const rows = zlib.gunzipSync(fs.readFileSync(DIGITS)).toString('utf8').trim().split('\n').slice(0, 300)
    .map((l) => l.split(',').map(Number));
  const data = Buffer.alloc(rows.length * 64);
  rows.forEach((r, i) => {
    for (let f = 0; f < 64; f++) data.writeInt8(Math.max(-128, Math.min(127, Math.round(r[f] / scale) + zeroPoint)), i * 64 + f);
  });
  fs.writeFileSync(path.join(work, 'profile.bin'), data);
  fs.writeFileSync(path.join(work, 'labels.txt'), rows.map((r) => String(r[64])).join('\n') + '\n');
}

let base = '';
let adminToken = '';

async function apiCall(method, p, body, tok = adminToken) {
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

async function setup() {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  cli('key', 'gen', '--role', 'root', '--out', 'root');
  cli('key', 'gen', '--role', 'signing', '--out', 'signing');
  cli('key', 'certify', '--root', 'root.key', '--key', 'signing.pub', '--out', 'signing.cert');
  adminToken = cli('server', 'init', '--db', `sqlite:${work}/fleet.db`).match(/tmoa_[0-9a-f]+/)[0];
  background('server', ['server', '--db', `sqlite:${work}/fleet.db`, '--listen', '127.0.0.1:0',
    '--port-file', 'port', '--root-key', 'root.pub', '--tick-ms', '200', '--checkin-interval', '1',
    '--soak', '1', '--waves', '25,100']);
  const port = await waitFor('the server port', () => {
    const f = path.join(work, 'port');
    return fs.existsSync(f) && fs.readFileSync(f, 'utf8').trim();
  }, 10000, 50);
  base = `http://127.0.0.1:${port}`;
  Object.assign(cliEnv, { TINYMLOPS_SERVER: base, TINYMLOPS_TOKEN: adminToken });
  log(`server at ${base}`);

  // Two versions of a digits classifier, trained here, signed and registered.
  for (const [v, hidden, seed] of [['1.0.0', 16, 1], ['2.0.0', 24, 2]]) {
    const info = JSON.parse(cli('model', 'train', '--data', DIGITS, '--arch', `mlp:${hidden}`, '--epochs', '3',
      '--seed', String(seed), '--out', `digits-${v}.tflite`, '--json'));
    profileData(info.int8_model.input_scale, info.int8_model.input_zero_point);
    cli('bundle', 'pack', `digits-${v}.tflite`, '--name', 'digits', '--version', v, '--counter', v[0],
      '--sign', 'signing.key', '--cert', 'signing.cert', '--profile-data', 'profile.bin', '--labels', 'labels.txt',
      '--kat', '2', '--out', `digits-${v}.tmb`);
    cli('model', 'push', `digits-${v}.tmb`);
  }

  // Alerts: a device silent for 3 s is alerted on (the default is 10 minutes).
  await apiCall('PUT', '/alert-rules', { silent_s: 3 });
  // The fleet: real agents in one process, in two groups. One device of group "lab" (which
  // the browser's deployment leaves alone) loses its network 25 s in (well after version
  // 1.0.0 reached it, even on a loaded machine) for the rest of the test.
  // For the screenshots, group "lab" also drifts (its input shifts) 20 s in: charts and a drift alert.
  fs.writeFileSync(path.join(work, 'scenario.txt'), '25 outage group=lab count=1 duration=900\n' +
    (shots ? '20 drift group=lab shift=6 duration=900\n' : ''));
  background('sim', ['sim', '--server', base, '--devices', String(DEVICES), '--root-key', 'root.pub', '--scenario', 'scenario.txt',
    '--token', adminToken, '--groups', 'field:75,lab:25', '--tags', 'canary:25', '--checkin-interval', '1',
    '--ramp', '1', '--infer-hz', '25', '--progress', '10', '--state-dir', 'sim']);
  await waitFor(`${DEVICES} devices to enroll and check in`, async () => {
    const r = await apiCall('GET', '/devices?limit=1000');
    return r.total === DEVICES && r.devices.every((d) => d.last_seen > 0);
  }, 30000);
  log(`${DEVICES} devices checked in`);

  // Version 1 everywhere first, so the fleet runs a model (and reports telemetry) when the browser opens.
  const d = await apiCall('POST', '/deployments', { model: 'digits', version: '1.0.0', target: { all: true }, waves: [100], soak_s: 0 });
  await waitFor('version 1.0.0 on every device', async () => (await apiCall('GET', `/deployments/${d.id}`)).state === 'completed', 60000, 300);
  log('version 1.0.0 runs on the whole fleet');
  if (shots) {
    log('screenshots: 45 s more of telemetry for the charts');
    await sleep(45000);
  }
}

// Screenshots show the last 15 minutes (15 s buckets) rather than the last hour.
async function shortRange(page) {
  if (!shots) return;
  await page.selectOption('#view .telemetry select.range', '15m');
  await page.waitForTimeout(1500);
}

// ---- the browser ----

// Each page is its own tab, so its own sessionStorage: its own signed-in session.
async function newPage(browser, consoleErrors) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on('dialog', (dlg) => dlg.accept());
  return page;
}

async function signIn(page, tok) {
  await page.goto(`${base}/`);
  await page.fill('#token', tok);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#nav:not([hidden])', { timeout: 10000 });
}

async function shot(page, name) {
  if (!shots) return;
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  log(`screenshot ${name}.png`);
}

async function operatorFlow(browser, errors) {
  const page = await newPage(browser, errors);
  await page.goto(`${base}/`);
  await page.waitForSelector('#login-form');
  await shot(page, 'login');

  // A wrong token is refused with a message.
  await page.fill('#token', 'tmoa_not_a_token');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  check(await page.isVisible('#login-form'), 'a wrong token is refused');
  errors.length = 0; // the 401 of that attempt is expected

  await signIn(page, adminToken);
  check((await page.textContent('#who-role')) === 'admin', 'signed in as admin');

  // Fleet overview.
  await page.waitForSelector('[data-tile="devices"] .value');
  check(Number(await page.textContent('[data-tile="devices"] .value')) === DEVICES, `the fleet shows ${DEVICES} devices`);
  check(await page.locator('tr[data-device]').count() === DEVICES, 'every device is listed');
  check((await page.textContent('.dist')).includes('running'), 'devices by update state');
  check((await page.textContent('#view')).includes('digits 1.0.0'), 'devices by version: digits 1.0.0');
  await shortRange(page);
  await shot(page, 'fleet');

  // Models and variants.
  await page.click('nav a[data-page="models"]');
  await page.waitForSelector('[data-version="digits 2.0.0"]');
  check((await page.textContent('[data-version="digits 1.0.0"] h3')).includes(`runs on ${DEVICES} devices`), 'models page: version 1.0.0 runs everywhere');
  await shot(page, 'models');

  // Start a deployment of 2.0.0 to group "field" from the form, in two waves.
  await page.click('[data-version="digits 2.0.0"] button.deploy-version');
  await page.waitForSelector('#deploy-form');
  await page.waitForFunction(() => document.querySelector('#dep-version').value === '2.0.0');
  await page.selectOption('#dep-target', 'group');
  await page.selectOption('#dep-group', 'field');
  await page.fill('#dep-waves', '50,100');
  await page.fill('#dep-soak', shots ? '6' : '3'); // long enough to be seen between the waves
  await page.waitForFunction(() => /\d+ devices? match/.test(document.getElementById('dep-matches').textContent));
  // With telemetry, a health gate (generous limits: it must pass) compares wave 1 with the rest.
  check(await telemetryFlows(), 'the fleet uploads its monitoring reports');
  await page.check('#gate-on');
  await page.fill('#gate-min-inferences', '50');
  for (const [f, v] of [['max_error_increase', '1'], ['max_latency_ratio', '100'], ['max_accuracy_drop', '1'], ['max_drift_increase', '10']]) {
    await page.fill(`#gate-${f}`, v);
  }
  await shot(page, 'deployment-new');
  await page.click('#dep-submit');
  await page.waitForURL(/#\/deployments\/\d+$/);
  const depId = Number(page.url().match(/(\d+)$/)[1]);
  const field = (await apiCall('GET', '/devices?group=field&limit=1000')).total;
  log(`deployment #${depId} started from the browser (${field} devices in group field)`);

  // Watch it: the page refreshes itself; collect what the legend shows until it completes.
  const seen = new Set();
  let midShot = false;
  await waitFor(`deployment #${depId} to complete in the browser`, async () => {
    const legend = await page.locator('#waves > .legend').textContent().catch(() => '');
    if (legend) seen.add(legend.replace(/\s+/g, ' ').trim());
    const state = await page.textContent('#dep-state').catch(() => '');
    if (shots && !midShot && /confirmed/.test(legend) && state === 'active') {
      midShot = true;
      await shot(page, 'deployment-live');
    }
    return state === 'completed';
  }, 90000, 200);
  // Live: the page showed the rollout unfinished, then finished, refreshing by itself.
  check(seen.size >= 2, `the page showed live progress (${seen.size} distinct states: ${[...seen].join(' | ')})`);
  const finalCount = await page.textContent('#waves [data-count="confirmed"]');
  check(finalCount.includes(String(field)), `all ${field} devices of group field confirmed 2.0.0 (${finalCount.trim()})`);
  check(await page.locator('#waves .wave').count() === 2, 'two waves shown');
  const verdict = await page.textContent('#gate-verdict').catch(() => '');
  check(/pass/.test(verdict), `the health gate's decision is shown: ${verdict.trim()}`);
  check(Number(await page.getAttribute('#view .telemetry .charts', 'data-series')) >= 1, 'the deployment page charts its telemetry');
  check(await page.locator('[data-action]').count() === 1 && await page.isVisible('[data-action="rollback"]'), 'a completed deployment offers only rollback');
  await shot(page, 'deployment');

  // Deployments list.
  await page.click('nav a[data-page="deployments"]');
  await page.waitForSelector(`tr[data-deployment="${depId}"]`);
  check((await page.textContent(`tr[data-deployment="${depId}"]`)).includes('completed'), 'the list shows the deployment completed');
  await shot(page, 'deployments');

  // Tag a device from its page.
  const dev = (await apiCall('GET', '/devices?group=field&limit=1')).devices[0].id;
  await page.goto(`${base}/#/devices/${dev}`);
  await page.waitForSelector('#tag-form');
  await page.fill('#tag-input', 'e2e-tagged');
  await page.click('#tag-form button[type=submit]');
  await page.waitForSelector('[data-tag="e2e-tagged"]');
  check((await apiCall('GET', `/devices/${dev}`)).tags.includes('e2e-tagged'), 'tagging from the device page reached the server');
  check((await page.textContent('#view')).includes('digits 2.0.0'), 'the device page shows it runs 2.0.0');
  await page.waitForSelector('#view .telemetry .chart canvas', { timeout: 15000 });
  check(Number(await page.getAttribute('#view .telemetry .charts', 'data-series')) >= 1, 'the device page charts its telemetry');
  await shortRange(page);
  await shot(page, 'device');

  const alertId = await alertsFlow(page);
  await page.close();
  return { depId, alertId };
}

// Whether the fleet's monitoring reports reach the server (within a few windows).
async function telemetryFlows() {
  try {
    await waitFor('telemetry', async () => (await apiCall('GET', '/telemetry?since=10m')).totals.reports > 0, 15000, 500);
    return true;
  } catch {
    return false;
  }
}

// The silent device's alert: seen, acknowledged, then resolved from the alerts page.
async function alertsFlow(page) {
  await page.click('nav a[data-page="alerts"]');
  await page.selectOption('#alert-kind', 'silent');
  const row = page.locator('tr[data-alert][data-state="open"]').first();
  await row.waitFor({ timeout: 60000 });
  const id = Number(await row.getAttribute('data-alert'));
  check((await row.textContent()).includes('silent'), `alert #${id} (silent device) is listed`);
  await page.waitForFunction(() => Number(document.getElementById('alert-count').textContent) >= 1, null, { timeout: 15000 });
  check(await page.isVisible('#alert-count'), 'the navigation counts open alerts');
  if (shots) { // every kind, for the picture
    await page.selectOption('#alert-kind', '');
    await page.waitForSelector(`tr[data-alert="${id}"]`);
    await shot(page, 'alerts');
  }
  await page.click(`tr[data-alert="${id}"] [data-action="ack"]`);
  await page.waitForSelector(`tr[data-alert="${id}"][data-state="acknowledged"]`);
  const acked = await apiCall('GET', `/alerts/${id}`);
  check(acked.state === 'acknowledged' && acked.acked_by === 'admin', `alert #${id} acknowledged by admin (${acked.state}, ${acked.acked_by})`);
  await page.click(`tr[data-alert="${id}"] [data-action="resolve"]`);
  await page.waitForSelector(`tr[data-alert="${id}"]`, { state: 'detached' });
  const resolved = await apiCall('GET', `/alerts/${id}`);
  check(resolved.state === 'resolved' && resolved.resolved_by === 'admin', `alert #${id} resolved by admin (${resolved.state}, ${resolved.resolved_by})`);
  return id;
}

// A viewer sees everything and can change nothing; the server refuses anyway.
async function viewerFlow(browser, errors, { depId, alertId }) {
  const viewer = await apiCall('POST', '/admin-tokens', { role: 'viewer', name: 'e2e-viewer' });
  const page = await newPage(browser, errors);
  await signIn(page, viewer.token);
  check((await page.textContent('#who-role')) === 'viewer', 'signed in as viewer');
  await page.waitForSelector('tr[data-device]');

  await page.click('nav a[data-page="deployments"]');
  await page.waitForSelector(`tr[data-deployment="${depId}"]`);
  check(await page.locator('#new-deployment').count() === 0, 'viewer: no new-deployment form');
  await page.goto(`${base}/#/deployments/${depId}`);
  await page.waitForSelector('#waves .wave');
  check(await page.locator('[data-action]').count() === 0, 'viewer: no deployment actions');
  await page.click('nav a[data-page="models"]');
  await page.waitForSelector('[data-version]');
  check(await page.locator('button.deploy-version').count() === 0, 'viewer: no deploy buttons on models');
  const dev = (await apiCall('GET', '/devices?limit=1')).devices[0].id;
  await page.goto(`${base}/#/devices/${dev}`);
  await page.waitForSelector('.facts');
  check(await page.locator('#tag-form').count() === 0, 'viewer: no tag form');
  await page.click('nav a[data-page="alerts"]');
  await page.selectOption('#alert-state', '');
  await page.waitForSelector(`tr[data-alert="${alertId}"]`);
  check(await page.locator('#view [data-action]').count() === 0, 'viewer: no alert buttons');

  // The same requests the hidden controls would send, with the viewer's own token: refused.
  const refused = await page.evaluate(async (id) => {
    const out = [];
    for (const [m, p, b] of [
      ['POST', '/deployments', { model: 'digits', version: '1.0.0', target: { all: true } }],
      ['POST', `/deployments/${id.depId}/rollback`, {}],
      ['POST', `/alerts/${id.alertId}/ack`, {}],
      ['PATCH', '/devices/' + (await window.tinymlops.api('GET', '/devices?limit=1')).devices[0].id, { add_tags: ['x'] }],
    ]) {
      try {
        await window.tinymlops.api(m, p, b);
        out.push(`${m} ${p}: accepted`);
      } catch (e) {
        out.push(`${m} ${p}: ${e.status} ${e.code}`);
      }
    }
    return out;
  }, { depId, alertId });
  check(refused.every((r) => r.endsWith('403 forbidden')), `viewer: the server refuses changes (${refused.join('; ')})`);
  check((await apiCall('GET', '/deployments')).deployments.length === 2, 'viewer: no deployment was created');
  // Those 403s are logged by the browser as failed loads; they are the point of this check.
  for (let i = errors.length - 1; i >= 0; i--) if (/status of 403/.test(errors[i])) errors.splice(i, 1);
  await page.close();
}

// Strings from the server render as text: a token named like an HTML payload
// creates a deployment; its name must appear verbatim and never run.
async function xssFlow(browser, errors) {
  const op = await apiCall('POST', '/admin-tokens', { role: 'operator', name: XSS_NAME });
  const d = await apiCall('POST', '/deployments', { model: 'digits', version: '2.0.0', target: { group: 'lab' }, waves: [100], soak_s: 0 }, op.token);
  const page = await newPage(browser, errors);
  await signIn(page, op.token);
  await page.goto(`${base}/#/deployments`);
  await page.waitForSelector(`tr[data-deployment="${d.id}"]`);
  check((await page.textContent(`tr[data-deployment="${d.id}"]`)).includes(XSS_NAME), 'a token name with HTML shows as text in the list');
  check((await page.textContent('#who-name')) === XSS_NAME, 'and as text in the header');
  check(await page.evaluate(() => window.__xss === undefined && document.querySelectorAll('img[src="x"]').length === 0), 'and never runs');
  await page.close();
}

// No page builds HTML from strings (dom.js's rule).
function sourceRules() {
  const src = path.join(args.web, 'src');
  const bad = fs.readdirSync(src).filter((f) => f.endsWith('.js'))
    .filter((f) => /\.innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(fs.readFileSync(path.join(src, f), 'utf8')));
  check(bad.length === 0, `no innerHTML/outerHTML/insertAdjacentHTML/document.write in web/src (${bad.join(', ') || 'none'})`);
}

async function main() {
  sourceRules();
  await setup();
  if (shots) fs.mkdirSync(shots, { recursive: true });
  const errors = [];
  // A fresh profile directory (launchPersistentContext passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(path.join(work, 'chromium-profile'), {
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1360, height: 900 },
  });
  try {
    const ids = await operatorFlow(browser, errors);
    await viewerFlow(browser, errors, ids);
    await xssFlow(browser, errors);
  } finally {
    await browser.close();
  }
  // Nothing else went wrong in the pages: no script error, no CSP violation, no failed load.
  check(errors.length === 0, `no console errors (${errors.slice(0, 5).join(' | ') || 'none'})`);
}

main().then(() => {
  stopChildren();
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  if (failures === 0) {
    console.log(`web_e2e: passed in ${s} s`);
    if (!args.keep) fs.rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  console.log(`web_e2e: ${failures} check(s) failed in ${s} s; logs in ${work}`);
  process.exit(1);
}, (e) => {
  stopChildren();
  console.log(`web_e2e: FAIL: ${e.stack || e.message}\nlogs in ${work}`);
  process.exit(1);
});
