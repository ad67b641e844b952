#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The peer relay of the benchmark (tests/bench/README.md, "The peer"):
// what a competent Node.js team would write instead of outbox-relay, from
// npm's parts. zongji reads the binlog as a replica; every INSERT into the
// outbox table becomes a Kafka record with the same mapping as the relay's
// (topic outbox.event.${aggregatetype}, key aggregateid, value payload,
// headers id, type and outbox-position FILE:OFFSET:ROW); kafkajs produces
// them with an idempotent producer (acks=-1).
//
//   - batching: records accumulate while a batch is in flight and go out
//     together with one sendBatch (one Produce request per broker), at
//     most --batch records per request; one request in flight at a time,
//     as kafkajs's idempotent producer requires;
//   - backpressure: when more than --max-pending records are accumulated
//     or in flight, the binlog connection is paused (socket reads stop,
//     so MariaDB's sender blocks) and resumed below half of that;
//   - delivery reports: a record counts as delivered when its sendBatch
//     resolved; a failed batch is retried (kafkajs already retries inside)
//     and, failing still, stops the process: nothing is skipped;
//   - a checkpoint file (--checkpoint): the binlog position after the last
//     acknowledged batch, written (tmp, fsync, rename) every second, and
//     read at start when no --binlog-file is given.
//
// Progress: "peer: streaming" when zongji is connected, then once a second
// "peer: delivered N pending M position FILE:POS" on stdout.
//
//   node peer-relay.mjs --port 3306 --brokers 127.0.0.1:9092
//        [--host 127.0.0.1] [--user root] [--password PW] [--server-id 78]
//        [--schema shop] [--table outbox] [--binlog-file F --binlog-pos N]
//        [--batch 10000] [--max-pending 50000] [--checkpoint FILE]
import { parseArgs } from 'node:util';
import { open, rename, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import ZongJi from '@powersync/mysql-zongji';
import { Kafka, logLevel } from 'kafkajs';

// The one concession to the test setup: librdkafka's mock names a
// controller (id 0) that is not among its brokers (ids 1..N), and kafkajs
// asks the controller for the idempotent producer's id. As kafkajs's own
// comment says, without transactions any broker may answer; against real
// Kafka the controller is found and this fallback never runs.
const Cluster = createRequire(import.meta.url)('kafkajs/src/cluster/index.js');
const findController = Cluster.prototype.findControllerBroker;
Cluster.prototype.findControllerBroker = async function findControllerOrAny() {
  try {
    return await findController.call(this);
  } catch (err) {
    const brokers = this.brokerPool.metadata?.brokers ?? [];
    if (err.name !== 'KafkaJSBrokerNotFound' || brokers.length === 0) throw err;
    return await this.findBroker({ nodeId: brokers[0].nodeId });
  }
};

const { values: opt } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3306' },
    user: { type: 'string', default: 'root' },
    password: { type: 'string', default: '' },
    'server-id': { type: 'string', default: '78' },
    schema: { type: 'string', default: 'shop' },
    table: { type: 'string', default: 'outbox' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    'binlog-file': { type: 'string' },
    'binlog-pos': { type: 'string', default: '4' },
    batch: { type: 'string', default: '10000' },
    'max-pending': { type: 'string', default: '50000' },
    checkpoint: { type: 'string' },
  },
});
const BATCH = Number(opt.batch);
const MAX_PENDING = Number(opt['max-pending']);
const log = (...a) => console.log('peer:', ...a);

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'; // the default (murmur2, Java's) is wanted
const kafka = new Kafka({
  clientId: 'peer-relay',
  brokers: opt.brokers.split(','),
  logLevel: logLevel.WARN,
});
const producer = kafka.producer({
  idempotent: true, // acks=-1, retries unbounded, sequence numbers
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
});

let queued = []; // records not yet handed to kafkajs: {topic, message}
let queuedPos = null; // binlog position after the last queued row event
let inFlight = 0; // records of the batch being sent
let delivered = 0; // records acknowledged
let ackedPos = null; // position after the last acknowledged batch
let sending = false;
let paused = false;
let failed = false;
let zongji;

const pending = () => queued.length + inFlight;

function pause() {
  if (!paused && pending() > MAX_PENDING) {
    paused = true;
    zongji.connection.pause();
  }
}

