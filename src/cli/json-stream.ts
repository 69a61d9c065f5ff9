/**
 * Reads a stream of JSON values (one or more, as `kubectl get -o json` or a JSON stream prints them) with
 * bounded memory: the bytes are scanned chunk by chunk, only tracking strings and bracket depth, and every
 * element of a root object's `items` array is cut out and given to JSON.parse on its own. The rest of each
 * root value (apiVersion, kind, metadata) is parsed at its end with `items` put back, so the result is what
 * JSON.parse of the whole value would give. Every byte goes through JSON.parse (an element or the rest), and
 * the separators between elements are checked here, so invalid JSON is an error, never a partial reading.
 * The first error ends the scan: after a syntax error nothing later in the file can be trusted.
 */

export type JsonValue = unknown;

export interface JsonScanHandlers {
  /** An element (or the rest of a root value) larger than this is refused rather than held as one string. */
  readonly maxValueBytes: number;
  /** Called on each parsed element of a root object's `items`; what it returns is kept (e.g. a slimmed copy). */
  item(value: JsonValue): unknown;
  /** A complete root value; `doc` is its 1-based position in the stream. */
  document(doc: number, value: JsonValue): void;
  /** `message` starts with the place inside the document (".items[3]" or "") then ": ...". */
  error(doc: number, message: string): void;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const ITEMS = Buffer.from('items');

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

class Pieces {
  private parts: Buffer[] = [];
  bytes = 0;
  /** Copies: the reader reuses its chunk buffer. */
  add(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(Buffer.from(b));
    this.bytes += b.length;
  }
  text(last: Buffer): string {
    const all = this.parts.length === 0 ? last : Buffer.concat([...this.parts, last]);
    this.parts = [];
    this.bytes = 0;
    return all.toString('utf8');
  }
  clear(): void {
    this.parts = [];
    this.bytes = 0;
  }
}

class Stop extends Error {}

/**
 * Scans what `read` returns (a chunk, or undefined at the end). Returns 'not-json' when the first thing in the
 * stream is not `{` or `[` (so the caller can read it as YAML), else 'done' (errors went to the handler).
 */
export function scanJson(read: () => Buffer | undefined, h: JsonScanHandlers): 'done' | 'not-json' {
  let doc = 0;
  let depth = 0;
  let inString = false;
  let escape = false;
  // The root value outside its items: bytes kept in `head`, from `headStart` in the current chunk.
  const head = new Pieces();
  let headStart = -1;
  let rootIsObject = false;
  // Detecting the root key "items": a string at depth 1 compared byte by byte.
  let stringAtRoot = false;
  let keyPos = 0;
  let keyMatch = false;
  let lastStringIsItems = false;
  let valueIsItems = false;
  let itemsSeen = false;
  let items: unknown[] | undefined;
  // Inside the items array (depth 2 between elements), and the element being cut out.
  let inItems = false;
  let expect: 'first' | 'value' | 'comma' = 'first';
  const elem = new Pieces();
  let elemStart = -1;
  let elemKind: 'container' | 'string' | 'scalar' = 'container';
  let first = true;

  const fail = (where: string, message: string): never => {
    h.error(doc, `${where}: not valid JSON: ${message}`);
    throw new Stop();
  };
  const parse = (text: string, where: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      return fail(where, (e as Error).message);
    }
  };
  const tooLarge = (where: string): never => {
    h.error(doc, `${where}: a single JSON value over ${h.maxValueBytes / 1024 / 1024} MiB; only the items of a List are read one by one`);
    throw new Stop();
  };
  const endElement = (chunk: Buffer, end: number): void => {
    const where = `.items[${items?.length ?? 0}]`;
    const value = parse(elem.text(chunk.subarray(elemStart, end)), where);
    items?.push(h.item(value));
    elemStart = -1;
  };

