using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Every difference between PostgreSQL and SQLite that handlers and migrations care about lives here,
/// so that feature code writes one SQL statement for both.
/// </summary>
public abstract class SqlDialect
{
    public abstract DatabaseProvider Provider { get; }

    /// <summary>
    /// Wraps a parameter bound for a <c>{json}</c> column: a document served back byte for byte (PostgreSQL
    /// <c>json</c> keeps the text as written, where <c>jsonb</c> would reorder keys), TEXT in SQLite.
    /// </summary>
    public abstract string Json(string parameter);

    /// <summary>Wraps a parameter bound for a <c>{jsonb}</c> column: a document that queries look inside.</summary>
    public abstract string JsonB(string parameter);

    /// <summary>
    /// A text column's value as its UTF-8 bytes (read as a <c>byte[]</c>): for large JSON that is parsed or copied as
    /// UTF-8 anyway, so the client neither decodes it into a string nor encodes it back.
    /// </summary>
    public abstract string Utf8Bytes(string column);

    /// <summary>
    /// Appended to a claim query: locks the rows of <paramref name="tableAlias"/> only, skipping rows other workers
    /// hold (PostgreSQL), or nothing (SQLite has one writer at a time, so the claiming UPDATE is already exclusive).
    /// </summary>
    public abstract string ForUpdateSkipLocked(string tableAlias);

    /// <summary>
    /// Appended to a SELECT in a write transaction: locks the rows read until the transaction ends (PostgreSQL), or
    /// nothing (SQLite's write transaction already excludes every other writer).
    /// </summary>
    public abstract string ForUpdate { get; }

    /// <summary>
    /// After a table in FROM: read it through <paramref name="index"/> (SQLite's INDEXED BY, an error if it cannot), or
    /// nothing (PostgreSQL, whose planner has no hints; <see cref="InIndexOrder"/> leaves it no other plan instead).
    /// </summary>
    public abstract string IndexedBy(string index);

    /// <summary>
    /// Wraps a statement whose rows must come from an index in that index's order (the delivery claim, ADR 45): on
    /// PostgreSQL, sorts, bitmap scans and JIT are off for it and sorts and bitmaps on again after it, in the same round
    /// trip, so the ordered index scan is its only plan whatever the statistics say; generic plans stay forced for the
    /// rest of its transaction. On SQLite the statement names its index instead (<see cref="IndexedBy"/>).
    /// </summary>
    public abstract string InIndexOrder(string statement);

    /// <summary>
    /// A FROM item: the rows of <paramref name="table"/> whose <paramref name="column"/> is one of <paramref name="keys"/>
    /// (a non-empty list from <see cref="SqlLists"/>), named <paramref name="name"/>, each key looked up in the column's
    /// index on its own, so the statement reads what it returns however large the table. On PostgreSQL a lateral
    /// subquery per distinct key, which the planner may not merge into a join (<c>OFFSET 0</c>); inside
    /// <see cref="WithoutTableScans"/>, even statistics that say each key matches the whole table leave it only the index.
    /// On SQLite a plain <c>IN</c>, which it searches through the index key by key.
    /// </summary>
    public abstract string RowsByKey(string table, string column, string keys, string name);

    /// <summary>
    /// A join after a FROM item: for each of its rows, the first <paramref name="limit"/> rows of <paramref name="table"/>
    /// (whose primary key is <c>id</c>) in <paramref name="order"/> that satisfy <paramref name="where"/> (given the
    /// inner alias; it names the outer row's columns), read from <paramref name="index"/> in its order and stopped at
    /// the limit, named <paramref name="name"/>. Each outer row costs one descent of the index and the rows it
    /// returns, however many rows of <paramref name="table"/> match in all. On PostgreSQL a lateral subquery kept
    /// apart from the join (<c>OFFSET 0</c>), its index chosen by the planner from <paramref name="where"/> (which must
    /// leave it no other ordered index); on SQLite, which has no lateral join, the primary key looked up in a
    /// correlated list of the first ids read <c>INDEXED BY</c> <paramref name="index"/>.
    /// </summary>
    public abstract string FirstRowsEach(string table, string name, string index, Func<string, string> where, string order, string limit);

