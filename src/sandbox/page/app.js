/**
 * The sandbox page: a Slack client for the emulator's workspace. It shows what one sandbox user
 * sees (channels, DMs with the bot, messages, threads, ephemeral messages, modals), stays live over
 * server-sent events, and sends what they do (slash commands, clicks, form submissions) to the
 * sandbox server, which hands them to Flowgate exactly as Slack would.
 *
 * Everything from payloads is rendered through dom.js (text nodes, allowlisted attributes).
 */
import { renderMessageBody, textObject } from './blocks.js';
import { h, mount, reconcile, safeHref } from './dom.js';
import { readControl, readValues, renderView, viewState } from './modal.js';
import { plainText } from './mrkdwn.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  user: sessionStorage.getItem('flowgate-sandbox-user') ?? '',
  workspace: /** @type {any} */ (null),
  users: new Map(),
  groups: new Map(),
  channels: new Map(),
  /** channel id → Map ts → message */
  messages: new Map(),
  /** message_ts → ephemeral */
  ephemerals: new Map(),
  /** the user's open modal stack: [{ view, errors? }] */
  views: [],
  current: '',
  /** { channel, ts } of the open thread */
  thread: /** @type {{ channel: string, ts: string } | null} */ (null),
  unread: new Map(),
  busyView: '',
  source: /** @type {EventSource | null} */ (null),
  /** The last `/archives/…` target, waiting for its message to arrive. */
  highlight: '',
};

// ---------------------------------------------------------------------------------------------
// Talking to the sandbox server

async function post(path, body) {
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: state.user, ...body }),
    });
    const reply = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
    if (!res.ok) say(`The sandbox refused that: ${reply.error ?? res.status}`);
    return reply;
  } catch (error) {
    say(`The sandbox did not answer (${String(error)}). Is it still running?`);
    return { ok: false };
  }
}

let statusTimer = 0;
function say(text) {
  const status = $('status');
  status.textContent = text;
  status.hidden = false;
  clearTimeout(statusTimer);
  statusTimer = window.setTimeout(() => {
    status.hidden = true;
    status.textContent = '';
  }, 6000);
}

async function fetchState(user) {
  const res = await fetch(`/api/state${user ? `?user=${encodeURIComponent(user)}` : ''}`);
  if (!res.ok) return undefined;
  return res.json();
}

function load(snapshot) {
  state.user = snapshot.me;
  state.workspace = snapshot.workspace;
  state.users = new Map(snapshot.users.map((u) => [u.id, u]));
  state.groups = new Map(snapshot.groups.map((g) => [g.id, g]));
  state.channels = new Map(snapshot.channels.map((c) => [c.id, c]));
  state.messages = new Map(
    Object.entries(snapshot.messages).map(([channel, list]) => [
      channel,
      new Map(list.map((m) => [m.ts, m])),
    ]),
  );
  state.ephemerals = new Map(snapshot.ephemerals.map((e) => [e.message_ts, e]));
  state.views = snapshot.views;
  if (!state.channels.has(state.current)) {
    state.current =
      [...state.channels.values()].find((c) => c.isGeneral)?.id ?? [...state.channels.keys()][0] ?? '';
  }
  if (state.thread && !state.channels.has(state.thread.channel)) state.thread = null;
}

function apply(type, data) {
  switch (type) {
    case 'message': {
      let list = state.messages.get(data.channel);
      if (!list) {
        list = new Map();
        state.messages.set(data.channel, list);
      }
      list.set(data.message.ts, data.message);
      const top = data.message.thread_ts === undefined || data.message.thread_ts === data.message.ts;
      if (data.isNew && top && data.channel !== state.current)
        state.unread.set(data.channel, (state.unread.get(data.channel) ?? 0) + 1);
      break;
    }
    case 'message_deleted':
      state.messages.get(data.channel)?.delete(data.ts);
      break;
    case 'ephemeral':
      state.ephemerals.set(data.ephemeral.message_ts, data.ephemeral);
      break;
    case 'ephemeral_deleted':
      state.ephemerals.delete(data.ephemeral.message_ts);
      break;
    case 'channel':
      state.channels.set(data.channel.id, data.channel);
      if (!state.messages.has(data.channel.id)) state.messages.set(data.channel.id, new Map());
      break;
    case 'views':
      state.views = data.views;
      break;
  }
}

