/**
 * Co-signing a PSBT, 3-of-3, over the whole stack on 127.0.0.1: real libp2p nodes (TCP, Noise,
 * yamux, signer cards) and one session coordinator each, on this 2-core machine, each signer on its
 * own thread (as on its own machine) and all on one thread (their work adds up); each session run
 * as people would (test/support/bench-signers.ts), after two warm-up sessions. Measures the time
 * from the last approval to the final transaction held by every signer, for PSBTs whose inputs are
 * all on the group's own address (one signing context) and all on distinct BIP328 addresses (one
 * context per input), then where the time goes, step by step, for one signer.
 *
 * The target is 1.5 s for 100 inputs on the group's own address; the wallet signs at most
 * MAX_PSBT_INPUTS (128) inputs per PSBT, the largest case.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import type { AnnouncementBody } from '../../main/session/codec.ts';
import { GroupKeysCache, intakePsbt, PsbtSession } from '../../main/session/psbt-session.ts';
import { initialState, recordNonces, recordPartials, type Recorded, type SessionState } from '../../main/session/state.ts';
import { MAX_PSBT_INPUTS } from '../../main/wallet/psbt-import.ts';
import { finalizeKeyPath } from '../../main/wallet/psbt-finalize.ts';
import { makePsbtNonces, PsbtSigningBatch } from '../../main/wallet/psbt-signing.ts';
import { lastApprovalToCompletion, startSigners, type Signers, type SignerThreads } from '../support/bench-signers.ts';
import { cosigners, spendFrom, spentOutputs, verifyWithBitcoinJs, type SpendInput } from '../support/psbt-fixtures.ts';

type Layout = 'own address' | 'distinct BIP328 addresses';

const WARM_UP_SESSIONS = 2;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const payee = cosigners(1, 'bench-payee')[0]!.publicKey.subarray(1);

function inputsOf(count: number, layout: Layout): SpendInput[] {
  return Array.from({ length: count }, (_, i) => ({ path: layout === 'own address' ? [] : [0, i], amount: 10_000n }));
}

function psbtFor(keys: ReturnType<GroupKeysCache['of']>, count: number, layout: Layout, run: number) {
  return spendFrom(
    keys,
    inputsOf(count, layout),
    [{ outputKey: payee, amount: BigInt(count) * 10_000n - 5_000n }],
    `bench/${layout}/${count}/${run}`,
  );
}

async function lastApprovalToTransaction(threads: SignerThreads, cases: readonly { inputs: number; layout: Layout; runs: number }[]) {
  const rows = [];
  // Each signer its own group-keys cache, as on three machines: nobody reuses another's derivations.
  const signers = await startSigners(threads, ['bench-psbt-0', 'bench-psbt-1', 'bench-psbt-2'], { bitcoinNetwork: 'regtest' });
  try {
    const group = new GroupKeysCache().of([...signers.keys]);
    // Untimed, so that each signer has compiled its code and the co-signers' keys are prepared.
    for (let run = 0; run < WARM_UP_SESSIONS; run++) await sign(signers, psbtFor(group, 16, 'own address', 1000 + run));
    for (const { inputs, layout, runs } of cases) {
      const times: number[] = [];
      const creates: number[] = [];
      for (let run = 0; run < runs; run++) {
        const tx = psbtFor(group, inputs, layout, run);
        const timed = await sign(signers, tx);
        times.push(timed.lastApprovalMs);
        creates.push(timed.createMs);
      }
      rows.push({
        inputs,
        'inputs on': layout,
        'signers run on': threads,
        runs,
        'median ms': Number(median(times).toFixed(0)),
        'min ms': Number(Math.min(...times).toFixed(0)),
        'creator intake ms (median)': Number(median(creates).toFixed(0)),
        'target ms': inputs === 100 && layout === 'own address' ? 1500 : '',
      });
    }
  } finally {
    await signers.stop();
  }
  return rows;
}

/** One co-signing of `tx`, timed from the last approval; the transaction is checked by bitcoinjs-lib. */
async function sign(signers: Signers, tx: ReturnType<typeof psbtFor>) {
  const timed = await lastApprovalToCompletion(signers, {
    signers: [...signers.keys],
    payload: { kind: 'psbt', psbt: base64.encode(tx.toPSBT()), network: 'regtest' },
    tweak: 'taproot',
  });
  const final = (await signers.snapshot(2, timed.sessionId))?.psbt?.transaction;
  if (!final || !verifyWithBitcoinJs(final.rawTxHex, spentOutputs(tx)).every(Boolean)) throw new Error('bitcoinjs-lib refuses a signature');
  return timed;
}

function stateOf(outcome: Recorded): SessionState {
  if (outcome.kind !== 'new') throw new Error(`not recorded: ${outcome.kind}`);
  return outcome.state;
}

/**
 * One signer's share of the same work, step by step, without the network (median of `runs`): what
 * it does in the signing rounds (the BIP373 fields of its copy included, written as each signer's
 * nonces and partial signatures arrive), and what happens outside them (intake and the session's
 * copy, when the request arrives; the copy's bytes, when they are asked for).
 */
