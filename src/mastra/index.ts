export type {
  Budget,
  BudgetExhausted,
  CallOptions,
  CreateRunParams,
  ListWorkflowsParams,
  MastraClientOptions,
  MessageReply,
  ObserveParams,
  RequestContextInit,
  RequestOptions,
  ResumeParams,
  RunByIdParams,
  RunField,
  RunsPage,
  RunsParams,
  StartAsyncParams,
  StartParams,
  StreamParams,
} from './client.ts';
export { MastraClient, RUN_FIELDS, Run, Workflow } from './client.ts';
export type { MastraErrorCode, MastraErrorOptions, StreamPosition, ValidationIssue } from './errors.ts';
export { isMastraError, MASTRA_ERROR_CODES, MastraError } from './errors.ts';
export { WorkflowEventStream } from './events.ts';
export type { RawRecord, StreamRecord } from './records.ts';
export { parseRecords, parseRecordsSync, RECORD_SEPARATOR, RecordSplitter } from './records.ts';
export { toWorkflowEvent } from './schemas.ts';
export * from './types.ts';
