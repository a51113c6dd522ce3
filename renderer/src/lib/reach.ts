/** Words for how co-signers are reached and how others reach this node (node.status). */
import type { CosignerReach, NodeStatus } from '../../../preload/contract.ts';

const PATH_WORDS: Record<CosignerReach['path'], string> = {
  lan: 'on your local network',
  direct: 'directly, over the internet',
  relayed: 'through a relay',
  'not-connected': 'not connected',
};

export function pathWords(path: CosignerReach['path']): string {
  return PATH_WORDS[path];
}

export function reachabilityWords(reachability: NonNullable<NodeStatus['reachability']>): string {
  if (reachability.status === 'public') return 'Directly, at a public address';
  if (reachability.status === 'relayed') {
    const reserved = reachability.relays.filter((r) => r.reserved).length;
    return `Through ${reserved === 1 ? 'a relay' : `${reserved} relays`} (your router lets no connection in)`;
  }
  return reachability.relays.length > 0
    ? 'Only on your local network: no relay could be reached yet'
    : 'Only on your local network (add a relay in Settings to be reached across the internet)';
}