const DELTAS = ['message', 'message_deleted', 'ephemeral', 'ephemeral_deleted', 'channel', 'views'];

/** Opens the live stream for the current user; every (re)connection reloads the whole state first. */
function connect() {
  state.source?.close();
  const source = new EventSource(`/api/events?user=${encodeURIComponent(state.user)}`);
  state.source = source;
  let queue = /** @type {[string, any][] | null} */ ([]);
  source.addEventListener('hello', async () => {
    queue = [];
    const snapshot = await fetchState(state.user);
    if (source !== state.source || !snapshot) return;
    load(snapshot);
    for (const [type, data] of queue) apply(type, data);
    queue = null;
    renderAll();
    document.body.dataset.user = state.user;
    document.body.dataset.ready = 'true';
  });
  for (const type of DELTAS) {
    source.addEventListener(type, (event) => {
      const data = JSON.parse(/** @type {MessageEvent} */ (event).data);
      if (queue) queue.push([type, data]);
      else {
        apply(type, data);
        schedule();
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    renderAll();
  });
}

function renderAll() {
  renderUsers();
  renderSidebar();
  renderChannel();
  renderThread();
  renderModal();
}

function compareTs(a, b) {
  const [as, au] = a.split('.').map(Number);
  const [bs, bu] = b.split('.').map(Number);
  return as - bs || au - bu;
}

function ctxFor(target) {
  return {
    users: state.users,
    channels: state.channels,
    groups: state.groups,
    me: state.user,
    origin: location.origin,
    act: (element, block, action) => act(target, element, block, action),
  };
}

function channelLabel(channel) {
  if (channel.type === 'im') return state.workspace?.botName ?? 'Flowgate';
  return `${channel.type === 'private' ? '🔒' : '#'} ${channel.name}`;
}

let usersShown = '';
function renderUsers() {
  const select = /** @type {HTMLSelectElement} */ ($('user'));
  const people = [...state.users.values()].filter((u) => !u.isBot);
  const version = JSON.stringify(people);
  if (version !== usersShown) {
    usersShown = version;
    mount(
      select,
      people.map((u) =>
        h('option', { value: u.id }, `${u.realName}${u.role ? ` — ${u.role}` : ''} (${u.id})`),
      ),
    );
  }
  select.value = state.user;
  const source = state.workspace?.mastra ?? '';
  $('source').textContent = source ? `Workflows: ${source}` : '';
}

function renderSidebar() {
  const item = (channel) => {
    const unread = state.unread.get(channel.id) ?? 0;
    return h(
      'li',
      null,
      h(
        'button',
        {
          type: 'button',
          class: unread > 0 ? 'channel-link unread' : 'channel-link',
          'aria-current': channel.id === state.current ? 'page' : undefined,
          on: { click: () => openChannel(channel.id) },
        },
        h('span', null, channelLabel(channel)),
        unread > 0
          ? h('span', { class: 'unread-count', 'aria-label': `${unread} new` }, String(unread))
          : null,
      ),
    );
  };
  const keyed = (channel) => ({
    key: channel.id,
    version: `${channelLabel(channel)}|${state.unread.get(channel.id) ?? 0}|${channel.id === state.current}`,
    render: () => item(channel),
  });
  const all = [...state.channels.values()];
  reconcile(
    $('channels'),
    all
      .filter((c) => c.type !== 'im')
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(keyed),
  );
  reconcile($('dms'), all.filter((c) => c.type === 'im').map(keyed));
}

function authorOf(message) {
  if (message.bot_id || message.user === state.workspace?.botUserId)
    return { name: state.workspace?.botName ?? 'Flowgate', bot: true };
  const user = state.users.get(message.user);
  return { name: user?.realName ?? message.user ?? 'Someone', bot: false };
}

function timeOf(ts) {
  const date = new Date(Number(ts.split('.')[0]) * 1000);
  return h(
    'time',
    { class: 'msg-time', datetime: date.toISOString(), title: date.toLocaleString() },
    date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }),
  );
}

