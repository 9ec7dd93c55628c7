using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// The fuzzer's "changed nothing" oracle. Row triggers on every application table append one line per
/// inserted, updated or deleted row to <c>fuzz_writes</c>, inside the writing transaction: a committed write
/// moves the journal forward, a rolled-back one does not. Stronger than comparing row counts or content
/// hashes (an update that writes the same value still counts) and cheap enough to read after every request.
/// Installed only in the fuzzer's own database.
/// </summary>
public sealed class WriteJournal(ApiFixture app)
{
    private const string Table = "fuzz_writes";

    /// <summary>
    /// The feed sequencer positions change rows in the background, after the request that wrote them (ADR 19): those
    /// updates are not the request's. The change rows themselves are inserted by the request's transaction and counted.
    /// </summary>
    private const string PositionedInBackground = "feed_changes";

    public static async Task<WriteJournal> InstallAsync(ApiFixture app)
    {
        await using var connection = await app.Database.OpenAsync(CancellationToken.None);
        if (app.Provider == DatabaseProvider.Postgres)
        {
            await connection.ExecuteAsync(
                $"""
                CREATE TABLE {Table} (seq bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL);
                CREATE FUNCTION fuzz_note_write() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO {Table} (tbl, op) VALUES (TG_TABLE_NAME, lower(TG_OP));
                    RETURN NULL;
                END $$;
                """);
            var tables = await connection.QueryAsync<string>(
                $"SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '{Table}'");
            foreach (var table in tables)
            {
                var ops = table == PositionedInBackground ? "INSERT OR DELETE" : "INSERT OR UPDATE OR DELETE";
                await connection.ExecuteAsync(
                    $"CREATE TRIGGER fuzz_{table} AFTER {ops} ON \"{table}\" FOR EACH ROW EXECUTE FUNCTION fuzz_note_write()");
            }
        }
        else
        {
            await connection.ExecuteAsync($"CREATE TABLE {Table} (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL)");
            // A virtual table (the FTS5 search index) and its shadow tables take no triggers; they are written only by
            // the triggers of their content table (alert_search), whose writes the journal records.
            var tables = await connection.QueryAsync<string>(
                $"""
                SELECT t.name FROM sqlite_master t
                WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%' AND t.name <> '{Table}' AND t.sql NOT LIKE 'CREATE VIRTUAL TABLE%'
                  AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' AND t.name LIKE v.name || '\_%' ESCAPE '\')
                """);
            foreach (var table in tables)
            {
                foreach (var op in table == PositionedInBackground ? ["insert", "delete"] : new[] { "insert", "update", "delete" })
                {
                    await connection.ExecuteAsync(
                        $"CREATE TRIGGER fuzz_{table}_{op} AFTER {op.ToUpperInvariant()} ON \"{table}\" BEGIN INSERT INTO {Table} (tbl, op) VALUES ('{table}', '{op}'); END");
                }
            }
        }

        return new WriteJournal(app);
    }

    /// <summary>The position of the last committed write.</summary>
    public async Task<long> PositionAsync()
    {
        await using var connection = await app.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>($"SELECT COALESCE(MAX(seq), 0) FROM {Table}");
    }

    /// <summary>
    /// What was written after <paramref name="position"/> besides new audit records, summarised as "table op ×n";
    /// empty when nothing else was. Recording a refused request is what the audit trail is for; anything else
    /// a refused request writes is a change it must not make.
    /// </summary>
    public async Task<string> WritesBesidesAuditSinceAsync(long position)
    {
        await using var connection = await app.Database.OpenAsync(CancellationToken.None);
        var rows = await connection.QueryAsync<(string Tbl, string Op, long N)>(
            $"""
            SELECT tbl AS Tbl, op AS Op, COUNT(*) AS N FROM {Table}
            WHERE seq > @position AND NOT (tbl = 'audit_records' AND op = 'insert')
            GROUP BY tbl, op ORDER BY tbl, op
            """,
            new { position });
        return string.Join(", ", rows.Select(r => $"{r.Tbl} {r.Op} ×{r.N}"));
    }
}
