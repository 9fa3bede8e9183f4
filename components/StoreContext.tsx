/** Hands the app store to components; they read it through selectors only. */
import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { AppActions } from '../src/state/actions.js';
import type { AppStore } from '../src/state/store.js';
import type { AppState } from '../src/state/types.js';

const StoreContext = createContext<AppStore | null>(null);

export function StoreProvider({ store, children }: { store: AppStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

export function useAppStore(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useAppStore outside StoreProvider');
  return store;
}

/** A selector read; objects and arrays are compared shallowly so a fresh object does not loop. */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useAppStore(), useShallow(selector));
}

export function useActions(): AppActions {
  return useAppStore().actions;
}

/** Writes a pane's clamped scroll offset back, so scrolling past the end does not pile up. */
export function useClampedScroll(target: keyof AppState['scroll'], requested: number, actual: number): void {
  const actions = useActions();
  useEffect(() => {
    if (requested !== actual) actions.setScroll(target, actual);
  }, [actions, target, requested, actual]);
}
