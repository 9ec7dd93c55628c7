using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// The API as a separate operating-system process on PostgreSQL, as operators run it, on a loopback port.
/// Tests kill it with SIGKILL (no shutdown hooks, in-flight claims abandoned) and start another on the same database.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ApiProcess(Process process, int port)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The process's resident memory (VmRSS in /proc/&lt;pid&gt;/status), in bytes; Linux only.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return kilobytes * 1024;
    }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output);

    /// <summary>Starts the API on <paramref name="connectionString"/> with delivery to loopback partners allowed and a short lease.</summary>
    public static ApiProcess Start(string connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FreePort();
        var assembly = ApiAssembly();
        var start = new ProcessStartInfo("dotnet", [assembly, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // The shipped appsettings.json, as in the container (WORKDIR /app).
        start.Environment["ASPNETCORE_CONTENTROOT"] = Path.GetDirectoryName(assembly)!;
        start.Environment["Database__Provider"] = "Postgres";
        start.Environment["Database__ConnectionString"] = connectionString;
        start.Environment["Secrets__EncryptionKey"] = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i + 1)).ToArray());
        start.Environment["Delivery__AllowHttp"] = "true";
        start.Environment["Delivery__AllowedPrivateNetworks__0"] = "127.0.0.0/8";
        start.Environment["Delivery__Lease"] = "00:00:05";
        start.Environment["Delivery__AttemptTimeout"] = "00:00:03";
        // Load tests send far more than an agency's default per-minute budget.
        start.Environment["RateLimits__PerAgencyPermits"] = "1000000";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return new ApiProcess(Process.Start(start)!, port);
    }

    public HttpClient Client(string? key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public async Task WaitUntilReadyAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        await DeliveryTestSettings.EventuallyAsync(
            async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException("The API process exited: " + RecentOutput);
                }

                try
                {
                    return (await client.GetAsync("/health/ready")).IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            },
            "the API process to be ready", TimeSpan.FromSeconds(90));
    }

    /// <summary>SIGKILL: no shutdown hooks, in-flight requests cut, claims abandoned.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as Kubernetes sends it: the host shuts down gracefully. Returns the exit code, bounded by <paramref name="within"/>.</summary>
    public async Task<int> TerminateAsync(TimeSpan within)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>Creates an agency and a key with <paramref name="scopes"/> straight in the database (setup, not the thing under test).</summary>
    public static async Task<(Guid Id, string Key)> CreateAgencyAsync(Database database, string name, string[] scopes, string country = "RS")
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var id = Guid.CreateVersion7();
        await connection.ExecuteAsync(
            "INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at) VALUES (@id, @name, @country, @kind, TRUE, @now, @now)",
            new { id, name, country, kind = WireNames.Of(AgencyKind.Police), now = DateTimeOffset.UtcNow });
        return (id, (await IssueApiKey.IssueAsync(connection, TimeProvider.System, id, "test", scopes, null, CancellationToken.None))!.Key);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The API build next to this test build (same configuration), found from the repository root.</summary>
    private static string ApiAssembly()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = directory.Parent!.Name;
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "IntelSharing.sln")))
        {
            directory = directory.Parent;
        }

        var path = Path.Combine(directory!.FullName, "src", "IntelSharing.Api", "bin", configuration, "net10.0", "IntelSharing.Api.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the API first.", path);
    }
}
