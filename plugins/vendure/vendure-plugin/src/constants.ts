export const POSHUB_PLUGIN_OPTIONS = Symbol('POSHUB_PLUGIN_OPTIONS');
export const loggerCtx = 'PoshubPlugin';
export const QUEUE_NAME = 'poshub-webhooks';
export const HMAC_HEADER = 'X-Poshub-Hmac-Sha256';
export const EVENT_ID_HEADER = 'X-Poshub-Event-Id';
export const TOPIC_HEADER = 'X-Poshub-Topic';
export const MAX_RETRY_DELAY_MS = 5 * 60 * 1000;
export const DEFAULT_OPTIONS = {
    retries: 10,
    retryDelayMs: 2000,
    timeoutMs: 10000,
};
