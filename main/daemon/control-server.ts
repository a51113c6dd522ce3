/**
 * The headless daemon's front door: the built UI and the WebSocket control API on 127.0.0.1.
 * Every WebSocket must present the random token printed at start; Host and Origin are checked so
 * that a web page in the user's browser cannot reach the API through DNS rebinding or a
 * cross-site WebSocket, even before the token check.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ClientFrame, CONTROL_API_VERSION, CONTROL_PATH, MAX_CONTROL_FRAME_BYTES, type ServerFrame } from '../../preload/control-wire.ts';
import { toWireError, type Dispatcher } from '../contract-dispatch.ts';
import { CosignerError } from '../errors.ts';
import { createStaticHandler, securityHeaders } from './static-files.ts';

export interface ControlServerOptions {
  dispatch: Dispatcher;
  /** Subscribe to every back-end event; returns its unsubscribe. */
  subscribeEvents(listener: (event: string, payload: unknown) => void): () => void;
  staticDir: string;
  port?: number;
  token?: string;
  maxClients?: number;
  maxInFlightPerClient?: number;
}

export interface ControlServer {
  readonly port: number;
  readonly token: string;
  /** The URL to open: the token is in the fragment, which browsers never send to the server. */
  readonly url: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const maxClients = options.maxClients ?? 16;
  const maxInFlight = options.maxInFlightPerClient ?? 32;
  const serveStatic = createStaticHandler(options.staticDir);
  const clients = new Set<WebSocket>();

  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req, port())) {
      res.writeHead(421, securityHeaders()).end();
      return;
    }
    // A browser cannot read the status of a refused WebSocket upgrade: the page asks here after a
    // failed connection, to tell a refused token (401, say so and stop) from a daemon that is not
    // there (reconnect). The same check as the upgrade; nothing else is answered on this path.
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === CONTROL_PATH) {
      res.writeHead(tokenMatches(url.searchParams.get('token'), token) ? 426 : 401, securityHeaders()).end();
      return;
    }
    serveStatic(req, res).catch((error: unknown) => {
      // The browser is told (500); the cause, e.g. an unreadable UI file, goes to the daemon's log.
      console.error('serving a UI file failed:', error);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CONTROL_FRAME_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== CONTROL_PATH) return refuse(404, 'Not Found');
    if (!hostAllowed(req, port()) || !originAllowed(req, port())) return refuse(403, 'Forbidden');
    if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(401, 'Unauthorized');
    if (clients.size >= maxClients) return refuse(503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws));
  });

  const unsubscribe = options.subscribeEvents((event, payload) => {
    const text = JSON.stringify({ type: 'event', event, payload } satisfies ServerFrame);
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  function serveClient(ws: WebSocket): void {
    clients.add(ws);
    let inFlight = 0;
    const reply = (frame: ServerFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => ws.terminate());
    // First, before any event: the version, so that a client of another version stops at once.
    reply({ type: 'hello', version: CONTROL_API_VERSION });
    ws.on('message', (data, isBinary) => {
      let frame: ClientFrame;
      try {
        if (isBinary) throw new Error('binary frame');
        frame = ClientFrame.parse(JSON.parse(data.toString()));
      } catch {
        reply({ type: 'error', id: null, error: toWireError(new CosignerError('MALFORMED_MESSAGE', 'not a control API call')) });
        return;
      }
      if (inFlight >= maxInFlight) {
        reply({ type: 'error', id: frame.id, error: toWireError(new CosignerError('RATE_LIMITED', 'too many calls in flight')) });
        return;
      }
      inFlight++;
      options
        .dispatch(frame.method, frame.args)
        .then(
          (result) => reply({ type: 'result', id: frame.id, result }),
          (error: unknown) => reply({ type: 'error', id: frame.id, error: toWireError(error) }),
        )
        .finally(() => inFlight--);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  function port(): number {
    return (server.address() as AddressInfo).port;
  }
  const boundPort = port();

  return {
    port: boundPort,
    token,
    url: `http://${HOST}:${boundPort}/#token=${token}`,
    async close() {
      unsubscribe();
      for (const ws of clients) ws.close(1001, 'daemon stopping');
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  return host === `${HOST}:${port}` || host === `localhost:${port}`;
}

/** Browsers always send Origin on WebSocket upgrades; scripts (no Origin) are let through to the token check. */
function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${HOST}:${port}` || origin === `http://localhost:${port}`;
}
