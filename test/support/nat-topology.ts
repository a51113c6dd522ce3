/**
 * A small internet inside Linux network namespaces, made and removed by the test: a "public"
 * segment 10.99.0.0/24 (a bridge in its own namespace) with a relay on it, and two homes, each a
 * namespace behind its own NAT router namespace (MASQUERADE; inbound only for replies: FORWARD
 * policy DROP but ESTABLISHED,RELATED). A router is endpoint-independent (Linux keeps the source
 * port) or symmetric (`--random-fully`: a new random port per connection).
 *
 * Every address lives inside namespaces made here; the host's own namespace, interfaces and routes
 * are never touched. Needs root, `ip` (iproute2) and `iptables`: without them the caller fails with
 * the missing one named (requireNatPrerequisites), never skips.
 *
 *   relay ns  10.99.0.1 ─┐   (relay2 ns 10.99.0.2 likewise)
 *                        ├─ br0 (public ns)
 *   router1 wan 10.99.0.11 ┘  lan 192.168.1.1 ── home1 192.168.1.2
 *   router2 wan 10.99.0.12    lan 192.168.2.1 ── home2 192.168.2.2
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type NatKind = 'endpoint-independent' | 'symmetric';

export const RELAY_IP = '10.99.0.1';
/** A second relay, for a group that keeps two (or loses one). */
export const RELAY2_IP = '10.99.0.2';

export interface NatTopology {
  /** Namespace names, unique to this run. */
  readonly ns: { public: string; relay: string; relay2: string; router1: string; home1: string; router2: string; home2: string };
  /** Starts a process inside a namespace (ip netns exec), its output kept in `log`. */
  spawnIn(ns: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): NsProcess;
  /**
   * Makes a TCP port on 127.0.0.1 inside `ns` reachable on the same port of the host's 127.0.0.1,
   * through a Unix socket (files are shared by namespaces; ports are not).
   */
  forwardLoopback(ns: string, port: number): Promise<void>;
  /** Kills what was started, removes the namespaces; safe to call twice and after a failed setup. */
  teardown(): Promise<void>;
}

export interface NsProcess {
  readonly child: ChildProcess;
  readonly log: string[];
  /** Resolves with the first match of `pattern` in the output. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

/** Throws, naming what is missing, unless the machine can build the topology. */
export function requireNatPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('the NAT tests need root (network namespaces and iptables): run them as root');
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['iptables', ['-V']],
  ] as const) {
    const probe = spawnSync(tool, args, { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      throw new Error(
        `the NAT tests need \`${tool}\` (${tool === 'ip' ? 'iproute2' : 'iptables'}): ${probe.error?.message ?? probe.stderr.trim()}`,
      );
    }
  }
}

function run(args: readonly string[]): void {
  try {
    execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`${args.join(' ')} failed: ${stderr || String(err)}`);
  }
}

