type Env = Readonly<Record<string, string | undefined>>;

/** ANSI colour only for a terminal, and never when `NO_COLOR` is set (https://no-color.org). */
export function colourEnabled(stream: { isTTY?: boolean }, env: Env = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  cyan: [36, 39],
} as const;

export type Style = keyof typeof CODES;

export type Paint = (style: Style, text: string) => string;

export function painter(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text;
  return (style, text) => `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m`;
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Width on screen: ANSI sequences take no room. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

export interface TableColumn<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  readonly align?: 'left' | 'right';
  /** Longer values are cut with `…`. */
  readonly maxWidth?: number;
}

/** Renders rows under a header; each column is as wide as its widest cell. */
export function renderTable<Row>(
  columns: readonly TableColumn<Row>[],
  rows: readonly Row[],
  paint: Paint,
): string {
  const cells = rows.map((row) =>
    columns.map((column) => truncate(column.value(row), column.maxWidth)),
  );
  const widths = columns.map((column, index) =>
    Math.max(visibleWidth(column.header), ...cells.map((line) => visibleWidth(line[index] ?? ''))),
  );
  const format = (line: readonly string[]) =>
    line
      .map((cell, index) => pad(cell, widths[index] ?? 0, columns[index]?.align ?? 'left'))
      .join('  ')
      .trimEnd();
  return [paint('bold', format(columns.map((column) => column.header))), ...cells.map(format)].join(
    '\n',
  );
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const room = ' '.repeat(Math.max(0, width - visibleWidth(text)));
  return align === 'right' ? room + text : text + room;
}

function truncate(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || visibleWidth(text) <= maxWidth) return text;
  return `${[...text].slice(0, maxWidth - 1).join('')}…`;
}