    /// <summary>
    /// A FROM item: the row of <paramref name="table"/> (primary key <c>id</c>) for each id <paramref name="ids"/> (a
    /// subquery with a column <c>id</c>) returns, named <paramref name="name"/>, each read by its primary key and, on
    /// PostgreSQL, locked unless another transaction holds it (then left out). Conditions on <paramref name="name"/> are
    /// checked on the row as locked, so a row another transaction changed since <paramref name="ids"/> read it is judged
    /// as it is now. On both databases the ids drive the join, one primary-key read each: a condition on the table's
    /// other columns cannot make a state index look cheaper (stale estimates made both databases read
    /// ix_deliveries_state_created for a plain <c>id IN (…) AND state IN (…)</c>).
    /// </summary>
    public abstract string LockedByKey(string ids, string table, string name);

    /// <summary>
    /// A condition: <paramref name="column"/> (a key) is one of the values <paramref name="subquery"/> returns, each
    /// looked up in the column's index. On PostgreSQL the subquery runs once into an array (<c>= ANY(ARRAY(…))</c>), an
    /// index condition the planner cannot turn into a hash join that reads the whole index, as it did for a plain
    /// <c>IN</c> when stale estimates made the index look tiny. On SQLite a plain <c>IN</c>.
    /// </summary>
    public abstract string KeyIn(string column, string subquery);

    /// <summary>
    /// Wraps a statement whose every table has an index for what it looks up (<see cref="RowsByKey"/>): on PostgreSQL,
    /// sequential scans are off for it and on again after it, in the same round trip, so no estimate can make reading a
    /// whole table look cheaper (the correlation worker's notices, ADR 46). Nothing on SQLite. Inside a transaction.
    /// </summary>
    public abstract string WithoutTableScans(string statement);

    /// <summary>
    /// Runs <paramref name="statement"/> without parallel workers (PostgreSQL: <c>SET LOCAL</c>, so in a transaction), for
    /// a read of a few thousand rows that the planner, pricing their random heap pages, would hand to workers whose
    /// start costs more than the read (partner health's live windows: 97 ms with two workers, 4 ms without).
    /// </summary>
    public abstract string WithoutParallelWorkers(string statement);

    /// <summary>
    /// How a search newest change first (ADR 35) joins <c>alert_search s</c> to <c>alerts a</c> and keeps the rows that
    /// hold every word bound to <c>@words</c> (<see cref="AllWordsQuery"/>): either by walking the alerts newest first,
    /// testing each row's words, until a page is found (a broad search), or from the words' own index, sorting the few
    /// matches (a narrow one). Which of the two is cheaper depends on how many alerts hold the words; where the database
    /// cannot tell, <paramref name="walkFromMatches"/> matches or more make a search broad.
    /// </summary>
    public abstract ValueTask<TextSearchPlan> PlanTextSearchAsync(
        DbConnection connection, DbTransaction? transaction, string words, int walkFromMatches, CancellationToken cancellationToken);

    /// <summary>
    /// The value to bind as <c>@words</c> for <see cref="PlanTextSearchAsync"/>: already folded words (letters and digits only), each taken
    /// literally, never as the engine's query syntax.
    /// </summary>
    public abstract string AllWordsQuery(IReadOnlyList<string> words);

    /// <summary>
    /// A join of the other <c>alert_indicators</c> rows (aliased <paramref name="carrier"/>) that carry the value of the row
    /// aliased <paramref name="outer"/>, each found through the value index, and none at all when <paramref name="limit"/>
    /// or more alerts carry the value (over-correlating; counting stops there).
    /// PostgreSQL plans a many-row join by its statistics, where one value (a bank every campaign pays through) may hold
    /// most rows, and then scans the whole table; a lateral look-up with a limit stays an index probe per value, and
    /// counts the carriers it fetched instead of probing the index a second time to count them.
    /// SQLite always joins by nested loops through the index, so a plain join is the same thing there.
    /// </summary>
    public abstract string OtherCarriersOf(string outer, string carrier, string limit);

