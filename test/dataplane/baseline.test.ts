/**
 * ClusterSegmentationIntent with packets (issue 14): the baseline is applied FIRST; a namespace created after it
 * has its pods isolated by kube-router (from another namespace: refused, both directions), while what the
 * baseline allows still connects (same namespace; the scraper peer on 9090 only). A label change that makes the
 * namespace stop matching gives it back its openness. The creation → isolation latency is printed here (one
 * sample) and measured over several namespaces by bench/dataplane-baseline.bench.ts; never asserted.
 */
import { allow, deny, untilPackets } from './expect';
import { type DataPlane, useDataPlane } from './harness';
import { APP_PORT, type BaselineWorld, METRICS_PORT, OUT, OUTSIDER, SCRAPER, createIsolatedNamespace, startBaselineWorld } from './baseline';

const NS = 'dp-base-late';
const A = `${NS}/a`;
const B = `${NS}/b`;
const CONVERGE_MS = 60_000;

describe('data plane: a baseline isolates namespaces created after it, with packets', function () {
  let dp: DataPlane;
  let world: BaselineWorld | undefined;

  before(async function () {
    dp = await useDataPlane();
    world = await startBaselineWorld(dp);
  });

  after(async function () {
    await world?.close();
  });

  it('a namespace created after the baseline: its pods are refused to and from other namespaces; same namespace and the scraper on 9090 connect', async function () {
    if (!world) throw new Error('the baseline world did not start');
    const s = await createIsolatedNamespace(world, NS);
    process.stderr.write(`    baseline: ${NS} created → baseline policies ${s.policiesMs} ms, pods running ${s.runningMs} ms, outsider refused ${s.isolatedMs} ms (${s.connectedBefore} probes connected before)\n`);
    await untilPackets(
      dp,
      [
        deny(OUTSIDER, A, APP_PORT, 'ingress deny-all: another namespace'),
        deny(OUTSIDER, A, METRICS_PORT, 'only the scraper peer may reach 9090'),
        deny(SCRAPER, A, APP_PORT, 'the scraper flow is 9090 only'),
        allow(SCRAPER, A, METRICS_PORT, 'baseline flow scraper → namespace:9090'),
        allow(B, A, APP_PORT, 'allowSameNamespace'),
        allow(A, B, METRICS_PORT, 'allowSameNamespace'),
        deny(A, OUTSIDER, APP_PORT, 'egress deny-all: another namespace'),
      ],
      CONVERGE_MS,
      `${NS} under the baseline`,
    );
  });

  it('a label change that makes the namespace stop matching removes the isolation: other namespaces connect again', async function () {
    if (!world) throw new Error('the baseline world did not start');
    await world.bv.relabel(NS, OUT);
    await untilPackets(
      dp,
      [
        allow(OUTSIDER, A, APP_PORT, 'no longer selected: no policy'),
        allow(OUTSIDER, A, METRICS_PORT, 'no longer selected: no policy'),
        allow(A, OUTSIDER, APP_PORT, 'no longer selected: egress open'),
        allow(B, A, APP_PORT, 'same namespace, as before'),
      ],
      CONVERGE_MS,
      `${NS} after it stopped matching the baseline`,
    );
  });
});
