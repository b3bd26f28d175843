import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A row of `gateway.api_keys`. Stays inside this library; callers see {@link ApiKeyRecord}. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** The visible part of the key (`sv_<prefix>_...`); unique, used to find the row. */
  @Column({ type: 'text' })
  prefix!: string;

  /** `sha256(full key)`, hex. */
  @Column({ type: 'text', name: 'secret_hash' })
  secretHash!: string;

  @Column({ type: 'text' })
  scope!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
