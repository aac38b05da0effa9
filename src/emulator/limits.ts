/** Size limits the emulator enforces (docs/slack.md: Text limits, Message size, Modal limits, Input elements and options). All adjustable via `limits` option. */
export interface EmulatorLimits {
  messageBlocks: number;
  modalBlocks: number;
  sectionText: number;
  sectionFields: number;
  sectionFieldText: number;
  headerText: number;
  contextElements: number;
  actionsElements: number;
  buttonText: number;
  buttonValue: number;
  url: number;
  selectOptions: number;
  /** Options in `checkboxes` / `radio_buttons`. */
  choiceOptions: number;
  overflowOptions: number;
  optionText: number;
  optionValue: number;
  blockId: number;
  actionId: number;
  placeholder: number;
  /** Confirmation dialog (`confirm` of buttons and menus): title, text, confirm/deny buttons. */
  confirmTitle: number;
  confirmText: number;
  confirmButton: number;
  inputLabel: number;
  inputHint: number;
  plainTextInputLength: number;
  markdownText: number;
  altText: number;
  modalTitle: number;
  modalButton: number;
  privateMetadata: number;
  callbackId: number;
  externalId: number;
  /** Message `text` above this is truncated (not rejected). */
  textTruncate: number;
  /** Message `text` above this is rejected with `msg_too_long` (emulator choice: Slack's real cut-off is undocumented). */
  textMax: number;
  /** Undocumented total of all blocks' text → `msg_blocks_too_long`. */
  blocksTotalText: number;
  /** Serialized view size → `view_too_large`. */
  viewBytes: number;
  /** Views in a modal stack (root + pushes). */
  viewStack: number;
  /** trigger_id lifetime, ms. */
  triggerTtlMs: number;
  /** response_url uses. */
  responseUrlMaxUses: number;
  /** response_url lifetime, ms. */
  responseUrlTtlMs: number;
}

export const DEFAULT_LIMITS: Readonly<EmulatorLimits> = Object.freeze({
  messageBlocks: 50,
  modalBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  selectOptions: 100,
  choiceOptions: 10,
  overflowOptions: 5,
  optionText: 75,
  optionValue: 75,
  blockId: 255,
  actionId: 255,
  placeholder: 150,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  inputLabel: 2000,
  inputHint: 2000,
  plainTextInputLength: 3000,
  markdownText: 12_000,
  altText: 2000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  textTruncate: 40_000,
  textMax: 400_000,
  blocksTotalText: 12_000,
  viewBytes: 250_000,
  viewStack: 3,
  triggerTtlMs: 3000,
  responseUrlMaxUses: 5,
  responseUrlTtlMs: 30 * 60 * 1000,
});
