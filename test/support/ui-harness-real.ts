/**
 * DEVELOPMENT TOOL: two real headless co-signers (`cosigner serve`, file keystores in temporary
 * data dirs, loopback only, no mDNS, B bootstrapping from A) driven through the built UI with
 * Playwright, the way a person would: create both keys (typing the backup phrase back), add each
 * other as contacts, make the same group, send a request from A, approve it on B, and check that
 * both show the same final signature, which must verify under the session's signing key.
 * Screenshots of each step go to test-results/ui-real/. Not a test: it prints what it saw.
 *
 *   node test/support/ui-harness-real.ts
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const OUT = path.join(ROOT, 'test-results/ui-real');

interface Daemon {
  name: string;
  url: string;
  peerId: string;
  child: ChildProcess;
  log: string[];
}

async function startDaemon(name: string, dataDir: string, listenPort: number, bootstrap?: string): Promise<Daemon> {
  const args = ['main/cli.ts', 'serve', '--data-dir', dataDir, '--keystore', 'file', '--no-mdns', '--network', 'regtest'];
  args.push('--listen', `/ip4/127.0.0.1/tcp/${listenPort}`, '--display-name', name);
  if (bootstrap) args.push('--bootstrap', bootstrap);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, COSIGNER_KEYSTORE_PASSPHRASE: `ui harness ${name} passphrase` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    let peerId = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log.join('')}`)), 30_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      peerId ||= /Peer id: (\S+)/.exec(text)?.[1] ?? '';
      const url = /Open: (\S+)/.exec(text)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ name, url, peerId, child, log });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${log.join('')}`)));
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function createKey(page: Page, who: string): Promise<string> {
  await page.getByTestId('create-key').click();
  await page.getByTestId('mnemonic-word').first().waitFor();
  const words = await page.getByTestId('mnemonic-word').allTextContents();
  if (words.length !== 24) throw new Error(`${who}: ${words.length} words shown`);
  await shot(page, `${who}-1-words`);
  await page.getByTestId('backup-written').check();
  await page.getByTestId('backup-continue').click();
  const inputs = page.getByTestId('confirm-word');
  for (const [i, word] of words.entries()) await inputs.nth(i).fill(word);
  await page.getByTestId('confirm-backup').click();
  const key = (await page.getByTestId('local-public-key').textContent({ timeout: 30_000 }))!.trim();
  await shot(page, `${who}-2-home`);
  return key;
}

async function addContact(page: Page, name: string, key: string): Promise<void> {
  await page.getByTestId('nav-cosigners').click();
  await page.getByTestId('contact-name-input').fill(name);
  await page.getByTestId('contact-key-input').fill(key);
  await page.getByTestId('save-contact').click();
  await page.locator(`[data-testid="contact"][data-public-key="${key}"]`).waitFor();
}

async function makeGroup(page: Page, name: string, otherKey: string): Promise<void> {
  await page.getByTestId('new-group').click();
  await page.getByTestId('group-name').fill(name);
  await page.locator(`[data-testid="group-member"][data-public-key="${otherKey}"]`).check();
  await page.getByTestId('save-group').click();
  await page.getByTestId('group-card').first().waitFor();
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const dirs = [await mkdtemp(path.join(tmpdir(), 'cosigner-ui-a-')), await mkdtemp(path.join(tmpdir(), 'cosigner-ui-b-'))];
  const daemons: Daemon[] = [];
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems: string[] = [];
  try {
    const portA = 47_000 + Math.floor(Math.random() * 1000);
    const a = await startDaemon('Alice', dirs[0]!, portA);
    daemons.push(a);
    const b = await startDaemon('Bob', dirs[1]!, portA + 1, `/ip4/127.0.0.1/tcp/${portA}/p2p/${a.peerId}`);
    daemons.push(b);

    const open = async (d: Daemon) => {
      const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
      page.on('console', (m) => m.type() === 'error' && problems.push(`${d.name}: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`${d.name}: page error: ${e.message}`));
      await page.goto(d.url);
      return page;
    };
    const pa = await open(a);
    const pb = await open(b);

    const keyA = await createKey(pa, 'a');
    const keyB = await createKey(pb, 'b');
    console.log(`keys: A ${keyA}, B ${keyB}`);

    await addContact(pa, 'Bob', keyB);
    await addContact(pb, 'Alice', keyA);
    await makeGroup(pa, 'Household', keyB);
    await makeGroup(pb, 'Household', keyA);
    await shot(pa, 'a-3-cosigners');

    await pa.getByTestId('nav-new').click();
    await pa.getByTestId('request-group').selectOption({ label: 'Household (2 signers)' });
    const message = 'Cosigner UI harness: pay the plumber';
    await pa.getByTestId('message-input').fill(message);
    await pa.getByTestId('description-input').fill('Plumbing, invoice 77');
    await pa.getByTestId('send-request').click();
    await pa.getByTestId('session-phase').waitFor();
    await shot(pa, 'a-4-sent');

    await pb.getByTestId('nav-home').click();
    const pending = pb.getByTestId('pending-request').first();
    await pending.waitFor({ timeout: 60_000 });
    await pending.click();
    await shot(pb, 'b-3-review');
    await pb.getByTestId('approve').click();

    for (const [page, who] of [[pa, 'a'], [pb, 'b']] as const) {
      await page.locator('[data-testid="session-phase"][data-phase="COMPLETE"]').waitFor({ timeout: 60_000 });
      await shot(page, `${who}-5-complete`);
    }
    const sigA = (await pa.getByTestId('final-signature').textContent())!.trim();
    const sigB = (await pb.getByTestId('final-signature').textContent())!.trim();
    const signingKey = (await pa.getByTestId('signing-key').textContent())!.trim();
    const messageHex = (await pa.getByTestId('message-hex').textContent())!.trim();
    const valid = schnorr.verify(hexToBytes(sigA), hexToBytes(messageHex), hexToBytes(signingKey));
    console.log(`signature A ${sigA}\nsignature B ${sigB}\nsame: ${sigA === sigB}, verifies under ${signingKey}: ${valid}`);
    await pa.getByTestId('nav-home').click();
    await pa.waitForTimeout(6_000); // one node status push
    await shot(pa, 'a-6-home');
    await pa.getByTestId('nav-history').click();
    await shot(pa, 'a-7-history');
    if (messageHex !== Buffer.from(message).toString('hex')) console.log(`message bytes differ from what was typed: ${messageHex}`);
  } catch (error) {
    console.error(error);
    for (const d of daemons) console.error(`--- ${d.name} log ---\n${d.log.join('')}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
    for (const d of daemons) d.child.kill('SIGTERM');
    await Promise.all(daemons.map((d) => new Promise((r) => (d.child.exitCode !== null ? r(null) : d.child.once('exit', r)))));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
  if (problems.length > 0) console.log(`page problems:\n${problems.join('\n')}`);
  console.log(`screenshots in ${path.relative(ROOT, OUT)}`);
}

await main();
