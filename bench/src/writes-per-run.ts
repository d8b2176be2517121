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
}

/** What running `runs` no-op runs wrote, in total and per table. */
export interface WritesPerRun {
  store: 'sqlite' | 'postgres';
  runs: number;
  /** Row versions written per run (inserts + updates + deletes). */
  rowsPerRun: number;
  /**
   * Index entries written per run: every index of the table for each insert and each non-HOT
   * update (PostgreSQL writes a new entry in every index for those), none for a delete (entries are
   * removed later by vacuum). On SQLite an update touches only the indexes of changed columns, so
   * its figure is an upper bound.
   */
  indexEntriesPerRun: number;
  tables: TableWrites[];
}

/** Counters of row writes by table, read before and after the measured runs. */
type Counts = Map<string, Omit<TableWrites, 'table'>>;

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
    const row = { table, indexes: end.indexes, inserted: delta('inserted'), updated: delta('updated'), hotUpdated: delta('hotUpdated'), deleted: delta('deleted') };
    if (row.inserted + row.updated + row.deleted > 0) tables.push(row);
  }
  tables.sort((a, b) => a.table.localeCompare(b.table));
  const sum = (f: (t: TableWrites) => number) => tables.reduce((total, t) => total + f(t), 0);
  return {
    store,
    runs,
    rowsPerRun: sum((t) => t.inserted + t.updated + t.deleted) / runs,
    indexEntriesPerRun: sum((t) => t.indexes * (t.inserted + t.updated - t.hotUpdated)) / runs,
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

/** Adds counting triggers to every table of the location's SQLite file, and reads their counts. */
function sqliteCounter(location: StoreLocation): WriteCounter {
  const db = new Database(location.path!);
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all()
    .map((r) => r.name);
  db.exec('CREATE TABLE bench_writes (tbl TEXT NOT NULL, op TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (tbl, op))');
  for (const table of tables) {
    for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
      const name = `bench_count_${table}_${op}`.toLowerCase();
      db.exec(
        `CREATE TRIGGER "${name}" AFTER ${op} ON "${table}" BEGIN
           INSERT INTO bench_writes (tbl, op, n) VALUES ('${table}', '${op}', 1) ON CONFLICT (tbl, op) DO UPDATE SET n = n + 1;
         END`,
      );
    }
  }
  const indexes = new Map(
    db
      .prepare<[], { tbl: string; n: number }>("SELECT tbl_name AS tbl, count(*) AS n FROM sqlite_master WHERE type = 'index' GROUP BY tbl_name")
      .all()
      .map((r) => [r.tbl, r.n]),
  );
  db.close();
  return {
    async read() {
      const reader = new Database(location.path!, { readonly: true });
      try {
        const counts: Counts = new Map(tables.map((t) => [t, { indexes: indexes.get(t) ?? 0, inserted: 0, updated: 0, hotUpdated: 0, deleted: 0 }]));
        for (const { tbl, op, n } of reader.prepare<[], { tbl: string; op: string; n: number }>('SELECT tbl, op, n FROM bench_writes').all()) {
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
