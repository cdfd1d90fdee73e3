// Polling with a deadline, never sleep-then-assert: shared by every browser test, and by checks that run without a
// devnet (stack.mjs needs one at import).

/** Polls `f` until it returns a truthy value; fails with `what` (and the last value or error) at the deadline. */
export async function until(what, f, { timeout = 60_000, every = 250 } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}
