/**
 * The apiserver listens on 127.0.0.1 of the host network namespace, which kube-router, in the node's network
 * namespace, cannot reach. This relay listens on the host end of the node's uplink veth and passes each
 * connection to the apiserver (TLS untouched; kube-router's kubeconfig names `localhost` as the TLS server name,
 * which the apiserver's certificate carries). The apiserver's port is read per connection, so a control plane
 * restarted on a new port is followed. Usage: node relay.js LISTEN_IP LISTEN_PORT APISERVER_PORT_FILE
 */
import * as fs from 'fs';
import * as net from 'net';

function main(argv: string[]): void {
  const [ip, port, portFile] = argv;
  if (!ip || !port || !portFile) throw new Error('usage: relay LISTEN_IP LISTEN_PORT APISERVER_PORT_FILE');
  const server = net.createServer((client) => {
    let upstreamPort: number;
    try {
      upstreamPort = Number(fs.readFileSync(portFile, 'utf8').trim());
    } catch {
      client.destroy();
      return;
    }
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    for (const s of [client, upstream]) s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
    client.pipe(upstream).pipe(client);
  });
  server.listen(Number(port), ip, () => process.stderr.write(`relay: ${ip}:${port} -> 127.0.0.1:(${portFile})\n`));
}

if (require.main === module) main(process.argv.slice(2));
