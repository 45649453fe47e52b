// The dashboard's shell: sign-in, the hash router (#/fleet, #/devices/ID,
// #/models, #/deployments, #/deployments/ID, #/alerts) and the polling loop
// that refreshes the current page while it is visible.

import { api, ApiError, get, setToken, token, whenUnauthorized } from './api.js';
import { fill, h } from './dom.js';
import fleet from './page_fleet.js';
import device from './page_device.js';
import models from './page_models.js';
import deployments from './page_deployments.js';
import deployment from './page_deployment.js';
import alerts from './page_alerts.js';

const $ = (id) => document.getElementById(id);
const ROLE_RANK = { viewer: 1, operator: 2, admin: 3 };

// What every page gets: the session and what its role allows.
const session = {
  name: '',
  role: '',
  can(role) {
    return (ROLE_RANK[this.role] || 0) >= ROLE_RANK[role];
  },
};

const routes = [
  [/^$/, fleet, 'fleet'],
  [/^fleet$/, fleet, 'fleet'],
  [/^devices\/([0-9a-f]{32})$/, device, 'fleet'],
  [/^models$/, models, 'models'],
  [/^deployments$/, deployments, 'deployments'],
  [/^deployments\/([0-9]+)$/, deployment, 'deployments'],
  [/^alerts$/, alerts, 'alerts'],
];

let generation = 0; // bumped on every navigation; stale refresh loops stop themselves
let current = null;

function banner(text) {
  const b = $('banner');
  b.hidden = !text;
  b.textContent = text || '';
}

async function refreshLoop(gen) {
  while (gen === generation && current) {
    if (!document.hidden) {
      try {
        await current.refresh();
        if (gen !== generation) return;
        banner('');
        $('refreshed').textContent = `updated ${new Date().toLocaleTimeString()}`;
        $('refreshed').dataset.at = String(Date.now());
      } catch (e) {
        if (gen !== generation) return;
        if (!(e instanceof ApiError && e.status === 401)) banner(`Could not refresh: ${e.code || ''} ${e.message}`);
      }
    }
    if (gen !== generation || !current) return;
    await new Promise((r) => setTimeout(r, current.interval || 5000));
  }
}

function navigate() {
  if (!session.role) return;
  const path = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  generation++;
  if (current && current.unmount) current.unmount();
  current = null;
  const view = $('view');
  let matched = null;
  for (const [re, page, tab] of routes) {
    const m = path.match(re);
    if (m) {
      matched = { page, tab, params: m.slice(1) };
      break;
    }
  }
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', matched && a.dataset.page === matched.tab);
  if (!matched) {
    fill(view, h('section', { class: 'card' }, h('h2', null, 'Not found'), h('p', null, 'No such page. '), h('a', { href: '#/fleet' }, 'Back to the fleet')));
    return;
  }
  fill(view);
  document.title = `${matched.page.title} · tinymlops`;
  current = matched.page.mount(view, matched.params, session);
  refreshLoop(generation);
}

// The alert count in the navigation, refreshed with every page (cheap: one count query).
async function alertCount() {
  try {
    const r = await get('/alerts?state=open&limit=1');
    const el = $('alert-count');
    el.hidden = !r.total;
    el.textContent = String(r.total || 0);
  } catch {
    /* alerts are optional for the rest of the dashboard */
  }
}

function showLogin(message) {
  session.role = '';
  generation++;
  current = null;
  $('nav').hidden = $('who').hidden = $('view').hidden = true;
  banner('');
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').focus();
}

async function startSession() {
  const s = await get('/session');
  session.name = s.name;
  session.role = s.role;
  $('who-name').textContent = s.name || '(unnamed token)';
  $('who-role').textContent = s.role;
  $('who-role').className = `badge role-${s.role}`;
  document.body.dataset.role = s.role;
  $('login').hidden = true;
  $('nav').hidden = $('who').hidden = $('view').hidden = false;
  alertCount();
  navigate();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  setToken($('token').value.trim());
  $('token').value = '';
  try {
    await startSession();
  } catch (e) {
    setToken(null);
    showLogin(e.status === 401 ? 'The server does not accept this token.' : `${e.code}: ${e.message}`);
  }
});

$('logout').addEventListener('click', () => {
  setToken(null);
  showLogin('');
});

whenUnauthorized(() => {
  setToken(null);
  showLogin('The token is no longer accepted (revoked?). Sign in again.');
});

window.addEventListener('hashchange', navigate);
setInterval(() => { if (session.role && !document.hidden) alertCount(); }, 10000);

// Expose the API for the browser test (tests/web) and the console; it carries no secret of its own.
window.tinymlops = { api };

if (token()) startSession().catch((e) => showLogin(e.status === 401 ? '' : `${e.code}: ${e.message}`));
else showLogin('');
