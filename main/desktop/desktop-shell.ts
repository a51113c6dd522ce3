import type { Contact, Group, SessionSnapshot } from '../../preload/contract.ts';
import type { DesktopPort, TrayMenuItem } from './desktop-port.ts';
import { requestNotice } from './request-notice.ts';

/** electron-builder.yml's appId (test/unit/packaging checks they match). */
export const APP_ID = 'org.cosigner.desktop';

/** Given by the login item: start in the tray, without a window. */
export const START_HIDDEN_ARG = '--hidden';

export const DECLINED_WHILE_PAUSED = 'This co-signer has paused signing.';

export interface DesktopShellOptions {
  port: DesktopPort;
  /** electron-builder.yml's appId: Windows ties notifications to it. */
  appId: string;
  /** This node's own books, read for a notification's words. */
  contacts(): Promise<Contact[]>;
  groups(): Promise<Group[]>;
  /** Declines a request for this node (sessions.decline): co-signers learn at once, not at the timeout. */
  decline(sessionId: string, reason: string): Promise<void>;
  onError(error: unknown): void;
  /** Sessions remembered as already announced (default 1000); the oldest is forgotten first. */
  maxAnnounced?: number;
}

/**
 * The desktop app's life outside its window. MuSig2 needs every co-signer online for each
 * signature, so closing the window keeps the node running in the tray; only Quit (tray menu, app
 * menu, OS log-out) stops it. A request from a co-signer is announced once, naming the sender and
 * the group from this node's books, and clicking the announcement opens its review. "Pause
 * signing" declines new requests at once, with a reason, instead of leaving co-signers waiting.
 */
export class DesktopShell {
  readonly #o: DesktopShellOptions;
  readonly #announced = new Set<string>();
  #paused = false;
  #quitting = false;
  #toldStillRunning = false;

  constructor(options: DesktopShellOptions) {
    this.#o = options;
  }

  get paused(): boolean {
    return this.#paused;
  }

  start(): void {
    if (this.#o.port.platform === 'win32') this.#o.port.setAppUserModelId(this.#o.appId);
    this.#renderTray();
  }

  /** The window asks to close: returns true when the caller must prevent it (the app keeps running). */
  onWindowClose(): boolean {
    if (this.#quitting) return false;
    this.#o.port.hideWindow();
    if (!this.#toldStillRunning) {
      this.#toldStillRunning = true;
      this.#o.port.notify({
        title: 'Cosigner is still running',
        body: 'Your co-signers can reach you while it runs. Quit from the tray icon to stop it.',
        onClick: () => this.#o.port.showWindow(),
      });
    }
    return true;
  }

  /** The app is quitting for real (Quit, log-out, update): windows may close. */
  onBeforeQuit(): void {
    this.#quitting = true;
  }

  /** Every session event: a new request from a co-signer is announced, or declined while paused. */
  async onSession(snapshot: SessionSnapshot): Promise<void> {
    if (snapshot.phase !== 'AWAITING_APPROVAL' || snapshot.isCreator || !snapshot.awaitingLocalApproval) return;
    if (this.#announced.has(snapshot.sessionId)) return;
    this.#remember(snapshot.sessionId);
    if (this.#paused) {
      await this.#o.decline(snapshot.sessionId, DECLINED_WHILE_PAUSED);
      return;
    }
    const [contacts, groups] = await Promise.all([this.#o.contacts(), this.#o.groups()]);
    const { title, body } = requestNotice(snapshot, contacts, groups);
    this.#o.port.notify({ title, body, onClick: () => this.#o.port.showWindow(`session/${snapshot.sessionId}`) });
  }

  /** Start at login, from Settings: the tray's check box follows. */
  setOpenAtLogin(open: boolean): void {
    this.#o.port.setOpenAtLogin(open);
    this.#renderTray();
  }

  select(id: TrayMenuItem['id']): void {
    switch (id) {
      case 'open':
        this.#o.port.showWindow();
        break;
      case 'pause':
        this.#paused = !this.#paused;
        break;
      case 'login':
        this.#o.port.setOpenAtLogin(!this.#o.port.getOpenAtLogin());
        break;
      case 'quit':
        this.#quitting = true;
        this.#o.port.quit();
        return;
    }
    this.#renderTray();
  }

  #renderTray(): void {
    const items: TrayMenuItem[] = [
      { id: 'open', label: 'Open Cosigner' },
      { id: 'pause', label: 'Pause signing (decline new requests)', checked: this.#paused },
      { id: 'login', label: 'Start at login', checked: this.#o.port.getOpenAtLogin() },
      { id: 'quit', label: 'Quit Cosigner' },
    ];
    const tooltip = this.#paused ? 'Cosigner: signing paused' : 'Cosigner: online';
    this.#o.port.setTray(tooltip, items, (id) => {
      try {
        this.select(id);
      } catch (error) {
        this.#o.onError(error);
      }
    });
  }

  #remember(sessionId: string): void {
    this.#announced.add(sessionId);
    const max = this.#o.maxAnnounced ?? 1000;
    // A Set iterates in insertion order: the first entry is the oldest.
    while (this.#announced.size > max) this.#announced.delete(this.#announced.values().next().value!);
  }
}
