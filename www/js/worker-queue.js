// The engine worker's one serial queue. Every command that touches the
// trainer or the dataset, and every training call, is a task here, run one at
// a time in the order it came: no two tasks ever hold the trainer at once, so
// nothing else (no busy counters, no stop flags, no second chain) keeps them
// apart. Training is not a loop: each call queues the next behind a macrotask
// (`again`), so a command that arrived during the call runs before the next
// one, and waits at most for the call in flight.

// A macrotask by message, not by timer: a browser may throttle the timers of
// a hidden tab's worker (Chromium has proposed it, chromestatus 6334419736461312);
// messages are delivered as they come, so a lesson trains on in a background tab.
const yielder = new MessageChannel();
const yielded = [];
yielder.port1.onmessage = () => yielded.shift()?.();
// Node (where tests-e2e/worker-queue.test.mjs runs this) would otherwise stay up for the open port.
yielder.port1.unref?.();
function macrotask() {
  return new Promise((resolve) => { yielded.push(resolve); yielder.port2.postMessage(0); });
}

export class TaskQueue {
  /** `failed(error)` hears every task that throws (the task's own promise rejects too). */
  constructor(failed) {
    this.failed = failed;
    this.tail = Promise.resolve();
    this.closed = false;
  }

  /** Runs `task` after every task queued before it; resolves to its result. */
  add(task) {
    const done = this.tail.then(() => (this.closed ? undefined : task()));
    this.tail = done.catch((e) => this.failed(e));
    return done;
  }

  /** Queues `task` after one macrotask: the messages that arrived by then are queued first. */
  again(task) {
    macrotask().then(() => this.add(task).catch(() => {}));
  }

  /** The engine is gone (a panic, a lost device): no task runs any more. */
  close() { this.closed = true; }
}
