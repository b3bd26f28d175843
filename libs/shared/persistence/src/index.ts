export * from './advisory-key';
export * from './data-source';
export * from './leadership';
export * from './migrations';
export * from './readiness';
export * from './session-lock';
export * from './transactions';
