using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace IntelSharing.Bench;

/// <summary>The throwaway cluster bench/run.sh started: databases per phase, its settings, and its statistics.</summary>
public sealed partial class Postgres(string adminConnectionString)
{
    private readonly NpgsqlConnectionStringBuilder _admin = new(adminConnectionString);

    public int Port => _admin.Port;

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database, Pooling = false }.ToString();

    /// <summary>The API's connection string: Npgsql's defaults (pooling on, 100 connections at most).</summary>
    public string ApiConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database, Pooling = true }.ToString();

    public async Task CreateDatabaseAsync(string name)
    {
        await ExecuteAsync("postgres", $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        await ExecuteAsync("postgres", $"CREATE DATABASE \"{name}\"");
        if (await StatementsAvailableAsync())
        {
            await ExecuteAsync(name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }
    }

    public async Task<bool> StatementsAvailableAsync() =>
        await ScalarAsync<string>("postgres", "SELECT current_setting('shared_preload_libraries')") is { } libraries && libraries.Contains("pg_stat_statements", StringComparison.Ordinal);

    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T?> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
    }

    public async Task<List<string[]>> RowsAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string[]>();
        while (await reader.ReadAsync())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture) ?? string.Empty).ToArray());
        }

        return rows;
    }

    public async Task<int> PostmasterPidAsync()
    {
        var directory = await ScalarAsync<string>("postgres", "SELECT current_setting('data_directory')");
        var first = (await File.ReadAllLinesAsync(Path.Combine(directory!, "postmaster.pid")))[0];
        return int.Parse(first, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Counters taken before and after a run: commits in the database, WAL flushes of the cluster, statements
    /// (pg_stat_statements, reset at the start), and the client's TCP data segments to the server (one per round trip).
    /// </summary>
    public async Task<Counters> CountersAsync(string database, int? clientPid, int postmasterPid)
    {
        // Backends report their statistics at most once a second; wait so the run's last transactions are in.
        await Task.Delay(1200);
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
                   (SELECT wal_sync FROM pg_stat_wal),
                   (SELECT wal_bytes FROM pg_stat_wal)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var counters = new Counters(reader.GetInt64(0), reader.GetInt64(1), (long)reader.GetDecimal(2),
            clientPid is { } pid ? RoundTrips(pid) : 0, CpuClock.OfPostgres(postmasterPid), clientPid is { } p ? CpuClock.OfProcess(p) : TimeSpan.Zero);
        return counters;
    }

    public async Task ResetStatementsAsync(string database)
    {
        if (await StatementsAvailableAsync())
        {
            await ExecuteAsync(database, "SELECT pg_stat_statements_reset()");
        }
    }

    /// <summary>Statements executed in <paramref name="database"/> since the reset, most frequent first (the benchmark's own queries left out).</summary>
    public async Task<List<(long Calls, double TotalMs, string Query)>> StatementsAsync(string database)
    {
        if (!await StatementsAvailableAsync())
        {
            return [];
        }

        var rows = await RowsAsync(database,
            """
            SELECT calls, total_exec_time, query FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat%' AND query NOT LIKE '%current_setting%'
            ORDER BY calls DESC
            """);
        return rows.Select(r => (long.Parse(r[0], CultureInfo.InvariantCulture), double.Parse(r[1], CultureInfo.InvariantCulture), r[2])).ToList();
    }

    /// <summary>Every statement since the reset with its rows and WAL bytes besides calls and time (pg_stat_statements, PostgreSQL 13+).</summary>
    public async Task<List<StatementCost>> StatementCostsAsync(string database)
    {
        if (!await StatementsAvailableAsync())
        {
            return [];
        }

        var rows = await RowsAsync(database,
            """
            SELECT calls, total_exec_time, rows, wal_bytes, query FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat%' AND query NOT LIKE '%current_setting%' AND query NOT LIKE '%FROM correlation_pending) + (SELECT%'
            ORDER BY total_exec_time DESC
            """);
        return rows.Select(r => new StatementCost(
            long.Parse(r[0], CultureInfo.InvariantCulture), double.Parse(r[1], CultureInfo.InvariantCulture), long.Parse(r[2], CultureInfo.InvariantCulture),
            decimal.ToInt64(decimal.Parse(r[3], CultureInfo.InvariantCulture)), r[4])).ToList();
    }

    /// <summary>
    /// The sum of <c>data_segs_out</c> over the process's established TCP connections to the server, from <c>ss -tip</c>.
    /// Npgsql writes each round trip (a command, a pipelined batch, a COMMIT) as one segment on loopback, so the delta
    /// over a run is its round trips. Connections opened and closed inside the run would be missed; the pool keeps them.
    /// </summary>
    private long RoundTrips(int pid)
    {
        try
        {
            var start = new ProcessStartInfo("ss", ["-H", "-t", "-i", "-n", "-p", "state", "established", "dst", $"127.0.0.1:{Port}"])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            long total = 0;
            var ours = false;
            foreach (var line in output.Split('\n'))
            {
                if (line.Contains("users:(", StringComparison.Ordinal))
                {
                    ours = line.Contains($"pid={pid},", StringComparison.Ordinal);
                }

                if (ours && DataSegmentsOut().Match(line) is { Success: true } match)
                {
                    total += long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                    ours = false;
                }
            }

            return total;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    [GeneratedRegex(@"\bdata_segs_out:(\d+)")]
    private static partial Regex DataSegmentsOut();
}

/// <summary>One pg_stat_statements row: calls, execution time, rows and WAL bytes over the run.</summary>
public sealed record StatementCost(long Calls, double TotalMs, long Rows, long WalBytes, string Query);

public sealed record Counters(long Commits, long WalSyncs, long WalBytes, long RoundTrips, TimeSpan PostgresCpu, TimeSpan ClientCpu)
{
    /// <summary>The run's counts per unit of work (per alert, per read, per delivery).</summary>
    public PerUnit Per(Counters before, long units, long statements) => units == 0
        ? new PerUnit(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN)
        : new PerUnit(units,
            (Commits - before.Commits) / (double)units,
            (WalSyncs - before.WalSyncs) / (double)units,
            (WalBytes - before.WalBytes) / (double)units,
            RoundTrips < 0 || before.RoundTrips < 0 ? double.NaN : (RoundTrips - before.RoundTrips) / (double)units,
            statements < 0 ? double.NaN : statements / (double)units,
            (ClientCpu - before.ClientCpu).TotalMilliseconds / units,
            (PostgresCpu - before.PostgresCpu).TotalMilliseconds / units);
}

/// <summary>Database work and CPU per unit; <c>ClientCpuMs</c> is the API's (or the no-op host's) CPU time.</summary>
public sealed record PerUnit(long Units, double Commits, double WalSyncs, double WalBytes, double RoundTrips, double Statements, double ClientCpuMs, double PostgresCpuMs);
