'use strict';
/*
 * A real Vendure server for poshub's tests. See README.md in this folder.
 *
 * env: VENDURE_PORT (required), VENDURE_DB (required: file of the sql.js database),
 *      POSHUB_HUB_URL, POSHUB_STORE, POSHUB_WEBHOOK_SECRET (required: where the plugin posts),
 *      POSHUB_RETRY_DELAY_MS, POSHUB_RETRIES, POSHUB_TIMEOUT_MS (optional),
 *      VENDURE_LOG (optional: error|warn (default)|info|verbose|debug).
 *
 * First start (no VENDURE_DB file): creates the schema and the demo catalogue.
 * Any start: prints one line `POSHUB_VENDURE_READY {json}` to stdout when it serves.
 * Vendure's own logs go to stderr.
 */
const fs = require('fs');
const path = require('path');

// Nothing here may reach the internet: Vendure's anonymous telemetry is on by default.
process.env.VENDURE_DISABLE_TELEMETRY = 'true';

const READY_PREFIX = 'POSHUB_VENDURE_READY';
const SUPERADMIN = { identifier: 'superadmin', password: 'superadmin' };
const started = Date.now();

/** Files to delete if this start fails (a half-made database must not pass for a restart). */
const removeOnFailure = [];

function fail(message, error) {
    process.stderr.write(`vendure test bed: ${message}${error ? `: ${error.stack || error}` : ''}\n`);
    for (const file of removeOnFailure) {
        try {
            fs.rmSync(file, { force: true });
        } catch {
            // ignore
        }
    }
    process.exit(1);
}

function env(name, { required = false, fallback } = {}) {
    const value = process.env[name];
    if (value === undefined || value === '') {
        if (required) {
            fail(`${name} is required`);
        }
        return fallback;
    }
    return value;
}

function intEnv(name, fallback) {
    const raw = env(name);
    if (raw === undefined) {
        return fallback;
    }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) {
        fail(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    }
    return value;
}

const port = intEnv('VENDURE_PORT', undefined);
if (port === undefined || port < 1 || port > 65535) {
    fail('VENDURE_PORT is required (1-65535)');
}
const dbPath = path.resolve(env('VENDURE_DB', { required: true }));
const hubUrl = env('POSHUB_HUB_URL', { required: true });
const storeCode = env('POSHUB_STORE', { required: true });
const webhookSecret = env('POSHUB_WEBHOOK_SECRET', { required: true });
const retryDelayMs = intEnv('POSHUB_RETRY_DELAY_MS', undefined);
const retries = intEnv('POSHUB_RETRIES', undefined);
const timeoutMs = intEnv('POSHUB_TIMEOUT_MS', undefined);
const logLevelName = (env('VENDURE_LOG', { fallback: 'warn' }) || 'warn').toLowerCase();
const apiKeyFile = `${dbPath}.apikey.json`;

const pluginBuild = path.join(__dirname, 'build', 'poshub-plugin', 'index.js');
if (!fs.existsSync(pluginBuild)) {
    fail(`${pluginBuild} is missing: run ${path.join(__dirname, 'setup')} first`);
}
let core;
try {
    core = require('@vendure/core');
} catch (e) {
    fail(`cannot load @vendure/core (run ${path.join(__dirname, 'setup')})`, e);
}
const {
    bootstrap,
    ChannelService,
    DefaultJobQueuePlugin,
    dummyPaymentHandler,
    Importer,
    JobQueueService,
    LanguageCode,
    LogLevel,
    Populator,
    RequestContextService,
} = core;
const { PoshubPlugin } = require(pluginBuild);

