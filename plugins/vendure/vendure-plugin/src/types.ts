/**
 * Options accepted by `PoshubPlugin.init()`.
 */
export interface PoshubPluginOptions {
    /** Base URL of the poshub hub, e.g. `http://127.0.0.1:8080` (no trailing path). */
    hubUrl: string;
    /** The store's code in the hub; webhooks go to `${hubUrl}/hooks/${storeCode}/${topic}`. */
    storeCode: string;
    /** Shared secret; the body is signed as base64(HMAC-SHA256(webhookSecret, body bytes)). */
    webhookSecret: string;
    /** How many times a failed delivery is retried (after the first attempt). Default 10. */
    retries?: number;
    /** Delay before the first retry, doubling on each further retry, capped at 5 minutes. Default 2000. */
    retryDelayMs?: number;
    /** Timeout of one HTTP attempt. Default 10000. */
    timeoutMs?: number;
}

export type ResolvedPoshubPluginOptions = Required<PoshubPluginOptions>;

/** The topics the plugin posts. */
export type PoshubTopic = 'orders/placed' | 'orders/cancelled' | 'refunds/settled';

/**
 * What is stored in a `poshub-webhooks` job. The body is built (and its eventId chosen)
 * once, when the Vendure event fires, so every redelivery sends the same bytes.
 */
export interface PoshubWebhookJobData {
    topic: PoshubTopic;
    eventId: string;
    orderId: string;
    orderCode: string;
    /** The exact JSON text that is signed and sent. */
    body: string;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
