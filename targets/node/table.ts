// Tables for the command line: cli-table3, coloured only on a terminal (logs and pipes stay plain).
import Table, { type TableConstructorOptions } from 'cli-table3';

export function cliTable(options: TableConstructorOptions = {}): Table.Table {
  const plain = !process.stdout.isTTY;
  return new Table({ ...options, ...(plain ? { style: { head: [], border: [], ...options.style } } : {}) });
}