/** Vendure logs to stderr, so that stdout carries only the READY line. */
const LEVELS = { error: LogLevel.Error, warn: LogLevel.Warn, info: LogLevel.Info, verbose: LogLevel.Verbose, debug: LogLevel.Debug };
if (!(logLevelName in LEVELS)) {
    fail(`VENDURE_LOG must be one of ${Object.keys(LEVELS).join(', ')}, got ${JSON.stringify(logLevelName)}`);
}
const logLevel = LEVELS[logLevelName];
function write(level, label, message, context, trace) {
    if (logLevel < level) {
        return;
    }
    const text = message instanceof Error ? message.message : String(message);
    process.stderr.write(`${new Date().toISOString()} ${label} [${context || 'Vendure'}] ${text}${trace ? `\n${trace}` : ''}\n`);
}
const stderrLogger = {
    error: (m, c, t) => write(LogLevel.Error, 'error', m, c, t),
    warn: (m, c) => write(LogLevel.Warn, 'warn', m, c),
    info: (m, c) => write(LogLevel.Info, 'info', m, c),
    verbose: (m, c) => write(LogLevel.Verbose, 'verbose', m, c),
    debug: (m, c) => write(LogLevel.Debug, 'debug', m, c),
};

const firstStart = !fs.existsSync(dbPath);
if (firstStart) {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    removeOnFailure.push(dbPath, apiKeyFile);
}

let config;
try {
    config = {
        apiOptions: {
            hostname: '127.0.0.1',
            port,
            adminApiPath: 'admin-api',
            shopApiPath: 'shop-api',
            adminApiPlayground: false,
            shopApiPlayground: false,
            adminApiDebug: false,
            shopApiDebug: false,
        },
        authOptions: {
            tokenMethod: ['bearer', 'api-key'],
            requireVerification: false,
            superadminCredentials: SUPERADMIN,
            cookieOptions: { secret: 'poshub-vendure-test-bed' },
        },
        dbConnectionOptions: {
            type: 'sqljs',
            location: dbPath,
            autoSave: true,
            // sql.js rewrites the whole database file on every change. Written in
            // place, a SIGKILL during the write (the harness's "Vendure down")
            // left a truncated file, which the restart read as an empty database.
            // A temporary file renamed over the old one is all or nothing.
            autoSaveCallback: data => {
                const tmp = `${dbPath}.saving`;
                fs.writeFileSync(tmp, data);
                fs.renameSync(tmp, dbPath);
            },
            synchronize: true,
            logging: false,
        },
        paymentOptions: {
            paymentMethodHandlers: [dummyPaymentHandler],
        },
        logger: stderrLogger,
        plugins: [
            DefaultJobQueuePlugin.init({ pollInterval: 100, useDatabaseForBuffer: false }),
            PoshubPlugin.init({
                hubUrl,
                storeCode,
                webhookSecret,
                ...(retries !== undefined ? { retries } : {}),
                ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
                ...(timeoutMs !== undefined ? { timeoutMs } : {}),
            }),
        ],
    };
} catch (e) {
    fail('bad configuration', e);
}

/** The hub's demo catalogue (core/server/src/demo.rs): SKUs are the hub's reference codes. */
const INITIAL_DATA = {
    defaultLanguage: LanguageCode.en,
    defaultZone: 'India',
    countries: [{ name: 'India', code: 'IN', zone: 'India' }],
    taxRates: [
        { name: 'GST 5%', percentage: 5 },
        { name: 'GST 12%', percentage: 12 },
    ],
    // The rate of Vendure's default shipping calculator is in minor units: 5000 = 50.00 INR.
    shippingMethods: [{ name: 'Standard Shipping', price: 5000 }],
    paymentMethods: [
        {
            name: 'Standard Payment',
            handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'true' }] },
        },
    ],
    collections: [],
};
const COLORS = ['Red', 'Blue', 'Black'];
const SIZES = ['S', 'M', 'L'];
const TEE_SKUS = COLORS.flatMap(c => SIZES.map(s => `TEE-${c}-${s}`));
const ALL_SKUS = [...TEE_SKUS, 'MUG', 'NOTEBOOK'];

