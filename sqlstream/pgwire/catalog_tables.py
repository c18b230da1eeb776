"""The shape of the pg_catalog tables and functions (DuckDB DDL and macros) and the
fixed rows (namespaces, types). Filled per catalog version by sqlstream.pg_catalog."""

from __future__ import annotations

S = "_pg"
NAMESPACES = {"pg_catalog": 11, "public": 2200, "information_schema": 13000, "sys": 14000}
RELKIND = {"table": "r", "materialized view": "m", "source": "r", "system table": "v",
           "view": "v", "sink": "r", "index": "i"}


def relkind(kind: str) -> str:
    return RELKIND.get(kind, "r")


# oid, typname, typlen, typtype, typcategory, typelem, typarray, typinput, typoutput,
# typreceive, typsend, display name (format_type)
def _t(oid: int, name: str, length: int, cat: str, array: int, display: str,
       elem: int = 0) -> tuple:
    return (oid, name, length, "b", cat, elem, array, f"{name}in", f"{name}out",
            f"{name}recv", f"{name}send", display)


def _a(oid: int, elem_name: str, elem: int, elem_display: str) -> tuple:
    """The array type of `elem`: named `_int4`, category A, read and written by the
    generic array functions."""
    return (oid, f"_{elem_name}", -1, "b", "A", elem, 0, "array_in", "array_out",
            "array_recv", "array_send", f"{elem_display}[]")


TYPE_ROWS = [
    _t(16, "bool", 1, "B", 1000, "boolean"), _t(17, "bytea", -1, "U", 1001, "bytea"),
    _t(18, "char", 1, "Z", 1002, '"char"'), _t(19, "name", 64, "S", 1003, "name"),
    _t(20, "int8", 8, "N", 1016, "bigint"), _t(21, "int2", 2, "N", 1005, "smallint"),
    _t(23, "int4", 4, "N", 1007, "integer"), _t(24, "regproc", 4, "N", 1008, "regproc"),
    _t(25, "text", -1, "S", 1009, "text"), _t(26, "oid", 4, "N", 1028, "oid"),
    _t(114, "json", -1, "U", 199, "json"), _t(700, "float4", 4, "N", 1021, "real"),
    _t(701, "float8", 8, "N", 1022, "double precision"),
    _t(705, "unknown", -2, "X", 0, "unknown"), _t(1042, "bpchar", -1, "S", 1014, "character"),
    _t(1043, "varchar", -1, "S", 1015, "character varying"),
    _t(1082, "date", 4, "D", 1182, "date"),
    _t(1083, "time", 8, "D", 1183, "time without time zone"),
    _t(1114, "timestamp", 8, "D", 1115, "timestamp without time zone"),
    _t(1184, "timestamptz", 8, "D", 1185, "timestamp with time zone"),
    _t(1186, "interval", 16, "T", 1187, "interval"), _t(1700, "numeric", -1, "N", 1231, "numeric"),
    _t(2205, "regclass", 4, "N", 2210, "regclass"), _t(2206, "regtype", 4, "N", 2211, "regtype"),
    _t(3802, "jsonb", -1, "U", 3807, "jsonb"),
    _a(1000, "bool", 16, "boolean"), _a(1001, "bytea", 17, "bytea"),
    _a(1005, "int2", 21, "smallint"), _a(1007, "int4", 23, "integer"),
    _a(1016, "int8", 20, "bigint"), _a(1009, "text", 25, "text"),
    _a(1014, "bpchar", 1042, "character"), _a(1015, "varchar", 1043, "character varying"),
    _a(1021, "float4", 700, "real"), _a(1022, "float8", 701, "double precision"),
    _a(1231, "numeric", 1700, "numeric"), _a(1182, "date", 1082, "date"),
    _a(1183, "time", 1083, "time without time zone"),
    _a(1115, "timestamp", 1114, "timestamp without time zone"),
    _a(1185, "timestamptz", 1184, "timestamp with time zone"),
    _a(1187, "interval", 1186, "interval"), _a(199, "json", 114, "json"),
    _a(3807, "jsonb", 3802, "jsonb"), _a(1028, "oid", 26, "oid"),
]

