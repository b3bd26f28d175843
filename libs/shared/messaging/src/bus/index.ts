export * from './bus.errors';
export * from './bus.policy';
export * from './bus.ports';
export * from './bus-transport';
export * from './in-process-bus';
export * from './rabbitmq-bus';
