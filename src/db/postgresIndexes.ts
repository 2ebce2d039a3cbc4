import type { Client as PgClient } from 'pg';

/**
 * Makes the indexes our stores declare usable on the embedded FerretDB v1 PostgreSQL handler.
 *
 * FerretDB turns an equality filter into `_jsonb -> 'field' @> '<value>'`, but creates each index
 * as a btree over `(_jsonb -> 'field')`, which that operator cannot use: every lookup, even by
 * `_id`, is a sequential scan, so its cost grows with the collection (the `explain` plans in
 * docs/benchmarks.md, Rights at scale). A GIN index with `jsonb_path_ops` serves `@>`
 * (https://www.postgresql.org/docs/17/gin-builtin-opclasses.html).
 * We own this PostgreSQL, so beside every btree index FerretDB creates, an event trigger
 * (https://www.postgresql.org/docs/17/event-triggers.html) creates a GIN index over the same
 * expression of its first key, which the planner does use. FerretDB keeps its own index list
 * (listIndexes reads its metadata, not PostgreSQL's), so nothing the app sees changes.
 *
 * Only the embedded engine gets this: MongoDB and DocumentDB use the declared indexes themselves.
 */
const SQL = `
CREATE OR REPLACE FUNCTION privacybot_gin_mirror(idx oid) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  method text;
  tbl oid;
  expr text;
BEGIN
  SELECT a.amname, i.indrelid INTO method, tbl
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
   WHERE i.indexrelid = idx;
  IF method IS DISTINCT FROM 'btree' THEN RETURN; END IF;
  expr := pg_get_indexdef(idx, 1, true);
  IF expr IS NULL OR expr NOT LIKE '%_jsonb -> %' THEN RETURN; END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((%s) jsonb_path_ops)',
                 left((SELECT relname FROM pg_class WHERE oid = tbl), 40) || '_' || left(md5(expr), 10) || '_gin',
                 tbl::regclass, expr);
EXCEPTION WHEN others THEN
  -- Never fail FerretDB's own index: without the mirror, queries are only slower.
  RAISE WARNING 'privacybot: no GIN mirror for index %: %', idx, SQLERRM;
END
$fn$;

CREATE OR REPLACE FUNCTION privacybot_gin_on_index() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    PERFORM privacybot_gin_mirror(r.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS privacybot_gin;
CREATE EVENT TRIGGER privacybot_gin ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION privacybot_gin_on_index();

-- Data folders made before the trigger existed: mirror what is there (IF NOT EXISTS makes this a no-op after).
SELECT privacybot_gin_mirror(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%';
`;

/** Installs the mirror on the database FerretDB uses (idempotent: every start runs it). */
export async function mirrorIndexesForFerret(url: string): Promise<void> {
  const client = await connect(url);
  try {
    await client.query(SQL);
  } finally {
    await client.end();
  }
}

/** The GIN mirrors present, per table (for tests and the bench's plan report). */
export async function mirroredIndexes(url: string): Promise<{ table: string; index: string; def: string }[]> {
  const client = await connect(url);
  try {
    const r = await client.query<{ table: string; index: string; def: string }>(
      `SELECT schemaname || '.' || tablename AS table, indexname AS index, indexdef AS def FROM pg_indexes WHERE indexdef LIKE '%USING gin%' ORDER BY 1, 2`,
    );
    return r.rows;
  } finally {
    await client.end();
  }
}

// `pg` is an optional dependency, like the PostgreSQL binaries it talks to: loaded only on this path.
async function connect(url: string): Promise<PgClient> {
  // require, not import(): jest runs CommonJS without the VM modules flag a dynamic import needs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require('pg') as typeof import('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}
