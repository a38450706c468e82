export { PoshubPlugin, resolveOptions } from './poshub.plugin';
export { PoshubWebhookService, retryDelay, sign } from './poshub-webhook.service';
export type { DeliveryResult } from './poshub-webhook.service';
export { envelope, orderToJson, refundToJson } from './payload';
export {
    EVENT_ID_HEADER,
    HMAC_HEADER,
    POSHUB_PLUGIN_OPTIONS,
    QUEUE_NAME,
    TOPIC_HEADER,
} from './constants';
export type { PoshubPluginOptions, PoshubTopic, PoshubWebhookJobData, ResolvedPoshubPluginOptions } from './types';
