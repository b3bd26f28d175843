/** The pino logger of this process. */
export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');
