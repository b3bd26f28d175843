export * from './budget';
export * from './budget.exception';
export * from './period';
export * from './reservation';
export * from './validation';
export * from './zoned-time';
