import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { FetchedRecord } from './consumer-types.ts';

/** kafkajs messages as the plain records a consumer instance buffers (both readers use this). */

export function toHeaders(headers: IHeaders | undefined): FetchedRecord['headers'] {
  const out: FetchedRecord['headers'] = [];
  if (!headers) return out;
  for (const [key, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      out.push({
        key,
        value: v === undefined || v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v),
      });
    }
  }
  return out;
}

export function toFetchedRecord(topic: string, partition: number, message: KafkaMessage): FetchedRecord {
  const timestamp = Number(message.timestamp);
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number.isFinite(timestamp) && timestamp >= 0 ? timestamp : null,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: toHeaders(message.headers),
  };
}
