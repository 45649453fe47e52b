// Building the page. Everything the server says (device ids, groups, tags,
// model names, reasons, token names) is user data: it only ever enters the
// page as text nodes or attribute values through h(), never as HTML, so
// there is nothing to escape by hand and nothing to forget. No file of the
// dashboard uses innerHTML (tests/web checks it).

// h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child, [more])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces el's children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A CSS-safe token of a state name for class names ("rolled-back" -> "rolled-back").
export function cls(s) {
  return String(s ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '_');
}

export function badge(state, title) {
  return h('span', { class: `badge s-${cls(state)}`, title }, state || '-');
}

export function link(route, text) {
  return h('a', { href: route }, text);
}

// '#/devices/<id>' with each part encoded.
export function route(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
}

export function deviceLink(id) {
  return h('a', { href: route('devices', id), class: 'mono' }, String(id).slice(0, 12));
}

// table([{title, cell(row) -> node|text, class}], rows, {empty})
export function table(columns, rows, opts = {}) {
  const head = h('tr', null, columns.map((c) => h('th', { class: c.class }, c.title)));
  const body = rows.length
    ? rows.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : null,
        columns.map((c) => h('td', { class: c.class }, c.cell(r)))))
    : [h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, opts.empty || 'nothing yet'))];
  return h('table', { class: opts.class || 'grid' }, h('thead', null, head), h('tbody', null, body));
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...children);
}

// Key/value pairs as a definition list.
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

export function time(ms) {
  if (!ms) return '-';
  const d = new Date(ms);
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function ago(ms, now = Date.now()) {
  if (!ms) return 'never';
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function bytes(n) {
  if (n === undefined || n === null) return '-';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function num(x, digits = 2) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
}

// Counts of items by key(item), largest first: [[key, count], ...].
export function countBy(items, key) {
  const m = new Map();
  for (const it of items) {
    const k = key(it);
    m.set(k, (m.get(k) || 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}

// A horizontal bar split by state: [[state, count], ...] over total.
export function stackBar(parts, total) {
  const bar = h('div', { class: 'stack' });
  for (const [state, n] of parts) {
    if (!n) continue;
    const seg = h('span', { class: `seg s-${cls(state)}`, title: `${state}: ${n}` });
    seg.style.width = `${(100 * n) / Math.max(total, 1)}%`;
    bar.append(seg);
  }
  return bar;
}

// A list of "label: count" rows with proportional bars, for "devices by ...".
export function distribution(pairs, total, render = (k) => k) {
  return h('ul', { class: 'dist' }, pairs.map(([k, n]) => {
    const fillEl = h('span', { class: 'fill' });
    fillEl.style.width = `${(100 * n) / Math.max(total, 1)}%`;
    return h('li', null, h('span', { class: 'label' }, render(k)), h('span', { class: 'bar' }, fillEl),
      h('span', { class: 'n' }, String(n)));
  }));
}

// A one-line message area for a form: ok(text) / fail(error).
export function status() {
  const el = h('span', { class: 'status', role: 'status' });
  el.ok = (t) => { el.className = 'status ok'; el.textContent = t; };
  el.fail = (e) => { el.className = 'status err'; el.textContent = e.code ? `${e.code}: ${e.message}` : String(e.message || e); };
  el.clear = () => { el.className = 'status'; el.textContent = ''; };
  return el;
}
