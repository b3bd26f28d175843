export * from './amqp-url';
export * from './claude-stand-in';
export * from './local-s3-server';
export * from './tcp-proxy';
export * from './test-database';
export * from './unique-name';
export * from './wait-for';