function productsCsv() {
    const header = 'name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets';
    const rows = [header];
    TEE_SKUS.forEach((sku, i) => {
        const [, color, size] = sku.split('-');
        const product = i === 0 ? 'Cotton T-shirt,cotton-t-shirt,Cotton T-shirt,,,color|size' : ',,,,,';
        rows.push(`${product},${color}|${size},${sku},599.00,GST 5%,0,true,,`);
    });
    rows.push('Coffee mug,coffee-mug,Coffee mug,,,,,MUG,249.00,GST 12%,0,true,,');
    rows.push('A5 notebook,a5-notebook,A5 notebook,,,,,NOTEBOOK,129.00,GST 12%,0,true,,');
    return rows.join('\n') + '\n';
}

async function populate(app) {
    const requestContextService = app.get(RequestContextService);
    const channelService = app.get(ChannelService);
    const ctx = await requestContextService.create({ apiType: 'admin' });
    const channel = await channelService.getDefaultChannel(ctx);
    await channelService.update(ctx, {
        id: channel.id,
        defaultCurrencyCode: 'INR',
        availableCurrencyCodes: ['INR'],
        pricesIncludeTax: true,
        trackInventory: true,
    });
    await app.get(Populator).populateInitialData(INITIAL_DATA);
    const importCtx = await requestContextService.create({ apiType: 'admin', languageCode: LanguageCode.en });
    const result = await new Promise((resolve, reject) => {
        let last;
        app.get(Importer)
            .parseAndImport(productsCsv(), importCtx, false)
            .subscribe({ next: p => (last = p), error: reject, complete: () => resolve(last) });
    });
    if (result.errors && result.errors.length) {
        throw new Error(`product import failed: ${result.errors.join('; ')}`);
    }
}

