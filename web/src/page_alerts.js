// Alerts (placeholder until the server's alert API lands).
import { h } from './dom.js';

export default {
  title: 'Alerts',
  mount(view) {
    view.append(h('h1', null, 'Alerts'));
    return { refresh: async () => {} };
  },
};
