/** Flag parsing: durations, metrics address, namespace scope. */
import { strict as assert } from 'assert';
import { parseDuration, parseList } from '../../src/operator/config';
import { parseAddr } from '../../src/operator/metrics';
import { listNamespaces, scopeOf } from '../../src/operator/scope';

describe('operator flags', () => {
  it('parses durations with units', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2.5s'), 2_500);
    assert.throws(() => parseDuration('10'), /unit/);
    assert.throws(() => parseDuration('10x'), /invalid/);
  });

  it('parses listen addresses', () => {
    assert.deepEqual(parseAddr(':8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseAddr('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseAddr('[::1]:9090'), { host: '::1', port: 9090 });
    assert.throws(() => parseAddr('8080'));
  });

  it('scopes to all namespaces, a list, or a selector, and refuses both', () => {
    assert.deepEqual(parseList(' a, b,,a '), ['a', 'b', 'a']);
    assert.deepEqual(listNamespaces(scopeOf({}), undefined), [undefined]);
    assert.deepEqual(listNamespaces(scopeOf({ namespaces: ['b', 'a', 'a'] }), undefined), ['a', 'b']);
    assert.equal(listNamespaces(scopeOf({ namespaceSelector: 'x=y' }), undefined), undefined, 'unknown set: list nothing, sweep nothing');
    assert.throws(() => scopeOf({ namespaces: ['a'], namespaceSelector: 'x=y' }));
  });
});
