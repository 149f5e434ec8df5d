/**
 * @module A progress line for every step that may take more than a second: on a terminal, a spinner
 * with the step's name appears once the step has run for a second and is erased when it ends; off a
 * terminal nothing is printed, so that scripts see only the result and the one-line errors.
 *
 * Steps nest: cli/drmb.ts runs every command as a step named for the command ("drmb bank mint"), and
 * a command names its slow parts inside it ("signing 1000 coins"); the line shows the innermost step.
 * Anything else written to the terminal meanwhile (a result, a step line of perso prepare) first
 * erases the line, which is drawn again below it at the next turn of the spinner. A question asked on
 * the terminal (cli/terminal-prompt.ts) pauses the line until it is answered.
 */

const FRAMES = ['|', '/', '-', '\\'];
/** How long a step runs before its line appears. */
const SHOW_AFTER_MS = 1000;
/** How often the spinner turns. */
const TURN_MS = 120;

type Write = NodeJS.WriteStream['write'];

/** The steps running now, outermost first, on one stream. */
interface Line {
  stream: NodeJS.WriteStream;
  steps: { label: string }[];
  /** when the outermost step began */
  since: number;
  frame: number;
  drawn: boolean;
  paused: number;
  timer: NodeJS.Timeout;
  /** the streams whose write was wrapped to erase the line first, with their own write */
  wrapped: [NodeJS.WriteStream, Write][];
}

let line: Line | undefined;

/** Erases the line if it is drawn, through the stream's own write. */
function erase(l: Line): void {
  if (!l.drawn) return;
  l.drawn = false;
  const own = l.wrapped.find(([s]) => s === l.stream)?.[1] ?? l.stream.write;
  own.call(l.stream, '\r\x1b[K');
}

function draw(l: Line): void {
  if (l.paused > 0 || Date.now() - l.since < SHOW_AFTER_MS) return;
  const step = l.steps.at(-1);
  if (!step) return;
  if (!l.wrapped.length) wrapWrites(l);
  const own = l.wrapped.find(([s]) => s === l.stream)![1];
  own.call(l.stream, `\r${FRAMES[l.frame++ % FRAMES.length]} ${step.label}\x1b[K`);
  l.drawn = true;
}

/**
 * Makes every other write to the line's stream, and to stdout when it is the same terminal, erase
 * the line first: a result or a log line is never printed after the spinner on the same row.
 */
function wrapWrites(l: Line): void {
  const targets = [l.stream];
  if (l.stream === process.stderr && process.stdout.isTTY) targets.push(process.stdout);
  for (const s of targets) {
    const own = s.write;
    l.wrapped.push([s, own]);
    s.write = function (this: NodeJS.WriteStream, ...args: Parameters<Write>) {
      erase(l);
      return own.apply(this, args);
    } as Write;
  }
}

function end(l: Line): void {
  clearInterval(l.timer);
  erase(l);
  for (const [s, own] of l.wrapped) s.write = own;
  l.wrapped = [];
  if (line === l) line = undefined;
}

/**
 * Pauses the progress line, erasing it, until the returned function is called (a question on the
 * terminal): nothing is drawn over what the user types.
 */
export function pauseProgress(): () => void {
  const l = line;
  if (!l) return () => {};
  l.paused++;
  erase(l);
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    l.paused--;
  };
}

/**
 * Begins a step named `label` on `stream` and returns what ends it (called once; later calls do
 * nothing): for a step that does not fit one function call, such as a whole command of cli/drmb.ts.
 */
export function beginStep(label: string, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY || (line && line.stream !== stream)) return () => {};
  if (!line) {
    const l: Line = { stream, steps: [], since: Date.now(), frame: 0, drawn: false, paused: 0, timer: setInterval(() => draw(l), TURN_MS), wrapped: [] };
    l.timer.unref();
    line = l;
  }
  const l = line;
  const step = { label };
  l.steps.push(step);
  return () => {
    const at = l.steps.indexOf(step);
    if (at < 0) return;
    l.steps.splice(at, 1);
    if (!l.steps.length) end(l);
  };
}

/** Runs `work` as a step named `label`, shown with a spinner on `stream` while it runs past a second on a terminal. */
export async function withProgress<T>(label: string, work: () => Promise<T>, stream: NodeJS.WriteStream = process.stderr): Promise<T> {
  const done = beginStep(label, stream);
  try {
    return await work();
  } finally {
    done();
  }
}
