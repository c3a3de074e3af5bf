import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import { RegistryError } from './registry-error.ts';

/**
 * A client of the Confluent schema registry API (Karapace, Confluent): register a schema under
 * a subject, fetch a schema by id. Schemas by id never change, so they are cached for good;
 * registering is idempotent in the registry and cached by (subject, schema) here.
 *
 * Credentials: basic auth from the config, or, with `forwardBearer`, the caller's own
 * `Authorization: Bearer` header, so the registry's ACLs apply to the caller.
 */

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

/** Who asks: with bearer forwarding, answers are cached per principal (the registry decides per caller). */
export interface RegistryCaller {
  readonly principal: string;
  readonly bearer: string | null;
}

export interface RegisteredSchema {
  readonly id: number;
  readonly schemaType: SchemaType;
  readonly schema: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const MAX_CACHED = 10_000;

export class SchemaRegistryClient {
  private readonly baseUrl: string;
  private readonly basicAuth: string | null;
  private readonly forwardBearer: boolean;
  private readonly timeoutMs: number;
  private readonly byId = new Map<string, Promise<RegisteredSchema>>();
  private readonly registered = new Map<string, Promise<number>>();
  private readonly subjects = new Map<string, Promise<boolean>>();

  constructor(settings: Config['schemaRegistry']) {
    this.baseUrl = settings.url.replace(/\/+$/, '');
    this.forwardBearer = settings.forwardBearer;
    this.timeoutMs = settings.timeoutMs;
    this.basicAuth = settings.username
      ? `Basic ${Buffer.from(`${settings.username}:${settings.passwordFile ? readFileSync(settings.passwordFile, 'utf8').trim() : ''}`).toString('base64')}`
      : null;
  }

  /** Registers `schema` under `subject` (or finds it there); its id. Fails with invalid_schema or unavailable. */
  register(subject: string, schemaType: SchemaType, schema: string, caller: RegistryCaller): Promise<number> {
    const key = `${this.scope(caller)}${subject}\u0000${schemaType}\u0000${schema}`;
    let id = this.registered.get(key);
    if (!id) {
      id = this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, caller, {
        schema,
        ...(schemaType === 'AVRO' ? {} : { schemaType }),
      }).then((body) => {
        const value = (body as { id?: unknown }).id;
        if (typeof value !== 'number')
          throw new RegistryError('unavailable', 'the registry answered no schema id');
        return value;
      });
      this.remember(this.registered, key, id);
    }
    return id;
  }

  /** The schema registered with `id`. Fails with unknown_id or unavailable. */
  schemaById(id: number, caller: RegistryCaller): Promise<RegisteredSchema> {
    const key = `${this.scope(caller)}${id}`;
    let found = this.byId.get(key);
    if (!found) {
      found = this.request('GET', `/schemas/ids/${id}`, caller).then((body) => {
        const { schema, schemaType } = body as { schema?: unknown; schemaType?: unknown };
        if (typeof schema !== 'string')
          throw new RegistryError('unavailable', 'the registry answered no schema');
        const type = typeof schemaType === 'string' ? (schemaType as SchemaType) : 'AVRO';
        return { id, schemaType: type, schema };
      });
      this.remember(this.byId, key, found);
    }
    return found;
  }

  /**
   * True when schema `id` is registered under `subject` (a version of it). Only a yes is cached:
   * the schema may be registered under the subject later. Fails with unknown_id or unavailable.
   */
  isRegisteredUnder(id: number, subject: string, caller: RegistryCaller): Promise<boolean> {
    const key = `${this.scope(caller)}${id}\u0000${subject}`;
    const known = this.subjects.get(key);
    if (known) return known;
    const answer = this.request('GET', `/schemas/ids/${id}/versions`, caller).then((body) =>
      Array.isArray(body)
        ? body.some((entry) => (entry as { subject?: unknown }).subject === subject)
        : false,
    );
    void answer.then(
      (yes) => {
        if (yes) this.remember(this.subjects, key, answer);
      },
      () => {},
    );
    return answer;
  }

  /** Cache key prefix: per principal when the registry authorizes each caller itself. */
  private scope(caller: RegistryCaller): string {
    return this.forwardBearer ? `${caller.principal}\u0001` : '';
  }

  /** Caches a pending answer; a failed one is forgotten so the next call asks again. */
  private remember<K, V>(cache: Map<K, Promise<V>>, key: K, value: Promise<V>): void {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as K);
    cache.set(key, value);
    value.catch(() => {
      if (cache.get(key) === value) cache.delete(key);
    });
  }

  private async request(
    method: string,
    path: string,
    caller: RegistryCaller,
    body?: unknown,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: CONTENT_TYPE };
    if (body !== undefined) headers['content-type'] = CONTENT_TYPE;
    if (this.forwardBearer && caller.bearer) headers.authorization = `Bearer ${caller.bearer}`;
    else if (this.basicAuth) headers.authorization = this.basicAuth;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RegistryError('unavailable', `schema registry unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const text = await res.text();
    let parsed: { error_code?: number; message?: string } = {};
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      // not JSON: the status decides
    }
    if (res.ok) return parsed;
    const detail = parsed.message ?? `HTTP ${res.status}`;
    // 40403 schema not found; 409 incompatible; 422 (42201) invalid schema.
    if (res.status === 404 && method === 'GET')
      throw new RegistryError('unknown_id', `schema not found: ${detail}`);
    if (res.status === 409 || res.status === 422) throw new RegistryError('invalid_schema', detail);
    // 401/403: the registry refused the caller (its own ACLs); answered as a registry refusal.
    throw new RegistryError('unavailable', `schema registry answered ${res.status}: ${detail}`);
  }
}
