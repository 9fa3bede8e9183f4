export { createAppStore, colorEnabled, type AppStore, type AppStoreOptions } from './store.js';
export type { AppActions } from './actions.js';
export * from './selectors.js';
export * from './types.js';