_TABLES = {
    "pg_namespace": "oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]",
    "pg_class": """oid BIGINT, relname VARCHAR, relnamespace BIGINT DEFAULT 2200,
        reltype BIGINT DEFAULT 0, reloftype BIGINT DEFAULT 0, relowner BIGINT DEFAULT 10,
        relam BIGINT DEFAULT 2, relfilenode BIGINT DEFAULT 0, reltablespace BIGINT DEFAULT 0,
        relpages INTEGER DEFAULT 0, reltuples FLOAT DEFAULT -1, relallvisible INTEGER DEFAULT 0,
        reltoastrelid BIGINT DEFAULT 0, relhasindex BOOLEAN DEFAULT false,
        relisshared BOOLEAN DEFAULT false, relpersistence VARCHAR DEFAULT 'p', relkind VARCHAR,
        relnatts SMALLINT DEFAULT 0, relchecks SMALLINT DEFAULT 0,
        relhasrules BOOLEAN DEFAULT false, relhastriggers BOOLEAN DEFAULT false,
        relhassubclass BOOLEAN DEFAULT false, relrowsecurity BOOLEAN DEFAULT false,
        relforcerowsecurity BOOLEAN DEFAULT false, relispopulated BOOLEAN DEFAULT true,
        relreplident VARCHAR DEFAULT 'd', relispartition BOOLEAN DEFAULT false,
        relrewrite BIGINT DEFAULT 0, relfrozenxid BIGINT DEFAULT 0, relminmxid BIGINT DEFAULT 0,
        relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR""",
    "pg_attribute": """attrelid BIGINT, attname VARCHAR, atttypid BIGINT,
        attstattarget INTEGER DEFAULT -1, attlen SMALLINT, attnum SMALLINT,
        attndims INTEGER DEFAULT 0, attcacheoff INTEGER DEFAULT -1, atttypmod INTEGER DEFAULT -1,
        attbyval BOOLEAN DEFAULT false, attalign VARCHAR DEFAULT 'i',
        attstorage VARCHAR DEFAULT 'p', attcompression VARCHAR DEFAULT '',
        attnotnull BOOLEAN DEFAULT false, atthasdef BOOLEAN DEFAULT false,
        atthasmissing BOOLEAN DEFAULT false, attidentity VARCHAR DEFAULT '',
        attgenerated VARCHAR DEFAULT '', attisdropped BOOLEAN DEFAULT false,
        attislocal BOOLEAN DEFAULT true, attinhcount INTEGER DEFAULT 0,
        attcollation BIGINT DEFAULT 0, attacl VARCHAR[], attoptions VARCHAR[],
        attfdwoptions VARCHAR[], attmissingval VARCHAR""",
    "pg_type": """oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT,
        typlen SMALLINT, typbyval BOOLEAN, typtype VARCHAR, typcategory VARCHAR,
        typispreferred BOOLEAN, typisdefined BOOLEAN, typdelim VARCHAR, typrelid BIGINT,
        typelem BIGINT, typarray BIGINT, typinput VARCHAR, typoutput VARCHAR,
        typreceive VARCHAR, typsend VARCHAR, typmodin VARCHAR, typmodout VARCHAR,
        typanalyze VARCHAR, typalign VARCHAR, typstorage VARCHAR, typnotnull BOOLEAN,
        typbasetype BIGINT, typtypmod INTEGER, typndims INTEGER, typcollation BIGINT,
        typdefaultbin VARCHAR, typdefault VARCHAR, typacl VARCHAR[]""",
    "type_names": "oid BIGINT, display VARCHAR",
    "pg_defs": "oid BIGINT, def VARCHAR",
    "relation_kinds": "oid BIGINT, kind VARCHAR",
    "pg_index": """indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT,
        indnkeyatts SMALLINT DEFAULT 1, indisunique BOOLEAN DEFAULT true,
        indnullsnotdistinct BOOLEAN DEFAULT false, indisprimary BOOLEAN DEFAULT true,
        indisexclusion BOOLEAN DEFAULT false, indimmediate BOOLEAN DEFAULT true,
        indisclustered BOOLEAN DEFAULT false, indisvalid BOOLEAN DEFAULT true,
        indcheckxmin BOOLEAN DEFAULT false, indisready BOOLEAN DEFAULT true,
        indislive BOOLEAN DEFAULT true, indisreplident BOOLEAN DEFAULT false,
        indkey SMALLINT[], indcollation BIGINT[], indclass BIGINT[], indoption SMALLINT[],
        indexprs VARCHAR, indpred VARCHAR""",
    "pg_constraint": """oid BIGINT, conname VARCHAR, connamespace BIGINT,
        contype VARCHAR DEFAULT 'p', condeferrable BOOLEAN DEFAULT false,
        condeferred BOOLEAN DEFAULT false, convalidated BOOLEAN DEFAULT true, conrelid BIGINT,
        contypid BIGINT DEFAULT 0, conindid BIGINT, conparentid BIGINT DEFAULT 0,
        confrelid BIGINT DEFAULT 0, confupdtype VARCHAR DEFAULT ' ',
        confdeltype VARCHAR DEFAULT ' ', confmatchtype VARCHAR DEFAULT ' ',
        conislocal BOOLEAN DEFAULT true, coninhcount INTEGER DEFAULT 0,
        connoinherit BOOLEAN DEFAULT true, conkey SMALLINT[], confkey SMALLINT[],
        conpfeqop BIGINT[], conppeqop BIGINT[], conffeqop BIGINT[], conexclop BIGINT[],
        conbin VARCHAR""",
    "pg_am": "oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR",
    "pg_attrdef": "oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR",
    "pg_database": """oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER,
        datlocprovider VARCHAR, datistemplate BOOLEAN, datallowconn BOOLEAN,
        datconnlimit INTEGER, datfrozenxid BIGINT, datminmxid BIGINT, dattablespace BIGINT,
        datcollate VARCHAR, datctype VARCHAR, daticulocale VARCHAR, daticurules VARCHAR,
        datcollversion VARCHAR, datacl VARCHAR[]""",
    "pg_roles": """oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN,
        rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN,
        rolreplication BOOLEAN, rolconnlimit INTEGER, rolpassword VARCHAR,
        rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig VARCHAR[]""",
    "pg_proc": """oid BIGINT, proname VARCHAR, pronamespace BIGINT, proowner BIGINT,
        prolang BIGINT, prokind VARCHAR, proretset BOOLEAN, prorettype BIGINT,
        proargtypes VARCHAR, pronargs SMALLINT""",
    "pg_description": "objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR",
    "pg_shdescription": "objoid BIGINT, classoid BIGINT, description VARCHAR",
    "pg_settings": "name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, "
                   "short_desc VARCHAR, context VARCHAR, vartype VARCHAR, source VARCHAR",
    "pg_policy": "oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, "
                 "polpermissive BOOLEAN, polroles BIGINT[], polqual VARCHAR, "
                 "polwithcheck VARCHAR",
    "pg_statistic_ext": "oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT, "
                        "stxowner BIGINT, stxstattarget INTEGER, stxkeys VARCHAR, "
                        "stxkind VARCHAR[], stxexprs VARCHAR",
    "pg_publication": "oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN, "
                      "pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, "
                      "pubtruncate BOOLEAN, pubviaroot BOOLEAN",
    "pg_publication_rel": "oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, "
                          "prattrs SMALLINT[]",
    "pg_publication_namespace": "oid BIGINT, pnpubid BIGINT, pnnspid BIGINT",
    "pg_publication_tables": "pubname VARCHAR, schemaname VARCHAR, tablename VARCHAR",
    "pg_inherits": "inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, "
                   "inhdetachpending BOOLEAN",
    "pg_collation": "oid BIGINT, collname VARCHAR, collnamespace BIGINT, collowner BIGINT, "
                    "collprovider VARCHAR, collisdeterministic BOOLEAN, collencoding INTEGER",
    "pg_extension": "oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT, "
                    "extrelocatable BOOLEAN, extversion VARCHAR",
    "pg_tablespace": "oid BIGINT, spcname VARCHAR, spcowner BIGINT",
    "pg_sequence": "seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT, "
                   "seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN",
    "pg_trigger": "oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, "
                  "tgenabled VARCHAR, tgisinternal BOOLEAN",
    "pg_rewrite": "oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR",
    "pg_partitioned_table": "partrelid BIGINT, partstrat VARCHAR",
    "pg_foreign_table": "ftrelid BIGINT, ftserver BIGINT",
    "pg_range": "rngtypid BIGINT, rngsubtype BIGINT, rngmultitypid BIGINT",
    "pg_enum": "oid BIGINT, enumtypid BIGINT, enumsortorder FLOAT, enumlabel VARCHAR",
    "pg_depend": "classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, "
                 "refobjid BIGINT, refobjsubid INTEGER, deptype VARCHAR",
    "pg_auth_members": "roleid BIGINT, member BIGINT, grantor BIGINT, admin_option BOOLEAN",
    "pg_event_trigger": "oid BIGINT, evtname VARCHAR",
    "pg_opclass": "oid BIGINT, opcname VARCHAR, opcdefault BOOLEAN",
    "pg_operator": "oid BIGINT, oprname VARCHAR",
    "pg_cast": "oid BIGINT, castsource BIGINT, casttarget BIGINT",
    "pg_language": "oid BIGINT, lanname VARCHAR",
    "pg_init_privs": "objoid BIGINT, classoid BIGINT",
    "pg_seclabel": "objoid BIGINT, classoid BIGINT, label VARCHAR",
    "pg_stat_activity": "datid BIGINT, datname VARCHAR, pid INTEGER, usename VARCHAR, "
                        "application_name VARCHAR, state VARCHAR, query VARCHAR",
    "pg_locks": "locktype VARCHAR, pid INTEGER, mode VARCHAR, granted BOOLEAN",
    "pg_cursors": "name VARCHAR, statement VARCHAR",
    "pg_prepared_statements": "name VARCHAR, statement VARCHAR",
}