function resume() {
  if (paused && pending() <= MAX_PENDING / 2) {
    paused = false;
    zongji.connection.resume();
  }
}

// One sendBatch at a time; what arrives meanwhile makes the next batch.
async function pump() {
  if (sending) return;
  sending = true;
  try {
    while (queued.length > 0) {
      const batch = queued.length > BATCH ? queued.slice(0, BATCH) : queued;
      queued = queued.length > BATCH ? queued.slice(BATCH) : [];
      const pos = queued.length === 0 ? queuedPos : null;
      const byTopic = new Map();
      for (const r of batch) {
        let msgs = byTopic.get(r.topic);
        if (!msgs) byTopic.set(r.topic, (msgs = []));
        msgs.push(r.message);
      }
      const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      inFlight = batch.length;
      await producer.sendBatch({ acks: -1, topicMessages });
      delivered += batch.length;
      inFlight = 0;
      if (pos) ackedPos = pos;
      resume();
    }
  } catch (err) {
    failed = true;
    console.error('peer: delivery failed, stopping:', err);
    process.exit(1);
  } finally {
    sending = false;
  }
}

function onBinlog(evt) {
  const name = evt.getEventName();
  if (name !== 'writerows') return;
  const file = zongji.options.filename;
  // where the event starts: zongji's size is the length less the header
  // (19 bytes) and the checksum (4) when there is one
  const offset = evt.nextPosition - evt.size - (zongji.useChecksum ? 23 : 19);
  evt.rows.forEach((row, i) => {
    queued.push({
      topic: `outbox.event.${row.aggregatetype}`,
      message: {
        key: row.aggregateid,
        value: row.payload,
        headers: { id: row.id, type: row.type, 'outbox-position': `${file}:${offset}:${i}` },
      },
    });
  });
  queuedPos = { file, pos: evt.nextPosition };
  pause();
  if (!sending) setImmediate(pump); // let the socket's other events in first
}

async function readCheckpoint() {
  if (!opt.checkpoint) return null;
  try {
    const [file, pos] = (await readFile(opt.checkpoint, 'utf8')).trim().split(':');
    return { file, pos: Number(pos) };
  } catch {
    return null;
  }
}

let written = null;
async function writeCheckpoint() {
  if (!opt.checkpoint || !ackedPos || ackedPos === written) return;
  const pos = ackedPos;
  const tmp = `${opt.checkpoint}.tmp`;
  const fh = await open(tmp, 'w');
  await fh.writeFile(`${pos.file}:${pos.pos}\n`);
  await fh.sync();
  await fh.close();
  await rename(tmp, opt.checkpoint);
  written = pos;
}

async function main() {
  await producer.connect();
  const cp = opt['binlog-file']
    ? { file: opt['binlog-file'], pos: Number(opt['binlog-pos']) }
    : await readCheckpoint();
  zongji = new ZongJi({
    host: opt.host,
    port: Number(opt.port),
    user: opt.user,
    password: opt.password,
  });
  zongji.on('error', (err) => {
    console.error('peer: binlog error, stopping:', err);
    process.exit(1);
  });
  zongji.on('ready', () => log('streaming'));
  zongji.on('binlog', onBinlog);
  zongji.start({
    serverId: Number(opt['server-id']),
    includeEvents: ['rotate', 'tablemap', 'writerows'],
    includeSchema: { [opt.schema]: [opt.table] },
    ...(cp ? { filename: cp.file, position: cp.pos } : { startAtEnd: true }),
  });
  const timer = setInterval(() => {
    const p = ackedPos ? `${ackedPos.file}:${ackedPos.pos}` : '-';
    log(`delivered ${delivered} pending ${pending()} position ${p}${paused ? ' (paused)' : ''}`);
    writeCheckpoint().catch((err) => console.error('peer: checkpoint:', err.message));
  }, 1000);
  const stop = async () => {
    clearInterval(timer);
    zongji.connection.pause();
    while (!failed && pending() > 0) await new Promise((r) => setTimeout(r, 10));
    await writeCheckpoint().catch(() => {});
    log(`stopped: delivered ${delivered}`);
    await producer.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  console.error('peer:', err);
  process.exit(1);
});
