#!/usr/bin/env node
// How `tinymlops server` serves the dashboard (docs/dashboard.md), without
// a browser: every file of web/src comes back byte for byte with its content
// type and the security headers, ETag revalidation gives 304, unknown names
// are 404 and other methods 405, uPlot is there when web/node_modules was
// installed at build time, and GET /api/v1/session names each role.
//
//   node static.mjs --cli build/cli/tinymlops --web web --work DIR
//
// Exits 0 on success, 1 on failure.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
if (!args.cli || !args.web || !args.work) {
  console.error('usage: static.mjs --cli TINYMLOPS --web WEB_DIR --work DIR');
  process.exit(2);
}
const work = path.resolve(args.work);
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };

async function main() {
  const admin = execFileSync(path.resolve(args.cli), ['server', 'init', '--db', `sqlite:${work}/fleet.db`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).match(/tmoa_[0-9a-f]+/)[0];
  const server = spawn('timeout', ['-k', '5', '60', path.resolve(args.cli), 'server', '--db', `sqlite:${work}/fleet.db`, '--listen', '127.0.0.1:0', '--port-file', `${work}/port`], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !fs.existsSync(`${work}/port`); i++) await new Promise((r) => setTimeout(r, 25));
    const base = `http://127.0.0.1:${fs.readFileSync(`${work}/port`, 'utf8').trim()}`;

    // Every source file, as it is in the repository.
    const src = path.join(args.web, 'src');
    for (const name of fs.readdirSync(src).sort()) {
      const res = await fetch(`${base}/${name}`);
      const body = Buffer.from(await res.arrayBuffer());
      const want = TYPES[name.split('.').pop()];
      check(res.status === 200 && body.equals(fs.readFileSync(path.join(src, name))) && res.headers.get('content-type') === want,
        `GET /${name}: 200, the file's bytes, ${want}`);
    }
    const root = await fetch(`${base}/`);
    const index = await root.text();
    check(root.status === 200 && index === fs.readFileSync(path.join(src, 'index.html'), 'utf8'), 'GET / is index.html');
    const csp = root.headers.get('content-security-policy') || '';
    check(/default-src 'none'/.test(csp) && /script-src 'self'/.test(csp) && !/unsafe/.test(csp) && /frame-ancestors 'none'/.test(csp),
      `Content-Security-Policy without inline script or style: ${csp}`);
    check(root.headers.get('x-frame-options') === 'DENY' && root.headers.get('x-content-type-options') === 'nosniff' &&
      root.headers.get('referrer-policy') === 'no-referrer' && root.headers.get('cache-control') === 'no-cache',
    'X-Frame-Options, X-Content-Type-Options, Referrer-Policy, Cache-Control');
    const etag = root.headers.get('etag');
    const again = await fetch(`${base}/`, { headers: { 'If-None-Match': etag } });
    check(/^"[0-9a-f]{32}"$/.test(etag) && again.status === 304 && (await again.text()) === '', `If-None-Match ${etag}: 304, empty`);
    const other = await fetch(`${base}/`, { headers: { 'If-None-Match': '"0"' } });
    check(other.status === 200, 'another ETag: 200');

    // Only the dashboard's own files, only GET.
    for (const p of ['/nope.js', '/..%2fCMakeLists.txt', '/style.css/x', '/api']) {
      const r = await fetch(`${base}${p}`);
      check(r.status === 404, `GET ${p}: 404 (${r.status})`);
    }
    const post = await fetch(`${base}/`, { method: 'POST' });
    check(post.status === 405, `POST /: 405 (${post.status})`);

    // The chart library, when node_modules was installed before the build.
    const uplot = fs.existsSync(path.join(args.web, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'));
    const u = await fetch(`${base}/uPlot.iife.min.js`);
    if (uplot) check(u.status === 200 && (await u.text()).includes('uPlot'), 'GET /uPlot.iife.min.js (web/node_modules/uplot)');
    else console.log('skip uPlot: web/node_modules not installed');

    // The session of each role; none without a token.
    const auth = (t) => ({ headers: { Authorization: `Bearer ${t}` } });
    const me = await (await fetch(`${base}/api/v1/session`, auth(admin))).json();
    check(me.role === 'admin' && me.name === 'admin', `session of the init token: ${JSON.stringify(me)}`);
    for (const role of ['operator', 'viewer']) {
      const made = await (await fetch(`${base}/api/v1/admin-tokens`, { method: 'POST', ...auth(admin), body: JSON.stringify({ role, name: `${role} <b>x</b>` }) })).json();
      const s = await (await fetch(`${base}/api/v1/session`, auth(made.token))).json();
      check(s.role === role && s.name === `${role} <b>x</b>`, `session of a ${role} token: ${JSON.stringify(s)}`);
    }
    const anon = await fetch(`${base}/api/v1/session`);
    check(anon.status === 401, `session without a token: 401 (${anon.status})`);
  } finally {
    server.kill('SIGTERM');
  }
  fs.rmSync(work, { recursive: true, force: true });
  console.log(failures ? `web_static: ${failures} failed` : 'web_static: passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.log(`web_static: FAIL: ${e.stack || e.message}`);
  process.exit(1);
});
