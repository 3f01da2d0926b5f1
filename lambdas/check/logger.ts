import { createLogger } from '../aws/logger.js';

/** The check function's one logger, shared by the check and the watch chain. */
export const logger = createLogger('check');
