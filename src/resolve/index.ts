/** Resolution: a checked intent and the cluster's objects → the compiler's ValidIntent (API.md v2). Pure. */
export { type BaselineResolution, type Resolution, resolveBaseline, resolveIntent } from './resolve';
export * from './objects';
export * from './keys';