_VIEWS = {
    "pg_user": "SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, "
               "rolsuper AS usesuper, false AS userepl, false AS usebypassrls, "
               "'********' AS passwd, NULL::TIMESTAMPTZ AS valuntil, NULL::VARCHAR[] AS "
               f"useconfig FROM {S}.pg_roles",
    "pg_authid": f"SELECT * FROM {S}.pg_roles",
    "pg_tables": f"SELECT n.nspname AS schemaname, c.relname AS tablename, 'root' AS "
                 f"tableowner, NULL AS tablespace, c.relhasindex AS hasindexes, false AS "
                 f"hasrules, false AS hastriggers, false AS rowsecurity FROM {S}.pg_class c "
                 f"JOIN {S}.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'",
    "pg_matviews": f"SELECT n.nspname AS schemaname, c.relname AS matviewname, 'root' AS "
                   f"matviewowner, NULL AS tablespace, false AS hasindexes, true AS "
                   f"ispopulated, d.def AS definition FROM {S}.pg_class c JOIN "
                   f"{S}.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN {S}.pg_defs d "
                   f"ON d.oid = c.oid WHERE c.relkind = 'm'",
    "pg_views": f"SELECT n.nspname AS schemaname, c.relname AS viewname, 'root' AS "
                f"viewowner, d.def AS definition FROM {S}.pg_class c JOIN "
                f"{S}.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN {S}.pg_defs d "
                f"ON d.oid = c.oid WHERE c.relkind = 'v'",
    "pg_indexes": f"SELECT n.nspname AS schemaname, t.relname AS tablename, c.relname AS "
                  f"indexname, NULL AS tablespace, d.def AS indexdef FROM {S}.pg_index i "
                  f"JOIN {S}.pg_class c ON c.oid = i.indexrelid JOIN {S}.pg_class t ON "
                  f"t.oid = i.indrelid JOIN {S}.pg_namespace n ON n.oid = t.relnamespace "
                  f"LEFT JOIN {S}.pg_defs d ON d.oid = c.oid",
    "information_schema_schemata": f"SELECT 'dev' AS catalog_name, nspname AS schema_name, "
                                   f"'root' AS schema_owner FROM {S}.pg_namespace",
    "information_schema_tables": f"SELECT 'dev' AS table_catalog, n.nspname AS table_schema, "
                                 f"c.relname AS table_name, CASE c.relkind WHEN 'r' THEN "
                                 f"'BASE TABLE' ELSE 'VIEW' END AS table_type, NULL AS "
                                 f"self_referencing_column_name, 'YES' AS is_insertable_into, "
                                 f"'NO' AS is_typed FROM {S}.pg_class c JOIN {S}.pg_namespace "
                                 f"n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','m','v')",
    "information_schema_views": f"SELECT 'dev' AS table_catalog, n.nspname AS table_schema, "
                                f"c.relname AS table_name, d.def AS view_definition FROM "
                                f"{S}.pg_class c JOIN {S}.pg_namespace n ON n.oid = "
                                f"c.relnamespace LEFT JOIN {S}.pg_defs d ON d.oid = c.oid "
                                f"WHERE c.relkind IN ('m', 'v')",
    "information_schema_columns": f"SELECT 'dev' AS table_catalog, n.nspname AS table_schema,"
                                  f" c.relname AS table_name, a.attname AS column_name, "
                                  f"a.attnum AS ordinal_position, (SELECT adbin FROM {S}.pg_attrdef "
                                  f"WHERE adrelid = a.attrelid AND adnum = a.attnum) AS "
                                  f"column_default, "
                                  f"CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS "
                                  f"is_nullable, tn.display AS data_type, t.typname AS "
                                  f"udt_name FROM {S}.pg_attribute a JOIN {S}.pg_class c ON "
                                  f"c.oid = a.attrelid JOIN {S}.pg_namespace n ON n.oid = "
                                  f"c.relnamespace JOIN {S}.pg_type t ON t.oid = a.atttypid "
                                  f"JOIN {S}.type_names tn ON tn.oid = a.atttypid "
                                  f"WHERE c.relkind IN ('r','m','v')",
}
for _name in ("table_constraints", "key_column_usage", "routines", "character_sets"):
    _VIEWS[f"information_schema_{_name}"] = ("SELECT NULL::VARCHAR AS table_schema, "
                                             "NULL::VARCHAR AS table_name WHERE false")