    /// <summary>
    /// An inner join that keeps the written order of the tables: <c>JOIN</c> where the planner chooses well, SQLite's
    /// <c>CROSS JOIN</c> where it does not (its planner otherwise started the correlation match from every active
    /// alert instead of the few being matched: 554 ms instead of 19 ms per run at 4,900 alerts, growing with the store).
    /// </summary>
    public abstract string JoinInWrittenOrder { get; }

    /// <summary>Replaces the type tokens used in migration scripts.</summary>
    public abstract string TranslateMigration(string sql);

    /// <summary>The suffix of a migration script written for this database only (<c>NNNN_name.{suffix}.sql</c>).</summary>
    public abstract string MigrationSuffix { get; }

    /// <summary>The current time as SQL, in the form this database stores a <c>{timestamp}</c> column.</summary>
    public abstract string CurrentTimestamp { get; }

    /// <summary>The UTC day (<c>yyyy-mm-dd</c>) or month (<c>yyyy-mm</c>) of a timestamp column, as text, to group by.</summary>
    public abstract string UtcPeriod(string column, bool monthly);

    /// <summary>Whether an exception means a unique constraint was violated.</summary>
    public abstract bool IsUniqueViolation(DbException exception);

    /// <summary>Takes a database-wide lock that serialises migrations across processes; released on dispose.</summary>
    public abstract Task<IAsyncDisposable> AcquireMigrationLockAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// Inside a write transaction, waits for a lock named by <paramref name="key"/> that is held until the
    /// transaction ends, so one holder at a time across every process runs the work (e.g. the audit sealer).
    /// </summary>
    public abstract Task LockForTransactionAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a read-only transaction whose statements the database itself stops after <paramref name="milliseconds"/>
    /// (PostgreSQL's <c>statement_timeout</c>, set for this transaction only); null where the database has no such bound
    /// (SQLite), and the statements then run unbounded, outside a transaction. <see cref="IsStatementTimeout"/> tells the failure.
    /// </summary>
    public abstract Task<DbTransaction?> BeginTimeBoundReadAsync(DbConnection connection, int milliseconds, CancellationToken cancellationToken);

    /// <summary>Whether the database stopped a statement at the bound of <see cref="BeginTimeBoundReadAsync"/>.</summary>
    public abstract bool IsStatementTimeout(Exception exception);

    /// <summary>Starts a write transaction on a connection of this dialect.</summary>
    public abstract Task<WriteTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a read-only transaction in which every statement sees the same snapshot: for a read made of several
    /// statements whose parts a concurrent writer moves between tables (published results: a day's roll-up replaces its
    /// hours' rows). PostgreSQL: REPEATABLE READ, without parallel workers (an interactive read of a few thousand rows,
    /// which PostgreSQL would hand to workers whose start costs more than the read: 203 of a view's 222 ms at the console
    /// benchmark's size, as <see cref="WithoutParallelWorkers"/> found for partner health); SQLite: a deferred
    /// transaction, whose first read fixes its snapshot in WAL mode and which never takes the write lock.
    /// </summary>
    public abstract Task<DbTransaction> BeginSnapshotReadAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// A statement that lets the current transaction commit without waiting for its WAL flush, or null where the dialect
    /// has none. Only for writes whose loss in a database crash is harmless by design (a delivery's claim: the lease is
    /// then simply not taken, and the delivery is sent again as after any crash); any later durable commit flushes it too.
    /// </summary>
    public virtual string? CommitWithoutWaitingForFlush => null;

    /// <summary>
    /// Whether a <see cref="SqlBatch"/> goes to the database as one multi-statement command (one round trip), or
    /// statement by statement with each statement's own parameters (an embedded database has no round trip to save).
    /// </summary>
    public abstract bool SendsBatchesAsOneCommand { get; }

    /// <summary>Whether this dialect's driver says, by this exception alone, that the database cannot be reached or is busy.</summary>
    public abstract bool IsUnavailable(Exception exception);

    /// <summary>Whether the database aborted the transaction because of what ran beside it, so the same work alone would succeed.</summary>
    public abstract bool IsConflictWithOtherTransactions(Exception exception);

