/** The data-plane node agent's decisions (test/dataplane/agent.ts), without a cluster. */
import { strict as assert } from 'assert';
import { macFor, podStep } from '../dataplane/agent';

describe('data-plane node agent', function () {
  const node = 'netseg-dp-abc123';

  it('binds an unscheduled pod, runs one bound to its node, leaves other nodes\' pods alone', function () {
    assert.equal(podStep({ metadata: { uid: 'u' }, spec: {} }, node), 'bind');
    assert.equal(podStep({ metadata: { uid: 'u' }, spec: { nodeName: node } }, node), 'run');
    assert.equal(podStep({ metadata: { uid: 'u' }, spec: { nodeName: 'other' } }, node), 'none');
    assert.equal(podStep({ metadata: { uid: 'u' }, spec: { hostNetwork: true } }, node), 'none');
    assert.equal(podStep(undefined, node), 'none');
  });

  it('finishes the deletion of its own or unscheduled pods (no kubelet will), never another node\'s', function () {
    const deleting = { uid: 'u', deletionTimestamp: '2026-11-30T00:00:00Z' };
    assert.equal(podStep({ metadata: deleting, spec: { nodeName: node } }, node), 'finish-delete');
    assert.equal(podStep({ metadata: deleting, spec: {} }, node), 'finish-delete');
    assert.equal(podStep({ metadata: deleting, spec: { nodeName: 'other' } }, node), 'none');
  });

  it('derives a locally administered MAC from the IP: same IP, same MAC; different IPs, different MACs', function () {
    assert.equal(macFor('10.64.198.7'), '02:00:0a:40:c6:07');
    assert.equal(macFor('10.64.198.7'), macFor('10.64.198.7'));
    assert.notEqual(macFor('10.64.198.7'), macFor('10.64.198.8'));
  });
});
