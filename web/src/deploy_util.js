// What the deployment pages share: the order device states are drawn in and
// a target described in words.

// Per-device deployment states (docs/protocol.md P-15), in progress order.
export const DEVICE_STATES = ['confirmed', 'installed-trial', 'downloading', 'pending',
  'failed', 'rolled-back', 'skipped', 'cancelled'];

export function stateParts(counts) {
  return DEVICE_STATES.map((s) => [s, (counts && counts[s]) || 0]);
}

export function totalOf(counts) {
  return Object.values(counts || {}).reduce((a, b) => a + b, 0);
}

export function targetText(t) {
  if (!t) return '-';
  if (!Object.keys(t).length) return 'all devices';
  const parts = [];
  if (t.all) parts.push('all devices');
  if (t.group) parts.push(`group ${t.group}`);
  if (t.tags && t.tags.length) parts.push(`tags ${t.tags.join('+')}`);
  if (t.exclude_tags && t.exclude_tags.length) parts.push(`not ${t.exclude_tags.join(', ')}`);
  if (t.devices && t.devices.length) parts.push(`${t.devices.length} devices`);
  return parts.join(', ') || '-';
}

// Devices that reached a final state, over those assigned (skipped ones excluded).
export function progressText(counts) {
  const c = counts || {};
  const assigned = totalOf(c) - (c.skipped || 0);
  const done = (c.confirmed || 0) + (c.failed || 0) + (c['rolled-back'] || 0) + (c.cancelled || 0);
  return `${done}/${assigned} done`;
}

export const ACTIVE_STATES = new Set(['active', 'paused', 'halted']);
