/** @module Status-word coverage for conformance suites: a recording wrapper around a card's transmit that attributes each final SW (61xx followed) to the applet-spec command its header selects. */
import { COMMANDS, commandById, commandForHeader } from '../applet-spec/commands.js';
import { formatSw } from '../applet-spec/status-words.js';
import type { VirtualCard } from '../simulator/virtual-card.js';

/** One (command, SW) pair. */
export interface SwPair {
  id: string;
  sw: number;
}

/** A pair left out of the coverage requirement, with the reason it cannot be provoked. */
export interface Unreachable extends SwPair {
  why: string;
}

/** Attribution used for APDUs whose header selects no defined command and no hint applies. */
export const UNATTRIBUTED = '(no command)';

const CLA_CHAINING = 0x10;
/** GET RESPONSE as the card OS takes it: INS C0 under class 00 or 80, with secure-messaging bits. */
const isGetResponse = (cla: number, ins: number): boolean => (cla & 0x73) === 0x00 && ins === 0xc0;

/**
 * Records status words per command. Attach it to every card of a suite, then query `missing()` and
 * `unlisted()` at the end. Not thread-safe across cards that interleave 61xx exchanges (it follows
 * one pending response per recorder, as a reader does per card).
 */
export class SwCoverage {
  private readonly seen = new Map<string, Set<number>>();
  private readonly examples = new Map<string, string>();
  private hint: string | undefined;
  private pending: string | undefined;

  /** Wraps `card.transmit` so that every exchange is recorded; returns the same card. */
  attach<C extends VirtualCard>(card: C): C {
    const inner = card.transmit.bind(card);
    card.transmit = (command: Uint8Array): Uint8Array => {
      const response = inner(command);
      this.observe(command, response);
      return response;
    };
    return card;
  }

  /**
   * Runs `fn` attributing to command `id` every APDU whose header selects no definition (a wrong
   * P1/P2 or a fixed byte changed on purpose, where commandForHeader cannot tell which command it was).
   */
  as<T>(id: string, fn: () => T): T {
    if (!commandById(id)) throw new Error(`SwCoverage.as: no command ${id}`);
    const before = this.hint;
    this.hint = id;
    try {
      return fn();
    } finally {
      this.hint = before;
    }
  }

  /** Records one exchange: the command bytes as sent and the response bytes as received. */
  observe(command: Uint8Array, response: Uint8Array): void {
    if (command.length < 4 || response.length < 2) return;
    const [cla, ins, p1, p2] = command;
    const sw = (response[response.length - 2] << 8) | response[response.length - 1];
    let id: string;
    if (isGetResponse(cla, ins)) {
      id = 'getResponse';
      if (this.pending && sw >> 8 !== 0x61 && sw >> 8 !== 0x6c) {
        // ISO 7816-4 11.6.1: the last GET RESPONSE carries the final SW of the command that announced 61xx.
        this.record(this.pending, sw, command);
        this.pending = undefined;
      }
      if (sw >> 8 === 0x61) return;
    } else {
      this.pending = undefined;
      id = commandForHeader({ cla, ins, p1, p2 })?.id ?? this.hint ?? UNATTRIBUTED;
      // A block of a chain that is not the last one is answered 9000 by the card OS: not the command's SW.
      if (cla & CLA_CHAINING && sw === 0x9000) return;
      if (sw >> 8 === 0x61) {
        this.pending = id;
        return;
      }
    }
    this.record(id, sw, command);
  }

  record(id: string, sw: number, command?: Uint8Array): void {
    let set = this.seen.get(id);
    if (!set) this.seen.set(id, (set = new Set()));
    set.add(sw);
    const key = `${id}/${sw}`;
    if (command && !this.examples.has(key)) this.examples.set(key, Buffer.from(command.subarray(0, 4)).toString('hex'));
  }

  /** True when command `id` answered `sw` (or, for a family base such as 63C0 or 6C00, any member). */
  has(id: string, sw: number): boolean {
    const set = this.seen.get(id);
    if (!set) return false;
    if (set.has(sw)) return true;
    if (sw === 0x63c0) return [...set].some((s) => (s & 0xfff0) === 0x63c0);
    if (sw === 0x6c00 || sw === 0x6100) return [...set].some((s) => (s & 0xff00) === sw);
    return false;
  }

  /** The status words observed for a command. */
  observed(id: string): number[] {
    return [...(this.seen.get(id) ?? [])].sort((a, b) => a - b);
  }

  /** Every (command, listed SW) pair of applet-spec not yet observed and not in `unreachable`, as text. */
  missing(unreachable: readonly SwPair[] = []): string[] {
    const out: string[] = [];
    for (const c of COMMANDS) {
      for (const sw of c.statusWords) {
        if (this.has(c.id, sw)) continue;
        if (unreachable.some((u) => u.id === c.id && u.sw === sw)) continue;
        out.push(`${c.id} ${formatSw(sw)}`);
      }
    }
    return out;
  }

  /** Allow-list entries that were observed after all (so the list can be kept short and honest). */
  observedAnyway(unreachable: readonly SwPair[]): string[] {
    return unreachable.filter((u) => this.has(u.id, u.sw)).map((u) => `${u.id} ${formatSw(u.sw)}`);
  }

  /** Observed (command, SW) pairs whose definition does not list the SW, with the header of the first such APDU. */
  unlisted(): (SwPair & { header: string })[] {
    const out: (SwPair & { header: string })[] = [];
    for (const [id, set] of this.seen) {
      const c = commandById(id);
      if (!c) continue;
      for (const sw of set) if (!c.allows(sw)) out.push({ id, sw, header: this.examples.get(`${id}/${sw}`) ?? '' });
    }
    return out.sort((a, b) => (a.id === b.id ? a.sw - b.sw : a.id < b.id ? -1 : 1));
  }
}

/** "id SW=xxxx (NAME) [header]" for a report. */
export function describePair(p: SwPair & { header?: string }): string {
  return `${p.id} ${formatSw(p.sw)}${p.header ? ` [${p.header}]` : ''}`;
}
