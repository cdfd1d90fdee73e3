// Child processes of the browser tests: how one ended is named in every failure (issue 64).
import { execFileSync } from "node:child_process";

/** How a child process ended, in words: "exit status 3" or "signal SIGSEGV". */
export function howEnded(code, signal) {
  return signal ? `signal ${signal}` : `exit status ${code}`;
}

/**
 * Runs `file` with `args` to its end (`execFileSync`, `options` as there) and returns what it printed; when it fails
 * the error says how it ended (its exit status or the signal) beside what it wrote to stderr.
 */
export function runSync(file, args, options = {}) {
  try {
    return execFileSync(file, args, options);
  } catch (e) {
    if (e.status === undefined && e.signal === undefined) throw e;
    const stderr = e.stderr ? String(e.stderr).trim() : "";
    throw new Error(`${file} ${args.join(" ")} ended with ${howEnded(e.status, e.signal)}${stderr ? `:\n${stderr}` : ""}`, { cause: e });
  }
}
