/**
 * The schema as numbered migrations. `PRAGMA user_version` holds the number of the last one
 * applied; each runs in one transaction (lanes/store/open.ts). Never edit a released migration:
 * add the next number. Every table and column is described in docs/data-model.md.
 */
export interface Migration {
  version: number;
  up: string;
}

/** Times are epoch milliseconds (INTEGER); `t_ms` is milliseconds since the lane's `started_at`. */
const V1 = `
CREATE TABLE sessions (
  id          TEXT PRIMARY KEY,
  repo        TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  end_reason  TEXT
);
CREATE INDEX sessions_started ON sessions (started_at);

CREATE TABLE lanes (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL,
  session_id    TEXT NOT NULL REFERENCES sessions (id),
  profile       TEXT NOT NULL,
  task          TEXT NOT NULL,
  branch        TEXT NOT NULL,
  base          TEXT NOT NULL,
  worktree      TEXT NOT NULL,
  state         TEXT NOT NULL,
  state_since   INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  started_at    INTEGER,
  cols          INTEGER NOT NULL,
  rows          INTEGER NOT NULL,
  pid           INTEGER,
  proc_token    TEXT,
  exit_code     INTEGER,
  exit_signal   INTEGER,
  rework_count  INTEGER NOT NULL DEFAULT 0,
  head_commit   TEXT,
  empty         INTEGER NOT NULL DEFAULT 0 CHECK (empty IN (0, 1)),
  output_bytes  INTEGER NOT NULL DEFAULT 0,
  closed_at     INTEGER
);
CREATE UNIQUE INDEX lanes_open_name ON lanes (name) WHERE closed_at IS NULL;
CREATE INDEX lanes_session ON lanes (session_id);

CREATE TABLE lane_events (
  id          INTEGER PRIMARY KEY,
  lane_id     INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  t_ms        INTEGER,
  kind        TEXT NOT NULL,
  from_state  TEXT,
  to_state    TEXT,
  cause       TEXT,
  data        TEXT CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX lane_events_lane ON lane_events (lane_id, id);

CREATE TABLE output_chunks (
  lane_id  INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  seq      INTEGER NOT NULL,
  t_ms     INTEGER NOT NULL,
  data     BLOB NOT NULL
);
CREATE UNIQUE INDEX output_chunks_seq ON output_chunks (lane_id, seq);
CREATE INDEX output_chunks_time ON output_chunks (lane_id, t_ms, seq);

CREATE TABLE keyframes (
  lane_id  INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  seq      INTEGER NOT NULL,
  t_ms     INTEGER NOT NULL,
  cols     INTEGER NOT NULL,
  rows     INTEGER NOT NULL,
  data     TEXT NOT NULL
);
CREATE UNIQUE INDEX keyframes_seq ON keyframes (lane_id, seq);
CREATE INDEX keyframes_time ON keyframes (lane_id, t_ms, seq);

CREATE TABLE gate_verdicts (
  id           INTEGER PRIMARY KEY,
  lane_id      INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  run_id       TEXT NOT NULL,
  gate         TEXT NOT NULL,
  required     INTEGER NOT NULL CHECK (required IN (0, 1)),
  status       TEXT NOT NULL CHECK (status IN ('PASS', 'FAIL', 'TIMEOUT', 'ERROR')),
  exit_code    INTEGER,
  duration_ms  INTEGER NOT NULL,
  output       TEXT NOT NULL DEFAULT '',
  commit_sha   TEXT NOT NULL,
  at           INTEGER NOT NULL
);
CREATE INDEX gate_verdicts_lane ON gate_verdicts (lane_id, run_id, id);

CREATE TABLE decisions (
  id        INTEGER PRIMARY KEY,
  lane_id   INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  action    TEXT NOT NULL CHECK (action IN ('approve', 'reject')),
  mode      TEXT CHECK (mode IS NULL OR mode IN ('rework', 'discard')),
  reason    TEXT,
  override  INTEGER NOT NULL DEFAULT 0 CHECK (override IN (0, 1)),
  "by"      TEXT NOT NULL,
  at        INTEGER NOT NULL
);
CREATE INDEX decisions_lane ON decisions (lane_id, id);

CREATE TABLE closures (
  lane_id  INTEGER PRIMARY KEY REFERENCES lanes (id) ON DELETE CASCADE,
  outcome  TEXT NOT NULL CHECK (outcome IN ('merged', 'rejected', 'discarded', 'failed', 'interrupted')),
  at       INTEGER NOT NULL,
  data     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
);
CREATE INDEX closures_at ON closures (at);

CREATE TABLE learnings (
  id                INTEGER PRIMARY KEY,
  text              TEXT NOT NULL,
  norm              TEXT NOT NULL UNIQUE,
  category          TEXT NOT NULL DEFAULT 'general',
  source            TEXT NOT NULL,
  lane_id           INTEGER REFERENCES lanes (id) ON DELETE SET NULL,
  session_id        TEXT REFERENCES sessions (id) ON DELETE SET NULL,
  created_at        INTEGER NOT NULL,
  confidence        REAL NOT NULL DEFAULT 0.5 CHECK (confidence BETWEEN 0 AND 1),
  utility           REAL NOT NULL DEFAULT 0,
  tombstoned        INTEGER NOT NULL DEFAULT 0 CHECK (tombstoned IN (0, 1)),
  tombstone_reason  TEXT
);
CREATE INDEX learnings_live ON learnings (category, utility) WHERE tombstoned = 0;
CREATE INDEX learnings_lane ON learnings (lane_id) WHERE lane_id IS NOT NULL;
`;

