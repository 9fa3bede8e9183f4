/** Keeps the store's terminal size in step with stdout ('resize' events). */
import { useStdout } from 'ink';
import { useEffect } from 'react';
import type { AppStore } from '../state/store.js';

export function useTerminalSize(store: AppStore): void {
  const { stdout } = useStdout();
  useEffect(() => {
    const update = (): void => {
      if (stdout.columns && stdout.rows) store.actions.setSize(stdout.columns, stdout.rows);
    };
    update();
    stdout.on('resize', update);
    return () => {
      stdout.off('resize', update);
    };
  }, [stdout, store]);
}
