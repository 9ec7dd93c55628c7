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
/// (set by .ci/run), where absence is a failure.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresCluster>> SharedCluster = new(StartAsync);
    private readonly string? _dataDirectory;
    private readonly string? _binDirectory;

    private PostgresCluster(string? adminConnectionString, string? unavailableReason, string? dataDirectory = null, string? binDirectory = null)
    {
        AdminConnectionString = adminConnectionString;
        UnavailableReason = unavailableReason;
        _dataDirectory = dataDirectory;
        _binDirectory = binDirectory;
    }

    public string? AdminConnectionString { get; }

    public string? UnavailableReason { get; }

    public static bool Required => Environment.GetEnvironmentVariable("INTELSHARING_REQUIRE_POSTGRES") == "1";

    public static Task<PostgresCluster> Shared => SharedCluster.Value;

    /// <summary>Stops the shared cluster if this run started one.</summary>
    public static async Task StopSharedAsync()
    {
        if (SharedCluster.IsValueCreated)
        {
            await (await SharedCluster.Value).DisposeAsync();
        }
    }

    /// <summary>Creates an empty database for one fixture and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string purpose)
    {
        var slug = new string(purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(24).ToArray());
        var name = $"it_{slug}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE \"{name}\"";
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ToString();
    }

    private static async Task<PostgresCluster> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("INTELSHARING_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new PostgresCluster(configured, null);
        }

        var bin = FindBinDirectory();
        if (bin is null)
        {
            return new PostgresCluster(null,
                "PostgreSQL tests skipped: initdb/pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin, and INTELSHARING_TEST_POSTGRES is not set. " +
                "Install the 'postgresql' package or point INTELSHARING_TEST_POSTGRES at a server.");
        }

        var asRoot = Environment.UserName == "root";
        var directory = Path.Combine(Path.GetTempPath(), $"intelsharing-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (asRoot)
        {
            await RunAsync("chown", ["postgres:postgres", directory], asPostgres: false);
        }

        var data = Path.Combine(directory, "data");
        var port = FreePort();
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], asRoot);
        await RunAsync(Path.Combine(bin, "pg_ctl"),
        [
            "-D", data, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            "start",
        ], asRoot);

        var admin = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            Pooling = false,
        }.ToString();
        return new PostgresCluster(admin, null, directory, bin);
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataDirectory is null || _binDirectory is null)
        {
            return;
        }

        try
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", Path.Combine(_dataDirectory, "data"), "-m", "immediate", "-w", "stop"], Environment.UserName == "root");
        }
        finally
        {
            Directory.Delete(_dataDirectory, recursive: true);
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
