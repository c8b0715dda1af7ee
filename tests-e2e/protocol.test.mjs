// The engine's protocol (www/js/protocol.js) against the code on both sides:
// every command the page sends is one the worker handles, every message the
// worker posts is one the page reads, and nothing is named that is not used.
// Read from the sources: no browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, IMMEDIATE, MESSAGES, RUN_MOVES } from '../www/js/protocol.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (f) => fs.readFileSync(path.join(ROOT, 'www', 'js', f), 'utf8');
const all = (text, re) => [...new Set([...text.matchAll(re)].map((m) => m[1]))].sort();
const sorted = (list) => [...list].sort();

test('the protocol names every command the page sends and the worker handles, and no other', () => {
  const worker = read('worker.js');
  const handlers = worker.slice(worker.indexOf('const handlers = {'), worker.indexOf('\n};', worker.indexOf('const handlers = {')));
  assert.deepEqual(all(handlers, /^ {2}(?:async )?([a-zA-Z]+)\(/gm), sorted(COMMANDS), 'worker.js handlers');
  const sent = all(read('engine.js'), /cmd: '([a-zA-Z]+)'/g);
  assert.deepEqual(sent, sorted(COMMANDS), 'engine.js sends');
  for (const c of IMMEDIATE) assert.ok(COMMANDS.includes(c), c);
});

test('the protocol names every message the worker posts and the page reads, and no other', () => {
  const worker = fs.readdirSync(path.join(ROOT, 'www', 'js')).filter((f) => f.startsWith('worker')).map(read).join('\n');
  const posted = all(worker, /(?<!with )\{ type: '([a-z-]+)'/g);
  assert.deepEqual(posted, sorted(MESSAGES), 'worker*.js post');
  const engine = read('engine.js');
  const receive = engine.slice(engine.indexOf('  receive(m) {'));
  assert.deepEqual(all(receive, /case '([a-z-]+)':/g), sorted(MESSAGES), 'engine.js reads');
});

test('a run\'s moves: every state is reached, an error is left only by a restart, and no code writes a state but Run.to', () => {
  const states = Object.keys(RUN_MOVES);
  for (const s of states) assert.ok(states.some((from) => RUN_MOVES[from].includes(s)), `${s} is never reached`);
  for (const to of Object.values(RUN_MOVES).flat()) assert.ok(states.includes(to), to);
  assert.deepEqual(RUN_MOVES.error, ['loading', 'error']);
  for (const f of fs.readdirSync(path.join(ROOT, 'www', 'js')).filter((f) => f.endsWith('.js'))) {
    const writes = read(f).split('\n').filter((l) => /\b(run|r|current)\.state = /.test(l));
    assert.deepEqual(writes, [], `${f} writes a run's state outside Run.to`);
  }
});