function messageNode(message, channel, { ephemeral = false, inThread = false } = {}) {
  // An ephemeral message names the person it is shown to; it comes from the app.
  const author = ephemeral ? { name: state.workspace?.botName ?? 'Flowgate', bot: true } : authorOf(message);
  const target = { channel, ts: ephemeral ? message.message_ts : message.ts };
  const replies = message.reply_count ?? 0;
  const ts = ephemeral ? message.message_ts : message.ts;
  return h(
    'article',
    {
      class: `msg${ephemeral ? ' msg-ephemeral' : ''}${state.highlight === `${channel}/${ts}` ? ' msg-highlight' : ''}`,
      'data-ts': ts,
    },
    h(
      'div',
      { class: author.bot ? 'avatar avatar-bot' : 'avatar', 'aria-hidden': 'true' },
      author.name.slice(0, 1),
    ),
    h(
      'div',
      { class: 'msg-main' },
      h(
        'div',
        { class: 'msg-header' },
        h('span', { class: 'msg-author' }, author.name),
        author.bot ? h('span', { class: 'badge' }, 'APP') : null,
        timeOf(ts),
        message.edited ? h('span', { class: 'msg-edited' }, '(edited)') : null,
      ),
      ephemeral ? h('div', { class: 'msg-only-you' }, '👁 Only visible to you') : null,
      h('div', { class: 'msg-body' }, renderMessageBody(message, ctxFor(target))),
      !inThread && replies > 0
        ? h(
            'button',
            { type: 'button', class: 'msg-replies', on: { click: () => openThread(channel, message.ts) } },
            `${replies} ${replies === 1 ? 'reply' : 'replies'}`,
          )
        : null,
      ephemeral
        ? h(
            'button',
            { type: 'button', class: 'link-button', on: { click: () => post('/api/dismiss', { ts }) } },
            'Dismiss',
          )
        : null,
    ),
  );
}

function items(list, channel, inThread) {
  return list.map(({ message, ephemeral }) => {
    const key = ephemeral ? `e${message.message_ts}` : `m${message.ts}`;
    return {
      key,
      version: `${state.user}|${state.highlight}|${JSON.stringify(message)}`,
      render: () => messageNode(message, channel, { ephemeral, inThread }),
    };
  });
}

/** Keeps a scrolled-down list at its bottom when new things arrive. */
function stickToBottom(element, update) {
  const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
  update();
  if (atBottom) element.scrollTop = element.scrollHeight;
}

function renderChannel() {
  const channel = state.channels.get(state.current);
  $('channel-title').textContent = channel ? channelLabel(channel) : '';
  $('channel-topic').textContent =
    channel?.type === 'im' ? 'Direct messages with the app' : (channel?.topic ?? '');
  const input = /** @type {HTMLTextAreaElement} */ ($('composer-input'));
  input.placeholder = channel ? `Message ${channelLabel(channel)}` : '';
  if (!channel) return;
  const messages = [...(state.messages.get(channel.id)?.values() ?? [])]
    .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast')
    .map((message) => ({ message, ephemeral: false, ts: message.ts }));
  const ephemerals = [...state.ephemerals.values()]
    .filter((e) => e.channel === channel.id && !e.thread_ts)
    .map((message) => ({ message, ephemeral: true, ts: message.message_ts }));
  const list = [...messages, ...ephemerals].sort((a, b) => compareTs(a.ts, b.ts));
  const container = $('messages');
  stickToBottom(container, () =>
    reconcile(container, [introItem(channel), ...items(list, channel.id, false)]),
  );
}

function introItem(channel) {
  return {
    key: `intro-${channel.id}`,
    version: String(state.workspace?.command),
    render: () =>
      h(
        'div',
        { class: 'intro' },
        h('p', { class: 'intro-title' }, `This is the very beginning of ${channelLabel(channel)}.`),
        h(
          'p',
          null,
          'A local Slack sandbox: Flowgate runs here exactly as it would in Slack. Type ',
          h('code', null, `${state.workspace?.command ?? '/flowgate'} list`),
          ' below to see the workflows, then switch the Sandbox user to answer as someone else.',
        ),
        h(
          'p',
          null,
          'Try ',
          h('code', null, 'accessReview'),
          ' (every request its own question), ',
          h('code', null, 'hotfixRollout'),
          ' (both approvers must approve, with reminders and a deadline) and ',
          h('code', null, 'incidentTriage'),
          ' (a branch, a loop of updates until “done”, a list and a choice of variants; it needs who is on call).',
        ),
      ),
  };
}