    /// <summary>Whether <paramref name="connection"/> belongs to this dialect's driver.</summary>
    public abstract bool Owns(DbConnection connection);

    /// <summary>Whether <paramref name="parameter"/> was made by this dialect's driver.</summary>
    public abstract bool Owns(IDbDataParameter parameter);

    /// <summary>Binds a uuid: native on PostgreSQL, canonical text (<c>D</c> format) on SQLite.</summary>
    public abstract void BindGuid(IDbDataParameter parameter, Guid value);

    /// <summary>Binds a <c>{timestamp}</c>: native timestamptz in UTC on PostgreSQL, fixed-width UTC text on SQLite (text order is time order).</summary>
    public abstract void BindTimestamp(IDbDataParameter parameter, DateTimeOffset value);

    /// <summary>
    /// Rows given column by column (every column holds one value per row, at least one row), as a row source whose
    /// parameters are bound in <paramref name="batch"/>: <c>INSERT INTO t (…) {rows}</c>, or <c>WITH name (…) AS ({rows})</c>
    /// to join or update from. On PostgreSQL one <c>SELECT</c> over one array parameter per column, so the statement has
    /// one shape whatever the number of rows — prepared once per connection and planned once, where a <c>VALUES</c> list
    /// is another statement for every length (the delivery drain planned each of its outcome batches afresh,
    /// docs/benchmarks.md); on SQLite, which prepares every statement anew and cheaply, a <c>VALUES</c> list.
    /// </summary>
    public abstract string Rows(SqlBatch batch, IReadOnlyList<ColumnValues> columns);

    public static IReadOnlyList<SqlDialect> All => [PostgresDialect.Instance, SqliteDialect.Instance];

    // Called for every uuid and timestamp Dapper binds: two type tests, no list.
    public static SqlDialect Of(IDbDataParameter parameter) =>
        SqliteDialect.Instance.Owns(parameter) ? SqliteDialect.Instance
        : PostgresDialect.Instance.Owns(parameter) ? PostgresDialect.Instance
        : throw new NotSupportedException($"No SQL dialect for {parameter.GetType().Name}.");

    public static SqlDialect Of(DbConnection connection) =>
        All.FirstOrDefault(dialect => dialect.Owns(connection))
        ?? throw new NotSupportedException($"No SQL dialect for {connection.GetType().Name}.");

    public static SqlDialect For(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.Postgres => PostgresDialect.Instance,
        _ => SqliteDialect.Instance,
    };
}

public sealed class PostgresDialect : SqlDialect
{
    public static readonly PostgresDialect Instance = new();

    // Any constant shared by every IntelSharing process works; this one spells "INTL".
    private const long MigrationLockKey = 0x494E544C;

    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    public override string Json(string parameter) => $"CAST({parameter} AS json)";

    // Not CAST(… AS bytea), which would read the text as bytea's escape format (JSON's backslashes included).
    public override string Utf8Bytes(string column) => $"convert_to({column}, 'UTF8')";

    public override string JsonB(string parameter) => $"CAST({parameter} AS jsonb)";

    public override string ForUpdateSkipLocked(string tableAlias) => $"FOR UPDATE OF {tableAlias} SKIP LOCKED";

    public override string ForUpdate => "FOR UPDATE";

    public override string IndexedBy(string index) => string.Empty;

    // The planner costs a plan from estimates; an outbox's estimates are wrong exactly when it matters. Its subscriptions
    // table is never analysed (autovacuum waits for 50 changed rows) and its deliveries were last analysed while the queue
    // was short, so when a backlog forms a plan that reads every due row and sorts them looks as cheap as the index.
    // auto_explain in the end-to-end benchmark caught both: a bitmap over the partial index and a scan of
    // ix_deliveries_state_created, each sorting 9,000 rows to keep 32. With sorts and bitmaps disabled, the only way left
    // to "ORDER BY next_attempt_at" is the index kept in that order. A disabled node is priced at 10^10, past every JIT
    // threshold: jit is off for it too (the sessions have it off already unless the connection string turned it on),
    // or each claim would spend about 280 ms compiling. And its generic plan is forced: PostgreSQL kept planning it
    // afresh on every call (2,017 plans for 2,013 claims in a drain, 0.43 ms each, more than half its execution time),
    // though with sorts and bitmaps off the generic plan is the same index scan. The generic plans stay forced for the
    // rest of the claim's transaction (primary-key reads of the rows it took, whose first executions on each connection
    // were planned afresh too); sorts and bitmaps come back on for it. SET LOCAL ends with the transaction.
    public override string InIndexOrder(string statement) =>
        "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off; SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_generic_plan;\n" +
        $"{statement};\nSET LOCAL enable_sort = on; SET LOCAL enable_bitmapscan = on";

