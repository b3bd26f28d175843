import { setFlagsFromString } from 'node:v8';

let tuned = false;

/**
 * Turns off V8's allocation-site pretenuring for this process, once.
 *
 * V8 watches where objects are allocated, and when most objects of one allocation site survive
 * a young-generation collection it allocates that site's objects straight in the old
 * generation from then on. A service's burst (a closed-loop benchmark, a fleet's registration
 * storm, a slow database for a few seconds) keeps many requests in flight long enough to trip
 * that for the sites every request uses: HTTP headers, pg rows, parsed dates, bus messages.
 * Afterwards each short-lived request object lands in the old generation, which then fills at
 * megabytes per second and needs a full mark-compact every few seconds; each one stopped the
 * event loop for 7-15 ms and was the whole p99 of the budget check and the API reads at
 * 500 requests/s (docs/benchmarks.md, "Garbage collection"). Without pretenuring those objects
 * die young, in cheap scavenges (about 2 ms each), and the budget-check bench saw no
 * mark-compact in its measured window instead of one every ~5 s.
 *
 * The flag is read when V8 processes pretenuring feedback, during collections, so setting it at
 * start-up (before the application is built) is enough; sites already decided stay decided,
 * which at that point is only module-loading code.
 */
export function tuneGarbageCollection(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
}
