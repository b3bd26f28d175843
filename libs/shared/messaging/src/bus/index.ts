export * from './bus.ports';
