// Deployments: every rollout and rollback with its progress, and (operators)
// the form that starts a new one.

import { get, getAll, post, query } from './api.js';
import { ago, badge, fill, h, route, section, stackBar, status, table } from './dom.js';
import { progressText, stateParts, targetText, totalOf } from './deploy_util.js';
import { gateFields } from './gates.js';

let prefill = null;

// The Models page's "Deploy…" button opens this page with the form filled in.
export function prefillDeployment(model, version) {
  prefill = { model, version };
}

export default {
  title: 'Deployments',
  mount(view, params, session) {
    const list = h('div');
    const form = session.can('operator') ? newDeploymentForm() : null;
    view.append(h('h1', null, 'Deployments'), form ? form.el : null, section('All deployments', list));
    return {
      interval: 3000,
      async refresh() {
        const [deps] = await Promise.all([get('/deployments'), form ? form.refresh() : null]);
        const rows = [...(deps.deployments || [])].sort((a, b) => b.id - a.id);
        fill(list, table([
          { title: 'id', cell: (d) => h('a', { href: route('deployments', d.id) }, `#${d.id}`) },
          { title: 'kind', cell: (d) => (d.kind === 'rollback' ? `rollback of #${d.rollback_of}` : d.kind) },
          { title: 'model', cell: (d) => `${d.model} ${d.version}` },
          { title: 'target', cell: (d) => targetText(d.target) },
          { title: 'state', cell: (d) => badge(d.state, d.reason) },
          { title: 'wave', cell: (d) => `${Math.min(d.current_wave + 1, (d.waves || []).length)}/${(d.waves || []).length}` },
          { title: 'progress', cell: (d) => [stackBar(stateParts(d.devices), totalOf(d.devices)), h('small', null, progressText(d.devices))], class: 'progress' },
          { title: 'by', cell: (d) => d.created_by || '-' },
          { title: 'created', cell: (d) => ago(d.created_at) },
        ], rows, { empty: 'no deployment yet', rowAttrs: (d) => ({ 'data-deployment': d.id }) }));
      },
    };
  },
};

function csv(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function newDeploymentForm() {
  const msg = status();
  const model = h('select', { id: 'dep-model', required: true, onchange: () => fillVersions() });
  const version = h('select', { id: 'dep-version', required: true });
  const targetKind = h('select', { id: 'dep-target', onchange: () => showTarget() },
    h('option', { value: 'group' }, 'a group'), h('option', { value: 'tags' }, 'devices with tags'),
    h('option', { value: 'all' }, 'every device'));
  const group = h('select', { id: 'dep-group' });
  const tags = h('input', { id: 'dep-tags', placeholder: 'beta,eu', size: 14 });
  const exclude = h('input', { id: 'dep-exclude', placeholder: 'none', size: 12 });
  const waves = h('input', { id: 'dep-waves', placeholder: 'server default, e.g. 1,10,50,100', size: 22 });
  const soak = h('input', { id: 'dep-soak', type: 'number', min: 0, placeholder: 'default', size: 8 });
  const maxFail = h('input', { id: 'dep-max-failures', type: 'number', min: 0, value: '0', size: 5 });
  const matches = h('span', { class: 'muted', id: 'dep-matches' });
  const gates = gateFields();
  const groupWrap = h('label', null, 'Group ', group);
  const tagsWrap = h('label', null, 'Tags ', tags);
  let models = [];

  function fillVersions() {
    const m = models.find((x) => x.name === model.value);
    const want = prefill && prefill.model === model.value ? prefill.version : null;
    fill(version, (m ? [...m.versions].reverse() : []).map((v) =>
      h('option', { value: v.version, selected: v.version === want }, `${v.version} (${v.variants} variant${v.variants === 1 ? '' : 's'})`)));
  }
  function showTarget() {
    groupWrap.hidden = targetKind.value !== 'group';
    tagsWrap.hidden = targetKind.value !== 'tags';
    countMatches();
  }
  function target() {
    const t = {};
    if (targetKind.value === 'all') t.all = true;
    if (targetKind.value === 'group') t.group = group.value;
    if (targetKind.value === 'tags') t.tags = csv(tags.value);
    if (csv(exclude.value).length) t.exclude_tags = csv(exclude.value);
    return t;
  }
  async function countMatches() {
    const t = target();
    try {
      const r = await get('/devices' + query({ group: t.group, tag: (t.tags || []).join(','), exclude_tag: (t.exclude_tags || []).join(','), limit: 1 }));
      matches.textContent = `${r.total} device${r.total === 1 ? '' : 's'} match (before checking which variant fits)`;
    } catch (e) {
      matches.textContent = '';
    }
  }
  tags.addEventListener('change', countMatches);
  exclude.addEventListener('change', countMatches);
  group.addEventListener('change', countMatches);

  let loaded = false;
  // Models and groups are read when the form opens (and on the page's first refresh).
  const el = h('details', { class: 'card form-card', id: 'new-deployment', open: prefill ? true : null,
    ontoggle: () => { if (el.open) { loaded = false; form.refresh(); } } },
    h('summary', null, h('h2', null, 'New deployment')),
    h('form', { id: 'deploy-form', onsubmit: async (ev) => {
      ev.preventDefault();
      const body = { model: model.value, version: version.value, target: target(), max_failures: Number(maxFail.value || 0) };
      if (waves.value.trim()) body.waves = csv(waves.value).map(Number);
      if (soak.value !== '') body.soak_s = Number(soak.value);
      Object.assign(body, gates.value());
      try {
        const d = await post('/deployments', body);
        prefill = null;
        location.hash = route('deployments', d.id);
      } catch (e) {
        msg.fail(e);
      }
    } },
    h('div', { class: 'form-grid' },
      h('label', null, 'Model ', model),
      h('label', null, 'Version ', version),
      h('label', null, 'Target ', targetKind),
      groupWrap, tagsWrap,
      h('label', null, 'Except tags ', exclude),
      h('label', null, 'Waves (cumulative %) ', waves),
      h('label', null, 'Soak between waves (s) ', soak),
      h('label', null, 'Failures tolerated ', maxFail),
      gates.el),
    h('p', null, matches),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'dep-submit' }, 'Start deployment'), msg)));

  const form = {
    el,
    async refresh() {
      if (loaded) return;
      loaded = true;
      const [m, devices] = await Promise.all([get('/models'), getAll('/devices', 'devices')]);
      // Reloading keeps what the user chose (the Models page's choice on the first load).
      const want = { model: model.value || (prefill && prefill.model), version: version.value, group: group.value };
      models = m.models || [];
      fill(model, models.map((x) => h('option', { value: x.name, selected: want.model === x.name }, x.name)));
      fillVersions();
      if (want.version && [...version.options].some((o) => o.value === want.version)) version.value = want.version;
      const groups = [...new Set(devices.map((d) => d.group).filter(Boolean))].sort();
      fill(group, groups.map((g) => h('option', { value: g, selected: g === want.group }, g)));
      if (!groups.length) targetKind.value = 'all';
      showTarget();
    },
  };
  return form;
}