export async function createNatTopology(home2: NatKind, home1: NatKind = 'endpoint-independent'): Promise<NatTopology> {
  requireNatPrerequisites();
  const id = `cst${randomBytes(3).toString('hex')}`;
  const ns = {
    public: `${id}-pub`,
    relay: `${id}-relay`,
    relay2: `${id}-relay2`,
    router1: `${id}-r1`,
    home1: `${id}-h1`,
    router2: `${id}-r2`,
    home2: `${id}-h2`,
  };
  const made: string[] = [];
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  const sockets: string[] = [];
  let down = false;

  const teardown = async (): Promise<void> => {
    if (down) return;
    down = true;
    for (const s of servers) s.close();
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    for (const name of made.reverse()) {
      // Whatever still runs inside was started by this test; deleting the namespace needs it gone.
      const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((p) => /^\d+$/.test(p));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', name]);
    }
    for (const s of sockets) rmSync(s, { force: true });
  };

  const inNs = (name: string, ...args: string[]) => run(['ip', 'netns', 'exec', name, ...args]);
  try {
    for (const name of Object.values(ns)) {
      run(['ip', 'netns', 'add', name]);
      made.push(name);
      run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    }
    run(['ip', '-n', ns.public, 'link', 'add', 'br0', 'type', 'bridge']);
    run(['ip', '-n', ns.public, 'link', 'set', 'br0', 'up']);
    const attach = (port: string, peerNs: string, peerIf: string, address: string): void => {
      run(['ip', '-n', ns.public, 'link', 'add', port, 'type', 'veth', 'peer', 'name', peerIf, 'netns', peerNs]);
      run(['ip', '-n', ns.public, 'link', 'set', port, 'master', 'br0', 'up']);
      run(['ip', '-n', peerNs, 'addr', 'add', address, 'dev', peerIf]);
      run(['ip', '-n', peerNs, 'link', 'set', peerIf, 'up']);
    };
    attach('p-relay', ns.relay, 'eth0', `${RELAY_IP}/24`);
    attach('p-relay2', ns.relay2, 'eth0', `${RELAY2_IP}/24`);
    const home = (router: string, house: string, wan: string, lanNet: number, kind: NatKind): void => {
      attach(`p-${router.slice(-2)}`, router, 'wan', `${wan}/24`);
      run(['ip', '-n', router, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', house]);
      run(['ip', '-n', router, 'addr', 'add', `192.168.${lanNet}.1/24`, 'dev', 'lan']);
      run(['ip', '-n', router, 'link', 'set', 'lan', 'up']);
      run(['ip', '-n', house, 'addr', 'add', `192.168.${lanNet}.2/24`, 'dev', 'eth0']);
      run(['ip', '-n', house, 'link', 'set', 'eth0', 'up']);
      run(['ip', '-n', house, 'route', 'add', 'default', 'via', `192.168.${lanNet}.1`]);
      inNs(router, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward');
      inNs(
        router,
        'iptables',
        '-t',
        'nat',
        '-A',
        'POSTROUTING',
        '-o',
        'wan',
        '-j',
        'MASQUERADE',
        ...(kind === 'symmetric' ? ['--random-fully'] : []),
      );
      inNs(router, 'iptables', '-P', 'FORWARD', 'DROP');
      inNs(router, 'iptables', '-A', 'FORWARD', '-i', 'lan', '-o', 'wan', '-j', 'ACCEPT');
      inNs(router, 'iptables', '-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    };
    home(ns.router1, ns.home1, '10.99.0.11', 1, home1);
    home(ns.router2, ns.home2, '10.99.0.12', 2, home2);
  } catch (err) {
    await teardown();
    throw err;
  }

  const spawnIn = (name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): NsProcess => {
    const child = spawn('ip', ['netns', 'exec', name, command, ...args], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const log: string[] = [];
    const waiters = new Set<() => void>();
    const onData = (chunk: Buffer): void => {
      log.push(chunk.toString());
      if (log.length > 1000) log.splice(0, log.length - 1000);
      for (const w of [...waiters]) w();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return {
      child,
      log,
      waitFor(pattern, timeoutMs) {
        return new Promise((resolve, reject) => {
          const check = (): void => {
            const found = pattern.exec(log.join(''));
            if (found !== null) {
              done();
              resolve(found);
            } else if (child.exitCode !== null) {
              done();
              reject(new Error(`${command} in ${name} exited with ${child.exitCode} before printing ${pattern}:\n${log.join('')}`));
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`timed out waiting for ${pattern} from ${command} in ${name}:\n${log.join('')}`));
          }, timeoutMs);
          const done = (): void => {
            clearTimeout(timer);
            waiters.delete(check);
            child.off('exit', check);
          };
          waiters.add(check);
          child.on('exit', check);
          check();
        });
      },
    };
  };

  const forwardLoopback = async (name: string, port: number): Promise<void> => {
    const socket = path.join(tmpdir(), `${name}-${port}.sock`);
    sockets.push(socket);
    const script = `const net=require('node:net');net.createServer((s)=>{const t=net.connect(${port},'127.0.0.1');s.pipe(t).pipe(s);s.on('error',()=>t.destroy());t.on('error',()=>s.destroy());}).listen(process.argv[1],()=>console.log('forwarding'));`;
    await spawnIn(name, process.execPath, ['-e', script, socket]).waitFor(/forwarding/, 20_000);
    const server = createServer((s) => {
      const t = createConnection(socket);
      s.pipe(t).pipe(s);
      s.on('error', () => t.destroy());
      t.on('error', () => s.destroy());
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  };

  return { ns, spawnIn, forwardLoopback, teardown };
}