/**
 * Learnings flywheel (lanes/learnings/; its SQL is lanes/store/learnings.ts): full-text search
 * over learnings (FTS5, external content, kept in step by triggers), the log of which learnings
 * went into which lane's context packet, and the columns for decay and the AgentOps format.
 */
const V2 = `
ALTER TABLE learnings ADD COLUMN updated_at INTEGER;
ALTER TABLE learnings ADD COLUMN last_used_at INTEGER;
ALTER TABLE learnings ADD COLUMN maturity TEXT NOT NULL DEFAULT 'provisional';
ALTER TABLE learnings ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
UPDATE learnings SET updated_at = created_at;

CREATE VIRTUAL TABLE learnings_fts USING fts5 (text, content = 'learnings', content_rowid = 'id', tokenize = 'porter unicode61');
INSERT INTO learnings_fts (learnings_fts) VALUES ('rebuild');
CREATE TRIGGER learnings_fts_ai AFTER INSERT ON learnings BEGIN
  INSERT INTO learnings_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER learnings_fts_ad AFTER DELETE ON learnings BEGIN
  INSERT INTO learnings_fts (learnings_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER learnings_fts_au AFTER UPDATE OF text ON learnings BEGIN
  INSERT INTO learnings_fts (learnings_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO learnings_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE lane_learnings (
  lane_id        INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  learning_id    INTEGER NOT NULL REFERENCES learnings (id) ON DELETE CASCADE,
  section        TEXT NOT NULL CHECK (section IN ('constraint', 'learning')),
  score          REAL,
  at             INTEGER NOT NULL,
  utility_delta  REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (lane_id, learning_id)
) WITHOUT ROWID;
CREATE INDEX lane_learnings_learning ON lane_learnings (learning_id);
`;

/**
 * Review comments (lanes/supervisor/comments.ts; SQL in lanes/store/comments.ts): an operator's
 * note on a line (or lines) of a lane's diff, made on the commit under review, sent back to the
 * agent with a rework, then judged addressed or not by whether those lines changed since.
 */
