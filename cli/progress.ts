/**
 * @module A progress line for a step that may take more than a second (opening the embedded registry,
 * signing coins): on a terminal, a spinner with the step's name appears once the step has run for a
 * second and is erased when it ends; off a terminal nothing is printed, so that scripts see only the
 * result and the one-line errors. A question asked meanwhile (cli/terminal-prompt.ts) stops it.
 */

const FRAMES = ['|', '/', '-', '\\'];
/** How long a step runs before its line appears. */
const SHOW_AFTER_MS = 1000;

/** The line being shown, if any: a prompt stops it before asking. */
let shown: { stop(): void } | undefined;

/** Stops and erases the progress line, if one is shown (before a question is asked on the terminal). */
export function stopProgress(): void {
  shown?.stop();
}

/** Runs `work`, showing "label" with a spinner on stderr while it runs past a second on a terminal. */
export async function withProgress<T>(label: string, work: () => Promise<T>, stream: NodeJS.WriteStream = process.stderr): Promise<T> {
  if (!stream.isTTY) return work();
  let frame = 0;
  let drawn = false;
  let spin: NodeJS.Timeout | undefined;
  const draw = () => {
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label}\x1b[K`);
    drawn = true;
  };
  const line = {
    stop() {
      clearTimeout(start);
      if (spin) clearInterval(spin);
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
      if (shown === line) shown = undefined;
    },
  };
  const start = setTimeout(() => {
    shown = line;
    draw();
    spin = setInterval(draw, 120);
  }, SHOW_AFTER_MS);
  try {
    return await work();
  } finally {
    line.stop();
  }
}
