import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A scripted stand-in for the interactive `claude` program, for `stratavore run` tests: an
 * executable named `claude` (so Stratavore takes it for Claude Code) that does what the real
 * CLI does that the agent reads, and nothing else:
 * - reads the hooks of its `--settings` and runs them as Claude Code 2.1.112 does: posts the hook
 *   input (`hook_event_name`, `session_id`, `transcript_path`, `cwd`, ...) to every `http` hook
 *   but SessionStart's, and gives it on stdin to every `command` hook through `/bin/sh`;
 * - writes its transcript to `$CLAUDE_CONFIG_DIR/projects/<encoded cwd>/<--session-id>.jsonl`
 *   and its subagent's to `<session>/subagents/agent-a2898e3.jsonl`, line by line, copying
 *   `$FAKE_CLAUDE_FIXTURES/main.jsonl` and `subagent.jsonl`;
 * - takes one command per line on stdin (the terminal) and prints `done <command>` when its
 *   hook was answered: `prompt` (UserPromptSubmit, the first 6 main lines and half of the 7th),
 *   `notify` (a permission prompt), `tool` (PostToolUse, the rest of both files), `stop` (Stop),
 *   `exit <code>` (SessionEnd, then exit). SessionStart (`startup`) is posted at once, then
 *   `ready` is printed.
 */
const SCRIPT = String.raw`#!/usr/bin/env node
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const readline = require('node:readline');
const { spawn } = require('node:child_process');

const args = process.argv.slice(2);
const valueOf = (flag) => {
  const index = args.indexOf(flag);
  return index === -1 ? undefined : args[index + 1];
};
const settings = JSON.parse(valueOf('--settings') || '{"hooks":{}}');
const sessionId = valueOf('--session-id');
const cwd = process.cwd();
const dir = path.join(process.env.CLAUDE_CONFIG_DIR, 'projects', cwd.replace(/[^A-Za-z0-9]/g, '-'));
const transcript = path.join(dir, sessionId + '.jsonl');
const subagent = path.join(dir, sessionId, 'subagents', 'agent-a2898e3.jsonl');
const read = (name) =>
  fs.readFileSync(path.join(process.env.FAKE_CLAUDE_FIXTURES, name), 'utf8').split('\n').filter(Boolean);
const main = read('main.jsonl');
const sub = read('subagent.jsonl');

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function command(line, body) {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', line], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('exit', resolve);
    child.stdin.end(JSON.stringify(body));
  });
}

async function hook(event, fields) {
  const groups = (settings.hooks && settings.hooks[event]) || [];
  const body = { session_id: sessionId, transcript_path: transcript, cwd, hook_event_name: event, ...fields };
  for (const group of groups) {
    for (const h of group.hooks || []) {
      // Claude Code 2.1.112 skips HTTP hooks for SessionStart; command hooks get the input on stdin.
      if (h.type === 'http' && event !== 'SessionStart') await post(h.url, body);
      if (h.type === 'command') await command(h.command, body);
    }
  }
}

function append(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, text);
}

async function handle(line) {
  const [command, argument] = line.trim().split(/\s+/);
  switch (command) {
    case 'prompt':
      await hook('UserPromptSubmit', { prompt: 'explain the build', permission_mode: 'default' });
      append(transcript, main.slice(0, 6).join('\n') + '\n' + main[6].slice(0, 80));
      break;
    case 'notify':
      await hook('Notification', {
        notification_type: 'permission_prompt',
        message: 'Claude needs your permission to use Bash',
      });
      break;
    case 'tool':
      append(transcript, main[6].slice(80) + '\n' + main.slice(7).join('\n') + '\n');
      append(subagent, sub.join('\n') + '\n');
      await hook('PostToolUse', { tool_name: 'Bash', tool_input: { command: 'ls' } });
      break;
    case 'stop':
      await hook('Stop', { stop_hook_active: false });
      break;
    case 'exit':
      await hook('SessionEnd', { reason: 'prompt_input_exit' });
      process.stdout.write('done exit\n');
      process.exit(Number(argument || 0));
      return;
    default:
      process.stdout.write('unknown ' + command + '\n');
      return;
  }
  process.stdout.write('done ' + command + '\n');
}

(async () => {
  await hook('SessionStart', { source: 'startup', model: 'claude-opus-4-6' });
  process.stdout.write('ready\n');
  const lines = readline.createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    queue = queue.then(() => handle(line));
  });
})();
`;

/** Writes the fake `claude` into `dir` (executable) and returns its path. */
export function writeFakeClaude(dir: string): string {
  const path = join(dir, 'claude');
  writeFileSync(path, SCRIPT);
  chmodSync(path, 0o755);
  return path;
}
