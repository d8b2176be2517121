import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { disposeStoreLocation, newStoreLocation, openStore, type StoreLocation } from './our-stores.js';
import { withPostgres } from './services.js';
import { loadDueJobs, runAllDue, type OurThroughputConfig } from './throughput-ours.js';

/** Row writes to one table. */
export interface TableWrites {
  table: string;
  /** Indexes on the table (SQLite: its explicit and automatic indexes; the table's own b-tree not counted). */
  indexes: number;
  inserted: number;
  updated: number;
  /** PostgreSQL: updates that wrote no index entry (HOT); SQLite: not known, 0. */
  hotUpdated: number;
  deleted: number;
  /** Index entries written (see {@link WritesPerRun.indexEntriesPerRun}). */
  indexEntries: number;
}

/** What running `runs` no-op runs wrote, in total and per table. */
export interface WritesPerRun {
  store: 'sqlite' | 'postgres';
  runs: number;
  /** Row versions written per run (inserts + updates + deletes). */
  rowsPerRun: number;
  /**
   * Index entries written per run, none for a delete. PostgreSQL: every index of the table for
   * each insert and each non-HOT update (an upper bound: a partial index takes only rows meeting
   * its condition). SQLite: counted, for each index, on every insert and every update that assigns
   * one of the columns it names (key, expression or condition), which is when SQLite rewrites its
   * entry, if the new row meets the index's condition.
   */
  indexEntriesPerRun: number;
  tables: TableWrites[];
}

/** Counters of row writes by table, read before and after the measured runs; `indexEntries` where counted. */
type Counts = Map<string, Omit<TableWrites, 'table' | 'indexEntries'> & { indexEntries?: number }>;

/**
 * Runs `runs` due one-shot jobs with a no-op agent through one scheduler and counts the rows its
 * store wrote, by table. PostgreSQL: `pg_stat_user_tables` of the store's schema, read with no
 * connection of the store open (a backend's counters reach the statistics when it exits). SQLite:
 * triggers the benchmark adds to every table of the file, counting into a table of their own.
 * Loading the jobs is not counted.
 */
export async function writesPerRun(args: { store: 'sqlite' | 'postgres'; runs: number; config: OurThroughputConfig }): Promise<WritesPerRun> {
  const location = newStoreLocation(args.store, 'writes');
  try {
    const loader = openStore(location);
    await loader.init();
    await loadDueJobs(loader, args.store, args.runs);
    await loader.close();
    const counter = args.store === 'sqlite' ? sqliteCounter(location) : postgresCounter(location);
    const before = await counter.read();
    const store = openStore(location);
    await runAllDue(store, args.runs, args.config, `counting writes on ${args.store}`);
    await store.close();
    const after = await counter.read();
    return summarise(args.store, args.runs, before, after);
  } finally {
    await disposeStoreLocation(location);
  }
}

function summarise(store: WritesPerRun['store'], runs: number, before: Counts, after: Counts): WritesPerRun {
  const tables: TableWrites[] = [];
  for (const [table, end] of after) {
    const start = before.get(table);
    const delta = (field: 'inserted' | 'updated' | 'hotUpdated' | 'deleted') => end[field] - (start?.[field] ?? 0);
    const written = { inserted: delta('inserted'), updated: delta('updated'), hotUpdated: delta('hotUpdated'), deleted: delta('deleted') };
    const indexEntries = end.indexEntries === undefined ? end.indexes * (written.inserted + written.updated - written.hotUpdated) : end.indexEntries - (start?.indexEntries ?? 0);
    const row = { table, indexes: end.indexes, ...written, indexEntries };
    if (row.inserted + row.updated + row.deleted > 0) tables.push(row);
  }
  tables.sort((a, b) => a.table.localeCompare(b.table));
  const sum = (f: (t: TableWrites) => number) => tables.reduce((total, t) => total + f(t), 0);
  return {
    store,
    runs,
    rowsPerRun: sum((t) => t.inserted + t.updated + t.deleted) / runs,
    indexEntriesPerRun: sum((t) => t.indexEntries) / runs,
    tables,
  };
}

interface WriteCounter {
  read(): Promise<Counts>;
}

/** Reads `pg_stat_user_tables` of the location's schema once two reads 200 ms apart agree. */
function postgresCounter(location: StoreLocation): WriteCounter {
  const readOnce = () =>
    withPostgres(async (client) => {
      const { rows } = await client.query<{ table: string; indexes: string; ins: string; upd: string; hot: string; del: string }>(
        `SELECT t.relname AS table, (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid) AS indexes,
                t.n_tup_ins AS ins, t.n_tup_upd AS upd, t.n_tup_hot_upd AS hot, t.n_tup_del AS del
           FROM pg_stat_user_tables t WHERE t.schemaname = $1`,
        [location.schema],
      );
      return new Map(
        rows.map((r) => [r.table, { indexes: Number(r.indexes), inserted: Number(r.ins), updated: Number(r.upd), hotUpdated: Number(r.hot), deleted: Number(r.del) }]),
      );
    });
  return {
    async read() {
      let last = await readOnce();
      for (let i = 0; i < 50; i++) {
        await sleep(200);
        const next = await readOnce();
        if (JSON.stringify([...next]) === JSON.stringify([...last])) return next;
        last = next;
      }
      return last;
    },
  };
}

