/** Observed traffic: pure readers of flow records (Hubble, Inspektor Gadget, netseg's own), and their tally. */
export * from './types';
export { detectFormat } from './detect';
export { readHubble } from './hubble';
export { readIg } from './ig';
export { readNetseg } from './netseg';
export { FlowTally, MAX_GROUPS, MAX_TRACKED_CONNECTIONS, type TalliedFlow, endpointKey, hash52 } from './tally';
import { readHubble } from './hubble';
import { readIg } from './ig';
import { readNetseg } from './netseg';
import type { FlowFormat, LineOutcome } from './types';

/** One record of a file in `format`, already parsed as JSON. */
export function readRecord(format: FlowFormat, value: unknown): LineOutcome {
  switch (format) {
    case 'hubble':
      return readHubble(value);
    case 'ig':
      return readIg(value);
    case 'netseg':
      return readNetseg(value);
  }
}
