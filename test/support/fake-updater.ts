/** An UpdaterPort over a release feed the test sets (`latest`), counting what it was asked to do. */
import type { UpdaterPort } from '../../main/desktop/updates.ts';

export class FakeUpdater implements UpdaterPort {
  latest: string | null = '0.2.0';
  checks = 0;
  downloads = 0;
  installs = 0;
  /** A check fails with it, when set. */
  fail: Error | undefined;
  /** The installer fails to start with it, when set. */
  installFails: Error | undefined;
  async check() {
    this.checks++;
    if (this.fail) throw this.fail;
    return this.latest ? { version: this.latest } : null;
  }
  async download() {
    this.downloads++;
  }
  async quitAndInstall() {
    this.installs++;
    if (this.installFails) throw this.installFails;
  }
}
