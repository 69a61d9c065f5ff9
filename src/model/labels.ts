/**
 * Reading and writing label maps (labels, annotations, matchLabels) by their own keys only. These maps come from
 * user files, and `constructor`, `toString` or `hasOwnProperty` are valid label keys: `key in labels` or
 * `labels[key]` would find Object.prototype's members on a pod that carries no such label.
 */

export type LabelMap = Readonly<Record<string, string>>;

export function hasLabel(labels: LabelMap, key: string): boolean {
  return Object.hasOwn(labels, key);
}

/** The label's value, or undefined when the map itself does not carry the key. */
export function labelValue(labels: LabelMap | undefined, key: string): string | undefined {
  return labels !== undefined && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** Sets an own property: assigning to `__proto__` would replace the object's prototype instead of adding a key. */
export function setLabel(labels: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(labels, key, { value, enumerable: true, writable: true, configurable: true });
}
