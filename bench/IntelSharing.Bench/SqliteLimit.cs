using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace IntelSharing.Bench;

/// <summary>
/// L_db on SQLite, the embedded default: the minimal durable write of one alert — one transaction holding the alert
/// row with its document and one delivery row per matching subscription, into tables with only a primary key — from
/// <c>clients</c> threads, each with its own connection, opened exactly as the product opens its connections (the
/// same pragmas) and written as the product writes (BEGIN IMMEDIATE, so writers queue on the write lock).
/// </summary>
public static class SqliteLimit
{
    /// <summary>
    /// What Database.OpenAsync (src/IntelSharing.Api/Infrastructure/Persistence/Database.cs) sets on every SQLite
    /// connection; the limit is only the product's limit while the two agree.
    /// </summary>
    public const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";

    public static async Task<SqliteLimitRow> RunAsync(string file, string document, IReadOnlyList<Guid> subscriptions, int clients, TimeSpan warmup, TimeSpan window)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = file, Pooling = false, DefaultTimeout = 30 }.ToString();
        await using (var setup = Open(connectionString))
        {
            await using var create = setup.CreateCommand();
            create.CommandText =
                """
                CREATE TABLE IF NOT EXISTS limit_alerts (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS limit_deliveries (id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, subscription_id TEXT NOT NULL, state TEXT NOT NULL, next_attempt_at TEXT NULL);
                """;
            await create.ExecuteNonQueryAsync();
        }

        var measuring = 0;
        var stop = 0;
        long alerts = 0;
        long busy = 0;
        var threads = Enumerable.Range(0, clients).Select(_ => new Thread(() =>
        {
            using var connection = Open(connectionString);
            using var alert = connection.CreateCommand();
            alert.CommandText = "INSERT INTO limit_alerts (id, doc) VALUES ($id, $doc)";
            var alertId = alert.Parameters.Add("$id", SqliteType.Text);
            alert.Parameters.AddWithValue("$doc", document);
            using var deliveries = connection.CreateCommand();
            deliveries.CommandText =
                """
                INSERT INTO limit_deliveries (id, alert_id, subscription_id, state, next_attempt_at)
                VALUES ($d1, $alert, $s1, 'pending', $now), ($d2, $alert, $s2, 'pending', $now), ($d3, $alert, $s3, 'pending', $now)
                """;
            var deliveryIds = Enumerable.Range(1, 3).Select(i => deliveries.Parameters.Add($"$d{i}", SqliteType.Text)).ToArray();
            var deliveryAlert = deliveries.Parameters.Add("$alert", SqliteType.Text);
            var now = deliveries.Parameters.Add("$now", SqliteType.Text);
            for (var i = 0; i < 3; i++)
            {
                deliveries.Parameters.AddWithValue($"$s{i + 1}", subscriptions[i].ToString());
            }

            while (Volatile.Read(ref stop) == 0)
            {
                try
                {
                    using var transaction = connection.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);
                    alert.Transaction = transaction;
                    deliveries.Transaction = transaction;
                    alertId.Value = deliveryAlert.Value = Guid.CreateVersion7().ToString();
                    foreach (var id in deliveryIds)
                    {
                        id.Value = Guid.CreateVersion7().ToString();
                    }

                    now.Value = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
                    alert.ExecuteNonQuery();
                    deliveries.ExecuteNonQuery();
                    transaction.Commit();
                    if (Volatile.Read(ref measuring) == 1)
                    {
                        Interlocked.Increment(ref alerts);
                    }
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 5)
                {
                    // SQLITE_BUSY after busy_timeout: the product would answer 503; counted, not hidden.
                    Interlocked.Increment(ref busy);
                }
            }
        }) { IsBackground = true }).ToList();

        threads.ForEach(t => t.Start());
        await Task.Delay(warmup);
        Volatile.Write(ref measuring, 1);
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(window);
        Volatile.Write(ref measuring, 0);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var measured = Interlocked.Read(ref alerts);
        Volatile.Write(ref stop, 1);
        threads.ForEach(t => t.Join());
        return new SqliteLimitRow(clients, seconds, measured, measured / seconds, Interlocked.Read(ref busy));
    }

    /// <summary>A document the API stored, of median size: what the minimal write writes.</summary>
    public static async Task<string> MedianDocumentAsync(string file)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT document FROM alerts ORDER BY length(document) LIMIT 1 OFFSET (SELECT count(*) / 2 FROM alerts)";
        return (string?)await command.ExecuteScalarAsync() ?? throw new InvalidOperationException("The API stored no alert on SQLite.");
    }

    private static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = Pragmas;
        pragma.ExecuteNonQuery();
        return connection;
    }
}
