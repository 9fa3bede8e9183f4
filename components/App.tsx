/** Picks the layout for the current mode; every pane gets a fixed, bounded height. */
import { Box } from 'ink';
import { computeLayout } from '../src/ui/layout.js';
import { useKeymap } from '../src/ui/useKeymap.js';
import { useTerminalSize } from '../src/ui/useTerminalSize.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { FlashLine } from './FlashLine.js';
import { FocusPane } from './FocusPane.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { LaneList } from './LaneList.js';
import { LearningInput } from './LearningInput.js';
import { LearningsBrowser } from './LearningsBrowser.js';
import { MetricsPanel } from './MetricsPanel.js';
import { NewLaneForm } from './NewLaneForm.js';
import { RejectForm } from './RejectForm.js';
import { HistoryView } from './replay/HistoryView.js';
import { ReplayPlayer } from './replay/ReplayPlayer.js';
import { useApp, useAppStore } from './StoreContext.js';
import { Viewer } from './Viewer.js';

export function App() {
  const store = useAppStore();
  useTerminalSize(store);
  useKeymap(store);
  const { cols, rows, laneCount, mode } = useApp((s) => ({
    cols: s.size.cols,
    rows: s.size.rows,
    laneCount: s.lanes.length,
    mode: s.mode,
  }));
  const layout = computeLayout(cols, rows, laneCount);
  const w = layout.cols;
  const paneLines = layout.pane + 1;
  let body;
  if (mode === 'help') body = <HelpOverlay width={w} height={layout.body} />;
  else if (mode === 'diff' || mode === 'gate-output') body = <Viewer width={w} height={layout.body} />;
  else if (mode === 'learnings') body = <LearningsBrowser width={w} height={layout.body} />;
  else if (mode === 'metrics') body = <MetricsPanel width={w} height={layout.body} />;
  else if (mode === 'history') body = <HistoryView width={w} height={layout.body} />;
  else if (mode === 'replay') body = <ReplayPlayer width={w} height={layout.body} />;
  else {
    let pane;
    if (mode === 'new-lane-form') pane = <NewLaneForm width={w} height={paneLines} />;
    else if (mode === 'reject-form') pane = <RejectForm width={w} height={paneLines} />;
    else if (mode === 'learning-input') pane = <LearningInput width={w} height={paneLines} />;
    else if (mode === 'confirm-stop' || mode === 'confirm-quit' || mode === 'confirm-approve')
      pane = <ConfirmDialog width={w} height={paneLines} />;
    else pane = <FocusPane width={w} height={layout.pane} />;
    body = (
      <>
        <LaneList width={w} height={layout.list} />
        {pane}
      </>
    );
  }
  return (
    <Box flexDirection="column" width={w} height={layout.frame} overflow="hidden">
      <Header width={w} />
      <Box flexDirection="column" height={layout.body} overflow="hidden">
        {body}
      </Box>
      <FlashLine width={w} />
      <Footer width={w} />
    </Box>
  );
}
