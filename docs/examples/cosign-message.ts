/**
 * An example of the control API: two running daemons co-sign a message, driven by this script.
 *
 *   node docs/examples/cosign-message.ts <url of daemon A> <url of daemon B>
 *
 * Each URL is the one `cosigner serve` prints. Both daemons must already have a signer key
 * (create one in the UI, or call keys.importMnemonic) and reach each other (same LAN, or
 * `--bootstrap` one from the other). The end-to-end test test/e2e/daemon runs this same code.
 */
import { Verifier } from 'bip322-js';
import type { CosignerBridge, SessionSnapshot } from '../../preload/contract.ts';
import { connectControl } from '../../main/daemon/control-client.ts';
import { safetyCode } from '../../preload/safety-code.ts';

/** Resolves with the first snapshot of `sessionId` (pushed or fetched) that satisfies `done`. */
export function waitForSession(
  bridge: CosignerBridge,
  match: (s: SessionSnapshot) => boolean,
  timeoutMs = 60_000,
): Promise<SessionSnapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('timed out waiting for the session'));
    }, timeoutMs);
    const unsubscribe = bridge.subscribe('session', (s) => {
      if (!match(s)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(s);
    });
    // A state reached before we subscribed is in the list.
    void bridge.call('sessions.list', {}).then((all) => {
      const found = all.find(match);
      if (found) {
        clearTimeout(timer);
        unsubscribe();
        resolve(found);
      }
    });
  });
}

export async function cosignMessage(a: CosignerBridge, b: CosignerBridge, text: string): Promise<SessionSnapshot> {
  const keyA = (await a.call('keys.status', {})).key;
  const keyB = (await b.call('keys.status', {})).key;
  if (!keyA || !keyB) throw new Error('both daemons need a signer key first');

  // Each side saves the other as a contact and the pair as a group (the group id is the same on both).
  // This script reads both keys from their own daemons, so it can vouch for the safety code that a
  // key seen on the LAN needs (people compare it aloud).
  const code = safetyCode(keyA.publicKey, keyB.publicKey);
  await a.call('contacts.save', { publicKey: keyB.publicKey, name: 'B', safetyCode: code });
  await b.call('contacts.save', { publicKey: keyA.publicKey, name: 'A', safetyCode: code });
  const group = await a.call('groups.save', { name: 'A and B', publicKeys: [keyA.publicKey, keyB.publicKey] });
  await b.call('groups.save', { name: 'A and B', publicKeys: [keyA.publicKey, keyB.publicKey] });

  // A asks; B sees the request, reads it, approves.
  const incoming = waitForSession(b, (s) => s.awaitingLocalApproval && s.description === text);
  const created = await a.call('sessions.create', { groupId: group.id, message: { kind: 'text', text }, description: text });
  const request = await incoming;
  if (request.sessionId !== created.sessionId) throw new Error('B received a different session');
  const doneA = waitForSession(a, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE');
  const doneB = waitForSession(b, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE');
  await b.call('sessions.approve', { sessionId: request.sessionId });
  const [finalA, finalB] = await Promise.all([doneA, doneB]);

  // The result is a BIP322 signature of the message by the group's address: checked here by another
  // implementation (bip322-js), as any wallet that verifies BIP322 would.
  const signature = finalA.bip322?.signatures[0];
  if (!signature || finalB.bip322?.signatures[0] !== signature) throw new Error('A and B hold different signatures');
  if (finalA.bip322?.address !== group.address) throw new Error("the signature is not for the group's address");
  if (!Verifier.verifySignature(group.address, text, signature)) {
    throw new Error("the BIP322 signature does not verify for the group's address");
  }
  return finalA;
}

if (import.meta.main) {
  const [urlA, urlB] = process.argv.slice(2);
  if (!urlA || !urlB) {
    console.error('usage: node docs/examples/cosign-message.ts <url of daemon A> <url of daemon B>');
    process.exit(2);
  }
  const a = await connectControl(urlA);
  const b = await connectControl(urlB);
  const done = await cosignMessage(a.bridge, b.bridge, `hello from the control API at ${new Date().toISOString()}`);
  console.log(`session ${done.sessionId} COMPLETE; BIP322 signature ${done.bip322?.signatures[0]} verifies for ${done.bip322?.address}`);
  a.close();
  b.close();
}