DDL = ([f"CREATE TABLE IF NOT EXISTS {S}.{name} ({cols})" for name, cols in _TABLES.items()]
       + [f"CREATE OR REPLACE VIEW {S}.{name} AS {q}" for name, q in _VIEWS.items()]
       + [f"INSERT INTO {S}.pg_am VALUES (2, 'heap', 'heap_tableam_handler', 't'), "
          f"(403, 'btree', 'bthandler', 'i')",
          f"INSERT INTO {S}.pg_database VALUES (16383, 'dev', 10, 6, 'c', false, true, -1, 0, "
          f"0, 1663, 'C', 'C', NULL, NULL, NULL, NULL)",
          f"INSERT INTO {S}.pg_roles VALUES (10, 'root', true, true, true, true, true, false, "
          f"-1, '********', NULL, true, NULL)",
          f"INSERT INTO {S}.pg_tablespace VALUES (1663, 'pg_default', 10)",
          f"INSERT INTO {S}.pg_collation VALUES (100, 'default', 11, 10, 'd', true, -1), "
          f"(950, 'C', 11, 10, 'c', true, -1)"])

_REL = f"(SELECT c.oid FROM {S}.pg_class c WHERE c.relname = CAST(x AS VARCHAR) OR CAST(c.oid AS VARCHAR) = CAST(x AS VARCHAR) ORDER BY c.oid LIMIT 1)"  # noqa: E501
_NAME = f"coalesce((SELECT c.relname FROM {S}.pg_class c WHERE CAST(c.oid AS VARCHAR) = CAST(x AS VARCHAR) LIMIT 1), CAST(x AS VARCHAR))"  # noqa: E501
_FMT = f"(SELECT display FROM {S}.type_names WHERE oid = t)"

