/**
 * Slack's limits (docs/slack.md), one table for every renderer, the fitting of payloads
 * (src/slack/text/fit.ts) and the form engine (src/forms/). Constants only: it imports nothing.
 */
export const SLACK_LIMITS = {
  // Messages
  messageBlocks: 50,
  /** Message `text`: Slack truncates above this. */
  messageText: 40_000,
  /**
   * All strings of a message's blocks together. Slack answers `msg_blocks_too_long` somewhere
   * around 12–13k characters (undocumented: docs/slack.md, Message size); this keeps a margin, and counts
   * every string (ids and values too), not only `text`.
   */
  messageTextBudget: 11_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  markdownText: 12_000,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  // Modals
  modalBlocks: 100,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  /** `views.open` / `views.update` refuse a view above 250 kB (`view_too_large`). */
  viewBytes: 250_000,
  /** What Flowgate allows itself, below `viewBytes`. */
  viewBytesBudget: 240_000,
  // Elements
  blockId: 255,
  actionId: 255,
  placeholder: 150,
  label: 2000,
  hint: 2000,
  optionText: 75,
  optionValue: 75,
  optionDescription: 75,
  selectOptions: 100,
  radioOptions: 10,
  checkboxOptions: 10,
  overflowOptions: 5,
  /** `plain_text_input` min/max_length and the `initial_value` of every text-like input. */
  textInputLength: 3000,
} as const;