    // A lateral subquery that has OFFSET 0 is planned on its own for each outer row (the planner does not pull it up into
    // a join it could hash), and an equality on the index's first column is the cheapest way to find one key's rows,
    // unless the statistics say that key is in most of the table; with sequential scans off, even then. The keys are
    // made distinct: a padded list repeats its last key, and each repeat would return that key's rows again.
    public override string RowsByKey(string table, string column, string keys, string name)
    {
        if (!keys.StartsWith("(@", StringComparison.Ordinal))
        {
            throw new ArgumentException($"RowsByKey needs a non-empty parameter list, not {keys}.", nameof(keys));
        }

        return $"""
            (SELECT DISTINCT key FROM unnest(ARRAY[{keys[1..^1]}]) AS {name}_keys (key)) {name}_key
            CROSS JOIN LATERAL (SELECT * FROM {table} WHERE {column} = {name}_key.key OFFSET 0) {name}
            """;
    }

    public override string WithoutTableScans(string statement) =>
        $"SET LOCAL enable_seqscan = off;\n{statement};\nSET LOCAL enable_seqscan = on";

    public override string WithoutParallelWorkers(string statement) =>
        $"SET LOCAL max_parallel_workers_per_gather = 0;\n{statement};\nSET LOCAL max_parallel_workers_per_gather = DEFAULT";

    public override string KeyIn(string column, string subquery) => $"{column} = ANY(ARRAY({subquery}))";

    public override string LockedByKey(string ids, string table, string name) =>
        $"({ids}) {name}_key CROSS JOIN LATERAL (SELECT * FROM {table} WHERE id = {name}_key.id FOR UPDATE SKIP LOCKED) {name}";

    public override string FirstRowsEach(string table, string name, string index, Func<string, string> where, string order, string limit) =>
        $"CROSS JOIN LATERAL (SELECT {name}.* FROM {table} {name} WHERE {where(name)} ORDER BY {name}.{order} LIMIT {limit} OFFSET 0) {name}";

    // The stored vector holds the folded words verbatim (migration 15), so the query takes them verbatim too: tsquery's
    // input function, each word a quoted operand (any inner quote doubled), ANDed. No parser on either side to disagree.
    // One statement for both plans: PostgreSQL's statistics of the vector's words (most common elements) tell the planner
    // how many rows a word matches, and it walks ix_alerts_updated backwards testing "@@" on each row when the words are
    // common, or reads the GIN index and sorts the matches when they are rare (ADR 35).
    private static readonly TextSearchPlan IndexedOrWalked = new("JOIN", "s.vector @@ CAST(@words AS tsquery)", Walks: false, CandidatesInPages: true);

    public override ValueTask<TextSearchPlan> PlanTextSearchAsync(
        DbConnection connection, DbTransaction? transaction, string words, int walkFromMatches, CancellationToken cancellationToken) =>
        ValueTask.FromResult(IndexedOrWalked);

    public override string AllWordsQuery(IReadOnlyList<string> words) =>
        string.Join(" & ", words.Select(w => "'" + w.Replace("'", "''", StringComparison.Ordinal) + "'"));

    public override string JoinInWrittenOrder => "JOIN";

    public override string OtherCarriersOf(string outer, string carrier, string limit) =>
        $"""
        JOIN LATERAL (SELECT fetched.*, COUNT(*) OVER () AS carriers
                      FROM (SELECT * FROM alert_indicators c WHERE c.value_key = {outer}.value_key LIMIT {limit}) fetched) {carrier}
          ON {carrier}.alert_id <> {outer}.alert_id AND {carrier}.carriers < {limit}
        """;

