import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { request } from '../../../preload/contract-kit.ts';
import { createDispatcher } from '../../../main/contract-dispatch.ts';
import { connectControl } from '../../../main/daemon/control-client.ts';
import { startControlServer, type ControlServer } from '../../../main/daemon/control-server.ts';
import { CONTROL_API_VERSION } from '../../../preload/control-wire.ts';
import { CosignerError } from '../../../main/errors.ts';

const table = {
  'echo.upper': request(z.object({ text: z.string().max(10) }), z.object({ text: z.string() })),
  'echo.fail': request(z.object({}), z.object({})),
  'echo.leak': request(z.object({}), z.object({ publicKey: z.string() })),
};
const handlers = {
  'echo.upper': async ({ text }: { text: string }) => ({ text: text.toUpperCase() }),
  'echo.fail': async () => {
    throw new CosignerError('KEY_NOT_FOUND', 'no key yet');
  },
  // A handler that returns more than the contract names: the extra field must not leave.
  'echo.leak': async () => ({ publicKey: '02ab', secretKey: 'deadbeef' }),
};

let staticDir: string;
let server: ControlServer | undefined;
let emit: ((event: string, payload: unknown) => void) | undefined;

beforeAll(() => {
  staticDir = mkdtempSync(path.join(os.tmpdir(), 'cosigner-static-'));
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  mkdirSync(path.join(staticDir, 'assets'));
  writeFileSync(path.join(staticDir, 'assets', 'a.js'), 'console.log(1)');
  writeFileSync(path.join(path.dirname(staticDir), 'outside-secret.txt'), 'secret');
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<ControlServer> {
  const dispatch = createDispatcher(table, handlers, () => {});
  server = await startControlServer({
    dispatch,
    staticDir,
    subscribeEvents: (listener) => {
      emit = listener;
      return () => (emit = undefined);
    },
  });
  return server;
}

function connect(s: ControlServer, opts: { token?: string; origin?: string; host?: string } = {}): Promise<WebSocket> {
  const headers: Record<string, string> = {};
  if (opts.origin) headers.Origin = opts.origin;
  if (opts.host) headers.Host = opts.host;
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/api?token=${encodeURIComponent(opts.token ?? s.token)}`, { headers });
  // Connected once the daemon said its version: its first frame.
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => {
      const hello = JSON.parse(data.toString());
      if (hello.type === 'hello' && hello.version === CONTROL_API_VERSION) resolve(ws);
      else reject(new Error(`first frame is not the hello: ${data.toString()}`));
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function rawStatus(port: number, rawPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, headers: { Host: `127.0.0.1:${port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function nextFrame(ws: WebSocket): Promise<any> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

describe('control server', () => {
  it('prints a 127.0.0.1 URL with the token in the fragment', async () => {
    const s = await start();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/#token=${s.token}`);
    expect(s.token.length).toBeGreaterThanOrEqual(32);
  });

  it('answers a call with the validated result and pushes events', async () => {
    const s = await start();
    const ws = await connect(s);
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'echo.upper', args: { text: 'abc' } }));
    expect(await nextFrame(ws)).toEqual({ type: 'result', id: 1, result: { text: 'ABC' } });
    const event = nextFrame(ws);
    emit!('session', { x: 1 });
    expect(await event).toEqual({ type: 'event', event: 'session', payload: { x: 1 } });
    ws.close();
  });

  it('says its control API version first, and a client of another version stops with UNSUPPORTED_VERSION', async () => {
    const s = await start();
    const client = await connectControl(s.url);
    client.close();
    // A daemon of another version, and one from before the hello (its first frame is anything else).
    for (const first of [
      { type: 'hello', version: CONTROL_API_VERSION + 1 },
      { type: 'event', event: 'node', payload: {} },
    ]) {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((resolve) => wss.once('listening', resolve));
      wss.on('connection', (ws) => ws.send(JSON.stringify(first)));
      const { port } = wss.address() as AddressInfo;
      const refused = connectControl(`http://127.0.0.1:${port}/#token=t`);
      await expect(refused).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
      if (first.type === 'hello')
        await expect(refused).rejects.toThrow(
          `the daemon speaks control API version ${CONTROL_API_VERSION + 1}; this client speaks version ${CONTROL_API_VERSION}`,
        );
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('refuses a wrong or missing token, a foreign Origin and a foreign Host', async () => {
    const s = await start();
    await expect(connect(s, { token: 'wrong' })).rejects.toThrow('HTTP 401');
    await expect(connect(s, { token: '' })).rejects.toThrow('HTTP 401');
    await expect(connect(s, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect(s, { host: 'evil.example' })).rejects.toThrow('HTTP 403');
    const ok = await connect(s, { origin: `http://127.0.0.1:${s.port}` });
    ok.close();
  });

  it('tells a page whose WebSocket failed whether its token was refused (401) or is right (426), over plain HTTP', async () => {
    const s = await start();
    expect(await rawStatus(s.port, '/api?token=wrong')).toBe(401);
    expect(await rawStatus(s.port, '/api')).toBe(401);
    expect(await rawStatus(s.port, `/api?token=${encodeURIComponent(s.token)}`)).toBe(426);
  });

  it('gives typed errors for unknown methods, bad arguments, handler errors and garbage', async () => {
    const s = await start();
    const ws = await connect(s);
    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'nope', args: {} }));
    expect((await nextFrame(ws)).error.code).toBe('INVALID_INPUT');
    ws.send(JSON.stringify({ type: 'call', id: 3, method: 'echo.upper', args: { text: 'x'.repeat(11) } }));
    expect(await nextFrame(ws)).toMatchObject({ type: 'error', id: 3, error: { code: 'INVALID_INPUT' } });
    ws.send(JSON.stringify({ type: 'call', id: 4, method: 'echo.fail', args: {} }));
    expect(await nextFrame(ws)).toMatchObject({ id: 4, error: { code: 'KEY_NOT_FOUND', message: 'no key yet' } });
    ws.send('not json');
    expect(await nextFrame(ws)).toMatchObject({ type: 'error', id: null, error: { code: 'MALFORMED_MESSAGE' } });
    ws.send(JSON.stringify({ type: 'call', id: 5, method: 'echo.leak', args: {} }));
    expect(await nextFrame(ws)).toEqual({ type: 'result', id: 5, result: { publicKey: '02ab' } });
    ws.close();
  });

  it('serves the UI with a strict CSP and nothing outside its folder', async () => {
    const s = await start();
    const base = `http://127.0.0.1:${s.port}`;
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${base}/assets/a.js`)).status).toBe(200);
    expect((await fetch(`${base}/../outside-secret.txt`)).status).toBe(404);
    // fetch normalizes dot segments; a raw request sends them as they are.
    expect(await rawStatus(s.port, '/../outside-secret.txt')).toBe(404);
    expect(await rawStatus(s.port, '/%2e%2e/outside-secret.txt')).toBe(404);
    expect(await rawStatus(s.port, '/assets/..%2f..%2foutside-secret.txt')).toBe(404);
    expect((await fetch(`${base}/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });
});
