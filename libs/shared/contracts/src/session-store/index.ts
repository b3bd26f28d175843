export * from './session-events';
export * from './session-store.errors';
export * from './session-store.replies';
export * from './session-store.requests';
export * from './session-store.views';
