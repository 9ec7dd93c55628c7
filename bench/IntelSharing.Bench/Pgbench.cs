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
            throw new PgbenchAbortedException(Path.GetFileName(script), clients, process.ExitCode, text, await error);
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

/// <summary>
/// A pgbench run that did not complete (pgbench exits 1 when it cannot start, 2 when clients aborted): the message says
/// which script, and why in pgbench's own words — its first error lines, each distinct one once — on one line, so the
/// report can print it under the phase that failed.
/// </summary>
public sealed partial class PgbenchAbortedException(string script, int clients, int exitCode, string output, string error)
    : Exception(Describe(script, clients, exitCode, output, error))
{
    private const int MaxReasons = 3;

    private static string Describe(string script, int clients, int exitCode, string output, string error)
    {
        // "client 3 script 0 aborted in command 1 query 0: ERROR: …" differs only in the client number: say it once.
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => ClientNumber().Replace(line, "client N"))
            .ToList();
        var reasons = lines.Where(line => !line.Contains("Run was aborted", StringComparison.Ordinal)).Distinct().ToList();
        var aborted = lines.Count(line => line.Contains("aborted in command", StringComparison.Ordinal));
        var said = reasons.Count == 0
            ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output"
            : string.Join(" | ", reasons.Take(MaxReasons)) + (reasons.Count > MaxReasons ? $" | … {reasons.Count - MaxReasons} more" : string.Empty);
        var how = exitCode == 2 ? $"aborted ({aborted} of {clients} clients)" : $"exited with {exitCode}";
        return $"pgbench {script}, {clients} clients, {how}: {said}";
    }

    [GeneratedRegex(@"client \d+")]
    private static partial Regex ClientNumber();
}
