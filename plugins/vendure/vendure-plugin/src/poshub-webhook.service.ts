import { createHmac, randomUUID } from 'node:crypto';

import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
    ConfigService,
    EventBus,
    HistoryService,
    ID,
    isInspectableJobQueueStrategy,
    Job,
    JobQueue,
    JobQueueService,
    Logger,
    OrderPlacedEvent,
    OrderService,
    OrderStateTransitionEvent,
    PollingJobQueueStrategy,
    Refund,
    RefundStateTransitionEvent,
    RequestContext,
    TransactionalConnection,
} from '@vendure/core';
import type { BackoffStrategy } from '@vendure/core';
import type { Subscription } from 'rxjs';

import {
    EVENT_ID_HEADER,
    HMAC_HEADER,
    loggerCtx,
    MAX_RETRY_DELAY_MS,
    POSHUB_PLUGIN_OPTIONS,
    QUEUE_NAME,
    TOPIC_HEADER,
} from './constants';
import { envelope, orderToJson, refundToJson } from './payload';
import type { Json, PoshubTopic, PoshubWebhookJobData, ResolvedPoshubPluginOptions } from './types';

/** Relations the body needs; `OrderService.findOne` also translates the variants. */
const ORDER_RELATIONS = [
    'customer',
    'lines',
    'lines.productVariant',
    'shippingLines',
    'shippingLines.shippingMethod',
    'surcharges',
    'payments',
] as const;

/** Marks a backoff function installed by this plugin so it is never wrapped twice. */
const WRAPPED = Symbol.for('poshub.backoff');

/**
 * When each job of this queue last failed in this process (job id -> ms). The SQL job
 * queue measures backoff from the job record's `updatedAt`, which SQLite stores to the
 * second, so short delays would come early; this map makes them exact. Module-level
 * so that every instance of the service (server and worker apps in one process) shares it.
 */
const lastFailures = new Map<string, number>();
const MAX_TRACKED_FAILURES = 10000;

/** A job RUNNING for longer than its timeout plus this was orphaned by a crash. */
const STALE_RUNNING_GRACE_MS = 60 * 1000;
const STALE_SWEEP_INTERVAL_MS = 60 * 1000;

export interface DeliveryResult {
    delivered: boolean;
    status: number;
    refused?: boolean;
    response?: string;
}

/** Exponential backoff: first `retryDelayMs`, doubling, capped at 5 minutes. */
export function retryDelay(options: Pick<ResolvedPoshubPluginOptions, 'retryDelayMs'>, attemptsMade: number): number {
    const exponent = Math.max(0, attemptsMade - 1);
    const delay = options.retryDelayMs * Math.pow(2, Math.min(exponent, 30));
    return Math.min(delay, MAX_RETRY_DELAY_MS);
}

/** base64(HMAC-SHA256(secret, bytes)) */
export function sign(secret: string, bytes: Uint8Array): string {
    return createHmac('sha256', secret).update(bytes).digest('base64');
}

