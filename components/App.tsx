/** Picks the layout for the current overlay; every pane gets a fixed, bounded height. */
import { Box, Text } from 'ink';
import { computeLayout, tooSmall } from '../src/ui/layout.js';
import { useKeymap } from '../src/ui/useKeymap.js';
import { useTerminalSize } from '../src/ui/useTerminalSize.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { EngineGone } from './EngineGone.js';
import { FlashLine } from './FlashLine.js';
import { FocusPane } from './FocusPane.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { LaneList } from './LaneList.js';
import { LearningInput } from './LearningInput.js';
import { LearningsBrowser } from './LearningsBrowser.js';
import { MessageLog } from './MessageLog.js';
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
  const { cols, rows, laneCount, overlay } = useApp((s) => ({
    cols: s.size.cols,
    rows: s.size.rows,
    // over several engines each engine's header is a row of the list too
    laneCount: s.lanes.length + (s.members?.length ?? 0),
    overlay: s.overlay.kind,
  }));
  const small = tooSmall(cols, rows);
  if (small) {
    // keys still act (q quits); nothing else is drawn until the terminal grows
    return (
      <Box width={Math.max(1, cols)} height={Math.max(1, rows - 1)} overflow="hidden">
        <Text wrap="wrap">{small}</Text>
      </Box>
    );
  }
  const layout = computeLayout(cols, rows, laneCount);
  const w = layout.cols;
  const paneLines = layout.pane + 1;
  const full = { width: w, height: layout.body };
  const inPane = { width: w, height: paneLines };
  let body;
  if (overlay === 'help') body = <HelpOverlay {...full} />;
  else if (overlay === 'viewer') body = <Viewer {...full} />;
  else if (overlay === 'learnings') body = <LearningsBrowser {...full} />;
  else if (overlay === 'metrics') body = <MetricsPanel {...full} />;
  else if (overlay === 'history') body = <HistoryView {...full} />;
  else if (overlay === 'replay') body = <ReplayPlayer {...full} />;
  else if (overlay === 'engine-gone') body = <EngineGone {...full} />;
  else if (overlay === 'messages') body = <MessageLog {...full} />;
  else {
    let pane;
    if (overlay === 'new-lane-form') pane = <NewLaneForm {...inPane} />;
    else if (overlay === 'reject-form') pane = <RejectForm {...inPane} />;
    else if (overlay === 'learning-input') pane = <LearningInput {...inPane} />;
    else if (overlay === 'confirm') pane = <ConfirmDialog {...inPane} />;
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