    public override string UtcPeriod(string column, bool monthly) =>
        $"to_char({column} AT TIME ZONE 'UTC', '{(monthly ? "YYYY-MM" : "YYYY-MM-DD")}')";

    public override string MigrationSuffix => "postgres";

    public override string CurrentTimestamp => "now()";

    public override string TranslateMigration(string sql) => sql
        .Replace("{uuid}", "uuid", StringComparison.Ordinal)
        .Replace("{timestamp}", "timestamptz", StringComparison.Ordinal)
        .Replace("{jsonb}", "jsonb", StringComparison.Ordinal)
        .Replace("{json}", "json", StringComparison.Ordinal)
        .Replace("{bytes}", "bytea", StringComparison.Ordinal)
        .Replace("{bool}", "boolean", StringComparison.Ordinal)
        .Replace("{bigint}", "bigint", StringComparison.Ordinal);

    public override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override async Task<WriteTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        new(await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken));

    public override async Task<DbTransaction> BeginSnapshotReadAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "SET LOCAL max_parallel_workers_per_gather = 0", transaction: transaction, cancellationToken: cancellationToken));
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    public override string CommitWithoutWaitingForFlush => "SET LOCAL synchronous_commit = off";

    public override bool SendsBatchesAsOneCommand => true;

    public override bool IsUnavailable(Exception exception) => exception is NpgsqlException { IsTransient: true };

    public override bool IsConflictWithOtherTransactions(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure };

    public override bool Owns(DbConnection connection) => connection is NpgsqlConnection;

    public override bool Owns(IDbDataParameter parameter) => parameter is NpgsqlParameter;

    public override void BindGuid(IDbDataParameter parameter, Guid value)
    {
        parameter.DbType = DbType.Guid;
        parameter.Value = value;
    }

    public override void BindTimestamp(IDbDataParameter parameter, DateTimeOffset value)
    {
        parameter.DbType = DbType.DateTimeOffset;
        parameter.Value = value.ToUniversalTime();
    }

    public override string Rows(SqlBatch batch, IReadOnlyList<ColumnValues> columns)
    {
        ArgumentOutOfRangeException.ThrowIfZero(columns[0].Count);
        var prefix = batch.NextName("rows") + "_";
        return "SELECT * FROM unnest(" + string.Join(", ", columns.Select(column =>
        {
            var (values, type) = column.AsArray();
            return $"CAST({batch.Parameter(prefix + column.Name, values)} AS {type}[])";
        })) + ")";
    }

    public override async Task<IAsyncDisposable> AcquireMigrationLockAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT pg_advisory_lock({MigrationLockKey})";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new Release(connection);
    }

    public override async Task<DbTransaction?> BeginTimeBoundReadAsync(DbConnection connection, int milliseconds, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            // SET takes no parameters; the value is an int, so formatting it is safe.
            command.CommandText = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"SET LOCAL statement_timeout = {milliseconds}");
            await command.ExecuteNonQueryAsync(cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    // 57014 is also what a cancelled request's statement ends with; callers check their own token first.
    public override bool IsStatementTimeout(Exception exception) => exception is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled };

    public override async Task LockForTransactionAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT pg_advisory_xact_lock(@key)";
        command.Parameters.Add(new NpgsqlParameter<long>("key", key));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class Release(DbConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT pg_advisory_unlock({MigrationLockKey})";
            await command.ExecuteNonQueryAsync();
        }
    }
}

public sealed class SqliteDialect : SqlDialect
{
    public static readonly SqliteDialect Instance = new();

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    public override string Json(string parameter) => parameter;

    public override string Utf8Bytes(string column) => $"CAST({column} AS BLOB)";

    public override string JsonB(string parameter) => parameter;

    public override string ForUpdateSkipLocked(string tableAlias) => string.Empty;

    public override string ForUpdate => string.Empty;

    // Without sqlite_stat1 SQLite takes an equality on an index's first column for selective: it read the claim through
    // ix_deliveries_state_created (state = ?) and sorted the whole backlog on every claim.
    public override string IndexedBy(string index) => $"INDEXED BY {index}";

