#!/usr/bin/env node
// A drop-in for Prisma's native `schema-engine` binary, built on the WebAssembly build of the same
// engine (@prisma/schema-engine-wasm, pinned to the CLI's engine commit) and @prisma/adapter-pg.
// The Prisma CLI runs it through PRISMA_SCHEMA_ENGINE_BINARY, so it never downloads an engine.
// It speaks the binary's three faces: `--version`, `cli <command>` and JSON-RPC on stdio.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { parse as parseConnectionString } from 'pg-connection-string';
import pg from 'pg';

// wasm-bindgen's panic hook reports the panic message here before the trap surfaces as an error.
let lastPanicMessage = null;
globalThis.PRISMA_WASM_PANIC_REGISTRY = {
  set_message(message) {
    lastPanicMessage = message;
  },
};

const { values: flags, positionals } = parseArgs({
  options: {
    datamodels: { type: 'string', multiple: true },
    datasource: { type: 'string' },
    'enabled-preview-features': { type: 'string' },
    'extension-types': { type: 'string' },
    version: { type: 'boolean', short: 'V' },
  },
  allowPositionals: true,
});

await loadWasm();

if (flags.version) {
  process.stdout.write(`schema-engine-cli ${engineBindings.version()}\n`);
} else if (positionals[0] === 'cli') {
  process.exitCode = await runCliCommand(positionals[1]);
} else {
  await serveJsonRpc();
}

async function loadWasm() {
  // Node 20 cannot `import` a .wasm file, so instantiate it next to its JS glue by hand.
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bytes = await readFile(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, {
    './schema_engine_bg.js': engineBindings,
  });
  engineBindings.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
}

function datasourceUrl() {
  const datasource = flags.datasource ? JSON.parse(flags.datasource) : {};
  if (datasource.shadowDatabaseUrl) {
    throw new Error(
      'shadowDatabaseUrl is not supported here: the engine creates and drops its own shadow database',
    );
  }
  const url = datasource.url ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no datasource url: set datasource.url in prisma.config.ts');
  return url;
}

/**
 * pg ignores Prisma's `?schema=` parameter, so it becomes the search_path (for the migration SQL)
 * and the adapter's schema (for the engine's own queries and introspection). The config is
 * returned parsed, without connectionString: adapter-pg derives the shadow database's pool by
 * overriding `database`, which a connectionString would silently win over.
 */
function postgresTarget(url) {
  const { schema, ...config } = parseConnectionString(url);
  if (schema) config.options = `-c search_path="${schema}"`;
  return { config, schema: schema ?? undefined };
}

// ---- `schema-engine --datasource <json> cli <command>` ----------------------------------------

async function runCliCommand(command) {
  // The CLI skips the first stderr line (the native binary's start-up banner) and parses the rest.
  writeLogLine('INFO', { message: `Starting schema engine CLI (${command})` });
  try {
    const { config } = postgresTarget(datasourceUrl());
    if (command === 'can-connect-to-database') await canConnect(config);
    else if (command === 'create-database') await createDatabase(config);
    else throw Object.assign(new Error(`unsupported cli command: ${command}`), { code: 'P1000' });
    return 0;
  } catch (error) {
    // The CLI looks for the ERROR line from schema_engine::logger.
    writeLogLine('ERROR', { message: error.message, error_code: error.code });
    return 1;
  }
}