function renderThread() {
  const pane = $('thread');
  const thread = state.thread;
  const parent = thread ? state.messages.get(thread.channel)?.get(thread.ts) : undefined;
  if (!thread || !parent) {
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  const channel = state.channels.get(thread.channel);
  $('thread-channel').textContent = channel ? channelLabel(channel) : '';
  const replies = [...(state.messages.get(thread.channel)?.values() ?? [])]
    .filter((m) => m.thread_ts === thread.ts && m.ts !== thread.ts)
    .map((message) => ({ message, ephemeral: false, ts: message.ts }));
  const ephemerals = [...state.ephemerals.values()]
    .filter((e) => e.channel === thread.channel && e.thread_ts === thread.ts)
    .map((message) => ({ message, ephemeral: true, ts: message.message_ts }));
  const list = [...replies, ...ephemerals].sort((a, b) => compareTs(a.ts, b.ts));
  const container = $('thread-messages');
  stickToBottom(container, () =>
    reconcile(
      container,
      items([{ message: parent, ephemeral: false, ts: parent.ts }, ...list], thread.channel, true),
    ),
  );
}

let modalShown = /** @type {{ id: string, view: any, version: string } | null} */ (null);

function renderModal() {
  const dialog = /** @type {HTMLDialogElement} */ ($('modal'));
  const top = state.views.at(-1);
  if (!top) {
    if (dialog.open) dialog.close();
    modalShown = null;
    mount(dialog, []);
    return;
  }
  const version = `${JSON.stringify(top)}|${state.busyView === top.view.id}`;
  if (modalShown?.version === version) return;
  const values = modalShown?.id === top.view.id ? readValues(dialog, modalShown.view) : new Map();
  const viewId = top.view.id;
  mount(
    dialog,
    renderView(top.view, {
      errors: top.errors ?? {},
      values,
      busy: state.busyView === viewId,
      ctx: ctxFor({ channel: state.current, ts: '' }),
      onClose: () => post('/api/close', { viewId }),
      onSubmit: () => submitView(top.view),
    }),
  );
  dialog.setAttribute('aria-labelledby', 'modal-title');
  if (!dialog.open) dialog.showModal();
  const invalid = dialog.querySelector('[aria-invalid="true"]');
  const first = invalid ?? dialog.querySelector('.modal-body [data-input]');
  if (first instanceof HTMLElement && (invalid || modalShown?.id !== viewId)) {
    (first.matches('[role="radiogroup"], [role="group"]') ? first.querySelector('input') : first)?.focus();
  }
  modalShown = { id: viewId, view: top.view, version };
}

// ---------------------------------------------------------------------------------------------
// What the user does

function openChannel(id) {
  state.current = id;
  state.unread.delete(id);
  renderAll();
  $('composer-input').focus();
}

function openThread(channel, ts) {
  state.thread = { channel, ts };
  renderThread();
  $('thread-input').focus();
}

async function act(target, element, block, action) {
  if (element.confirm && !(await confirm(element.confirm, target))) return;
  const href = typeof element.url === 'string' ? safeHref(element.url) : undefined;
  if (href) window.open(href, '_blank', 'noopener,noreferrer');
  if (!target.ts) return; // an element inside a modal: Flowgate's modals have none
  await post('/api/action', {
    channel: target.channel,
    ts: target.ts,
    actionId: element.action_id,
    ...(typeof block?.block_id === 'string' ? { blockId: block.block_id } : {}),
    ...(action ? { action } : {}),
  });
}

/** A button's confirm dialog; resolves to true when confirmed. */
function confirm(dialogSpec, target) {
  return new Promise((resolve) => {
    const dialog = /** @type {HTMLDialogElement} */ ($('confirm'));
    const done = (answer) => {
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const danger = dialogSpec.style === 'danger';
    mount(
      dialog,
      h(
        'div',
        { class: 'confirm' },
        h('h2', { id: 'confirm-title' }, textObject(dialogSpec.title, {})),
        h('div', { class: 'bk-text' }, textObject(dialogSpec.text, ctxFor(target))),
        h(
          'div',
          { class: 'modal-footer' },
          h(
            'button',
            { type: 'button', class: 'bk-button', on: { click: () => done(false) } },
            plainText(dialogSpec.deny?.text ?? 'Cancel'),
          ),
          h(
            'button',
            {
              type: 'button',
              class: `bk-button ${danger ? 'bk-button-danger' : 'bk-button-primary'}`,
              on: { click: () => done(true) },
            },
            plainText(dialogSpec.confirm?.text ?? 'Yes'),
          ),
        ),
      ),
    );
    dialog.setAttribute('aria-labelledby', 'confirm-title');
    dialog.addEventListener('cancel', () => resolve(false), { once: true });
    dialog.showModal();
  });
}

async function submitView(view) {
  const dialog = $('modal');
  const values = viewState(view, (block, index) => readControl(dialog, block, index));
  state.busyView = view.id;
  renderModal();
  await post('/api/submit', { viewId: view.id, values });
  state.busyView = '';
  renderModal();
}

async function send(input, threadTs) {
  const text = input.value;
  if (text.trim() === '') return;
  input.value = '';
  const channel = threadTs ? (state.thread?.channel ?? state.current) : state.current;
  const reply = await post('/api/command', { channel, text, ...(threadTs ? { threadTs } : {}) });
  if (reply.ok === false && reply.error === 'dispatch_failed')
    say(`${text.split(/\s/)[0]} did not reach Flowgate.`);
}

function onEnter(input, threadTs) {
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send(input, threadTs());
    }
  });
}

