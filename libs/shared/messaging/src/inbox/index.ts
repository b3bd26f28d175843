export * from './inbox';
export * from './inbox.entity';
