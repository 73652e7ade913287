/**
 * Polling with a deadline instead of fixed sleeps: a test waits for the outcome it asserts, as
 * long as it takes on a slow machine, and fails with `what` only when the deadline passes.
 */
export async function waitFor(cond: () => boolean, what: string, deadlineMs = 10_000, everyMs = 5): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > deadlineMs) throw new Error(`timed out after ${deadlineMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
