// durable-functions ships no types for its Orchestrator class; tests use it to replay hand-built histories.
declare module 'durable-functions/lib/src/orchestrations/Orchestrator' {
  export class Orchestrator {
    constructor(fn: (...args: never[]) => unknown);
    listen(): (trigger: unknown, context: unknown) => Promise<unknown>;
  }
}
