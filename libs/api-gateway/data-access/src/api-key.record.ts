/** What a key may do: `viewer` reads, `operator` also runs things, `admin` also manages keys. */
export const API_KEY_SCOPES = ['viewer', 'operator', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** An API key as stored: never the key itself, only its hash and visible prefix. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly secretHash: string;
  readonly scope: ApiKeyScope;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** A new key to store. */
export interface NewApiKey {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly secretHash: string;
  readonly scope: ApiKeyScope;
  readonly createdAt: Date;
}
