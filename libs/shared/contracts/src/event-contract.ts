import { type z } from 'zod';

/** One version of one event's `data` contract. */
export interface EventContract<
  TType extends string = string,
  TVersion extends number = number,
  TSchema extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly data: TSchema;
}

/** The `data` type an event contract accepts. */
export type EventDataOf<C extends EventContract> = z.output<C['data']>;

const eventTypePattern = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9_.-]*$/;

/** Declares one version of an event contract; `type` is `<aggregate>.<event>`. */
export function defineEvent<
  TType extends string,
  TVersion extends number,
  TSchema extends z.ZodType,
>(contract: EventContract<TType, TVersion, TSchema>): EventContract<TType, TVersion, TSchema> {
  if (!eventTypePattern.test(contract.type)) {
    throw new Error(`event type "${contract.type}" must be <aggregate>.<event>`);
  }
  if (!Number.isInteger(contract.version) || contract.version < 1) {
    throw new Error(`event ${contract.type}: version must be a positive integer`);
  }
  return Object.freeze({ ...contract });
}

/** Why an event did not match the catalog; `field` names the offending envelope field. */
export interface ContractViolation {
  readonly field: string;
  readonly message: string;
}

export type ContractCheck<T = unknown> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly violations: readonly ContractViolation[] };

/** Thrown by {@link EventCatalog.parse} and by `buildEnvelope` when an event breaks its contract. */
export class ContractViolationError extends Error {
  constructor(
    readonly eventType: string,
    readonly violations: readonly ContractViolation[],
  ) {
    super(
      `event ${eventType} breaks its contract: ${violations
        .map((v) => `${v.field}: ${v.message}`)
        .join('; ')}`,
    );
    this.name = 'ContractViolationError';
  }
}

/** Contracts that the catalog holds, looked up by `type` and `dataversion`. */
export class EventCatalog<C extends EventContract = EventContract> {
  private readonly byType = new Map<string, Map<number, EventContract>>();

  constructor(contracts: readonly C[]) {
    for (const contract of contracts) {
      const versions = this.byType.get(contract.type) ?? new Map<number, EventContract>();
      if (versions.has(contract.version)) {
        throw new Error(`event ${contract.type} v${contract.version} is declared twice`);
      }
      versions.set(contract.version, contract);
      this.byType.set(contract.type, versions);
    }
  }

  /** A catalog holding these contracts and the other catalog's. */
  extend<D extends EventContract>(contracts: readonly D[]): EventCatalog<C | D> {
    return new EventCatalog<C | D>([...this.contracts(), ...contracts] as (C | D)[]);
  }

  contracts(): C[] {
    return [...this.byType.values()].flatMap((versions) => [...versions.values()]) as C[];
  }

  has(type: string, version?: number): boolean {
    const versions = this.byType.get(type);
    return versions !== undefined && (version === undefined || versions.has(version));
  }

  /** Checks `data` against the contract for (`type`, `dataversion`) without throwing. */
  validate(type: string, dataversion: number, data: unknown): ContractCheck {
    const versions = this.byType.get(type);
    if (!versions) {
      return {
        ok: false,
        violations: [{ field: 'type', message: `unknown event type "${type}"` }],
      };
    }
    const contract = versions.get(dataversion);
    if (!contract) {
      const known = [...versions.keys()].sort((a, b) => a - b).join(', ');
      return {
        ok: false,
        violations: [
          {
            field: 'dataversion',
            message: `unknown version ${dataversion} of "${type}" (known: ${known})`,
          },
        ],
      };
    }
    const result = contract.data.safeParse(data);
    if (result.success) return { ok: true, data: result.data };
    return {
      ok: false,
      violations: result.error.issues.map((issue) => ({
        field: ['data', ...issue.path.map(String)].join('.'),
        message: issue.message,
      })),
    };
  }

  /** Like {@link validate} but returns the parsed data or throws {@link ContractViolationError}. */
  parse(type: string, dataversion: number, data: unknown): unknown {
    const check = this.validate(type, dataversion, data);
    if (!check.ok) throw new ContractViolationError(type, check.violations);
    return check.data;
  }
}
