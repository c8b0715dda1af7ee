// The engine worker's one serial queue (www/js/worker-queue.js), on its own:
// tasks never overlap and run in the order they came, a failing task is
// reported and the next runs, a task queued `again` runs after the messages
// that arrived before its macrotask, and a closed queue runs nothing.
// No browser needed: node has MessageChannel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskQueue } from '../www/js/worker-queue.js';

const tick = (ms) => new Promise((r) => setTimeout(r, ms));

test('tasks run one at a time, in the order they were queued, each after the one before has ended', async () => {
  const q = new TaskQueue(() => {});
  const seen = [];
  let inside = 0;
  const task = (name, ms) => async () => {
    inside += 1;
    assert.equal(inside, 1, `${name} overlapped another task`);
    seen.push(`${name} begins`);
    await tick(ms);
    seen.push(`${name} ends`);
    inside -= 1;
    return name;
  };
  const results = await Promise.all([q.add(task('a', 20)), q.add(task('b', 1)), q.add(task('c', 5))]);
  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(seen, ['a begins', 'a ends', 'b begins', 'b ends', 'c begins', 'c ends']);
});

test('a task that throws is reported, its caller hears it, and the next task runs', async () => {
  const reported = [];
  const q = new TaskQueue((e) => reported.push(e.message));
  const failing = q.add(() => { throw new Error('refused'); });
  const next = q.add(() => 'next');
  await assert.rejects(failing, /refused/);
  assert.equal(await next, 'next');
  assert.deepEqual(reported, ['refused']);
});

test('a task queued again runs after the messages that arrived before it, and a closed queue runs nothing', async () => {
  const q = new TaskQueue(() => {});
  const seen = [];
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = (e) => q.add(() => seen.push(e.data));
  // A command arrives while a training call runs; the call queues the next one again.
  await q.add(async () => {
    port2.postMessage('pause');
    await tick(10);
    seen.push('call 1');
    q.again(() => seen.push('call 2'));
  });
  await tick(50);
  assert.deepEqual(seen, ['call 1', 'pause', 'call 2']);
  port1.close();
  q.close();
  assert.equal(await q.add(() => 'ran'), undefined, 'a closed queue ran a task');
});
