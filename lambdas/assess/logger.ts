import { createLogger } from '../aws/logger.js';

/** The assess function's one logger, shared by the assessment and its history searches. */
export const logger = createLogger('assess');
