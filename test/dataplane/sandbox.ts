/**
 * The "container" of one pod on the test-bed data plane: a Node process that the node agent starts INSIDE the
 * pod's network namespace (`ip netns exec`), so every socket it opens is the pod's. It
 *  - listens on every declared containerPort: TCP accepts (and closes), UDP echoes; each accepted connection or
 *    datagram is reported on stdout as one JSON line {remote, port, protocol} (the agent turns it into a flow);
 *  - answers probe requests on a Unix socket (a file: reachable from any network namespace), one JSON line in,
 *    one out: connect from this pod to {ip, port, protocol} and say allowed / denied / timeout.
 * Verdicts: kube-router REJECTs what a policy denies (TCP RST / ICMP port unreachable → ECONNREFUSED), and every
 * probed port has a listener, so a refusal is a denial and a timeout is a fault, never a verdict.
 * Usage: node sandbox.js SOCKET PORT/PROTO...
 */
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as net from 'net';

export type ProbeProtocol = 'TCP' | 'UDP';
export type ProbeOutcome = 'allowed' | 'denied' | 'timeout' | 'error';

export interface ProbeRequest {
  readonly ip: string;
  readonly port: number;
  readonly protocol: ProbeProtocol;
  readonly timeoutMs?: number;
  /** Echoed in the reply: probes on one connection may finish out of order. */
  readonly id?: number;
}

export interface ProbeReply {
  readonly outcome: ProbeOutcome;
  readonly ms: number;
  readonly sourcePort: number;
  readonly detail?: string;
  readonly id?: number;
}

/**
 * Source ports for probes, rotating through a range no listener uses: a new port per probe, so conntrack never
 * matches a probe to an entry a previous (perhaps allowed) probe left behind. 40,000 ports: a port comes back
 * after 40,000 probes from this pod, far longer than conntrack's UDP (120 s) and TCP TIME_WAIT (120 s) entries
 * live at the probe rates of the tests.
 */
const FIRST_SOURCE_PORT = 20_000;
const SOURCE_PORTS = 40_000;
let nextSource = FIRST_SOURCE_PORT + Math.floor(Math.random() * SOURCE_PORTS);
function sourcePort(): number {
  nextSource = nextSource + 1 >= FIRST_SOURCE_PORT + SOURCE_PORTS ? FIRST_SOURCE_PORT : nextSource + 1;
  return nextSource;
}

const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

function tcpOnce(r: ProbeRequest, localPort: number, timeoutMs: number): Promise<{ outcome: ProbeOutcome; code?: string }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: r.ip, port: r.port, localPort });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    function finish(outcome: ProbeOutcome, code?: string): void {
      clearTimeout(timer);
      s.destroy();
      resolve({ outcome, code });
    }
    s.once('connect', () => finish('allowed'));
    s.once('error', (e: NodeJS.ErrnoException) => finish(REFUSED.has(e.code ?? '') ? 'denied' : 'error', e.code));
  });
}

function udpOnce(r: ProbeRequest, localPort: number, timeoutMs: number): Promise<{ outcome: ProbeOutcome; code?: string }> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    let done = false;
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    function finish(outcome: ProbeOutcome, code?: string): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.close();
      resolve({ outcome, code });
    }
    s.once('message', () => finish('allowed'));
    // A connected UDP socket learns of the ICMP port unreachable that a REJECT sends as ECONNREFUSED.
    s.once('error', (e: NodeJS.ErrnoException) => finish(REFUSED.has(e.code ?? '') ? 'denied' : 'error', e.code));
    s.bind(localPort, () => {
      s.connect(r.port, r.ip, (err?: Error) => {
        if (err) finish('error', (err as NodeJS.ErrnoException).code);
        else s.send('netseg-probe', (e) => e && finish('error', (e as NodeJS.ErrnoException).code));
      });
    });
  });
}

/** One probe with a fresh source port (the next one if that port happens to be taken). */
export async function probeFromHere(r: ProbeRequest): Promise<ProbeReply> {
  const t0 = process.hrtime.bigint();
  const timeoutMs = r.timeoutMs ?? 5_000;
  for (let attempt = 0; attempt < 20; attempt++) {
    const local = sourcePort();
    const res = await (r.protocol === 'UDP' ? udpOnce(r, local, timeoutMs) : tcpOnce(r, local, timeoutMs));
    if (res.code === 'EADDRINUSE') continue;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { outcome: res.outcome, ms, sourcePort: local, ...(res.code ? { detail: res.code } : {}) };
  }
  return { outcome: 'error', ms: Number(process.hrtime.bigint() - t0) / 1e6, sourcePort: 0, detail: 'no free source port' };
}

function report(remote: string | undefined, port: number, protocol: ProbeProtocol): void {
  process.stdout.write(`${JSON.stringify({ remote: (remote ?? '').replace(/^::ffff:/, ''), port, protocol })}\n`);
}

function listen(spec: string): Promise<void> {
  const [p, proto = 'TCP'] = spec.split('/');
  const port = Number(p);
  return new Promise((resolve, reject) => {
    if (proto.toUpperCase() === 'UDP') {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      // Probes from this data plane say so; anything else is echoed too (a UDP "connection" is its first datagram).
      report(rinfo.address, port, 'UDP');
      s.send(msg, rinfo.port, rinfo.address);
    });
    s.once('error', reject);
    s.bind(port, '0.0.0.0', () => resolve());
    } else {
    const srv = net.createServer((c) => {
      report(c.remoteAddress, port, 'TCP');
      c.on('error', () => c.destroy());
      c.end();
    });
    srv.once('error', reject);
    srv.listen(port, '0.0.0.0', () => resolve());
    }
  });
}

function serveProbes(socketPath: string): Promise<void> {
  fs.rmSync(socketPath, { force: true });
  const srv = net.createServer((c) => {
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let req: ProbeRequest;
        try {
          req = JSON.parse(line) as ProbeRequest;
        } catch {
          c.write(`${JSON.stringify({ outcome: 'error', ms: 0, sourcePort: 0, detail: 'bad request' })}\n`);
          continue;
        }
        void probeFromHere(req).then((reply) => c.write(`${JSON.stringify({ ...reply, id: req.id })}\n`));
      }
    });
    c.on('error', () => c.destroy());
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(socketPath, () => resolve());
  });
}

function main(argv: string[]): void {
  const [socketPath, ...ports] = argv;
  if (!socketPath) throw new Error('usage: sandbox SOCKET PORT/PROTO...');
  // Ready (one line on stdout) only once every port listens: the agent reports the pod Ready after that.
  Promise.all([...ports.map(listen), serveProbes(socketPath)]).then(
    () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`),
    (e: Error) => {
      process.stderr.write(`sandbox: ${e.message}\n`);
      process.exit(1);
    },
  );
  // The agent owns this process: when it goes (or closes our stdin), so do we.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

if (require.main === module) main(process.argv.slice(2));
