import { PluginCommonModule, Type, VendurePlugin } from '@vendure/core';

import { DEFAULT_OPTIONS, POSHUB_PLUGIN_OPTIONS } from './constants';
import { PoshubWebhookService } from './poshub-webhook.service';
import type { PoshubPluginOptions, ResolvedPoshubPluginOptions } from './types';

/**
 * Posts signed order webhooks from Vendure to a poshub hub.
 *
 * ```ts
 * plugins: [
 *   DefaultJobQueuePlugin.init({}),
 *   PoshubPlugin.init({
 *     hubUrl: 'https://hub.example.com',
 *     storeCode: 'my-vendure-store',
 *     webhookSecret: process.env.POSHUB_WEBHOOK_SECRET!,
 *   }),
 * ]
 * ```
 *
 * Topics: `orders/placed` (OrderPlacedEvent), `orders/cancelled` (OrderStateTransitionEvent to
 * `Cancelled`), `refunds/settled` (RefundStateTransitionEvent to `Settled`). Each body is built
 * once when the event fires and delivered through the `poshub-webhooks` job queue, so it is
 * retried (and survives a restart with a persistent job queue) byte for byte.
 */
@VendurePlugin({
    imports: [PluginCommonModule],
    providers: [
        { provide: POSHUB_PLUGIN_OPTIONS, useFactory: () => PoshubPlugin.options },
        PoshubWebhookService,
    ],
    compatibility: '^3.6.0',
})
export class PoshubPlugin {
    static options: ResolvedPoshubPluginOptions;

    static init(options: PoshubPluginOptions): Type<PoshubPlugin> {
        PoshubPlugin.options = resolveOptions(options);
        return PoshubPlugin;
    }
}

export function resolveOptions(options: PoshubPluginOptions): ResolvedPoshubPluginOptions {
    const problems: string[] = [];
    if (!options || typeof options !== 'object') {
        throw new Error('PoshubPlugin.init() needs { hubUrl, storeCode, webhookSecret }');
    }
    let hubUrl = typeof options.hubUrl === 'string' ? options.hubUrl.trim() : '';
    try {
        const url = new URL(hubUrl);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
            problems.push(`hubUrl must be http(s), got ${url.protocol}`);
        }
        hubUrl = hubUrl.replace(/\/+$/, '');
    } catch {
        problems.push(`hubUrl is not a URL: ${JSON.stringify(options.hubUrl)}`);
    }
    if (typeof options.storeCode !== 'string' || options.storeCode.trim() === '') {
        problems.push('storeCode is required');
    }
    if (typeof options.webhookSecret !== 'string' || options.webhookSecret === '') {
        problems.push('webhookSecret is required (an empty secret would make every signature forgeable)');
    }
    const retries = options.retries ?? DEFAULT_OPTIONS.retries;
    const retryDelayMs = options.retryDelayMs ?? DEFAULT_OPTIONS.retryDelayMs;
    const timeoutMs = options.timeoutMs ?? DEFAULT_OPTIONS.timeoutMs;
    if (!Number.isInteger(retries) || retries < 0) {
        problems.push(`retries must be an integer >= 0, got ${String(retries)}`);
    }
    if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) {
        problems.push(`retryDelayMs must be >= 0, got ${String(retryDelayMs)}`);
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        problems.push(`timeoutMs must be > 0, got ${String(timeoutMs)}`);
    }
    if (problems.length > 0) {
        throw new Error(`PoshubPlugin.init(): ${problems.join('; ')}`);
    }
    return {
        hubUrl,
        storeCode: options.storeCode.trim(),
        webhookSecret: options.webhookSecret,
        retries,
        retryDelayMs,
        timeoutMs,
    };
}
