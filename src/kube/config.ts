/**
 * Where a client's credentials come from, resolved as kubectl (client-go's clientcmd) resolves them, for every
 * command that talks to a cluster: the one place a KubeConfig is built.
 *
 *   1. `--kubeconfig FILE`: that file only; it must exist.
 *   2. else `$KUBECONFIG`, a list separated by ':' (';' on Windows), merged: the first file to set a cluster,
 *      user or context name, or the current-context, wins; files that do not exist are skipped.
 *   3. else `~/.kube/config` when it exists.
 *   4. else the in-cluster service account (the operator's Deployment).
 *   Then `--context` replaces the current context (an unknown name is an error, never a silent fallback), and
 *   the namespace is `--namespace`, else the context's, else `default` (in-cluster: the pod's own).
 *
 * client-node's own loadFromDefault differs from kubectl in ways that matter here: it throws on a name that
 * two $KUBECONFIG files both define (kubectl keeps the first), takes the *last* file's current-context
 * (kubectl: the first), fails on a listed file that does not exist (kubectl skips it), and falls back to
 * http://localhost:8080 when nothing is configured (kubectl's old default; here an error saying what to give).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';

/** What the user chose on the command line; every field optional, as with kubectl. */
export interface KubeSelection {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

export interface ResolvedKube {
  readonly kc: k8s.KubeConfig;
  /** The namespace a namespaced command defaults to (flag, context, `default`). */
  readonly namespace: string;
  /** The context in use ('' in-cluster). */
  readonly context: string;
  /** Where the credentials came from, for messages: the files read, or "in-cluster". */
  readonly source: string;
}

/** The process environment and home folder, injectable so that tests need not change the real ones. */
export interface KubeEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
}

const processEnvironment = (): KubeEnvironment => ({ env: process.env, home: os.homedir() });

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A resolution that cannot succeed: the message says what to give instead. */
export class KubeConfigError extends Error {}

export function resolveKube(sel: KubeSelection = {}, where: KubeEnvironment = processEnvironment()): ResolvedKube {
  const files = configFiles(sel, where);
  if (files.length === 0) return inCluster(sel, where);
  const kc = mergeFiles(files);
  const source = files.join(path.delimiter);
  if (sel.context !== undefined) {
    if (!kc.getContextObject(sel.context)) {
      throw new KubeConfigError(`context "${sel.context}" does not exist in ${source} (contexts: ${names(kc.getContexts())})`);
    }
    kc.setCurrentContext(sel.context);
  }
  const context = kc.getCurrentContext();
  const ctx = context ? kc.getContextObject(context) : null;
  if (!ctx) {
    throw new KubeConfigError(
      context ? `current-context "${context}" does not exist in ${source}` : `no current-context in ${source}: give --context (contexts: ${names(kc.getContexts())})`,
    );
  }
  if (!kc.getCluster(ctx.cluster)) throw new KubeConfigError(`context "${context}" names cluster "${ctx.cluster}", which is not in ${source}`);
  if (ctx.user && !kc.getUser(ctx.user)) throw new KubeConfigError(`context "${context}" names user "${ctx.user}", which is not in ${source}`);
  return { kc, namespace: sel.namespace || ctx.namespace || 'default', context, source };
}

/** The KubeConfig alone (the operator, and every client). */
export function loadKubeConfig(sel: KubeSelection = {}, where?: KubeEnvironment): k8s.KubeConfig {
  return resolveKube(sel, where).kc;
}

/** The files to read, in precedence order; empty means "no file: in-cluster". */
function configFiles(sel: KubeSelection, { env, home }: KubeEnvironment): string[] {
  if (sel.kubeconfig !== undefined && sel.kubeconfig !== '') {
    if (!fs.existsSync(sel.kubeconfig)) throw new KubeConfigError(`${sel.kubeconfig}: no such kubeconfig file`);
    return [sel.kubeconfig];
  }
  const list = env['KUBECONFIG'];
  if (list) {
    const existing = [...new Set(list.split(path.delimiter).filter((f) => f !== ''))].filter((f) => fs.existsSync(f));
    if (existing.length === 0) throw new KubeConfigError(`none of the files in $KUBECONFIG (${list}) exists`);
    return existing;
  }
  const def = path.join(home, '.kube', 'config');
  return fs.existsSync(def) ? [def] : [];
}

/** Each file read on its own (so relative certificate paths resolve against its folder), then merged. */
function mergeFiles(files: readonly string[]): k8s.KubeConfig {
  const clusters = new Map<string, k8s.Cluster>();
  const users = new Map<string, k8s.User>();
  const contexts = new Map<string, k8s.Context>();
  let current = '';
  for (const file of files) {
    const one = readFile(file);
    if (!one) continue;
    for (const c of one.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of one.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of one.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!current && one.getCurrentContext()) current = one.getCurrentContext();
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext: current });
  return kc;
}

/** One file; undefined when it is empty (kubectl accepts an empty file). Entries kubectl would reject only when used are filtered. */
function readFile(file: string): k8s.KubeConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new KubeConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  if (text.trim() === '') return undefined;
  const kc = new k8s.KubeConfig();
  try {
    // 'filter' is ActionOnInvalid.FILTER, which client-node 0.20 does not export from its index.
    kc.loadFromFile(file, { onInvalidEntry: 'filter' as k8s.ConfigOptions['onInvalidEntry'] });
  } catch (e) {
    throw new KubeConfigError(`${file}: not a kubeconfig: ${(e as Error).message}`);
  }
  return kc;
}

function inCluster(sel: KubeSelection, { env }: KubeEnvironment): ResolvedKube {
  const host = env['KUBERNETES_SERVICE_HOST'];
  if (!host || !fs.existsSync(path.join(SERVICE_ACCOUNT_DIR, 'token'))) {
    throw new KubeConfigError('no kubeconfig: give --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config');
  }
  if (sel.context !== undefined) throw new KubeConfigError(`--context ${sel.context}: there is no kubeconfig to choose a context from (running in-cluster)`);
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster();
  let own = 'default';
  try {
    own = fs.readFileSync(path.join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim() || 'default';
  } catch {
    // no namespace file: `default`, as client-go
  }
  return { kc, namespace: sel.namespace || own, context: '', source: 'in-cluster' };
}

function names(items: readonly { name: string }[]): string {
  return items.length === 0 ? 'none' : items.map((i) => i.name).join(', ');
}