function writeLogLine(level, fields) {
  const line = { level, target: 'schema_engine::logger', fields };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

async function canConnect(config) {
  const client = new pg.Client(config);
  try {
    await client.connect();
  } catch (error) {
    throw describeConnectError(error, config);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createDatabase(config) {
  // CREATE DATABASE has to run from another database; `postgres` exists on every server.
  const client = new pg.Client({ ...config, database: 'postgres', options: undefined });
  try {
    await client.connect();
  } catch (error) {
    throw describeConnectError(error, config);
  }
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(config.database)}`);
    return config.database;
  } catch (error) {
    if (error.code === '42P04') {
      throw Object.assign(new Error(`Database \`${config.database}\` already exists`), {
        code: 'P1009',
      });
    }
    throw Object.assign(new Error(error.message), { code: 'P1000' });
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Maps connection failures to the Prisma error codes the CLI acts on (P1003 triggers creation).
function describeConnectError(error, config) {
  const server = `${config.host}:${config.port ?? 5432}`;
  if (error.code === '3D000') {
    const message = `Database \`${config.database}\` does not exist on the database server at \`${server}\`.`;
    return Object.assign(new Error(message), { code: 'P1003' });
  }
  if (error.code === '28P01' || error.code === '28000') {
    return Object.assign(new Error(`Authentication failed against ${server}`), { code: 'P1000' });
  }
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' || error.code === 'ETIMEDOUT') {
    return Object.assign(new Error(`Can't reach database server at \`${server}\``), {
      code: 'P1001',
    });
  }
  return Object.assign(new Error(error.message), { code: 'P1000' });
}

// ---- JSON-RPC 2.0 on stdio, one message per line ----------------------------------------------

async function serveJsonRpc() {
  let engine = null;
  let printId = 0;

  async function startEngine() {
    const { config, schema } = postgresTarget(datasourceUrl());
    if (schema) await ensureSchema(config, schema);
    const adapterFactory = bindMigrationAwareSqlAdapterFactory(new PrismaPg(config, { schema }));
    const datamodels = await Promise.all(
      (flags.datamodels ?? []).map(async (file) => [file, await readFile(file, 'utf8')]),
    );
    return engineBindings.SchemaEngine.new(
      { datamodels: datamodels.length > 0 ? datamodels : undefined },
      (log) => process.stderr.write(`${log}\n`),
      adapterFactory,
    );
  }

  function send(message) {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  }

  async function dispatch(method, params) {
    // The wasm build has no createDatabase; the CLI only calls it with a connection string.
    if (method === 'createDatabase') {
      const url = params.datasource?.tag === 'ConnectionString' ? params.datasource.url : null;
      const databaseName = await createDatabase(postgresTarget(url ?? datasourceUrl()).config);
      return { databaseName };
    }
    engine ??= await startEngine();
    // Call through the instance: a detached method loses its binding to the wasm object.
    if (method === 'getDatabaseVersion') return engine.version(params);
    if (method === 'diff') {
      const { stdout, ...result } = await engine.diff(params);
      // The native engine hands the diff to the CLI as a `print` request; do the same.
      if (stdout)
        send({
          jsonrpc: '2.0',
          id: `print-${++printId}`,
          method: 'print',
          params: { content: stdout.replace(/\n$/, '') },
        });
      return { ...result, stdout: null };
    }
    if (typeof engine[method] !== 'function' || method === 'free') {
      throw Object.assign(new Error(`unknown schema engine method: ${method}`), {
        rpcCode: -32601,
      });
    }
    return engine[method](params);
  }

  function errorPayload(error) {
    if (error instanceof WebAssembly.RuntimeError) {
      const message = lastPanicMessage ?? error.message;
      return { code: 4466, message, data: { is_panic: true, message, error: { message } } };
    }
    const data = { message: error.message };
    if (typeof error.code === 'string') {
      data.error_code = error.code;
      data.meta = error.meta;
    }
    return { code: error.rpcCode ?? 4466, message: error.message, data };
  }

  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const message = JSON.parse(line);
    // Acknowledgements of our own `print` requests carry no method.
    if (message.method === undefined) continue;
    try {
      const result = await dispatch(message.method, message.params);
      send({ jsonrpc: '2.0', id: message.id, result: result ?? {} });
    } catch (error) {
      send({ jsonrpc: '2.0', id: message.id, error: errorPayload(error) });
    }
  }

  engine?.free();
  // adapter-pg leaves its pools open; the CLI waits for this process to exit.
  process.exit(0);
}

async function ensureSchema(config, schema) {
  const client = new pg.Client(config);
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
  } finally {
    await client.end();
  }
}