@Injectable()
export class PoshubWebhookService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
    private queue: JobQueue<PoshubWebhookJobData> | undefined;
    private readonly subscriptions: Subscription[] = [];
    private sweepTimer: NodeJS.Timeout | undefined;

    constructor(
        @Inject(POSHUB_PLUGIN_OPTIONS) private readonly options: ResolvedPoshubPluginOptions,
        private readonly eventBus: EventBus,
        private readonly jobQueueService: JobQueueService,
        private readonly orderService: OrderService,
        private readonly historyService: HistoryService,
        private readonly connection: TransactionalConnection,
        private readonly configService: ConfigService,
    ) {}

    async onModuleInit(): Promise<void> {
        this.queue = await this.jobQueueService.createQueue<PoshubWebhookJobData>({
            name: QUEUE_NAME,
            process: job => this.deliver(job),
        });
        this.installBackoff(this.queue.name);
    }

    onApplicationBootstrap(): void {
        this.subscriptions.push(
            this.eventBus.ofType(OrderPlacedEvent).subscribe(event => {
                void this.enqueue('orders/placed', event.ctx, event.order.id, event.createdAt);
            }),
            this.eventBus.ofType(OrderStateTransitionEvent).subscribe(event => {
                if (event.toState === 'Cancelled') {
                    void this.enqueue('orders/cancelled', event.ctx, event.order.id, event.createdAt);
                }
            }),
            this.eventBus.ofType(RefundStateTransitionEvent).subscribe(event => {
                if (event.toState === 'Settled') {
                    void this.enqueue('refunds/settled', event.ctx, event.order.id, event.createdAt, event.refund.id);
                }
            }),
        );
        Logger.info(
            `Posting orders/placed, orders/cancelled and refunds/settled to ${this.hookUrl('<topic>')}`,
            loggerCtx,
        );
        void this.requeueOrphans();
        this.sweepTimer = setInterval(() => void this.requeueOrphans(), STALE_SWEEP_INTERVAL_MS);
        this.sweepTimer.unref();
    }

    onModuleDestroy(): void {
        for (const subscription of this.subscriptions.splice(0)) {
            subscription.unsubscribe();
        }
        if (this.sweepTimer) {
            clearInterval(this.sweepTimer);
            this.sweepTimer = undefined;
        }
    }

    /**
     * A process killed while a delivery was in flight leaves its job RUNNING, and Vendure's
     * polling job queues never pick a RUNNING job again. A delivery cannot legitimately run
     * longer than `timeoutMs`, so a job of this queue RUNNING for longer than that plus a
     * minute is put back to PENDING (the hub deduplicates by eventId if it did arrive).
     */
    private async requeueOrphans(): Promise<void> {
        const strategy = this.configService.jobQueueOptions.jobQueueStrategy;
        if (!this.queue || !(strategy instanceof PollingJobQueueStrategy) || !isInspectableJobQueueStrategy(strategy)) {
            return;
        }
        try {
            const running = await strategy.findMany({
                filter: { queueName: { eq: this.queue.name }, state: { eq: 'RUNNING' } },
                take: 100,
            });
            const cutoff = Date.now() - this.options.timeoutMs - STALE_RUNNING_GRACE_MS;
            for (const job of running.items) {
                if (job.startedAt && +job.startedAt < cutoff) {
                    job.defer();
                    await strategy.update(job);
                    Logger.warn(`Job ${String(job.id)} was left RUNNING (by a crash?); queued it again`, loggerCtx);
                }
            }
        } catch (e) {
            Logger.warn(`Could not look for orphaned jobs: ${e instanceof Error ? e.message : String(e)}`, loggerCtx);
        }
    }

    /**
     * The retry delay of a job is decided by the job queue strategy, not by the job
     * (Vendure 3.7 has `retries` per job, and one `backoffStrategy` per strategy). For the
     * polling strategies (DefaultJobQueuePlugin's SqlJobQueueStrategy and the in-memory
     * one) this wraps the strategy's backoff so that this plugin's queue backs off
     * exponentially and every other queue keeps the merchant's setting.
     */
    private installBackoff(queueName: string): void {
        const strategy = this.configService.jobQueueOptions.jobQueueStrategy;
        if (!(strategy instanceof PollingJobQueueStrategy)) {
            Logger.warn(
                `The job queue strategy is not a PollingJobQueueStrategy; retries of "${queueName}" ` +
                    `use that strategy's own backoff`,
                loggerCtx,
            );
            return;
        }
        const previous = strategy.backOffStrategy as (BackoffStrategy & { [WRAPPED]?: true }) | undefined;
        if (previous && previous[WRAPPED]) {
            return;
        }
        const options = this.options;
        const wrapped: BackoffStrategy & { [WRAPPED]?: true } = (name, attemptsMade, job) => {
            if (name === queueName) {
                const delay = retryDelay(options, attemptsMade);
                const failedAt = job.id === null ? undefined : lastFailures.get(String(job.id));
                if (failedAt === undefined) {
                    return delay;
                }
                // "wait forever" or "go now": exact, whatever the precision of updatedAt.
                return Date.now() - failedAt < delay ? Number.MAX_SAFE_INTEGER : 0;
            }
            return previous ? previous(name, attemptsMade, job) : 0;
        };
        wrapped[WRAPPED] = true;
        strategy.backOffStrategy = wrapped;
    }

    private hookUrl(topic: string): string {
        const base = this.options.hubUrl.replace(/\/+$/, '');
        return `${base}/hooks/${encodeURIComponent(this.options.storeCode)}/${topic}`;
    }

    /**
     * Builds the body once, from the order as it is now, and queues it. Never throws:
     * a webhook problem must not break an order operation.
     */
    private async enqueue(
        topic: PoshubTopic,
        ctx: RequestContext,
        orderId: ID,
        occurredAt: Date,
        refundId?: ID,
    ): Promise<void> {
        try {
            const order = await this.orderService.findOne(ctx, orderId, [...ORDER_RELATIONS]);
            if (!order) {
                Logger.error(`Order ${String(orderId)} not found; ${topic} not sent`, loggerCtx);
                return;
            }
            if (topic === 'orders/cancelled' && !order.orderPlacedAt) {
                // An active (never placed) order was cancelled: the hub never heard of it.
                Logger.verbose(`Order ${order.code} was cancelled before it was placed; not sent`, loggerCtx);
                return;
            }
            let refund: Json | undefined;
            if (refundId !== undefined) {
                const entity = await this.connection.getEntityOrThrow(ctx, Refund, refundId, {
                    relations: ['lines'],
                });
                refund = refundToJson(entity);
            }
            let cancellationReason: string | null | undefined;
            if (topic === 'orders/cancelled') {
                cancellationReason = await this.cancellationReason(ctx, orderId);
            }
            const eventId = randomUUID();
            const body = envelope({
                topic,
                eventId,
                occurredAt,
                order: orderToJson(order, ctx.channel.pricesIncludeTax, ctx.languageCode),
                refund,
                cancellationReason,
            });
            if (!this.queue) {
                throw new Error(`job queue "${QUEUE_NAME}" is not created yet`);
            }
            await this.queue.add(
                { topic, eventId, orderId: String(order.id), orderCode: order.code, body },
                { retries: this.options.retries },
            );
            Logger.verbose(`Queued ${topic} ${eventId} for order ${order.code}`, loggerCtx);
        } catch (e) {
            const error = e instanceof Error ? e : new Error(String(e));
            Logger.error(
                `Could not queue ${topic} for order ${String(orderId)}: ${error.message}`,
                loggerCtx,
                error.stack,
            );
        }
    }

    /** The reason given to the last `cancelOrder` of this order, from its history. */
    private async cancellationReason(ctx: RequestContext, orderId: ID): Promise<string | null> {
        const history = await this.historyService.getHistoryForOrder(ctx, orderId, false, { take: 1000 });
        const cancellations = history.items
            .filter(entry => (entry.type as string) === 'ORDER_CANCELLATION')
            .sort((a, b) => +a.createdAt - +b.createdAt || Number(a.id) - Number(b.id));
        const last = cancellations[cancellations.length - 1];
        const reason: unknown = last?.data?.reason;
        return typeof reason === 'string' && reason.length > 0 ? reason : null;
    }

    /**
     * One delivery attempt. Throws (so that the job queue retries it) on a network error or
     * timeout, a 5xx or a 429 (and a 404 to a cancellation or refund, whose order may not have
     * reached the hub yet); a 2xx completes the job; any other status is logged as refused
     * and completes the job with `{ delivered: false, refused: true }`, without retrying.
     */
    private async deliver(job: Job<PoshubWebhookJobData>): Promise<DeliveryResult> {
        const { topic, eventId, orderCode, body } = job.data;
        const url = this.hookUrl(topic);
        const bytes = Buffer.from(body, 'utf8');
        const attempt = `attempt ${job.attempts} of ${job.retries + 1}`;
        const lastAttempt = job.attempts > job.retries;
        let response: Response;
        try {
            response = await fetch(url, {
                method: 'POST',
                headers: {
                    'Content-Type': 'application/json',
                    [HMAC_HEADER]: sign(this.options.webhookSecret, bytes),
                    [EVENT_ID_HEADER]: eventId,
                    [TOPIC_HEADER]: topic,
                },
                body: bytes,
                signal: AbortSignal.timeout(this.options.timeoutMs),
                redirect: 'manual',
            });
        } catch (e) {
            const message = describeFetchError(e);
            throw this.retriableFailure(
                job,
                `${topic} ${eventId} (order ${orderCode}) to ${url} failed, ${attempt}: ${message}`,
                lastAttempt,
            );
        }
        const text = await response.text().catch(() => '');
        const excerpt = text.length > 500 ? `${text.slice(0, 500)}...` : text;
        if (response.ok) {
            this.forget(job);
            Logger.verbose(`Delivered ${topic} ${eventId} (order ${orderCode}): ${response.status}`, loggerCtx);
            return { delivered: true, status: response.status };
        }
        // A cancellation or refund can overtake its order's `orders/placed` (a delivery
        // waiting for its retry does not hold back later ones): the hub answers 404 for an
        // order it has not seen yet, so those are retried too (within `retries`).
        const overtook = response.status === 404 && topic !== 'orders/placed';
        if (response.status >= 500 || response.status === 429 || overtook) {
            throw this.retriableFailure(
                job,
                `${topic} ${eventId} (order ${orderCode}): hub answered ${response.status}, ${attempt}: ${excerpt}`,
                lastAttempt,
            );
        }
        // Any other answer (4xx, or a 3xx: redirects are not followed) will not get better by retrying.
        this.forget(job);
        Logger.error(
            `${topic} ${eventId} (order ${orderCode}) refused by the hub with ${response.status}, not retried: ${excerpt}`,
            loggerCtx,
        );
        return { delivered: false, refused: true, status: response.status, response: excerpt };
    }

    private retriableFailure(job: Job<PoshubWebhookJobData>, message: string, lastAttempt: boolean): Error {
        const key = job.id === null ? undefined : String(job.id);
        if (key !== undefined) {
            if (lastAttempt) {
                lastFailures.delete(key);
            } else {
                if (lastFailures.size >= MAX_TRACKED_FAILURES) {
                    const oldest = lastFailures.keys().next();
                    if (!oldest.done) {
                        lastFailures.delete(oldest.value);
                    }
                }
                lastFailures.set(key, Date.now());
            }
        }
        this.logFailure(message, lastAttempt);
        return new Error(message);
    }

    private forget(job: Job<PoshubWebhookJobData>): void {
        if (job.id !== null) {
            lastFailures.delete(String(job.id));
        }
    }

    private logFailure(message: string, lastAttempt: boolean): void {
        if (lastAttempt) {
            Logger.error(`${message}; giving up`, loggerCtx);
        } else {
            Logger.warn(`${message}; will retry`, loggerCtx);
        }
    }
}

function describeFetchError(e: unknown): string {
    if (e instanceof Error) {
        if (e.name === 'TimeoutError') {
            return 'timed out';
        }
        const cause = (e as Error & { cause?: unknown }).cause;
        if (cause instanceof Error) {
            return `${e.message} (${cause.message})`;
        }
        return e.message;
    }
    return String(e);
}

