// Loads the app as the Azure Functions Node worker would. @azure/functions registers every function through
// `require('@azure/functions-core')`, a module only the worker provides; answering that require captures each
// registration as (metadata, handler), exactly what the worker receives.
import Module from 'node:module';

export interface BindingMetadata {
  readonly type: string;
  readonly name: string;
  readonly direction: 'in' | 'out' | 'inout';
  readonly [key: string]: unknown;
}

export interface FunctionRegistration {
  readonly name: string;
  readonly bindings: Record<string, BindingMetadata>;
  readonly handler: (...args: unknown[]) => unknown;
  readonly trigger: BindingMetadata;
}

export class FunctionRegistry {
  readonly functions = new Map<string, FunctionRegistration>();

  byTrigger(type: string): FunctionRegistration[] {
    return [...this.functions.values()].filter((f) => f.trigger.type === type);
  }

  get(name: string): FunctionRegistration | undefined {
    return this.functions.get(name);
  }
}

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;

/** Answers `require('@azure/functions-core')` for the rest of the process; returns the registry it fills. */
export function installFunctionsCore(): FunctionRegistry {
  const registry = new FunctionRegistry();
  const core = {
    registerFunction(
      metadata: { name: string; bindings: Record<string, BindingMetadata> },
      handler: (...args: unknown[]) => unknown,
    ) {
      const trigger = Object.values(metadata.bindings).find((b) => b.direction === 'in' && /Trigger$/.test(b.type));
      if (!trigger) throw new Error(`function ${metadata.name} has no trigger binding`);
      if (registry.functions.has(metadata.name)) throw new Error(`function ${metadata.name} is registered twice`);
      registry.functions.set(metadata.name, { name: metadata.name, bindings: metadata.bindings, handler, trigger });
      return { dispose() {} };
    },
    registerHook() {
      return { dispose() {} };
    },
    setProgrammingModel() {},
    getProgrammingModel() {
      return undefined;
    },
    log() {},
  };
  const mod = Module as unknown as { _load: Loader };
  const original = mod._load;
  mod._load = function load(request: string, parent: unknown, isMain: boolean) {
    if (request === '@azure/functions-core') return core;
    return original.call(this, request, parent, isMain);
  };
  return registry;
}

/**
 * Loads the modules named in DIALTONE_EXTRA_FUNCTIONS (comma-separated paths) after the app: the tests register small
 * probe orchestrations and activities there (test/support/durable-probes.ts) to compare the engines on durable
 * behaviours the app itself avoids. Both hosts call it; nothing in Azure sets it.
 */
export function loadExtraFunctions(env: NodeJS.ProcessEnv = process.env): void {
  for (const file of (env['DIALTONE_EXTRA_FUNCTIONS'] ?? '').split(',').filter(Boolean))
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(file);
}
