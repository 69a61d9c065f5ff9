/**
 * Where a client's credentials come from: the file given, else as kubectl and client-go resolve them when
 * none is (`$KUBECONFIG`, `~/.kube/config`, in-cluster service account). The one place a KubeConfig is built.
 */
import * as k8s from '@kubernetes/client-node';

export function loadKubeConfig(path?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
