export * from './local-process-launcher';
export * from './project.use-cases';
export * from './runner.use-cases';
export * from './runner-launcher.port';
export * from './runner-lifecycle';
export * from './runner-manager.handler';
export * from './runner-manager.module';
export * from './runner-token';
