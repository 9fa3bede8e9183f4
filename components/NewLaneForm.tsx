/** `n`: name, profile (from the loaded ones), task, base branch; errors show under the field. */
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { NewLaneField } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { truncate } from '../src/ui/text.js';
import { wrap } from '../src/ui/wrap.js';
import { useApp } from './StoreContext.js';
import { TextField } from './TextField.js';

export function NewLaneForm({ width, height }: { width: number; height: number }) {
  const { form, profiles, on } = useApp((s) => ({ form: s.newLane, profiles: s.profiles, on: s.color }));
  const rows: ReactNode[] = [];
  const error = (field: NewLaneField): void => {
    const msg = form.errors[field];
    if (!msg) return;
    for (const line of wrap(`✗ ${msg}`, width - 12, 3)) {
      rows.push(
        <Text key={`${field}-err-${rows.length}`} color={color(on, 'red')} wrap="truncate">
          {'          '}
          {line}
        </Text>,
      );
    }
  };
  rows.push(
    <TextField
      key="name"
      label="name"
      value={form.name}
      active={form.field === 'name'}
      width={width}
      on={on}
      placeholder="e.g. fix-login"
    />,
  );
  error('name');
  const profileActive = form.field === 'profile';
  rows.push(
    <Text key="profile" wrap="truncate">
      <Text bold={profileActive} color={color(on, profileActive ? 'cyan' : undefined)}>
        {profileActive ? '› ' : '  '}
        {'profile '}
      </Text>
      {profiles.length === 0 ? (
        <Text color={color(on, 'red')}>no profiles loaded</Text>
      ) : (
        profiles.map((p, i) => (
          <Text key={p} inverse={i === form.profile && on} bold={i === form.profile}>
            {i === form.profile ? `[${p}]` : ` ${p} `}{' '}
          </Text>
        ))
      )}
      {profileActive ? <Text dimColor={on}> ←/→</Text> : null}
    </Text>,
  );
  error('profile');
  rows.push(
    <TextField
      key="task"
      label="task"
      value={form.task}
      active={form.field === 'task'}
      width={width}
      on={on}
      placeholder="what the agent should do"
    />,
  );
  error('task');
  rows.push(
    <TextField
      key="base"
      label="base"
      value={form.base}
      active={form.field === 'base'}
      width={width}
      on={on}
      placeholder="base branch"
    />,
  );
  error('base');
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(
          form.submitting ? 'New lane — creating…' : 'New lane — tab: next field, enter: create, esc: cancel',
          width,
        )}
      </Text>
      {rows.slice(0, Math.max(0, height - 1))}
    </Box>
  );
}
