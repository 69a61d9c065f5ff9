/**
 * Resolution of references (API.md v2, "Endpoints by reference" and "Ingress routes"): one table row per rule,
 * each asserting the compiled selectors and ports, or the issue's path and the object it names.
 */
import { strict as assert } from 'assert';
import { compile } from '../../src/compile';
import { checkIntent, validateIntent } from '../../src/intent';
import type { DeclaredIntent, FlowPort, ValidIntent } from '../../src/intent';
import type { KubeObject } from '../../src/model/kubernetes';
import { MAX_SERVICE_PORTS, indexObjects, resolveIntent } from '../../src/resolve';
import type { Resolution } from '../../src/resolve';

type Spec = Record<string, unknown>;

function declared(spec: Spec, namespace = 'shop'): DeclaredIntent {
  const c = checkIntent({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'i', namespace }, spec });
  if (!c.ok) assert.fail(c.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return c.intent;
}

function service(ns: string, name: string, selector: Record<string, string> | undefined, ports: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { ...(selector ? { selector } : {}), ports } };
}

function deployment(ns: string, name: string, selector: unknown, kind = 'Deployment'): KubeObject {
  return { apiVersion: 'apps/v1', kind, metadata: { namespace: ns, name }, spec: { selector } };
}

function ingress(name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { namespace: 'shop', name, ...(annotations ? { annotations } : {}) }, spec };
}

