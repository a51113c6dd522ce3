/**
 * What a threshold group costs a wallet: deriving receive addresses (every MuSig2 key in the tree is
 * BIP32-derived per address, so the cost grows with the number of leaves) and the length of its
 * ranged descriptor. The k-of-n bound (n ≤ 7, at most 35 leaves) is read from this table. Then a
 * PSBT's cost per input: a 2-of-3 leaf spend against the 3-of-3 key path (plan, sign, finalize).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { groupKeyAgg } from '../../main/wallet/group.ts';
import { GroupKeys } from '../../main/wallet/group-keys.ts';
import { policyDescriptors } from '../../main/wallet/threshold-descriptor.ts';
import { GroupOutputs } from '../../main/wallet/threshold.ts';
import { N_OF_N, type GroupPolicy } from '../../main/wallet/threshold-policy.ts';
import { finalizeKeyPath } from '../../main/wallet/psbt-finalize.ts';
import { importPsbt } from '../../main/wallet/psbt-import.ts';
import { planPathSigning, planPsbtSigning, type PsbtSigningPlan } from '../../main/wallet/psbt-signing.ts';
import { KEY_PATH, type SpendPath } from '../../main/wallet/spend-path.ts';
import { cosigners, spendFrom } from '../support/psbt-fixtures.ts';
import { runPathRounds, thresholdGroup, thresholdSpend, type Cosigner } from '../support/threshold-psbt.ts';

const ADDRESSES = 100;
const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));

function ms(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export default async function bench(): Promise<void> {
  const rows: Record<string, Record<string, number>> = {};
  const keys = (n: number) => Array.from({ length: n }, (_, i) => key(i + 101));

  {
    const group = new GroupKeys(groupKeyAgg(keys(3)));
    const total = ms(() => {
      for (let i = 0; i < ADDRESSES; i++) group.address([0, i], 'mainnet');
    });
    rows['3-of-3 (GroupKeys, today)'] = {
      leaves: 0,
      'setup ms': 0,
      [`ms for ${ADDRESSES}`]: round(total),
      'ms per address': round(total / ADDRESSES, 2),
      'descriptor chars': policyDescriptors(new GroupOutputs(keys(3), N_OF_N), 'mainnet').receive.length,
    };
  }

  const cases: [string, number, GroupPolicy][] = [
    ['3-of-3 (GroupOutputs)', 3, N_OF_N],
    ['2-of-3', 3, { kind: 'k-of-n', k: 2 }],
    ['2-of-3 + recovery key', 3, { kind: 'k-of-n', k: 2, recovery: { keys: [key(7)], olderBlocks: 4320 } }],
    ['3-of-5', 5, { kind: 'k-of-n', k: 3 }],
    ['3-of-5 + recovery pair', 5, { kind: 'k-of-n', k: 3, recovery: { keys: [key(101), key(102)], olderBlocks: 4320 } }],
    ['3-of-6', 6, { kind: 'k-of-n', k: 3 }],
    ['4-of-7 (the bound: 35 leaves)', 7, { kind: 'k-of-n', k: 4 }],
  ];
  for (const [name, n, policy] of cases) {
    let outputs: GroupOutputs | undefined;
    const setup = ms(() => {
      outputs = new GroupOutputs(keys(n), policy);
    });
    const group = outputs as GroupOutputs;
    const total = ms(() => {
      for (let i = 0; i < ADDRESSES; i++) group.address([0, i], 'mainnet');
    });
    const leaves = group.at([], 'mainnet').leaves.length;
    rows[name] = {
      leaves,
      'setup ms': round(setup),
      [`ms for ${ADDRESSES}`]: round(total),
      'ms per address': round(total / ADDRESSES, 2),
      'descriptor chars': policyDescriptors(group, 'mainnet').receive.length,
    };
  }
  console.log(`${ADDRESSES} receive addresses (/0/0../0/${ADDRESSES - 1}) per group, mainnet; setup = key aggregation of every subset`);
  console.table(rows);
  psbtBench();
}

const PSBT_INPUTS = 32;

/** Both MuSig2 rounds of every signer of `plan` and the aggregate, then the finalized PSBT. */
function signAndFinalize(psbt: Uint8Array, plan: PsbtSigningPlan, people: readonly Cosigner[]): { sign: number; finalize: number } {
  let signatures: Uint8Array[] = [];
  const sign = ms(() => {
    signatures = runPathRounds(psbt, [plan, ...plan.participants.slice(1).map(() => plan)], people).signatures;
  });
  const imported = importPsbt(psbt);
  const finalize = ms(() => finalizeKeyPath(imported.bytes, imported.tx, plan, signatures));
  return { sign, finalize };
}

/**
 * Per input, cold (each case its own key caches, as a signer that has not seen the group's
 * derivations): planning (import, classify by re-deriving every input's output, sighashes), both
 * signing rounds of every signer (in one process) with the BIP373 copy, and finalization.
 */
function psbtBench(): void {
  const shape = {
    derivations: Array.from({ length: PSBT_INPUTS }, (_, i) => [0, i]),
    amounts: Array.from({ length: PSBT_INPUTS }, () => 10_000n),
    change: [1, 0],
  };
  const rows: Record<string, Record<string, number>> = {};
  const record = (name: string, signers: number, plan: number, cost: { sign: number; finalize: number }) => {
    const per = (x: number) => round(x / PSBT_INPUTS, 2);
    rows[name] = {
      signers,
      'plan ms/input': per(plan),
      'sign ms/input (all signers)': per(cost.sign),
      'finalize ms/input': per(cost.finalize),
      'total ms/input': per(plan + cost.sign + cost.finalize),
    };
  };
  {
    const people = cosigners(3, 'bench-threshold-3of3');
    const keys = new GroupKeys(groupKeyAgg(people.map((p) => bytesToHex(p.publicKey))));
    const psbt = spendFrom(
      keys,
      shape.derivations.map((path) => ({ path, amount: 10_000n })),
      [{ outputKey: people[0]!.publicKey.subarray(1), amount: 300_000n }],
      'bench-threshold-3of3',
    ).toPSBT(0);
    let plan: PsbtSigningPlan | undefined;
    const planning = ms(() => (plan = planPsbtSigning(importPsbt(psbt), keys)));
    record('3-of-3, key path (GroupKeys)', 3, planning, signAndFinalize(psbt, plan as PsbtSigningPlan, people));
  }
  const group = thresholdGroup('bench-threshold');
  const paths: [string, SpendPath][] = [
    ['2-of-3 + recovery key, key path', KEY_PATH],
    ['2-of-3 + recovery key, leaf 0 (a pair)', { kind: 'leaf', leaf: 0 }],
  ];
  for (const [name, path] of paths) {
    const psbt = thresholdSpend(group.spendKeys(), path, shape, `bench-${name}`).toPSBT(0);
    const spend = group.spendKeys();
    let plan: PsbtSigningPlan | undefined;
    const planning = ms(() => (plan = planPathSigning(importPsbt(psbt), spend, path)));
    const signed = plan as PsbtSigningPlan;
    record(name, signed.participants.length, planning, signAndFinalize(psbt, signed, group.members));
  }
  console.log(`A PSBT of ${PSBT_INPUTS} inputs at distinct BIP328 addresses, per input, cold caches (one process, every signer's rounds):`);
  console.table(rows);
}
