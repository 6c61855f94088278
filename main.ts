// What the Functions host loads (package.json "main"): the app, composed in app.ts, on the wall clock. Open app.ts to
// see every function and what it is built from.
import { registerApp } from './app';
import { wallClock } from './shared/adapters/app-time';
import { loadConfig } from './shared/adapters/config';

registerApp(loadConfig(), wallClock);