/** Links to `/archives/<channel>/p<ts>` (Slack permalinks) open here, in the page. */
function followPermalink(url) {
  const m = /^\/archives\/([A-Z0-9]+)(?:\/p(\d{10})(\d{6}))?/.exec(url.pathname);
  if (!m) return false;
  const [, channel, seconds, micros] = m;
  state.current = channel;
  const threadTs = url.searchParams.get('thread_ts');
  if (seconds) state.highlight = `${channel}/${seconds}.${micros}`;
  if (threadTs) state.thread = { channel, ts: threadTs };
  return true;
}

function boot() {
  const user = /** @type {HTMLSelectElement} */ ($('user'));
  user.addEventListener('change', () => {
    state.user = user.value;
    sessionStorage.setItem('flowgate-sandbox-user', state.user);
    document.body.dataset.ready = 'false';
    state.thread = null;
    state.unread.clear();
    modalShown = null;
    for (const id of ['messages', 'thread-messages']) mount($(id), []);
    connect();
  });
  const input = /** @type {HTMLTextAreaElement} */ ($('composer-input'));
  onEnter(input, () => undefined);
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    void send(input);
  });
  const threadInput = /** @type {HTMLTextAreaElement} */ ($('thread-input'));
  onEnter(threadInput, () => state.thread?.ts);
  $('thread-composer').addEventListener('submit', (event) => {
    event.preventDefault();
    void send(threadInput, state.thread?.ts);
  });
  $('thread-close').addEventListener('click', () => {
    state.thread = null;
    renderThread();
  });
  const dialog = /** @type {HTMLDialogElement} */ ($('modal'));
  dialog.addEventListener('close', () => {
    // Closed by the browser itself (a second Escape): tell the workspace, as Slack's client would.
    const top = state.views.at(-1);
    modalShown = null;
    if (top) void post('/api/close', { viewId: top.view.id });
  });
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault();
    const top = state.views.at(-1);
    if (top) void post('/api/close', { viewId: top.view.id });
  });
  document.addEventListener('click', (event) => {
    const link = /** @type {HTMLElement} */ (event.target).closest?.('a[href]');
    if (!(link instanceof HTMLAnchorElement)) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin) return;
    if (followPermalink(url)) {
      event.preventDefault();
      history.pushState(null, '', url.pathname + url.search);
      renderAll();
    }
  });
  followPermalink(new URL(location.href));
  void (async () => {
    const snapshot = (state.user && (await fetchState(state.user))) || (await fetchState(''));
    if (!snapshot) return say('The sandbox is not running.');
    load(snapshot);
    renderAll();
    connect();
  })();
}

boot();
