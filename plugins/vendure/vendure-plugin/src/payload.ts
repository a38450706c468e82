import type { Customer, Order, OrderLine, Payment, Refund, ShippingLine, Surcharge } from '@vendure/core';

import type { Json, PoshubTopic } from './types';

/**
 * Builds the webhook body. Field names follow Vendure's GraphQL Admin API types
 * (`Order`, `OrderLine`, `ShippingLine`, `Payment`, `Refund`, ...); money is Vendure's
 * integer in minor units exactly as the entity getters give it; ids are strings;
 * dates are ISO 8601.
 */

const ADDRESS_FIELDS = [
    'fullName',
    'company',
    'streetLine1',
    'streetLine2',
    'city',
    'province',
    'postalCode',
    'country',
    'countryCode',
    'phoneNumber',
] as const;

function id(value: unknown): string | null {
    return value === null || value === undefined ? null : String(value);
}

function date(value: Date | string | null | undefined): string | null {
    if (value === null || value === undefined) {
        return null;
    }
    return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function str(value: string | null | undefined): string | null {
    return value === undefined ? null : value;
}

/** JSON-clean copy of a plain value (drops undefined, turns Dates into strings). */
function plain(value: unknown): Json {
    if (value === undefined) {
        return null;
    }
    return JSON.parse(JSON.stringify(value)) as Json;
}

function address(value: unknown): Json {
    if (!value || typeof value !== 'object') {
        return null;
    }
    const source = value as Record<string, unknown>;
    const out: { [key: string]: Json } = {};
    for (const field of ADDRESS_FIELDS) {
        const v = source[field];
        out[field] = typeof v === 'string' ? v : v === undefined || v === null ? null : String(v);
    }
    if (source.customFields !== undefined && source.customFields !== null) {
        out.customFields = plain(source.customFields);
    }
    return out;
}

function customer(value: Customer | undefined | null): Json {
    if (!value) {
        return null;
    }
    return {
        id: id(value.id),
        firstName: str(value.firstName),
        lastName: str(value.lastName),
        emailAddress: str(value.emailAddress),
        phoneNumber: str(value.phoneNumber),
    };
}

function line(value: OrderLine): Json {
    const variant = value.productVariant;
    return {
        id: id(value.id),
        quantity: value.quantity,
        orderPlacedQuantity: value.orderPlacedQuantity,
        unitPrice: value.unitPrice,
        unitPriceWithTax: value.unitPriceWithTax,
        discountedUnitPrice: value.discountedUnitPrice,
        discountedUnitPriceWithTax: value.discountedUnitPriceWithTax,
        proratedUnitPrice: value.proratedUnitPrice,
        proratedUnitPriceWithTax: value.proratedUnitPriceWithTax,
        linePrice: value.linePrice,
        linePriceWithTax: value.linePriceWithTax,
        lineTax: value.lineTax,
        discountedLinePrice: value.discountedLinePrice,
        discountedLinePriceWithTax: value.discountedLinePriceWithTax,
        proratedLinePrice: value.proratedLinePrice,
        proratedLinePriceWithTax: value.proratedLinePriceWithTax,
        taxRate: value.taxRate,
        taxLines: plain(value.taxLines ?? []),
        discounts: plain(value.discounts),
        productVariant: variant
            ? { id: id(variant.id), sku: str(variant.sku), name: str(variant.name) }
            : { id: id(value.productVariantId), sku: null, name: null },
    };
}

function translatedName(entity: { name?: string; translations?: Array<{ languageCode: string; name: string }> }, languageCode: string): string | null {
    if (typeof entity.name === 'string') {
        return entity.name;
    }
    const translations = entity.translations ?? [];
    const match = translations.find(t => t.languageCode === languageCode) ?? translations[0];
    return match ? match.name : null;
}

function shippingLine(value: ShippingLine, languageCode: string): Json {
    const method = value.shippingMethod;
    return {
        id: id(value.id),
        shippingMethod: method
            ? { id: id(method.id), code: str(method.code), name: translatedName(method, languageCode) }
            : { id: id(value.shippingMethodId), code: null, name: null },
        price: value.price,
        priceWithTax: value.priceWithTax,
        discountedPrice: value.discountedPrice,
        discountedPriceWithTax: value.discountedPriceWithTax,
        discounts: plain(value.discounts),
    };
}

function surcharge(value: Surcharge): Json {
    return {
        id: id(value.id),
        description: str(value.description),
        sku: str(value.sku),
        price: value.price,
        priceWithTax: value.priceWithTax,
        taxRate: value.taxRate,
    };
}

function payment(value: Payment): Json {
    return {
        id: id(value.id),
        method: str(value.method),
        amount: value.amount,
        state: value.state,
        transactionId: str(value.transactionId),
        errorMessage: str(value.errorMessage),
        createdAt: date(value.createdAt),
    };
}

export function orderToJson(order: Order, pricesIncludeTax: boolean, languageCode: string): Json {
    const byId = (a: { id: unknown }, b: { id: unknown }) => Number(a.id) - Number(b.id) || String(a.id).localeCompare(String(b.id));
    return {
        id: id(order.id),
        code: order.code,
        state: order.state,
        active: order.active,
        orderPlacedAt: date(order.orderPlacedAt),
        createdAt: date(order.createdAt),
        updatedAt: date(order.updatedAt),
        currencyCode: order.currencyCode,
        pricesIncludeTax,
        couponCodes: plain(order.couponCodes ?? []),
        totalQuantity: order.totalQuantity,
        subTotal: order.subTotal,
        subTotalWithTax: order.subTotalWithTax,
        shipping: order.shipping,
        shippingWithTax: order.shippingWithTax,
        total: order.total,
        totalWithTax: order.totalWithTax,
        customer: customer(order.customer),
        shippingAddress: address(order.shippingAddress),
        billingAddress: address(order.billingAddress),
        lines: order.lines.map(line),
        shippingLines: [...(order.shippingLines ?? [])].sort(byId).map(l => shippingLine(l, languageCode)),
        surcharges: [...(order.surcharges ?? [])].sort(byId).map(surcharge),
        discounts: plain(order.discounts),
        taxSummary: plain(order.taxSummary),
        payments: [...(order.payments ?? [])].sort(byId).map(payment),
    };
}

export function refundToJson(refund: Refund): Json {
    return {
        id: id(refund.id),
        paymentId: id(refund.paymentId),
        total: refund.total,
        items: refund.items,
        shipping: refund.shipping,
        adjustment: refund.adjustment,
        reason: str(refund.reason),
        method: str(refund.method),
        state: refund.state,
        transactionId: str(refund.transactionId),
        lines: [...(refund.lines ?? [])]
            .sort((a, b) => Number(a.orderLineId) - Number(b.orderLineId))
            .map(l => ({ orderLineId: id(l.orderLineId), quantity: l.quantity })),
        createdAt: date(refund.createdAt),
        updatedAt: date(refund.updatedAt),
    };
}

export interface EnvelopeInput {
    topic: PoshubTopic;
    eventId: string;
    occurredAt: Date;
    order: Json;
    refund?: Json;
    cancellationReason?: string | null;
}

export function envelope(input: EnvelopeInput): string {
    const body: { [key: string]: Json } = {
        event: input.topic,
        eventId: input.eventId,
        occurredAt: input.occurredAt.toISOString(),
        order: input.order,
    };
    if (input.topic === 'orders/cancelled') {
        body.cancellationReason = input.cancellationReason ?? null;
    }
    if (input.refund !== undefined) {
        body.refund = input.refund;
    }
    return JSON.stringify(body);
}
