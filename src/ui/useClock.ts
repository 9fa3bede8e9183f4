/** The current time, re-read every `ms` (for "time in state"). */
import { useEffect, useState } from 'react';

export function useClock(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    t.unref?.();
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
