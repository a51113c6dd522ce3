/** Steps the UI tests on real daemons share. */
import type { Page } from 'playwright-core';

/** How long a UI test waits for a co-signer's request or a session's end (a loaded machine). */
export const SESSION_MS = 30_000;

/** Opens the pending request `sessionId` from the home screen, once it has arrived. */
export async function openPending(page: Page, sessionId: string): Promise<void> {
  await page.getByTestId('nav-home').click();
  const item = page.locator(`[data-testid="pending-request"][data-session-id="${sessionId}"]`);
  await item.waitFor({ timeout: SESSION_MS });
  await item.click();
}
