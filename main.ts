// The composition root: the only place that reads configuration and registers functions. Each trigger, orchestrator
// and activity gets a handler built from its dependencies here, so every piece can be tested without the host.
import { loadConfig } from './shared/adapters/config';

export const config = loadConfig();
