/**
 * Session churn between two real daemons, as a script would drive them: A asks, B signs by itself
 * (`--auto-approve`), one message session after the other, through the public control API only
 * (keys.importSecret, contacts.save, groups.save, sessions.create, the `session` event and
 * sessions.get). Every `every` sessions it samples both daemons' memory, their data directories'
 * size and the time per session, so a leak or a slowdown shows as a rising column.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { connectControl, type ControlClient } from '../../main/daemon/control-client.ts';
import type { SessionSnapshot } from '../../preload/contract.ts';
import { removeDataDir, startDaemon, stopDaemon, type Daemon } from './daemon-process.ts';

export interface ChurnSample {
  sessions: number;
  /** Mean wall time per session over the last block, in ms. */
  msPerSession: number;
  rssMbA: number;
  rssMbB: number;
  diskKbA: number;
  diskKbB: number;
}

export interface Churn {
  a: Daemon;
  b: Daemon;
  ca: ControlClient;
  cb: ControlClient;
  /** Runs `count` sessions back to back, each to COMPLETE on A; resolves with a sample every `every`. */
  run(count: number, every: number, onSample?: (s: ChurnSample) => void): Promise<ChurnSample[]>;
  stop(): Promise<void>;
}

/** Resident memory of a process, from /proc (Linux), in MB. */
async function rssMb(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
}

async function sizeKb(dir: string): Promise<number> {
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) bytes += (await stat(full)).size;
    }
  };
  await walk(dir);
  return Math.round(bytes / 1024);
}

export async function startChurn(): Promise<Churn> {
  const a = await startDaemon('ChurnA');
  const ca = await connectControl(a.url);
  // A's node starts with its key; B bootstraps from its address.
  const keyA = await ca.bridge.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
  const b = await startDaemon('ChurnB', { bootstrap: [a], extraArgs: ['--auto-approve'] });
  const cb = await connectControl(b.url);
  const keyB = await cb.bridge.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
  await ca.bridge.call('contacts.save', { publicKey: keyB.publicKey, name: 'B' });
  await cb.bridge.call('contacts.save', { publicKey: keyA.publicKey, name: 'A' });
  const keys = [keyA.publicKey, keyB.publicKey];
  const group = await ca.bridge.call('groups.save', { name: 'churn', publicKeys: keys });
  await cb.bridge.call('groups.save', { name: 'churn', publicKeys: keys });

  // One subscription for the whole run: each session's waiter is resolved by its COMPLETE event.
  const waiters = new Map<string, { resolve: (s: SessionSnapshot) => void; reject: (e: Error) => void }>();
  const ENDED_BADLY = new Set(['ABORTED', 'DECLINED', 'EXPIRED']);
  ca.bridge.subscribe('session', (s) => {
    const waiter = waiters.get(s.sessionId);
    if (waiter === undefined) return;
    if (s.phase === 'COMPLETE') waiter.resolve(s);
    else if (ENDED_BADLY.has(s.phase)) waiter.reject(new Error(`session ${s.sessionId} ended ${s.phase}`));
  });

  const oneSession = async (i: number): Promise<void> => {
    const text = `churn ${i}`;
    let sessionId = '';
    const done = new Promise<SessionSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${text} did not complete within 60 s`)), 60_000);
      const settle =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          waiters.delete(sessionId);
          f(v);
        };
      void ca.bridge
        .call('sessions.create', { groupId: group.id, message: { kind: 'text', text }, description: text })
        .then(async (created) => {
          sessionId = created.sessionId;
          waiters.set(sessionId, { resolve: settle(resolve), reject: settle(reject) });
          // A state reached before the waiter was set is in the record.
          const now = await ca.bridge.call('sessions.get', { sessionId });
          if (now.phase === 'COMPLETE') settle(resolve)(now);
        }, settle(reject));
    });
    const final = await done;
    if (final.signatures.length !== 1) throw new Error(`${text} completed without its signature`);
  };

  return {
    a,
    b,
    ca,
    cb,
    async run(count, every, onSample) {
      const samples: ChurnSample[] = [];
      let blockStart = performance.now();
      for (let i = 1; i <= count; i++) {
        await oneSession(i);
        if (i % every !== 0) continue;
        const sample: ChurnSample = {
          sessions: i,
          msPerSession: Math.round(((performance.now() - blockStart) / every) * 10) / 10,
          rssMbA: await rssMb(a.child.pid),
          rssMbB: await rssMb(b.child.pid),
          diskKbA: await sizeKb(a.dataDir),
          diskKbB: await sizeKb(b.dataDir),
        };
        samples.push(sample);
        onSample?.(sample);
        blockStart = performance.now();
      }
      return samples;
    },
    async stop() {
      ca.close();
      cb.close();
      for (const d of [a, b]) {
        await stopDaemon(d);
        await removeDataDir(d);
      }
    },
  };
}
