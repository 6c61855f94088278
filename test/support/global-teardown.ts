// Jest's global teardown: the run's temporary folder must be empty (see temp-folder.ts).
import { checkNothingLeftBehind } from './temp-folder';

export default function globalTeardown(): void {
  checkNothingLeftBehind();
}