function backend(svc: string, port: number | string): Record<string, unknown> {
  return { service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

function paths(...backends: Record<string, unknown>[]): Record<string, unknown> {
  return { rules: [{ http: { paths: backends.map((b, i) => ({ path: `/${i}`, pathType: 'Prefix', backend: b })) } }] };
}

const API = service('shop', 'api', { app: 'api' }, [
  { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' },
  { name: 'grpc', port: 9090, targetPort: 9091 },
]);
const DNS = service('kube-system', 'kube-dns', { 'k8s-app': 'kube-dns' }, [
  { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
  { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
  { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
]);
const WEB = { name: 'web', selector: { matchLabels: { app: 'web' } } };
const INGRESS_PEER = { name: 'nginx', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } };

function resolve(spec: Spec, objects: KubeObject[]): Resolution {
  return resolveIntent(declared(spec), indexObjects(objects));
}

function ok(spec: Spec, objects: KubeObject[]): { intent: ValidIntent; uncoveredBackends: readonly string[] } {
  const r = resolve(spec, objects);
  if (!r.ok) assert.fail(r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return r;
}

function issue(spec: Spec, objects: KubeObject[], path: string, fragment: string): void {
  const r = resolve(spec, objects);
  assert.ok(!r.ok, 'expected resolution to fail');
  const found = r.issues.find((i) => i.path === path && i.message.includes(fragment));
  assert.ok(found, `no issue at ${path} containing ${JSON.stringify(fragment)}; got:\n${r.issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
}

function portsTo(intent: ValidIntent, to: string): FlowPort[] {
  return intent.flows.filter((f) => f.to.some((e) => e.name === to)).flatMap((f) => [...f.ports]);
}

describe('resolveIntent', () => {
  describe('endpoints', () => {
    it('a service workload is the pods the Service selects, as matchLabels', () => {
      const { intent } = ok({ workloads: [{ name: 'api', service: 'api' }] }, [API]);
      assert.deepEqual(intent.workloads, [{ kind: 'workload', name: 'api', selector: { matchLabels: { app: 'api' } } }]);
    });

    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet']) {
      it(`a ${kind} workloadRef is its spec.selector, matchLabels and matchExpressions`, () => {
        const selector = { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['data'] }] };
        const { intent } = ok({ workloads: [{ name: 'db', workloadRef: { kind, name: 'pg' } }] }, [deployment('shop', 'pg', selector, kind)]);
        assert.deepEqual(intent.workloads[0], { kind: 'workload', name: 'db', selector });
      });
    }

    it('a workloadRef of one kind does not find an object of another kind with that name', () => {
      issue({ workloads: [{ name: 'db', workloadRef: { kind: 'StatefulSet', name: 'pg' } }] }, [deployment('shop', 'pg', { matchLabels: { app: 'db' } })],
        'spec.workloads[0].workloadRef', 'StatefulSet shop/pg not found');
    });

    it('a service peer is ONE peer entry: the namespace by name AND the Service\'s pods', () => {
      const { intent } = ok({ workloads: [WEB], peers: [{ name: 'dns', service: { namespace: 'kube-system', name: 'kube-dns' } }] }, [DNS]);
      assert.deepEqual(intent.peers[0], {
        kind: 'selector-peer',
        name: 'dns',
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      });
    });

    it('a workloadRef peer is ONE peer entry with the object\'s selector', () => {
      const { intent } = ok({ workloads: [WEB], peers: [{ name: 'es', workloadRef: { namespace: 'search', kind: 'Deployment', name: 'es' } }] },
        [deployment('search', 'es', { matchLabels: { app: 'es' } })]);
      assert.deepEqual(intent.peers[0], {
        kind: 'selector-peer', name: 'es',
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'search' } },
        podSelector: { matchLabels: { app: 'es' } },
      });
    });
  });

  describe('ports to a Service', () => {
    const spec = (ports?: unknown[]): Spec => ({ workloads: [WEB, { name: 'api', service: 'api' }], flows: [{ from: 'web', to: 'api', ...(ports ? { ports } : {}) }] });

    it('absent ports are exactly the Service\'s ports, on their targetPorts with their protocols', () => {
      assert.deepEqual(portsTo(ok(spec(), [API]).intent, 'api'), [{ protocol: 'TCP', port: 'web' }, { protocol: 'TCP', port: 9091 }]);
    });

    it('a port by number compiles to its targetPort (a name, resolved per pod)', () => {
      assert.deepEqual(portsTo(ok(spec([{ port: 80 }]), [API]).intent, 'api'), [{ protocol: 'TCP', port: 'web' }]);
    });

    it('a port by the Service port\'s name compiles to its targetPort (a number)', () => {
      assert.deepEqual(portsTo(ok(spec([{ port: 'grpc' }]), [API]).intent, 'api'), [{ protocol: 'TCP', port: 9091 }]);
    });

    it('an absent targetPort is the port', () => {
      const svc = service('shop', 'api', { app: 'api' }, [{ port: 8443 }]);
      assert.deepEqual(portsTo(ok(spec(), [svc]).intent, 'api'), [{ protocol: 'TCP', port: 8443 }]);
    });

    it('the protocol is optional and filters: 53 to kube-dns is UDP and TCP, 53/UDP only UDP', () => {
      const dnsSpec = (ports: unknown[]): Spec => ({ workloads: [WEB], peers: [{ name: 'dns', service: { namespace: 'kube-system', name: 'kube-dns' } }], flows: [{ from: 'web', to: 'dns', ports }] });
      assert.deepEqual(portsTo(ok(dnsSpec([{ port: 53 }]), [DNS]).intent, 'dns'), [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
      assert.deepEqual(portsTo(ok(dnsSpec([{ port: 53, protocol: 'UDP' }]), [DNS]).intent, 'dns'), [{ protocol: 'UDP', port: 53 }]);
    });

    it('a flow port never matches a targetPort (number or name)', () => {
      issue(spec([{ port: 9091 }]), [API], 'spec.flows[0].ports[0].port', 'has no port 9091');
      issue(spec([{ port: 'web' }]), [API], 'spec.flows[0].ports[0].port', 'has no port web');
    });

    it('a port the Service does not have is an error listing the Service\'s ports', () => {
      issue(spec([{ port: 8080 }]), [API], 'spec.flows[0].ports[0].port', 'Service shop/api ("api") has no port 8080; its ports: http 80/TCP→web, grpc 9090/TCP→9091');
    });

    it('a protocol the Service port does not have is an error', () => {
      issue(spec([{ port: 80, protocol: 'UDP' }]), [API], 'spec.flows[0].ports[0].port', 'has no port 80/UDP');
    });

    it('a flow to a Service and a selector workload gives each its own ports', () => {
      const s: Spec = { workloads: [WEB, { name: 'api', service: 'api' }, { name: 'cache', selector: { matchLabels: { app: 'cache' } } }], flows: [{ from: 'web', to: ['api', 'cache'], ports: [{ port: 'http' }] }] };
      const { intent } = ok(s, [API]);
      assert.deepEqual(portsTo(intent, 'api'), [{ protocol: 'TCP', port: 'web' }]);
      assert.deepEqual(portsTo(intent, 'cache'), [{ protocol: 'TCP', port: 'http' }]);
    });

    it('ports to a workloadRef endpoint are container ports, TCP by default, as before', () => {
      const s: Spec = { workloads: [WEB, { name: 'db', workloadRef: { kind: 'StatefulSet', name: 'pg' } }], flows: [{ from: 'web', to: 'db', ports: [{ port: 5432 }] }] };
      assert.deepEqual(portsTo(ok(s, [deployment('shop', 'pg', { matchLabels: { app: 'pg' } }, 'StatefulSet')]).intent, 'db'), [{ protocol: 'TCP', port: 5432 }]);
    });

    it('a flow FROM a Service uses the destination\'s ports as written', () => {
      const s: Spec = { workloads: [WEB, { name: 'api', service: 'api' }], flows: [{ from: 'api', to: 'web', ports: [{ port: 8080 }] }] };
      assert.deepEqual(portsTo(ok(s, [API]).intent, 'web'), [{ protocol: 'TCP', port: 8080 }]);
    });

    it('endPort to a Service is refused at validation', () => {
      const c = checkIntent({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'i', namespace: 'shop' }, spec: spec([{ port: 80, endPort: 90 }]) });
      assert.ok(!c.ok && c.issues.some((i) => i.path === 'spec.flows[0].ports[0].endPort' && i.message.includes('not allowed to a Service')));
    });

    it('a Service without ports is an error, never "every port"', () => {
      issue(spec(), [service('shop', 'api', { app: 'api' }, [])], 'spec.flows[0].to', 'has no ports');
    });
  });

  describe('refusals', () => {
    it('a missing Service is named: Service shop/checkout-api', () => {
      issue({ workloads: [{ name: 'api', service: 'checkout-api' }] }, [], 'spec.workloads[0].service', 'Service shop/checkout-api not found');
    });

    it('a missing peer object is named with its namespace', () => {
      issue({ workloads: [WEB], peers: [{ name: 'pay', service: { namespace: 'payments', name: 'gateway' } }] }, [], 'spec.peers[0].service', 'Service payments/gateway not found');
    });

    it('a Service without selector is refused', () => {
      issue({ workloads: [{ name: 'api', service: 'api' }] }, [service('shop', 'api', undefined, [{ port: 80 }])], 'spec.workloads[0].service', 'has no selector');
    });

    it('a peer reference into the intent\'s own namespace is refused at validation', () => {
      const c = checkIntent({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'i', namespace: 'shop' }, spec: { workloads: [WEB], peers: [{ name: 'x', workloadRef: { namespace: 'shop', kind: 'Deployment', name: 'x' } }] } });
      assert.ok(!c.ok && c.issues.some((i) => i.path === 'spec.peers[0].workloadRef.namespace' && i.message.includes('own namespace')));
    });

    it('every missing object is reported, not only the first', () => {
      const r = resolve({ workloads: [{ name: 'a', service: 'a' }, { name: 'b', workloadRef: { kind: 'Deployment', name: 'b' } }] }, []);
      assert.ok(!r.ok);
      assert.deepEqual(r.issues.map((i) => i.path), ['spec.workloads[0].service', 'spec.workloads[1].workloadRef']);
    });

    it('validateIntent refuses a referencing intent, naming each object it needs', () => {
      const v = validateIntent({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'i', namespace: 'shop' }, spec: { workloads: [{ name: 'api', service: 'checkout-api' }] } });
      assert.ok(!v.ok && v.issues.some((i) => i.message.includes('Service shop/checkout-api')));
    });
  });

  describe('hostile referenced objects are bounded', () => {
    it(`a Service of more than ${MAX_SERVICE_PORTS} ports is refused`, () => {
      const ports = Array.from({ length: MAX_SERVICE_PORTS + 1 }, (_, i) => ({ port: 1000 + i }));
      issue({ workloads: [{ name: 'api', service: 'api' }] }, [service('shop', 'api', { app: 'api' }, ports)], 'spec.workloads[0].service', `netseg resolves Services of at most ${MAX_SERVICE_PORTS}`);
    });

    it('a workload object with an empty selector (every pod) is refused', () => {
      issue({ workloads: [{ name: 'db', workloadRef: { kind: 'Deployment', name: 'pg' } }] }, [deployment('shop', 'pg', {})], 'spec.workloads[0].workloadRef', 'would select every pod');
    });

    it('a Service whose selector has a malformed label is refused', () => {
      issue({ workloads: [{ name: 'api', service: 'api' }] }, [service('shop', 'api', { 'bad key!': 'x' }, [{ port: 80 }])], 'spec.workloads[0].service', 'label');
    });

    it('a Service with a malformed targetPort is refused', () => {
      issue({ workloads: [{ name: 'api', service: 'api' }] }, [service('shop', 'api', { app: 'api' }, [{ port: 80, targetPort: 'NOT A NAME' }])], 'spec.workloads[0].service', 'invalid targetPort');
    });

    it('a Service with too many selector labels is refused', () => {
      const selector = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v']));
      issue({ workloads: [{ name: 'api', service: 'api' }] }, [service('shop', 'api', selector, [{ port: 80 }])], 'spec.workloads[0].service', 'at most 32');
    });
  });

  describe('ingress routes', () => {
    const routeSpec = (route: Record<string, unknown> = {}): Spec => ({
      workloads: [{ name: 'api', service: 'api' }, WEB],
      peers: [INGRESS_PEER],
      ingressRoutes: [{ from: ['nginx'], ...route }],
    });

    it('a path backend opens a flow from the route\'s peers to the workload naming that Service, on its targetPort', () => {
      const { intent, uncoveredBackends } = ok(routeSpec(), [API, ingress('shop', paths(backend('api', 80)))]);
      assert.deepEqual(intent.flows.map((f) => [f.from.map((e) => e.name), f.to.map((e) => e.name), f.ports]), [[['nginx'], ['api'], [{ protocol: 'TCP', port: 'web' }]]]);
      assert.deepEqual(uncoveredBackends, []);
    });

    it('the defaultBackend counts, and a backend port by name matches the Service port\'s name', () => {
      const { intent } = ok(routeSpec(), [API, ingress('shop', { defaultBackend: backend('api', 'grpc') })]);
      assert.deepEqual(portsTo(intent, 'api'), [{ protocol: 'TCP', port: 9091 }]);
    });

    it('a backend whose Service no workload names (even one selecting the same pods) opens nothing and is listed', () => {
      const other = service('shop', 'web', { app: 'web' }, [{ port: 80, targetPort: 8080 }]);
      const { intent, uncoveredBackends } = ok(routeSpec(), [API, other, ingress('shop', paths(backend('web', 80)))]);
      assert.deepEqual(intent.flows, []);
      assert.deepEqual(uncoveredBackends, ['shop/web:80']);
    });

    it('a backend port the Service does not have opens nothing and is listed', () => {
      const { intent, uncoveredBackends } = ok(routeSpec(), [API, ingress('shop', paths(backend('api', 81)))]);
      assert.deepEqual(intent.flows, []);
      assert.deepEqual(uncoveredBackends, ['shop/api:81']);
    });

    it('ingressClassName matches spec.ingressClassName, else the annotation; an Ingress without class only matches routes without one', () => {
      const objects = [
        API,
        ingress('by-spec', { ingressClassName: 'public', ...paths(backend('api', 80)) }),
        ingress('by-annotation', paths(backend('api', 9090)), { 'kubernetes.io/ingress.class': 'public' }),
        ingress('none', paths(backend('gone', 1))),
        ingress('private', { ingressClassName: 'private', ...paths(backend('gone', 2)) }),
      ];
      const pub = ok(routeSpec({ ingressClassName: 'public' }), objects);
      // Ingresses in name order: by-annotation (9090 → 9091), then by-spec (80 → web).
      assert.deepEqual(portsTo(pub.intent, 'api'), [{ protocol: 'TCP', port: 9091 }, { protocol: 'TCP', port: 'web' }]);
      assert.deepEqual(pub.uncoveredBackends, []);
      const all = ok(routeSpec(), objects);
      assert.deepEqual(all.uncoveredBackends, ['none/gone:1', 'private/gone:2']);
    });

    it('spec.ingressClassName wins over the annotation', () => {
      const objects = [API, ingress('x', { ingressClassName: 'private', ...paths(backend('api', 80)) }, { 'kubernetes.io/ingress.class': 'public' })];
      assert.deepEqual(ok(routeSpec({ ingressClassName: 'public' }), objects).intent.flows, []);
    });

    it('no Ingress: no flow; with ingressRoutes, flows may be empty', () => {
      assert.deepEqual(ok(routeSpec(), [API]).intent.flows, []);
    });

    it('a path removed closes its flow (the resolution follows the Ingress)', () => {
      const two = ok(routeSpec(), [API, ingress('shop', paths(backend('api', 80), backend('api', 9090)))]);
      const one = ok(routeSpec(), [API, ingress('shop', paths(backend('api', 80)))]);
      assert.equal(portsTo(two.intent, 'api').length, 2);
      assert.equal(portsTo(one.intent, 'api').length, 1);
    });

    it('compiles: the API workload\'s ingress policy admits the controller on the named targetPort', () => {
      const { intent } = ok(routeSpec(), [API, ingress('shop', paths(backend('api', 80)))]);
      const policy = compile(intent).find((p) => p.spec.podSelector.matchLabels?.['app'] === 'api');
      assert.deepEqual(policy?.spec.ingress?.[0]?.ports, [{ port: 'web', protocol: 'TCP' }]);
    });
  });
});
