export * from './claude-code-cli';
export * from './claude-stand-in';
