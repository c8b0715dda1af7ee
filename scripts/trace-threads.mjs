#!/usr/bin/env node
// The thread time of a Chromium trace's top-level tasks (and the microtask
// checkpoints between them) on two threads: the page's (its renderer's main
// thread, CrRendererMain) and the GPU process's main thread (CrGpuMain), where
// Dawn carries out the page's WebGPU calls. Thread time (`tdur`) counts what
// the thread ran, not time it waited for a core. Of threads of one name, the
// busiest. Used by bench-browser.mjs (a CDP trace of the timed steps) and, for
// a trace written by Chromium itself (bench-browser.py --trace, on a machine
// without Node), from the command line:
//
//   node scripts/trace-threads.mjs TRACE.json[.gz]   ms per step in each timed
//                                                    window www/bench.html marks
import fs from 'node:fs';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';

const TASKS = new Set(['ThreadControllerImpl::RunTask', 'BlinkScheduler_PerformMicrotaskCheckpoint']);

/** Milliseconds of thread time on the page's and the GPU process's main
 * threads within [from, to] (trace µs; all by default). A task that crosses
 * an end counts the share of its thread time that its wall time inside has:
 * the page's timed steps begin inside the task that marks their start. */
export function threadMillis(events, from = -Infinity, to = Infinity) {
  const threadName = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args?.name]));
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || !TASKS.has(e.name) || e.ts + e.dur < from || e.ts > to) continue;
    const key = `${e.pid}:${e.tid}`;
    (byThread.get(key) || byThread.set(key, []).get(key)).push(e);
  }
  const millis = (name) => {
    const lists = [...byThread].filter(([k]) => threadName.get(k) === name).map(([, v]) => v);
    const tasks = lists.sort((a, b) => b.length - a.length)[0];
    if (!tasks) return null;
    // Top-level only: a task nested in another is in its parent's time already.
    // A checkpoint without thread time (a few, each under 0.01 ms) counts its wall time.
    tasks.sort((a, b) => a.ts - b.ts);
    let end = -Infinity, us = 0;
    for (const e of tasks) {
      if (e.ts < end) continue;
      end = e.ts + e.dur;
      const inside = e.dur > 0 ? (Math.min(end, to) - Math.max(e.ts, from)) / e.dur : 1;
      us += (e.tdur ?? e.dur) * inside;
    }
    return us / 1000;
  };
  return { page: millis('CrRendererMain'), gpuProcess: millis('CrGpuMain') };
}

/** The timed windows www/bench.html marks with console.timeStamp:
 * `bench timed <label> <steps>` … `bench timed end`. */
export function timedWindows(events) {
  const marks = events
    .filter((e) => e.name === 'TimeStamp' && /^bench timed /.test(e.args?.data?.message || ''))
    .sort((a, b) => a.ts - b.ts);
  const windows = [];
  for (const m of marks) {
    const [, label, steps] = /^bench timed (\S+)(?: (\d+))?/.exec(m.args.data.message);
    if (label !== 'end') windows.push({ label, steps: Number(steps), from: m.ts });
    else if (windows.length && windows.at(-1).to === undefined) windows.at(-1).to = m.ts;
  }
  return windows.filter((w) => w.to !== undefined);
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: trace-threads.mjs TRACE.json[.gz]');
    process.exit(2);
  }
  let raw = fs.readFileSync(file);
  if (file.endsWith('.gz')) raw = zlib.gunzipSync(raw);
  const parsed = JSON.parse(raw.toString());
  const events = Array.isArray(parsed) ? parsed : parsed.traceEvents || [];
  const windows = timedWindows(events);
  if (!windows.length) {
    console.error(`${file}: no timed window (www/bench.html's "bench timed" marks; category devtools.timeline)`);
    process.exit(1);
  }
  for (const w of windows) {
    const t = threadMillis(events, w.from, w.to);
    const per = (ms) => (ms === null ? 'not traced' : (ms / w.steps).toFixed(2));
    console.log(`${w.label}: ${w.steps} steps, ${((w.to - w.from) / 1000 / w.steps).toFixed(1)} ms/step; thread time per step: the page's thread ${per(t.page)}, the GPU process's main thread ${per(t.gpuProcess)}`);
  }
}
