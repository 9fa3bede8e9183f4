import { describe, expect, it } from 'vitest';
import { buildAgentEnv, LANE_TERMINAL_ENV, newProcToken } from '../../lanes/process/agentEnv.js';

const source = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/op',
  LANG: 'en_US.UTF-8',
  LC_ALL: 'C.UTF-8',
  LC_CTYPE: 'C.UTF-8',
  USER: 'op',
  SHELL: '/bin/zsh',
  COLORTERM: 'truecolor',
  ANTHROPIC_API_KEY: 'sk-ant',
  ANTHROPIC_BASE_URL: 'http://x',
  OPENAI_API_KEY: 'sk-openai',
  AWS_SECRET_ACCESS_KEY: 'aws',
  GITHUB_TOKEN: 'gh',
  SSH_AUTH_SOCK: '/tmp/ssh',
  TMUX: '/tmp/tmux',
  AO_PROC_TOKEN: 'forged',
  AO_LANE: 'forged',
  UNSET: undefined,
};
const base = {
  source,
  passthrough: [],
  extra: {},
  lane: 'fix-login',
  session: 's-1',
  stateDir: '/repo/.git/ao',
  procToken: 'tok123456789',
};

describe('buildAgentEnv', () => {
  it('passes only the allowlist and the lane identity', () => {
    expect(buildAgentEnv(base)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/op',
      LANG: 'en_US.UTF-8',
      LC_ALL: 'C.UTF-8',
      LC_CTYPE: 'C.UTF-8',
      USER: 'op',
      SHELL: '/bin/zsh',
      COLORTERM: 'truecolor',
      TERM: 'xterm-256color',
      TERM_PROGRAM: 'ao-console',
      AO_LANE: 'fix-login',
      AO_SESSION: 's-1',
      AO_STATE_DIR: '/repo/.git/ao',
      AO_PROC_TOKEN: 'tok123456789',
    });
  });

  it('passes named variables and prefix wildcards', () => {
    const env = buildAgentEnv({ ...base, passthrough: ['ANTHROPIC_*', 'GITHUB_TOKEN', 'NOT_SET'] });
    expect(env.ANTHROPIC_API_KEY).toBe('sk-ant');
    expect(env.ANTHROPIC_BASE_URL).toBe('http://x');
    expect(env.GITHUB_TOKEN).toBe('gh');
    expect(env).not.toHaveProperty('OPENAI_API_KEY');
    expect(env).not.toHaveProperty('AWS_SECRET_ACCESS_KEY');
    expect(env).not.toHaveProperty('NOT_SET');
    // A `*` only works as a trailing wildcard, not as "everything" in the middle of a name.
    expect(buildAgentEnv({ ...base, passthrough: ['*_KEY'] })).not.toHaveProperty('OPENAI_API_KEY');
  });

  it("declares the lane's terminal (truecolor xterm), whatever terminal the console runs in", () => {
    // The operator's terminal may say nothing about colours, or be another terminal altogether.
    const bare = { PATH: '/usr/bin', HOME: '/home/op' };
    for (const console_ of [bare, { ...bare, TERM: 'screen', COLORTERM: '', TERM_PROGRAM: 'tmux' }]) {
      const env = buildAgentEnv({ ...base, source: console_ });
      expect(env.COLORTERM).toBe('truecolor');
      expect(env.TERM).toBe('xterm-256color');
      expect(env.TERM_PROGRAM).toBe('ao-console');
    }
    expect(LANE_TERMINAL_ENV).toEqual({ TERM: 'xterm-256color', COLORTERM: 'truecolor', TERM_PROGRAM: 'ao-console' });
  });

  it("lets a profile's env override the terminal, adds extra, and never lets the lane identity be forged", () => {
    const env = buildAgentEnv({
      ...base,
      extra: { FOO: 'bar', TERM: 'dumb', AO_PROC_TOKEN: 'forged-again' },
    });
    expect(env.TERM).toBe('dumb');
    expect(env.COLORTERM).toBe('truecolor');
    expect(env.FOO).toBe('bar');
    expect(env.AO_PROC_TOKEN).toBe('tok123456789');
    expect(env.AO_LANE).toBe('fix-login');
  });

  it('makes distinct tokens', () => {
    const a = newProcToken();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newProcToken()).not.toBe(a);
  });
});
