/**
 * The update path, as a port and a state machine; nothing installs without the user's word.
 *
 * The intended adapter is electron-updater against the GitHub releases the release workflow drafts
 * (electron-builder.yml `publish`; latest*.yml, and the macOS zip), with `autoDownload = false`
 * and `autoInstallOnAppQuit = false` so that each step waits for the user. electron-updater
 * bundles with esbuild (a devDependency, like everything but keytar), but it is not installed in
 * this tree yet, so no adapter is wired. Without a port the flow is off: the headless mode never
 * has one, a server being updated by whoever runs it.
 */
export interface UpdaterPort {
  /** The newer release, or null when this is the newest. */
  check(): Promise<{ version: string } | null>;
  download(): Promise<void>;
  /** Quits and installs the downloaded release. */
  quitAndInstall(): void;
}

export type UpdateState =
  | { step: 'off'; why: string }
  | { step: 'idle' }
  | { step: 'checking' }
  | { step: 'current' }
  | { step: 'available'; version: string }
  | { step: 'downloading'; version: string }
  | { step: 'ready'; version: string }
  | { step: 'failed'; message: string };

export class UpdateFlow {
  #state: UpdateState;
  readonly #port: UpdaterPort | undefined;
  readonly #onChange: (state: UpdateState) => void;

  constructor(
    port: UpdaterPort | undefined,
    onChange: (state: UpdateState) => void,
    offReason = 'updates are not available in this build',
  ) {
    this.#port = port;
    this.#onChange = onChange;
    this.#state = port ? { step: 'idle' } : { step: 'off', why: offReason };
  }

  get state(): UpdateState {
    return this.#state;
  }

  /** "Check for updates": only looks, never downloads. */
  async check(): Promise<UpdateState> {
    const port = this.#port;
    if (!port || this.#busy()) return this.#state;
    this.#set({ step: 'checking' });
    try {
      const found = await port.check();
      this.#set(found ? { step: 'available', version: found.version } : { step: 'current' });
    } catch (error) {
      this.#set({ step: 'failed', message: error instanceof Error ? error.message : String(error) });
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
      this.#set({ step: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
    return this.#state;
  }

  /** The user said yes to restarting into the downloaded release. */
  install(): void {
    if (this.#port && this.#state.step === 'ready') this.#port.quitAndInstall();
  }

  #busy(): boolean {
    return this.#state.step === 'checking' || this.#state.step === 'downloading';
  }

  #set(state: UpdateState): void {
    this.#state = state;
    this.#onChange(state);
  }
}
