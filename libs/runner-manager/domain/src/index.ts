export * from './project';
export * from './runner';
export * from './runner.exception';
export * from './runner-state';
export * from './validation';
