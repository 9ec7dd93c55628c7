using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// SQLite lets one transaction write at a time. Writers of this process take turns here, asynchronously, before
/// BEGIN IMMEDIATE, instead of inside it: a BEGIN IMMEDIATE that finds the lock taken blocks its thread-pool thread in
/// SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms between tries, so the lock sat free while writers slept, and
/// concurrent requests starved the thread pool (the profile of issue 9's SQLite regression: 12 % of thread time in
/// BeginTransaction, ingest at 50 alerts/s). The busy handler still arbitrates between processes (a CLI command
/// beside the server). A turn not given within the busy timeout fails as the busy handler would, with SQLITE_BUSY,
/// which callers already answer as "database unavailable".
/// </summary>
internal static class SqliteWriteGate
{
    /// <summary>As long as the connection's busy_timeout (Database.OpenAsync): the same wait before the same error.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private const int SqliteBusy = 5;

    // One gate per database: the file's full path, or the connection string of an in-memory database.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public static async Task<IDisposable> TakeTurnAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var name = string.IsNullOrEmpty(connection.DataSource) ? connection.ConnectionString : connection.DataSource;
        var gate = Gates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(Patience, cancellationToken))
        {
            throw new SqliteException($"database is locked: no write turn within {Patience.TotalSeconds:F0} s", SqliteBusy);
        }

        return new Turn(gate);
    }

    private sealed class Turn(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