  try {
    for (let chunk = read(); chunk !== undefined; chunk = read()) {
      let i = 0;
      if (first) {
        first = false;
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
        let k = i;
        while (k < chunk.length && isSpace(chunk[k] as number)) k++;
        if (k < chunk.length && chunk[k] !== OPEN_BRACE && chunk[k] !== OPEN_BRACKET) return 'not-json';
        if (k >= chunk.length) first = true; // only whitespace so far: decide on the next chunk
      }
      for (; i < chunk.length; i++) {
        const b = chunk[i] as number;
        if (inString) {
          if (stringAtRoot) {
            if (escape || b === BACKSLASH) keyMatch = false;
            else if (b !== QUOTE) keyMatch = keyMatch && keyPos < ITEMS.length && ITEMS[keyPos++] === b;
          }
          if (escape) escape = false;
          else if (b === BACKSLASH) escape = true;
          else if (b === QUOTE) {
            inString = false;
            if (stringAtRoot) lastStringIsItems = keyMatch && keyPos === ITEMS.length;
            if (inItems && depth === 2 && elemStart >= 0 && elemKind === 'string') endElement(chunk, i + 1);
          }
          continue;
        }
        if (inItems && depth === 2) {
          if (elemStart >= 0 && elemKind === 'scalar') {
            if (!(isSpace(b) || b === COMMA || b === CLOSE_BRACKET)) continue;
            endElement(chunk, i);
          }
          if (isSpace(b)) continue;
          if (b === COMMA) {
            if (expect !== 'comma') fail(`.items[${items?.length ?? 0}]`, 'unexpected ","');
            expect = 'value';
            continue;
          }
          if (b === CLOSE_BRACKET) {
            if (expect === 'value') fail(`.items[${items?.length ?? 0}]`, 'a "," before "]"');
            inItems = false;
            depth = 1;
            headStart = i; // the "]" goes back into the rest of the value
            continue;
          }
          if (expect === 'comma') fail(`.items[${items?.length ?? 0}]`, 'a missing "," between items');
          expect = 'comma';
          elemStart = i;
          if (b === OPEN_BRACE || b === OPEN_BRACKET) {
            elemKind = 'container';
            depth++;
          } else if (b === QUOTE) {
            elemKind = 'string';
            inString = true;
            stringAtRoot = false;
          } else {
            elemKind = 'scalar';
          }
          continue;
        }
        if (depth === 0) {
          if (isSpace(b)) continue;
          if (b !== OPEN_BRACE && b !== OPEN_BRACKET) {
            doc++;
            fail('', `unexpected ${JSON.stringify(String.fromCharCode(b))} after document ${doc - 1}`);
          }
          doc++;
          depth = 1;
          headStart = i;
          rootIsObject = b === OPEN_BRACE;
          itemsSeen = false;
          valueIsItems = false;
          lastStringIsItems = false;
          items = undefined;
          continue;
        }
        if (b === QUOTE) {
          inString = true;
          stringAtRoot = depth === 1 && rootIsObject;
          keyPos = 0;
          keyMatch = true;
        } else if (depth === 1 && rootIsObject && b === COLON) {
          valueIsItems = lastStringIsItems;
          if (valueIsItems && itemsSeen) fail('', 'the key "items" twice');
        } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
          if (depth === 1 && valueIsItems && b === OPEN_BRACKET) {
            // The root's items: keep "[" in the rest of the value, cut each element out.
            head.add(chunk.subarray(headStart, i + 1));
            headStart = -1;
            itemsSeen = true;
            valueIsItems = false;
            items = [];
            inItems = true;
            expect = 'first';
            depth = 2;
            continue;
          }
          depth++;
        } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
          depth--;
          if (inItems && depth === 2 && elemStart >= 0) endElement(chunk, i + 1);
          else if (depth === 0) {
            const value = parse(head.text(chunk.subarray(headStart, i + 1)), '');
            headStart = -1;
            if (items !== undefined && typeof value === 'object' && value !== null) (value as Record<string, unknown>)['items'] = items;
            items = undefined;
            h.document(doc, value);
          }
        } else if (depth === 1 && b === COMMA) {
          valueIsItems = false;
        }
      }
      // The chunk buffer is reused by the reader: keep copies of what is still open.
      if (elemStart >= 0) {
        elem.add(chunk.subarray(elemStart));
        elemStart = 0;
        if (elem.bytes > h.maxValueBytes) tooLarge(`.items[${items?.length ?? 0}]`);
      }
      if (headStart >= 0) {
        head.add(chunk.subarray(headStart));
        headStart = 0;
        if (head.bytes > h.maxValueBytes) tooLarge('');
      }
    }
    if (depth > 0 || inString) {
      if (elemStart >= 0 && elemKind === 'scalar' && depth === 2) fail(`.items[${items?.length ?? 0}]`, 'unexpected end of file');
      fail(inItems ? `.items[${items?.length ?? 0}]` : '', 'unexpected end of file');
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    elem.clear();
    head.clear();
  }
  return 'done';
}