function steps(inputs: number, layout: Layout, runs: number) {
  const signers = cosigners(3, 'bench-steps');
  const keys = signers.map((s) => s.publicKey);
  const samples = new Map<string, number[]>();
  const time = <T>(step: string, run: () => T): T => {
    const start = performance.now();
    const out = run();
    samples.set(step, [...(samples.get(step) ?? []), performance.now() - start]);
    return out;
  };
  for (let run = 0; run < runs; run++) {
    const tx = psbtFor(new GroupKeysCache().of(keys), inputs, layout, run);
    const payload = { kind: 'psbt' as const, network: 'regtest' as const, allowNonDefaultSighash: false, psbt: tx.toPSBT() };
    // A fresh cache: the derivations are made here, as on a node that never saw these addresses.
    const cache = new GroupKeysCache();
    time('outside: key aggregation of the group', () => cache.of(keys));
    const intake = time('outside: intake (import, review, plan; derivations included)', () => intakePsbt(payload, keys, cache, 'regtest'));
    const { plan } = intake;
    const body: AnnouncementBody = {
      signers: keys,
      creatorIndex: 0,
      tweak: 'taproot',
      createdAt: 0,
      expiresAt: 1,
      salt: new Uint8Array(32),
      display: '',
      payload,
    };
    const session = time('outside: session opened (its copy, with the BIP373 participants)', () => PsbtSession.open(body, intake));
    const position = signers.map((s) => plan.participants.findIndex((k) => bytesToHex(k) === bytesToHex(s.publicKey)));
    const made = signers.map((s, n) =>
      n === 0 ? time('rounds: nonces', () => makePsbtNonces(plan, s.secretKey)) : makePsbtNonces(plan, s.secretKey),
    );
    const nonces: Uint8Array[][] = [];
    made.forEach((m, n) => (nonces[position[n]!] = m.publicNonces));
    // Each signer's nonces, then partial signatures, arrive one message at a time: one progress each.
    let state = initialState(signers.length, 0, 0);
    const withNonces = made.map(
      (m, n) =>
        (state = stateOf(recordNonces(state, n, { sequence: 1, timestamp: 0, signature: new Uint8Array(64), nonces: m.publicNonces }, 0))),
    );
    time('rounds: BIP373 nonces into the copy (3 signers, as each arrives)', () => withNonces.forEach((s) => session.progress(s)));
    const batch = time('rounds: signing batch from every nonce', () => new PsbtSigningBatch(plan.inputs, nonces));
    const partials: Uint8Array[][] = [];
    made.forEach((m, n) => {
      const sign = () => batch.sign(position[n]!, signers[n]!.secretKey, m.secretNonces);
      partials[position[n]!] = n === 0 ? time('rounds: partial signatures', sign) : sign();
    });
    const withPartials = signers.map((_, n) => (state = stateOf(recordPartials(state, n, partials[position[n]!]!, 0))));
    time('rounds: BIP373 partial signatures into the copy (3 signers, as each arrives)', () =>
      withPartials.forEach((s) => session.progress(s)),
    );
    time('outside: the copy with every BIP373 field, serialized (sessions.psbt)', () => session.psbt());
    const signatures = time('rounds: aggregate (the engine verifies each)', () => batch.aggregate(partials));
    time('rounds: signatures verified, finalized PSBT and transaction', () =>
      finalizeKeyPath(payload.psbt, intake.imported.tx, plan, signatures),
    );
  }
  const rows = [...samples].map(([step, values]) => ({
    inputs,
    'inputs on': layout,
    step,
    'median ms': Number(median(values).toFixed(1)),
  }));
  const rounds = rows.filter((r) => r.step.startsWith('rounds')).reduce((sum, r) => sum + r['median ms'], 0);
  rows.push({ inputs, 'inputs on': layout, step: 'rounds: total, one signer (x3 in one process)', 'median ms': Number(rounds.toFixed(1)) });
  return rows;
}

export default async function bench(): Promise<void> {
  const quick = process.env.BENCH_QUICK !== undefined;
  const cases = quick
    ? [{ inputs: 16, layout: 'own address' as const, runs: 1 }]
    : [
        { inputs: 1, layout: 'own address' as const, runs: 5 },
        { inputs: 16, layout: 'own address' as const, runs: 3 },
        { inputs: 32, layout: 'own address' as const, runs: 3 },
        { inputs: 64, layout: 'own address' as const, runs: 3 },
        { inputs: 100, layout: 'own address' as const, runs: 5 },
        { inputs: 100, layout: 'distinct BIP328 addresses' as const, runs: 3 },
        { inputs: MAX_PSBT_INPUTS, layout: 'own address' as const, runs: 3 },
      ];
  console.log(
    '3-of-3 PSBT co-signing, last approval to the final transaction held by every signer (real libp2p nodes on 127.0.0.1, 2 cores):',
  );
  console.table([
    ...(await lastApprovalToTransaction('thread per signer', cases)),
    ...(await lastApprovalToTransaction('one thread', cases)),
  ]);
  console.log("Where one signer's time goes (no network): in the signing rounds, and outside them:");
  console.table([...steps(100, 'own address', quick ? 1 : 3), ...steps(100, 'distinct BIP328 addresses', quick ? 1 : 3)]);
}