    public override string InIndexOrder(string statement) => statement;

    public override string RowsByKey(string table, string column, string keys, string name) =>
        $"(SELECT * FROM {table} WHERE {column} IN {keys}) {name}";

    public override string WithoutTableScans(string statement) => statement;

    public override string WithoutParallelWorkers(string statement) => statement;

    public override string KeyIn(string column, string subquery) => $"{column} IN ({subquery})";

    // CROSS JOIN keeps the ids as the outer loop (SQLite never reorders it), each row then found by its primary key.
    public override string LockedByKey(string ids, string table, string name) =>
        $"({ids}) {name}_key CROSS JOIN {table} {name} ON {name}.id = {name}_key.id";

    public override string FirstRowsEach(string table, string name, string index, Func<string, string> where, string order, string limit) =>
        $"JOIN {table} {name} ON {name}.id IN (SELECT {name}_first.id FROM {table} {name}_first INDEXED BY {index} WHERE {where($"{name}_first")} ORDER BY {name}_first.{order} LIMIT {limit})";

    // FTS5 tells SQLite's planner nothing about how many rows a MATCH returns, so the choice is made here, from a count
    // of the matches that stops at walkFromMatches (Search__SqliteWalkFromMatches; it reads the words' doclists, no table
    // rows). A broad search walks ix_alerts_updated newest first (CROSS JOIN keeps alerts the outer loop) and asks FTS5
    // about one rowid per row; a narrow one takes the matching rowids from FTS5 once and sorts those rows. At 100,000
    // alerts (EXPLAIN QUERY PLAN and CPU times in docs/benchmarks.md) the walk finds a page of a word in half of them in
    // milliseconds where the sort spent 0.1 s, and the sort finds a word in 20 of them where a walk reads every alert.
    private static readonly TextSearchPlan Walked = new(
        "CROSS JOIN", "EXISTS (SELECT 1 FROM alert_search_fts f WHERE f.rowid = s.search_id AND alert_search_fts MATCH @words)", Walks: true);

    private static readonly TextSearchPlan Indexed = new("JOIN", "s.search_id IN (SELECT rowid FROM alert_search_fts WHERE alert_search_fts MATCH @words)", Walks: false);