/** An index of a table of the SQLite file, as its counting triggers need it. */
interface SqliteIndex {
  name: string;
  table: string;
  /** The table's columns it names: key, expression or condition. */
  columns: string[];
  /** Its condition (partial index) with columns as `NEW."column"`, or null. */
  when: string | null;
}

/** The indexes of the given tables, from `sqlite_master` (automatic indexes have no SQL). */
function sqliteIndexes(db: Database.Database, tables: string[]): SqliteIndex[] {
  const rows = db.prepare<[], { name: string; tbl: string; sql: string | null }>("SELECT name, tbl_name AS tbl, sql FROM sqlite_master WHERE type = 'index'").all();
  return rows
    .filter((row) => tables.includes(row.tbl))
    .map((row) => {
      const tableColumns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${row.tbl}')`).all().map((c) => c.name);
      const keyColumns = db.prepare<[], { name: string | null }>(`SELECT name FROM pragma_index_info('${row.name}')`).all().map((c) => c.name);
      // Outside string literals, the SQL names a column as a word, quoted or not.
      const code = (row.sql ?? '').split("'").filter((_, i) => i % 2 === 0).join(' ');
      const named = tableColumns.filter((column) => keyColumns.includes(column) || new RegExp(`(^|[^\\w])"?${column}"?([^\\w]|$)`).test(code));
      const where = /\swhere\s([\s\S]*)$/i.exec(row.sql ?? '')?.[1] ?? null;
      const onNew = (text: string) =>
        text
          .split("'")
          .map((part, i) => (i % 2 === 1 ? `'${part}'` : part.replace(/"?(\w+)"?/g, (word, name: string) => (tableColumns.includes(name) ? `NEW."${name}"` : word))))
          .join('');
      return { name: row.name, table: row.tbl, columns: named, when: where === null ? null : onNew(where) };
    });
}

/**
 * Adds counting triggers to every table of the location's SQLite file (its row writes) and to
 * every index (the entries SQLite writes into it), and reads their counts.
 */
function sqliteCounter(location: StoreLocation): WriteCounter {
  const db = new Database(location.path!);
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all()
    .map((r) => r.name);
  const indexes = sqliteIndexes(db, tables);
  db.exec('CREATE TABLE bench_writes (tbl TEXT NOT NULL, op TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (tbl, op))');
  const count = (name: string, op: string) => `INSERT INTO bench_writes (tbl, op, n) VALUES ('${name}', '${op}', 1) ON CONFLICT (tbl, op) DO UPDATE SET n = n + 1;`;
  for (const table of tables) {
    for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
      db.exec(`CREATE TRIGGER "bench_count_${table}_${op}" AFTER ${op} ON "${table}" BEGIN ${count(table, op)} END`);
    }
  }
  for (const index of indexes) {
    const when = index.when === null ? '' : ` WHEN ${index.when}`;
    const updateOf = index.columns.map((column) => `"${column}"`).join(', ');
    db.exec(`CREATE TRIGGER "bench_entry_${index.name}_i" AFTER INSERT ON "${index.table}"${when} BEGIN ${count(index.name, 'ENTRY')} END`);
    if (updateOf !== '') db.exec(`CREATE TRIGGER "bench_entry_${index.name}_u" AFTER UPDATE OF ${updateOf} ON "${index.table}"${when} BEGIN ${count(index.name, 'ENTRY')} END`);
  }
  const tableOf = new Map(indexes.map((index) => [index.name, index.table]));
  db.close();
  return {
    async read() {
      const reader = new Database(location.path!, { readonly: true });
      try {
        const counts: Counts = new Map(
          tables.map((t) => [t, { indexes: indexes.filter((i) => i.table === t).length, inserted: 0, updated: 0, hotUpdated: 0, deleted: 0, indexEntries: 0 }]),
        );
        for (const { tbl, op, n } of reader.prepare<[], { tbl: string; op: string; n: number }>('SELECT tbl, op, n FROM bench_writes').all()) {
          if (op === 'ENTRY') {
            counts.get(tableOf.get(tbl)!)!.indexEntries! += n;
            continue;
          }
          const entry = counts.get(tbl)!;
          if (op === 'INSERT') entry.inserted = n;
          else if (op === 'UPDATE') entry.updated = n;
          else entry.deleted = n;
        }
        return counts;
      } finally {
        reader.close();
      }
    },
  };
}
