// Jest's global setup: the run gets a temporary folder of its own (see temp-folder.ts).
import { useOwnTemporaryFolder } from './temp-folder';

export default function globalSetup(): void {
  useOwnTemporaryFolder();
}
