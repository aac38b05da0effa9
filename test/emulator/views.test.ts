import type { View } from '@slack/web-api';
import { describe, expect, test } from 'vitest';
import { ALICE, BOB, setup, slackError } from './helpers.ts';

const modal = (title: string, extra: Partial<View> = {}): View => ({
  type: 'modal',
  title: { type: 'plain_text', text: title },
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: title } }],
  ...extra,
});

const inputModal = (title: string, extra: Partial<View> = {}): View =>
  modal(title, {
    submit: { type: 'plain_text', text: 'Save' },
    blocks: [
      {
        type: 'input',
        block_id: 'name_block',
        label: { type: 'plain_text', text: 'Name' },
        element: { type: 'plain_text_input', action_id: 'name' },
      },
    ],
    ...extra,
  });

describe('views.open', () => {
  test('opens a modal for the trigger’s user with Slack’s view shape', async () => {
    const { client, emulator } = await setup();
    const trigger = emulator.issueTriggerId(ALICE);
    const res = await client.views.open({
      trigger_id: trigger,
      view: modal('Hello', { callback_id: 'cb', private_metadata: 'meta', external_id: 'ext-1' }),
    });
    const view = res.view;
    expect(view).toMatchObject({
      type: 'modal',
      team_id: emulator.workspace.teamId,
      callback_id: 'cb',
      private_metadata: 'meta',
      external_id: 'ext-1',
      state: { values: {} },
      previous_view_id: null,
      app_id: emulator.workspace.appId,
      bot_id: emulator.workspace.botId,
      clear_on_close: false,
      notify_on_close: false,
    });
    expect(view?.id).toMatch(/^V/);
    expect(view?.root_view_id).toBe(view?.id);
    expect(view?.hash).toMatch(/^\d+\.[0-9a-f]+$/);
    expect(emulator.openViews(ALICE).map((v) => v.id)).toEqual([view?.id]);
    expect(emulator.openViews(BOB)).toEqual([]);
  });

  test('trigger_id: unknown → invalid_trigger_id, single use → exchanged_trigger_id, >3 s → expired_trigger_id', async () => {
    const { client, emulator, clock } = await setup();
    expect((await slackError(client.views.open({ trigger_id: '1.2.bogus', view: modal('x') }))).error).toBe(
      'invalid_trigger_id',
    );
    const trigger = emulator.issueTriggerId(ALICE);
    await client.views.open({ trigger_id: trigger, view: modal('first') });
    expect((await slackError(client.views.open({ trigger_id: trigger, view: modal('again') }))).error).toBe(
      'exchanged_trigger_id',
    );

    const atLimit = emulator.issueTriggerId(ALICE);
    clock.advance(3000);
    expect((await client.views.open({ trigger_id: atLimit, view: modal('in time') })).ok).toBe(true);

    const late = emulator.issueTriggerId(ALICE);
    clock.advance(3001);
    expect((await slackError(client.views.open({ trigger_id: late, view: modal('late') }))).error).toBe(
      'expired_trigger_id',
    );
  });

  test('an invalid view does not use up the trigger; external_id must be unique', async () => {
    const { client, emulator } = await setup();
    const trigger = emulator.issueTriggerId(ALICE);
    const bad = modal('x'.repeat(25));
    expect((await slackError(client.views.open({ trigger_id: trigger, view: bad }))).error).toBe(
      'invalid_arguments',
    );
    expect(
      (await client.views.open({ trigger_id: trigger, view: modal('ok', { external_id: 'e' }) })).ok,
    ).toBe(true);
    const dup = await slackError(
      client.views.open({
        trigger_id: emulator.issueTriggerId(BOB),
        view: modal('dup', { external_id: 'e' }),
      }),
    );
    expect(dup.error).toBe('duplicate_external_id');
  });
});

