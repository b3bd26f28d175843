import { Flags } from '@oclif/core';
import { ENV_NAME_PATTERN, type EnvEntryInput, MAX_RUNNERS_LIMIT } from '@stratavore/contracts';

/** `KEY=VALUE`; the flag's error names it (oclif prefixes "Parsing --env"). */
export function parseEnvAssignment(input: string, secret: boolean): EnvEntryInput {
  const equals = input.indexOf('=');
  if (equals <= 0) throw new Error(`expected KEY=VALUE, got "${input}"`);
  const name = input.slice(0, equals);
  if (!ENV_NAME_PATTERN.test(name)) {
    throw new Error(`"${name}" is not a variable name (expected ${ENV_NAME_PATTERN.source})`);
  }
  return { name, value: input.slice(equals + 1), secret };
}

/** Splits a command line into argv: whitespace separates, single and double quotes group. */
export function splitCommandLine(input: string): string[] {
  const argv: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (const char of input) {
    if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) argv.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in "${input}"`);
  if (started) argv.push(current);
  if (argv.length === 0) throw new Error('expected a command, e.g. "claude --verbose"');
  return argv;
}

export const envFlag = Flags.custom<EnvEntryInput>({
  multiple: true,
  helpValue: 'KEY=VALUE',
  parse: (input) => Promise.resolve(parseEnvAssignment(input, false)),
});

export const secretEnvFlag = Flags.custom<EnvEntryInput>({
  multiple: true,
  helpValue: 'KEY=VALUE',
  parse: (input) => Promise.resolve(parseEnvAssignment(input, true)),
});

export const commandFlag = Flags.custom<string[]>({
  helpValue: 'CMD',
  parse: (input) => Promise.resolve(splitCommandLine(input)),
});

export const maxRunnersFlag = Flags.custom<number>({
  helpValue: 'N',
  parse: (input) => {
    const value = Number(input);
    if (!/^\d+$/.test(input) || value < 1 || value > MAX_RUNNERS_LIMIT) {
      throw new Error(`expected an integer from 1 to ${MAX_RUNNERS_LIMIT}, got "${input}"`);
    }
    return Promise.resolve(value);
  },
});
