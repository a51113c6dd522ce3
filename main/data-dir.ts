import os from 'node:os';
import path from 'node:path';

/** Where Cosigner keeps its records when no --data-dir is given. */
export function defaultDataDir(appDataDir?: string): string {
  if (appDataDir) return path.join(appDataDir, 'cosigner');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Cosigner');
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? os.homedir(), 'Cosigner');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'cosigner');
}