describe('views.update', () => {
  test('by view_id or external_id; a new hash each time; stale hash → hash_conflict', async () => {
    const { client, emulator } = await setup();
    const opened = await client.views.open({
      trigger_id: emulator.issueTriggerId(ALICE),
      view: modal('Loading', { external_id: 'run-1' }),
    });
    const id = opened.view?.id ?? '';
    const firstHash = opened.view?.hash ?? '';

    const byId = await client.views.update({ view_id: id, hash: firstHash, view: modal('Step 1') });
    expect(byId.view).toMatchObject({ id, title: { text: 'Step 1' }, external_id: 'run-1' });
    expect(byId.view?.hash).not.toBe(firstHash);

    const stale = await slackError(
      client.views.update({ view_id: id, hash: firstHash, view: modal('Step 2') }),
    );
    expect(stale.error).toBe('hash_conflict');
    expect(emulator.view(id)?.title).toMatchObject({ text: 'Step 1' });

    const byExternal = await client.views.update({ external_id: 'run-1', view: modal('Step 3') });
    expect(byExternal.view?.id).toBe(id);
    expect(emulator.view(id)?.title).toMatchObject({ text: 'Step 3' });
  });

  test('unknown or closed views → not_found', async () => {
    const { client, emulator } = await setup();
    expect((await slackError(client.views.update({ view_id: 'VNOPE', view: modal('x') }))).error).toBe(
      'not_found',
    );
    expect((await slackError(client.views.update({ external_id: 'nope', view: modal('x') }))).error).toBe(
      'not_found',
    );
    const opened = await client.views.open({ trigger_id: emulator.issueTriggerId(ALICE), view: modal('a') });
    emulator.closeView(opened.view?.id ?? '');
    expect(
      (await slackError(client.views.update({ view_id: opened.view?.id ?? '', view: modal('b') }))).error,
    ).toBe('not_found');
  });

  test('keeps entered values of inputs that remain', async () => {
    const { client, emulator } = await setup();
    const opened = await client.views.open({
      trigger_id: emulator.issueTriggerId(ALICE),
      view: inputModal('Form'),
    });
    const id = opened.view?.id ?? '';
    emulator.store.setViewValues(id, { name_block: { name: 'Ada' } });
    const updated = await client.views.update({ view_id: id, view: inputModal('Form v2') });
    expect((updated.view as { state?: { values?: unknown } }).state?.values).toEqual({
      name_block: { name: { type: 'plain_text_input', value: 'Ada' } },
    });
  });
});

describe('views.push', () => {
  test('pushes onto the user’s stack (max 3 views) with a trigger from inside the modal', async () => {
    const { client, emulator } = await setup();
    const root = await client.views.open({ trigger_id: emulator.issueTriggerId(ALICE), view: modal('Root') });
    const rootId = root.view?.id ?? '';
    const second = await client.views.push({
      trigger_id: emulator.issueTriggerId(ALICE, { viewId: rootId }),
      view: modal('Second'),
    });
    expect(second.view).toMatchObject({ root_view_id: rootId, previous_view_id: rootId });
    const third = await client.views.push({
      trigger_id: emulator.issueTriggerId(ALICE, { viewId: second.view?.id ?? '' }),
      view: modal('Third'),
    });
    expect(emulator.openViews(ALICE).map((v) => v.id)).toEqual([rootId, second.view?.id, third.view?.id]);
    const fourth = await slackError(
      client.views.push({ trigger_id: emulator.issueTriggerId(ALICE), view: modal('Fourth') }),
    );
    expect(fourth.error).toBe('push_limit_reached');
  });

  test('push trigger rules match views.open', async () => {
    const { client, emulator, clock } = await setup();
    await client.views.open({ trigger_id: emulator.issueTriggerId(ALICE), view: modal('Root') });
    const late = emulator.issueTriggerId(ALICE);
    clock.advance(3001);
    expect((await slackError(client.views.push({ trigger_id: late, view: modal('x') }))).error).toBe(
      'expired_trigger_id',
    );
  });
});
