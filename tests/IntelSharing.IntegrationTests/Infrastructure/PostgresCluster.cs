using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// The PostgreSQL server the integration tests run against: the one in INTELSHARING_TEST_POSTGRES when set
/// (an admin connection string that may create databases), otherwise a throwaway cluster started from the
/// system's initdb/pg_ctl on a free loopback port in a temp folder, removed when the test run ends.
/// As root (CI), initdb refuses to run, so the cluster belongs to the 'postgres' user via runuser.
/// When PostgreSQL is absent the tests skip with the reason, unless INTELSHARING_REQUIRE_POSTGRES=1
/// (set by .ci/run), where absence is a failure. Fault tests start a dedicated cluster of their own
/// (<see cref="StartDedicatedAsync"/>), which they may stop and start again on the same port and data.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresCluster>> SharedCluster = new(() => StartAsync(allowConfigured: true, durable: false));
    private readonly string? _directory;
    private readonly string? _binDirectory;
    private readonly int _port;
    private readonly bool _durable;

    private PostgresCluster(string? adminConnectionString, string? unavailableReason, string? directory = null, string? binDirectory = null, int port = 0, bool durable = false)
    {
        AdminConnectionString = adminConnectionString;
        UnavailableReason = unavailableReason;
        _directory = directory;
        _binDirectory = binDirectory;
        _port = port;
        _durable = durable;
    }

    public string? AdminConnectionString { get; }

    public string? UnavailableReason { get; }

    public static bool Required => Environment.GetEnvironmentVariable("INTELSHARING_REQUIRE_POSTGRES") == "1";

    public static Task<PostgresCluster> Shared => SharedCluster.Value;

    /// <summary>
    /// A cluster only the caller uses, started from initdb/pg_ctl on a free loopback port, so that it can be
    /// stopped and restarted without disturbing other tests. Unavailable (with the reason) without local binaries.
    /// It commits synchronously, as production does: with synchronous_commit off (the shared cluster's speed-up)
    /// an immediate stop may lose the last commits it had acknowledged. fsync stays off: stopping the server is
    /// not losing the machine, and the kernel keeps what was written.
    /// </summary>
    public static Task<PostgresCluster> StartDedicatedAsync() => StartAsync(allowConfigured: false, durable: true);

    /// <summary>Whether this run started the cluster (and may stop and restart it).</summary>
    public bool IsOwned => _directory is not null;

    /// <summary>Stops the server; <c>immediate</c> is a crash as far as clients and recovery are concerned.</summary>
    public Task StopAsync(string mode = "immediate") =>
        PgCtlAsync(["-m", mode, "-w", "-t", "60", "stop"]);

    /// <summary>Starts the server again on the same port and data; it runs crash recovery first when stopped immediately.</summary>
    public Task StartAsync() => PgCtlAsync(
    [
        "-l", Path.Combine(_directory!, "server.log"), "-w", "-t", "60",
        "-o", $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit={(_durable ? "on" : "off")} -c full_page_writes=off -c max_connections=300",
        "start",
    ]);

    private Task PgCtlAsync(IReadOnlyList<string> arguments)
    {
        if (!IsOwned)
        {
            throw new InvalidOperationException("Only a cluster this run started can be stopped or started.");
        }

        return RunAsync(Path.Combine(_binDirectory!, "pg_ctl"), ["-D", Path.Combine(_directory!, "data"), .. arguments], AsRoot);
    }

    private static bool AsRoot => Environment.UserName == "root";

    /// <summary>Stops the shared cluster if this run started one.</summary>
    public static async Task StopSharedAsync()
    {
        if (SharedCluster.IsValueCreated)
        {
            await (await SharedCluster.Value).DisposeAsync();
        }
    }

    /// <summary>
    /// Creates a database and returns its connection string: empty, or a copy of <paramref name="template"/> (see
    /// <see cref="MigratedTemplates"/>).
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string purpose, string? template = null)
    {
        var slug = new string(purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(24).ToArray());
        var name = $"it_{slug}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = template is null ? $"CREATE DATABASE \"{name}\"" : $"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"";
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ToString();
    }

    private static async Task<PostgresCluster> StartAsync(bool allowConfigured, bool durable)
    {
        var configured = Environment.GetEnvironmentVariable("INTELSHARING_TEST_POSTGRES");
        if (allowConfigured && !string.IsNullOrWhiteSpace(configured))
        {
            return new PostgresCluster(configured, null);
        }

        var bin = FindBinDirectory();
        if (bin is null)
        {
            return new PostgresCluster(null,
                "PostgreSQL tests skipped: initdb/pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin" +
                (allowConfigured ? ", and INTELSHARING_TEST_POSTGRES is not set. " : " (this test stops and restarts a cluster of its own). ") +
                "Install the 'postgresql' package" + (allowConfigured ? " or point INTELSHARING_TEST_POSTGRES at a server." : "."));
        }

        var directory = Path.Combine(Path.GetTempPath(), $"intelsharing-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (AsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", directory], asPostgres: false);
        }

        var data = Path.Combine(directory, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], AsRoot);
        var port = FreePort();
        var cluster = new PostgresCluster(
            new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres", Pooling = false }.ToString(),
            null, directory, bin, port, durable);
        await cluster.StartAsync();
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        if (!IsOwned)
        {
            return;
        }

        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped (a fault test's last step may have been a stop).
        }
        finally
        {
            Directory.Delete(_directory!, recursive: true);
        }
    }

    private static string? FindBinDirectory()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                // Debian's /usr/bin wrappers are not initdb itself; follow a symlink to the real bin folder.
                var initdb = new FileInfo(Path.Combine(dir, "initdb"));
                var target = initdb.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb.FullName;
                return Path.GetDirectoryName(target);
            }
        }

        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            return Directory.GetDirectories(debian)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgres ? "runuser" : program,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var prefix in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stdout} {await stderr}");
        }
    }
}
