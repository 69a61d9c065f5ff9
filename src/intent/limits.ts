/**
 * Size bounds of a SegmentationIntent. The CRD (crds/segmentationintents.netseg.io.yaml) declares the same
 * numbers as maxItems/maxLength/maxProperties, because the apiserver refuses CEL rules whose worst-case cost
 * over unbounded lists is too high; validateIntent() enforces them too, so that a file the apiserver would
 * reject is rejected offline, and so that validation time stays bounded on hostile input.
 * A unit test checks that the CRD and these numbers agree.
 */
export const LIMITS = {
  workloads: 64,
  peers: 64,
  flows: 256,
  ingressRoutes: 16,
  /** Names in one flow's `from` or `to`. */
  flowEndpoints: 32,
  portsPerFlow: 32,
  matchLabels: 32,
  matchExpressions: 16,
  expressionValues: 64,
  except: 32,
  /** Workload and peer names: DNS-1123 labels, since they become part of policy names. */
  nameLength: 63,
  /** A label key: a 253-character DNS prefix, "/", and a 63-character name. */
  labelKeyLength: 317,
  labelValueLength: 63,
  /** The longest IPv6 CIDR with an embedded IPv4 tail, "ffff:...:255.255.255.255/128". */
  cidrLength: 49,
  portNameLength: 15,
  /**
   * Characters of label keys and values in all selectors of workloads and peers together (a CEL rule on spec).
   * Flows copy these into every policy they touch; real intents use a few hundred.
   */
  selectorText: 65536,
} as const;