    public override async ValueTask<TextSearchPlan> PlanTextSearchAsync(
        DbConnection connection, DbTransaction? transaction, string words, int walkFromMatches, CancellationToken cancellationToken)
    {
        var matches = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM (SELECT 1 FROM alert_search_fts WHERE alert_search_fts MATCH @words LIMIT @walkFromMatches)",
            new { words, walkFromMatches }, transaction, cancellationToken: cancellationToken));
        return matches >= walkFromMatches ? Walked : Indexed;
    }

    // Each word as an FTS5 string (double quotes, any inner quote doubled), so NEAR, AND, *, ^, : and - are plain text;
    // strings side by side are ANDed.
    public override string AllWordsQuery(IReadOnlyList<string> words) =>
        string.Join(' ', words.Select(w => "\"" + w.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));

    public override string JoinInWrittenOrder => "CROSS JOIN";

    public override string OtherCarriersOf(string outer, string carrier, string limit) =>
        $"""
        {JoinInWrittenOrder} alert_indicators {carrier} ON {carrier}.value_key = {outer}.value_key AND {carrier}.alert_id <> {outer}.alert_id
          AND (SELECT COUNT(*) FROM (SELECT 1 FROM alert_indicators c WHERE c.value_key = {outer}.value_key LIMIT {limit}) carriers) < {limit}
        """;

    // Timestamps are stored as UTC text, yyyy-MM-ddTHH:mm:ss.ffffffZ: the period is a prefix.
    public override string UtcPeriod(string column, bool monthly) => $"substr({column}, 1, {(monthly ? 7 : 10)})";

    public override string MigrationSuffix => "sqlite";

    public override string CurrentTimestamp => "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')";

    public override string TranslateMigration(string sql) => sql
        .Replace("{uuid}", "TEXT", StringComparison.Ordinal)
        .Replace("{timestamp}", "TEXT", StringComparison.Ordinal)
        .Replace("{jsonb}", "TEXT", StringComparison.Ordinal)
        .Replace("{json}", "TEXT", StringComparison.Ordinal)
        .Replace("{bytes}", "BLOB", StringComparison.Ordinal)
        .Replace("{bool}", "INTEGER", StringComparison.Ordinal)
        .Replace("{bigint}", "INTEGER", StringComparison.Ordinal);

    public override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    public override Task<DbTransaction> BeginSnapshotReadAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(IsolationLevel.Serializable, deferred: true));

    // BEGIN IMMEDIATE: two writers queue on the write lock instead of both reading and then failing to upgrade; this
    // process's writers queue first, without blocking a thread, on the write gate.
    public override async Task<WriteTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var sqlite = (SqliteConnection)connection;
        var turn = await SqliteWriteGate.TakeTurnAsync(sqlite, cancellationToken);
        try
        {
            return new WriteTransaction(sqlite.BeginTransaction(IsolationLevel.Serializable, deferred: false), turn);
        }
        catch
        {
            turn.Dispose();
            throw;
        }
    }

    public override bool IsUnavailable(Exception exception) => exception is SqliteException { SqliteErrorCode: 5 or 6 }; // SQLITE_BUSY, SQLITE_LOCKED

    public override bool SendsBatchesAsOneCommand => false;

    // One writer at a time: no transaction is aborted for what ran beside it.
    public override bool IsConflictWithOtherTransactions(Exception exception) => false;

    public override bool Owns(DbConnection connection) => connection is SqliteConnection;

    public override bool Owns(IDbDataParameter parameter) => parameter is SqliteParameter;

    public override void BindGuid(IDbDataParameter parameter, Guid value)
    {
        parameter.DbType = DbType.String;
        parameter.Value = value.ToString("D");
    }

    public override void BindTimestamp(IDbDataParameter parameter, DateTimeOffset value)
    {
        parameter.DbType = DbType.String;
        parameter.Value = DapperTypeHandlers.ToSqliteText(value);
    }

    public override string Rows(SqlBatch batch, IReadOnlyList<ColumnValues> columns)
    {
        ArgumentOutOfRangeException.ThrowIfZero(columns[0].Count);
        var prefix = batch.NextName("rows") + "_";
        return "VALUES " + string.Join(", ", Enumerable.Range(0, columns[0].Count).Select(row =>
            "(" + string.Join(", ", columns.Select(column => batch.Parameter($"{prefix}{column.Name}{row}", column.ValueAt(row)))) + ")"));
    }

    // SQLite has one writer at a time; migrations run inside BEGIN IMMEDIATE transactions, which is the lock.
    public override Task<IAsyncDisposable> AcquireMigrationLockAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable>(NoLock.Instance);

    public override Task<DbTransaction?> BeginTimeBoundReadAsync(DbConnection connection, int milliseconds, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction?>(null);

    public override bool IsStatementTimeout(Exception exception) => false;

    // A write transaction on SQLite is BEGIN IMMEDIATE: holding it already excludes every other writer.
    public override Task LockForTransactionAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// How a search reaches its rows: <paramref name="Join"/> joins <c>alert_search s</c> to <c>alerts a</c> (<c>JOIN</c>, or
/// SQLite's <c>CROSS JOIN</c> to keep alerts the outer loop), and <paramref name="Predicate"/> keeps those holding every word.
/// <paramref name="Walks"/>: the application chose a walk of the alerts newest first and bounds it by the alerts it reads,
/// because the database has no time bound to stop it (SQLite; <c>Search__SqliteMaxAlertsWalked</c>, ADR 41).
/// <paramref name="CandidatesInPages"/>: many matches newest first are read a page-sized LIMIT at a time, because the
/// planner walks the newest-first index for a small LIMIT but, for a large one over words it thinks rare, reads every
/// match from the text index and sorts them all (PostgreSQL; ADR 41).
/// </summary>
public sealed record TextSearchPlan(string Join, string Predicate, bool Walks, bool CandidatesInPages = false);