async function graphql(document, variables, headers = {}) {
    const response = await fetch(`http://127.0.0.1:${port}/admin-api`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: document, variables }),
    });
    const text = await response.text();
    let json;
    try {
        json = JSON.parse(text);
    } catch {
        throw new Error(`admin-api answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return { status: response.status, headers: response.headers, json };
}

async function adminWith(apiKey, document, variables) {
    const { status, json } = await graphql(document, variables, { 'vendure-api-key': apiKey });
    if (json.errors) {
        throw new Error(`admin-api ${status}: ${JSON.stringify(json.errors)}`);
    }
    return json.data;
}

async function createApiKey() {
    const login = await graphql(
        `mutation Login($username: String!, $password: String!) {
            login(username: $username, password: $password) {
                __typename
                ... on CurrentUser { id identifier }
                ... on ErrorResult { errorCode message }
            }
        }`,
        { username: SUPERADMIN.identifier, password: SUPERADMIN.password },
    );
    const token = login.headers.get('vendure-auth-token');
    if (login.json.errors || login.json.data.login.__typename !== 'CurrentUser' || !token) {
        throw new Error(`superadmin login failed: ${JSON.stringify(login.json)}`);
    }
    const auth = { authorization: `Bearer ${token}` };
    const roles = await graphql(
        `query { roles(options: { filter: { code: { eq: "__super_admin_role__" } } }) { items { id code } } }`,
        {},
        auth,
    );
    const role = roles.json.data && roles.json.data.roles.items[0];
    if (!role) {
        throw new Error(`SuperAdmin role not found: ${JSON.stringify(roles.json)}`);
    }
    const created = await graphql(
        `mutation CreateApiKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey entityId } }`,
        { input: { roleIds: [role.id], translations: [{ languageCode: 'en', name: 'poshub tests' }] } },
        auth,
    );
    if (created.json.errors) {
        throw new Error(`createApiKey failed: ${JSON.stringify(created.json.errors)}`);
    }
    return created.json.data.createApiKey;
}

async function apiKeyWorks(apiKey) {
    const { json } = await graphql(`query { activeChannel { id } }`, {}, { 'vendure-api-key': apiKey });
    return !json.errors && !!(json.data && json.data.activeChannel);
}

async function obtainApiKey() {
    if (fs.existsSync(apiKeyFile)) {
        try {
            const stored = JSON.parse(fs.readFileSync(apiKeyFile, 'utf8'));
            if (stored.apiKey && (await apiKeyWorks(stored.apiKey))) {
                return stored.apiKey;
            }
        } catch (e) {
            stderrLogger.warn(`ignoring ${apiKeyFile}: ${e.message}`, 'test bed');
        }
    }
    const created = await createApiKey();
    fs.writeFileSync(apiKeyFile, JSON.stringify({ apiKey: created.apiKey, entityId: created.entityId }) + '\n', {
        mode: 0o600,
    });
    return created.apiKey;
}

async function readyInfo(apiKey) {
    const data = await adminWith(
        apiKey,
        `query Ready($skus: [String!]!) {
            stockLocations(options: { sort: { id: ASC } }) { items { id name } }
            productVariants(options: { take: 100, filter: { sku: { in: $skus } } }) { items { id sku } }
            activeChannel { defaultCurrencyCode availableCurrencyCodes pricesIncludeTax }
            shippingMethods { items { code } }
            paymentMethods { items { code enabled } }
            taxRates { items { value enabled category { name } zone { name } } }
        }`,
        { skus: ALL_SKUS },
    );
    const problems = [];
    const channel = data.activeChannel;
    if (channel.defaultCurrencyCode !== 'INR' || channel.availableCurrencyCodes.join() !== 'INR' || !channel.pricesIncludeTax) {
        problems.push(`channel is ${JSON.stringify(channel)}`);
    }
    if (!data.shippingMethods.items.some(m => m.code === 'standard-shipping')) {
        problems.push('shipping method standard-shipping is missing');
    }
    if (!data.paymentMethods.items.some(m => m.code === 'standard-payment' && m.enabled)) {
        problems.push('payment method standard-payment is missing');
    }
    for (const [name, value] of [['GST 5%', 5], ['GST 12%', 12]]) {
        if (!data.taxRates.items.some(r => r.enabled && r.value === value && r.category.name === name && r.zone.name === 'India')) {
            problems.push(`tax rate ${name} in zone India is missing`);
        }
    }
    if (problems.length) {
        throw new Error(`the catalogue is not the demo one: ${problems.join('; ')}`);
    }
    const locations = data.stockLocations.items;
    const location = locations.find(l => l.name === 'Default Stock Location') || locations[0];
    if (!location) {
        throw new Error('no stock location');
    }
    const variants = {};
    for (const sku of ALL_SKUS) {
        const found = data.productVariants.items.find(v => v.sku === sku);
        if (!found) {
            throw new Error(`variant ${sku} not found; is ${dbPath} a database of this test bed?`);
        }
        variants[sku] = found.id;
    }
    return { port, apiKey, stockLocationId: location.id, variants };
}

async function main() {
    let app;
    try {
        app = await bootstrap(config);
    } catch (e) {
        fail(`Vendure did not start on 127.0.0.1:${port}`, e);
    }
    const stop = signal => {
        stderrLogger.info(`${signal}: stopping`, 'test bed');
        const timer = setTimeout(() => process.exit(0), 5000);
        timer.unref();
        app.close().then(
            () => process.exit(0),
            () => process.exit(0),
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    try {
        if (firstStart) {
            await populate(app);
        }
        // The server process also runs the job queue (one process, one sql.js database).
        await app.get(JobQueueService).start();
        const apiKey = await obtainApiKey();
        const info = await readyInfo(apiKey);
        stderrLogger.info(
            `${firstStart ? 'populated and ' : ''}ready in ${Date.now() - started} ms`,
            'test bed',
        );
        removeOnFailure.length = 0;
        process.stdout.write(`${READY_PREFIX} ${JSON.stringify(info)}\n`);
    } catch (e) {
        if (firstStart) {
            try {
                await app.close();
            } catch {
                // ignore
            }
        }
        fail(firstStart ? 'populating the demo catalogue failed' : 'startup failed', e);
    }
}

process.on('unhandledRejection', e => {
    stderrLogger.error(`unhandled rejection: ${e && e.stack ? e.stack : e}`, 'test bed');
});

main();
