import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { DevClient } from './issuer.ts';

/** The stack's demo clients file (deploy/stack/clients.yaml) joined with its generated secrets. */

const clientsFileSchema = z
  .object({
    audience: z.string().min(1),
    defaultTtlSec: z.number().int().min(1).default(3600),
    clients: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case client id'),
            claims: z.record(z.string(), z.unknown()).optional(),
            ttlSec: z.number().int().min(1).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export interface DevClientsFile {
  readonly audience: string;
  readonly defaultTtlSec: number;
  readonly clients: DevClient[];
}

/** Name of a client's secret in the secrets env file: DEV_CLIENT_SECRET_ALICE. */
export function secretVariable(clientId: string): string {
  return `DEV_CLIENT_SECRET_${clientId.toUpperCase().replace(/-/g, '_')}`;
}

/** Reads `KEY=value` lines (the shape of .stack/env and .stack/secrets.env). */
export function readEnvFile(path: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) values.set(m[1]!, m[2]!.replace(/^'(.*)'$/, '$1'));
  }
  return values;
}

export function loadDevClients(clientsPath: string, secretsPath: string): DevClientsFile {
  const parsed = clientsFileSchema.safeParse(parseYaml(readFileSync(clientsPath, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`${clientsPath}: ${problems.join('; ')}`);
  }
  const secrets = readEnvFile(secretsPath);
  const clients = parsed.data.clients.map((c) => {
    const secret = secrets.get(secretVariable(c.id));
    if (!secret) throw new Error(`${secretsPath}: no ${secretVariable(c.id)} (run make stack-up)`);
    return { id: c.id, secret, claims: c.claims, ttlSec: c.ttlSec };
  });
  return { audience: parsed.data.audience, defaultTtlSec: parsed.data.defaultTtlSec, clients };
}