const V3 = `
CREATE TABLE comments (
  id          INTEGER PRIMARY KEY,
  lane_id     INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  file        TEXT NOT NULL,
  line        INTEGER NOT NULL CHECK (line >= 1),
  end_line    INTEGER NOT NULL CHECK (end_line >= line),
  commit_sha  TEXT NOT NULL,
  excerpt     TEXT NOT NULL DEFAULT '',
  text        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  sent_at     INTEGER,
  sent_round  INTEGER,
  status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'addressed', 'unaddressed')),
  checked_head TEXT,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX comments_lane ON comments (lane_id, file, line) WHERE deleted = 0;
`;

/**
 * The merge queue (lanes/supervisor/mergeQueue.ts; its SQL is lanes/store/mergeQueue.ts): approved
 * lanes waiting to land, in order, and the queue's settings (`paused`). Version 3 is the review
 * comments' migration.
 */
const V4 = `
CREATE TABLE merge_queue (
  lane_id      INTEGER PRIMARY KEY REFERENCES lanes (id) ON DELETE CASCADE,
  position     INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('waiting', 'validating', 'merging')),
  since        INTEGER NOT NULL,
  head         TEXT NOT NULL,
  override     INTEGER NOT NULL DEFAULT 0 CHECK (override IN (0, 1)),
  approved_at  INTEGER NOT NULL
);
CREATE INDEX merge_queue_position ON merge_queue (position);

CREATE TABLE merge_queue_settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * Token usage and cost per lane (lanes/usage/; its SQL is lanes/store/usage.ts): the lane's
 * totals as its agent's own records say (input counts the cached part), the cost and where it
 * came from (`agent`: the agent priced it; `table`: lanes/usage/prices.ts or the repo config), the
 * per-model figures, and per day (local date) what the lane spent that day, for the repo's
 * daily budget.
 */
const V5 = `
CREATE TABLE lane_usage (
  lane_id              INTEGER PRIMARY KEY REFERENCES lanes (id) ON DELETE CASCADE,
  input_tokens         INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens  INTEGER NOT NULL DEFAULT 0,
  output_tokens        INTEGER NOT NULL DEFAULT 0,
  cost_usd             REAL NOT NULL DEFAULT 0,
  priced               TEXT NOT NULL CHECK (priced IN ('agent', 'table')),
  models               TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(models)),
  updated_at           INTEGER NOT NULL
);

CREATE TABLE usage_days (
  day                  TEXT NOT NULL,
  lane_id              INTEGER NOT NULL REFERENCES lanes (id) ON DELETE CASCADE,
  input_tokens         INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens  INTEGER NOT NULL DEFAULT 0,
  output_tokens        INTEGER NOT NULL DEFAULT 0,
  cost_usd             REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (day, lane_id)
) WITHOUT ROWID;
CREATE INDEX usage_days_lane ON usage_days (lane_id);
`;

/**
 * Recorded output compressed per chunk (lanes/store/output.ts encodeChunk): `enc` 0 as it is,
 * 1 raw deflate; `raw_len` the original size of a compressed chunk (NULL: length(data)).
 * Chunks recorded before stay as they are (enc 0) and read the same.
 */
const V6 = `
ALTER TABLE output_chunks ADD COLUMN enc INTEGER NOT NULL DEFAULT 0 CHECK (enc IN (0, 1));
ALTER TABLE output_chunks ADD COLUMN raw_len INTEGER CHECK (raw_len IS NULL OR raw_len >= 0);
`;

/**
 * No time index on output_chunks: nothing reads chunks by time (a replay seeks by keyframe, then
 * by seq), and each 1 s commit of the recorder rewrote a leaf page of it for every lane that
 * wrote, in the WAL and again at the checkpoint: a third of what waiting lanes cost on disk
 * (issue "Cheaper per lane than tmux", disk; docs/data-model.md).
 */
const V7 = `
DROP INDEX IF EXISTS output_chunks_time;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, up: V1 },
  { version: 2, up: V2 },
  { version: 3, up: V3 },
  { version: 4, up: V4 },
  { version: 5, up: V5 },
  { version: 6, up: V6 },
  { version: 7, up: V7 },
];
