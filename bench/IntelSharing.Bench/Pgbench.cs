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

    public Task<PgbenchResult> RunAsync(
        string database, string script, int clients, TimeSpan duration, IReadOnlyDictionary<string, string> variables, Protocol protocol = Protocol.Prepared) =>
        RunMixAsync(database, [(script, 1)], clients, duration, variables, protocol);

    /// <summary>
    /// Several scripts in one run, each transaction picking one at random in proportion to its weight (pgbench
    /// <c>-f script@weight</c>): how a trace mixes work that happens at different rates, such as reads and the commit
    /// groups of their audit records. Tps counts the transactions of every script.
    /// </summary>
    public async Task<PgbenchResult> RunMixAsync(
        string database, IReadOnlyList<(string Script, int Weight)> scripts, int clients, TimeSpan duration, IReadOnlyDictionary<string, string> variables,
        Protocol protocol = Protocol.Prepared)
    {
        var script = scripts[0].Script;
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
            "-T", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (file, weight) in scripts)
        {
            start.ArgumentList.Add("-f");
            start.ArgumentList.Add(scripts.Count == 1 ? file : string.Create(CultureInfo.InvariantCulture, $"{file}@{weight}"));
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
            string.Join(" + ", scripts.Select(x => scripts.Count == 1 ? Path.GetFileName(x.Script) : $"{Path.GetFileName(x.Script)}@{x.Weight}")), clients, duration.TotalSeconds,
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
