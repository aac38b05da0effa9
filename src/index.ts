export * from './mastra/index.ts';
