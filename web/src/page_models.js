// Models and variants: every model in the registry, its versions (semantic
// order) and each version's variants (bundles built for different device
// classes), with how many devices run each version.

import { get, getAll } from './api.js';
import { ago, bytes, fill, h, section, table } from './dom.js';
import { prefillDeployment } from './page_deployments.js';

export default {
  title: 'Models',
  mount(view, params, session) {
    const body = h('div');
    view.append(h('h1', null, 'Models'), body);
    return {
      interval: 15000,
      async refresh() {
        const [models, bundles, devices] = await Promise.all([
          get('/models'), get('/bundles'), getAll('/devices', 'devices')]);
        const byId = new Map((bundles.bundles || []).map((b) => [b.id, b]));
        const running = new Map();
        for (const d of devices) {
          if (d.running && d.running.model) {
            const k = `${d.running.model}\u0000${d.running.version}`;
            running.set(k, (running.get(k) || 0) + 1);
          }
        }
        const list = models.models || [];
        if (!list.length) {
          fill(body, section(null, h('p', { class: 'muted' },
            'No model yet. Upload signed bundles with `tinymlops model push B.tmb` (docs/server.md).')));
          return;
        }
        fill(body, list.map((m) => section(m.name,
          [...m.versions].reverse().map((v) => versionBlock(m, v, byId, running, session)))));
      },
    };
  },
};

function versionBlock(m, v, byId, running, session) {
  const n = running.get(`${m.name}\u0000${v.version}`) || 0;
  const deploy = session.can('operator')
    ? h('button', { type: 'button', class: 'small deploy-version',
      onclick: () => { prefillDeployment(m.name, v.version); location.hash = '#/deployments'; } }, 'Deploy…')
    : null;
  const variants = (v.bundle_ids || []).map((id) => byId.get(id)).filter(Boolean);
  return h('div', { class: 'version', 'data-version': `${m.name} ${v.version}` },
    h('h3', null, `version ${v.version}`,
      h('span', { class: 'muted' }, ` · counter ${v.counter} · ${v.variants} variant${v.variants === 1 ? '' : 's'} · runs on ${n} device${n === 1 ? '' : 's'}`),
      deploy),
    table([
      { title: 'bundle', cell: (b) => `#${b.id}` },
      { title: 'for', cell: (b) => ((b.arches || []).length ? b.arches.join(', ') : 'any arch') },
      { title: 'min runtime', cell: (b) => b.min_runtime || '-' },
      { title: 'arena', cell: (b) => bytes(b.arena_bytes) },
      { title: 'model', cell: (b) => bytes(b.flash_bytes) },
      { title: 'bundle size', cell: (b) => bytes(b.size) },
      { title: 'ops', cell: (b) => h('span', { title: (b.ops || []).join(' ') }, String((b.ops || []).length)) },
      { title: 'rank', cell: (b) => String(b.rank ?? 0) },
      { title: 'signer', cell: (b) => h('span', { class: 'mono' }, (b.signer_id || '').slice(0, 12)) },
      { title: 'encrypted', cell: (b) => (b.encrypted ? 'yes' : 'no') },
      { title: 'uploaded', cell: (b) => ago(b.uploaded_at) },
    ], variants));
}
