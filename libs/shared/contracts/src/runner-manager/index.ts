export * from './runner-launch-options';
export * from './runner-manager.errors';
export * from './runner-manager.replies';
export * from './runner-manager.requests';
export * from './worktree.replies';
