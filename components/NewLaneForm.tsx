/** `n`: name, profile (from the loaded ones), task, base branch; errors show under the field. */
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { overlayOf } from '../src/state/selectors.js';
import { NEW_LANE_FIELDS, type NewLaneFormState } from '../src/state/types.js';
import { color } from '../src/ui/theme.js';
import { truncate } from '../src/ui/text.js';
import { wrap } from '../src/ui/wrap.js';
import { useApp } from './StoreContext.js';
import { TextField } from './TextField.js';

const NO_MISSING: Record<string, string> = {};
const PLACEHOLDERS = { name: 'e.g. fix-login', task: 'what the agent should do', base: 'base branch' } as const;

function ProfileChoice({
  form,
  profiles,
  missing,
  on,
}: {
  form: NewLaneFormState;
  profiles: string[];
  missing: Record<string, string>;
  on: boolean;
}) {
  const active = form.field === 'profile';
  return (
    <Text wrap="truncate">
      <Text bold={active} color={color(on, active ? 'cyan' : undefined)}>
        {active ? '› ' : '  '}
        {'profile '}
      </Text>
      {profiles.length === 0 ? (
        <Text color={color(on, 'red')}>no profiles loaded</Text>
      ) : (
        profiles.map((p, i) => (
          // a profile whose command is missing here is marked with a cross (the line below says how to install it)
          <Text key={p} inverse={i === form.profile && on} bold={i === form.profile} dimColor={on && !!missing[p]}>
            {i === form.profile ? `[${p}${missing[p] ? ' ✗' : ''}]` : ` ${p}${missing[p] ? ' ✗' : ''} `}{' '}
          </Text>
        ))
      )}
      {active ? <Text dimColor={on}> ←/→</Text> : null}
    </Text>
  );
}

export function NewLaneForm({ width, height }: { width: number; height: number }) {
  const { form, profiles, missing, on } = useApp((s) => ({
    form: overlayOf(s, 'new-lane-form')?.form ?? null,
    profiles: s.profiles,
    missing: s.profileMissing ?? NO_MISSING,
    on: s.color,
  }));
  if (!form) return null;
  const rows: ReactNode[] = [];
  for (const field of NEW_LANE_FIELDS) {
    rows.push(
      field === 'profile' ? (
        <ProfileChoice key={field} form={form} profiles={profiles} missing={missing} on={on} />
      ) : (
        <TextField
          key={field}
          label={field}
          value={form[field]}
          active={form.field === field}
          width={width}
          on={on}
          placeholder={PLACEHOLDERS[field]}
          maxLines={field === 'task' ? Math.max(1, height - 5) : 1}
        />
      ),
    );
    const chosen = profiles[form.profile];
    const absent = field === 'profile' && chosen && missing[chosen];
    if (absent && !form.errors.profile)
      rows.push(
        <Text key="profile-missing" color={color(on, 'yellow')} wrap="truncate">
          {truncate(`          ✗ ${chosen}: ${absent}`, width)}
        </Text>,
      );
    const msg = form.errors[field];
    // the error under its field, wrapped so a long rule is shown whole
    for (const line of msg ? wrap(`✗ ${msg}`, width - 12, 6) : []) {
      rows.push(
        <Text key={`${field}-err-${rows.length}`} color={color(on, 'red')} wrap="truncate">
          {'          '}
          {line}
        </Text>,
      );
    }
  }
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold color={color(on, 'cyan')} wrap="truncate">
        {truncate(
          form.submitting
            ? 'New lane — creating…'
            : form.field === 'task'
              ? 'New lane — tab: next field, alt-enter: new line, enter: create, esc: cancel'
              : 'New lane — tab: next field, enter: create, esc: cancel',
          width,
        )}
      </Text>
      {rows.slice(0, Math.max(0, height - 1))}
    </Box>
  );
}
