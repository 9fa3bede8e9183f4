/** The lane states (DESIGN.md, "Lane lifecycle"): a leaf module, so the store's row type and the lane vocabulary can both name them. */
export const LANE_STATES = [
  'created',
  'queued',
  'starting',
  'running',
  'idle',
  'waiting-input',
  'gating',
  'awaiting-approval',
  'approved',
  'merging',
  'merged',
  'discarded',
  'failed',
  'interrupted',
  'stopped',
] as const;
export type LaneState = (typeof LANE_STATES)[number];
