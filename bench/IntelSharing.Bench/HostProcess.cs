using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace IntelSharing.Bench;

/// <summary>
/// A server under test as its own operating-system process on a loopback port: the API (Release build, PostgreSQL,
/// production environment) or the no-op host. Its CPU time is read from /proc for CPU per request.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HostProcess(Process process, int port)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    public int Id => _process.Id;

    public int Port => BaseAddress.Port;

    public bool HasExited => _process.HasExited;

    public string RecentOutput => string.Join('\n', _output);

    /// <summary>The API's settings for the benchmark: those of the integration tests' ApiProcess, with the rate limit lifted.</summary>
    public static Dictionary<string, string> ApiSettings(string connectionString, bool dispatcher) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Database__Provider"] = "Postgres",
        ["Database__ConnectionString"] = connectionString,
        ["Secrets__EncryptionKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
        // Partners are loopback receivers over plain http; both need explicit permission.
        ["Delivery__AllowHttp"] = "true",
        ["Delivery__AllowedPrivateNetworks__0"] = "127.0.0.0/8",
        ["Delivery__Enabled"] = dispatcher ? "true" : "false",
        // The default budget is 600 requests per agency per minute; a load test sends far more on purpose.
        ["RateLimits__PerAgencyPermits"] = "1000000",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    /// <summary>The same settings on the embedded default: SQLite in <paramref name="file"/>, with the product's own pragmas.</summary>
    public static Dictionary<string, string> SqliteApiSettings(string file, bool dispatcher)
    {
        var settings = ApiSettings(string.Empty, dispatcher);
        settings["Database__Provider"] = "Sqlite";
        settings["Database__ConnectionString"] = $"Data Source={file}";
        return settings;
    }

    /// <summary>Starts the process on <paramref name="port"/>, or on a free port; a replica restarted behind a load balancer keeps its port.</summary>
    public static HostProcess Start(string dll, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, int? port = null)
    {
        port ??= FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new HostProcess(Process.Start(start)!, port.Value);
    }

    /// <summary>
    /// A new database and the API on it with the dispatcher and correlation off, ready, with an operator key: how the
    /// phases that measure reads over a store they fill themselves (TAXII, console) begin.
    /// </summary>
    public static async Task<(HostProcess Api, string OperatorKey)> StartForReadsAsync(
        SuiteOptions options, Postgres postgres, string database, IReadOnlyDictionary<string, string>? extraSettings = null)
    {
        await postgres.CreateDatabaseAsync(database);
        var settings = ApiSettings(postgres.ApiConnectionString(database), dispatcher: false);
        settings["Correlation__Enabled"] = "false";
        foreach (var (name, value) in extraSettings ?? new Dictionary<string, string>())
        {
            settings[name] = value;
        }

        var key = await BootstrapAdminAsync(options.ApiDll, settings);
        var api = Start(options.ApiDll, [], settings);
        try
        {
            await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }

        return (api, key);
    }

    /// <summary>Runs <c>bootstrap-admin</c> with the API's settings and returns the operator key it printed.</summary>
    public static async Task<string> BootstrapAdminAsync(string dll, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { dll, "bootstrap-admin", "--name", "MUP RS — IntelSharing Operations (benchmark)", "--country", "RS" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("isk_", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"bootstrap-admin printed no key (exit {process.ExitCode}): {output} {error}");
    }

    public async Task WaitUntilReadyAsync(TimeSpan within)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The process exited: " + RecentOutput);
            }

            try
            {
                if ((await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The process did not become ready: " + RecentOutput);
    }

    /// <summary>User plus system CPU time the process has used so far.</summary>
    public TimeSpan CpuTime => CpuClock.OfProcess(_process.Id);

    /// <summary>SIGKILL (Process.Kill on Linux): no shutdown hook runs, as when the kernel's OOM killer or a crash ends it.</summary>
    public async Task KillNowAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
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
        while (_output.Count > 100)
        {
            _output.TryDequeue(out _);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>CPU time from /proc/&lt;pid&gt;/stat (utime + stime, in clock ticks of 1/100 s on Linux).</summary>
public static class CpuClock
{
    private const double TicksPerSecond = 100;

    public static TimeSpan OfProcess(int pid) => TryRead(pid, out _, out var cpu) ? cpu : TimeSpan.Zero;

    /// <summary>
    /// The postmaster and every process it started (backends, WAL writer, checkpointer…): the live ones, plus the
    /// exited ones the postmaster has reaped (its cutime + cstime), so pgbench's short-lived backends count too.
    /// </summary>
    public static TimeSpan OfPostgres(int postmasterPid)
    {
        var total = OfProcess(postmasterPid) + ReapedChildren(postmasterPid);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && TryRead(pid, out var parent, out var cpu) && parent == postmasterPid)
            {
                total += cpu;
            }
        }

        return total;
    }

    private static TimeSpan ReapedChildren(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return TimeSpan.FromSeconds((long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / TicksPerSecond);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
        {
            return TimeSpan.Zero;
        }
    }

    private static bool TryRead(int pid, out int parent, out TimeSpan cpu)
    {
        parent = 0;
        cpu = TimeSpan.Zero;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces; fields are counted after its closing one.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            cpu = TimeSpan.FromSeconds(ticks / TicksPerSecond);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return false;
        }
    }
}
