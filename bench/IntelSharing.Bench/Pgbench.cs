using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace IntelSharing.Bench;

public sealed record PgbenchResult(string Script, int Clients, double Seconds, long Transactions, double Tps, double LatencyAverageMs, long Failed)
{
    /// <summary>The database's work and CPU per transaction over the run, where the suite measured it.</summary>
    public PerUnit? Per { get; init; }
}

/// <summary>
/// Runs pgbench against the cluster, prepared by default: the service prepares its statements (Npgsql Max Auto
/// Prepare, issue 9), and the machine's limits run prepared, the cheapest way PostgreSQL can be asked for the work.
/// </summary>
public sealed partial class Pgbench(string executable, Postgres postgres)
{
    public enum Protocol
    {
        Extended,
        Prepared,
    }

    public async Task<PgbenchResult> RunAsync(
        string database, string script, int clients, TimeSpan duration, IReadOnlyDictionary<string, string> variables, Protocol protocol = Protocol.Prepared)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-h", "127.0.0.1", "-p", postgres.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres",
            "-n", "-M", protocol == Protocol.Prepared ? "prepared" : "extended", "-c", clients.ToString(CultureInfo.InvariantCulture),
            "-j", Math.Min(clients, Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture),
            "-T", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-f", script,
        })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in variables)
        {
            start.ArgumentList.Add("-D");
            start.ArgumentList.Add($"{name}={value}");
        }

        start.ArgumentList.Add(database);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await output;
        if (process.ExitCode != 0 || Tps().Match(text) is not { Success: true } tps)
        {
            throw new InvalidOperationException($"pgbench {Path.GetFileName(script)} exited with {process.ExitCode}: {text}\n{await error}");
        }

        return new PgbenchResult(
            Path.GetFileName(script), clients, duration.TotalSeconds,
            long.Parse(Processed().Match(text).Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture),
            LatencyAverage().Match(text) is { Success: true } latency ? double.Parse(latency.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN,
            Failed().Match(text) is { Success: true } failed ? long.Parse(failed.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex Tps();

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex Processed();

    [GeneratedRegex(@"latency average = ([0-9.]+) ms")]
    private static partial Regex LatencyAverage();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex Failed();
}
