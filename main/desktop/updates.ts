import { UPDATE_MESSAGE_CHARS, type UpdateState } from '../../preload/contract.ts';

export type { UpdateState };

/**
 * The update path, as a port and a state machine; nothing installs without the user's word.
 *
 * The adapter is electron-updater (main/electron/updater-adapter.ts) against the GitHub releases
 * the release workflow drafts (electron-builder.yml `publish`; latest*.yml, and the macOS zip),
 * with `autoDownload` and `autoInstallOnAppQuit` off so that each step waits for the user. Without
 * a port the flow is off, with the reason shown in Settings: the headless mode never has one, a
 * server being updated by whoever runs it.
 */
export interface UpdaterPort {
  /** The newer release, or null when this is the newest. */
  check(): Promise<{ version: string } | null>;
  download(): Promise<void>;
  /**
   * Hands the downloaded release to the installer and quits. Rejects, with the app still running,
   * when the installer cannot start (a missing file, a refused signature, a cancelled prompt).
   */
  quitAndInstall(): Promise<void>;
}

/** Why this copy of the desktop app cannot replace itself, or null when electron-updater can. */
export function whyNoUpdates(build: {
  packaged: boolean;
  platform: NodeJS.Platform;
  appImage: boolean;
  packageType: string | null;
}): string | null {
  if (!build.packaged) return 'A development build is updated from its source, not from releases.';
  // On Linux electron-updater replaces only an AppImage ($APPIMAGE) or a package whose type the
  // installer wrote to resources/package-type; we ship the AppImage and the deb.
  if (build.platform === 'linux' && !build.appImage && build.packageType !== 'deb')
    return 'This copy was not installed from the AppImage or the .deb: update it the way it was installed.';
  return null;
}

/** A version as release feeds name it (semver): anything else is not shown, nor downloaded. */
const RELEASE_VERSION = /^v?\d{1,9}\.\d{1,9}\.\d{1,9}(?:[-+][0-9A-Za-z.+-]{1,30})?$/;

export class UpdateFlow {
  #state: UpdateState;
  readonly #port: UpdaterPort | undefined;
  readonly #onChange: (state: UpdateState) => void;

  constructor(
    port: UpdaterPort | undefined,
    onChange: (state: UpdateState) => void,
    offReason = 'Updates are not available in this build.',
  ) {
    this.#port = port;
    this.#onChange = onChange;
    this.#state = port ? { step: 'idle' } : { step: 'off', why: offReason };
  }

  get state(): UpdateState {
    return this.#state;
  }

  /** "Check for updates": only looks, never downloads. A downloaded release stays ready to install. */
  async check(): Promise<UpdateState> {
    const port = this.#port;
    if (!port || this.#busy() || this.#state.step === 'ready') return this.#state;
    this.#set({ step: 'checking' });
    try {
      const found = await port.check();
      if (found && !RELEASE_VERSION.test(found.version)) throw new Error('the release feed names a version that is not one');
      this.#set(found ? { step: 'available', version: found.version } : { step: 'current' });
    } catch (error) {
      this.#fail(error);
    }
    return this.#state;
  }

  /** The user said yes to the release `check` found: download it, and wait again. */
  async download(): Promise<UpdateState> {
    const port = this.#port;
    const s = this.#state;
    if (!port || s.step !== 'available') return s;
    this.#set({ step: 'downloading', version: s.version });
    try {
      await port.download();
      this.#set({ step: 'ready', version: s.version });
    } catch (error) {
      this.#fail(error);
    }
    return this.#state;
  }

  /** The user said yes to restarting into the downloaded release; a failure to start it is shown. */
  async install(): Promise<UpdateState> {
    if (!this.#port || this.#state.step !== 'ready') return this.#state;
    try {
      await this.#port.quitAndInstall();
    } catch (error) {
      this.#fail(error);
    }
    return this.#state;
  }

  #busy(): boolean {
    return this.#state.step === 'checking' || this.#state.step === 'downloading';
  }

  #fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#set({ step: 'failed', message: message.slice(0, UPDATE_MESSAGE_CHARS) });
  }

  #set(state: UpdateState): void {
    this.#state = state;
    this.#onChange(state);
  }
}
