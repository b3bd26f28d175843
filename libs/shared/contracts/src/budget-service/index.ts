export * from './budget-service.errors';
export * from './budget-service.replies';
export * from './budget-service.requests';
