/** Light, dark, or as the system says; remembered on this device. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'cosigner.theme';

export class Theme {
  choice: ThemeChoice = $state(readChoice());

  apply(): void {
    const root = document.documentElement;
    if (this.choice === 'system') delete root.dataset['theme'];
    else root.dataset['theme'] = this.choice;
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    try {
      localStorage.setItem(STORAGE_KEY, choice);
    } catch {
      // Storage may be unavailable (private window); the choice then lasts for this page only.
    }
    this.apply();
  }
}

function readChoice(): ThemeChoice {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'light' || stored === 'dark') return stored;
  } catch {
    // as above
  }
  return 'system';
}