MACROS = [f"CREATE OR REPLACE MACRO {S}.{m}" for m in (
    "pg_table_is_visible(x) AS true",
    "pg_type_is_visible(x) AS true",
    "pg_function_is_visible(x) AS true",
    f"regclass_oid(x) AS {_REL}",
    f"regclass_name(x) AS {_NAME}",
    f"regtype_oid(x) AS (SELECT oid FROM {S}.pg_type WHERE typname = CAST(x AS VARCHAR) OR "
    f"oid IN (SELECT oid FROM {S}.type_names WHERE display = CAST(x AS VARCHAR)) LIMIT 1)",
    f"regtype_name(t) AS {_FMT}",
    f"to_regtype(x) AS {S}.regtype_oid(x)",
    f"to_regclass(x) AS {S}.regclass_oid(x)",
    f"format_type(t, m) AS CASE WHEN t = 1700 AND m > 4 THEN 'numeric(' || ((m - 4) // 65536)"
    f" || ',' || ((m - 4) % 65536) || ')' ELSE {_FMT} END",
    "pg_get_userbyid(x) AS 'root'",
    "pg_get_expr(e, r) AS CAST(e AS VARCHAR), (e, r, p) AS CAST(e AS VARCHAR)",
    "pg_encoding_to_char(x) AS 'UTF8'",
    "pg_char_to_encoding(x) AS 6",
    "version() AS 'PostgreSQL 15.0.0 on x86_64-pc-linux-gnu, compiled by sqlstream'",
    "current_schema() AS 'public'",
    "current_schemas(b) AS ['public']",
    "current_database() AS 'dev'",
    "current_user() AS 'root'",
    "current_setting(n) AS NULL::VARCHAR, (n, m) AS NULL::VARCHAR",
    "set_config(n, v, l) AS v",
    f"pg_get_indexdef(x) AS (SELECT def FROM {S}.pg_defs WHERE oid = x), "
    f"(x, c, p) AS (SELECT def FROM {S}.pg_defs WHERE oid = x)",
    f"pg_get_constraintdef(x) AS (SELECT def FROM {S}.pg_defs WHERE oid = -x), "
    f"(x, p) AS (SELECT def FROM {S}.pg_defs WHERE oid = -x)",
    f"pg_get_viewdef(x) AS (SELECT def FROM {S}.pg_defs WHERE oid = {S}.regclass_oid(x)), "
    f"(x, p) AS (SELECT def FROM {S}.pg_defs WHERE oid = {S}.regclass_oid(x))",
    "pg_get_ruledef(x) AS NULL::VARCHAR, (x, p) AS NULL::VARCHAR",
    "pg_get_triggerdef(x) AS NULL::VARCHAR, (x, p) AS NULL::VARCHAR",
    "pg_get_partkeydef(x) AS NULL::VARCHAR",
    "pg_get_statisticsobjdef_columns(x) AS NULL::VARCHAR",
    "pg_get_function_identity_arguments(x) AS ''",
    "pg_get_function_arguments(x) AS ''",
    "pg_get_function_result(x) AS ''",
    "pg_get_function_sqlbody(x) AS NULL::VARCHAR",
    "pg_get_serial_sequence(t, c) AS NULL::VARCHAR",
    f"obj_description(x) AS NULL::VARCHAR, (x, c) AS (SELECT description FROM "
    f"{S}.pg_description WHERE objoid = x AND objsubid = 0 LIMIT 1)",
    f"col_description(x, n) AS (SELECT description FROM {S}.pg_description "
    f"WHERE objoid = x AND objsubid = n LIMIT 1)",
    "shobj_description(x, c) AS NULL::VARCHAR",
    "has_table_privilege(a, b) AS true, (a, b, c) AS true",
    "has_schema_privilege(a, b) AS true, (a, b, c) AS true",
    "has_database_privilege(a, b) AS true, (a, b, c) AS true",
    "has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true",
    "has_any_column_privilege(a, b) AS true, (a, b, c) AS true",
    "pg_relation_size(x) AS 0, (x, f) AS 0",
    "pg_total_relation_size(x) AS 0",
    "pg_table_size(x) AS 0",
    "pg_indexes_size(x) AS 0",
    "pg_database_size(x) AS 0",
    "pg_size_pretty(x) AS CAST(x AS VARCHAR) || ' bytes'",
    "pg_backend_pid() AS 0",
    "pg_is_in_recovery() AS false",
    "pg_postmaster_start_time() AS NULL::TIMESTAMPTZ",
    "txid_current() AS 1",
    "pg_my_temp_schema() AS 0",
    "pg_is_other_temp_schema(x) AS false",
    "pg_conversion_is_visible(x) AS true",
    "pg_collation_is_visible(x) AS true",
    "pg_opclass_is_visible(x) AS true",
    "pg_relation_is_publishable(x) AS false",
    "pg_get_keywords() AS NULL::VARCHAR",
    "inet_server_addr() AS '127.0.0.1'",
    "inet_server_port() AS 0",
    "array_upper(a, d) AS len(a)",
    "array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END",
)]
