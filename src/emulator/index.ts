export { invalidArguments, SlackApiError } from './errors.ts';
export { DEFAULT_LIMITS, type EmulatorLimits } from './limits.ts';
export { channelObject, METHODS, type MethodContext, type MethodHandler, userObject } from './methods.ts';
export { JSON_FIELDS, normalizeParams, Params } from './params.ts';
export {
  DEFAULT_RATE_LIMITS,
  type RateLimitAnswer,
  type RateLimitDecision,
  RateLimiter,
  type RateLimitRule,
  type RateLimitSetting,
} from './rate-limit.ts';
export {
  type ActionOptions,
  type AppDelivery,
  type AppResponse,
  type BlockActionOptions,
  type ForgeOptions,
  type InteractionResult,
  type SignedRequestOptions,
  type SlashCommandOptions,
  type SlashCommandResult,
  sendBlockAction,
  sendSignedRequest,
  sendSlashCommand,
  sendViewBlockAction,
  sendViewSubmission,
  signSlackRequest,
  type ViewActionOptions,
  type ViewSubmissionOptions,
  type ViewSubmissionResult,
} from './requests.ts';
export { applyMessageResponse, handleResponseUrl, type ResponseTarget } from './response-url.ts';
export {
  type ScriptedAnswer,
  SlackEmulator,
  type StartSlackEmulatorOptions,
  startSlackEmulator,
} from './server.ts';
export { type EnvelopeType, SocketModeServer } from './socket.ts';
export type * from './types.ts';
export {
  blocksTextLength,
  formatIssue,
  INPUT_ELEMENTS,
  KNOWN_BLOCK_TYPES,
  type Surface,
  type ValidationIssue,
  validateMessageBlocks,
  validateView,
} from './validate.ts';
export {
  type ChannelSeed,
  DEFAULT_CHANNELS,
  DEFAULT_USER_GROUPS,
  DEFAULT_USERS,
  DEFAULT_WORKSPACE,
  EmulatorStore,
  formatTs,
  toStateValue,
  type UserGroupSeed,
  type UserSeed,
  type WorkspaceSeed,
} from './workspace.ts';
