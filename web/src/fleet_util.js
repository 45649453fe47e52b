// What the pages derive from a device record (GET /api/v1/devices): its
// update state and what it runs, in words an operator reads at a glance.

// never-seen | downloading | trial | running | no-model
export function updateState(d) {
  if (d.health === 'never-seen') return 'never-seen';
  const slots = (d.status && d.status.slots) || [];
  if (slots.some((s) => s.state === 'receiving')) return 'downloading';
  if (d.running && d.running.state === 'trial') return 'trial';
  if (d.running && d.running.model) return 'running';
  return 'no-model';
}

export function runs(d) {
  return d.running && d.running.model ? `${d.running.model} ${d.running.version}` : 'nothing';
}

export function arch(d) {
  return (d.profile && d.profile.arch) || '?';
}
