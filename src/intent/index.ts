/** The SegmentationIntent API: types, size limits, and validation (the only way to obtain a ValidIntent). */
export * from './types';
export { LIMITS } from './limits';
export { validateIntent, checkIntent, formatIssue } from './validate';
export * from './references';
export { KNOWN_KINDS, type Recognition, isClusterSegmentationIntent, isSegmentationIntent, recognise } from './kinds';
export * from './baseline';
export { type BaselineCheck, type BaselineValidation, checkBaseline, localBaseline, validateBaseline } from './validate-baseline';
