using System.Globalization;

namespace IntelSharing.Bench;

/// <summary>What bench/run.sh passes, and the sizes of the full and the quick (smoke-test) forms.</summary>
public sealed record SuiteOptions
{
    public required string AdminConnection { get; init; }

    public required string ApiDll { get; init; }

    public required string Pgbench { get; init; }

    public required string SqlDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public bool Quick { get; init; }

    public string Commit { get; init; } = "unknown";

    /// <summary>While working on one figure: run only this phase (ingest, reads, search, sqlite, drain, e2e, indicators, taxii, console or replicas). The full run leaves it unset.</summary>
    public string? Only { get; init; }

    public bool Runs(string phase) => Only is null || Only == phase;

    /// <summary>Connection counts of the closed-loop runs (and pgbench clients).</summary>
    public int[] Connections => Quick ? [16] : [4, 16, 64];

    public TimeSpan Warmup => TimeSpan.FromSeconds(Quick ? 1 : 3);

    public TimeSpan Window => TimeSpan.FromSeconds(Quick ? 3 : 10);

    public TimeSpan OpenLoopWindow => TimeSpan.FromSeconds(Quick ? 4 : 20);

    /// <summary>Deliveries in the pre-filled outbox: alerts × subscriptions.</summary>
    public int DrainAlerts => Quick ? 500 : 5_000;

    public int DrainSubscriptionsPerPartner => 5;

    public int DrainPartners => 4;

    /// <summary>The end-to-end target: 1,000 alerts/s sustained with delivery on (issue 9); the latency is measured at half of it.</summary>
    public double EndToEndRate { get; init; } = 1_000;

    public TimeSpan EndToEndWindow => TimeSpan.FromSeconds(Quick ? 4 : 20);

    /// <summary>
    /// Alerts each end-to-end rate's fresh process takes back to back before its warm-up at the rate: enough calls for the
    /// JIT to reach its final tier on the intake and send paths, as in a server that has run for a while. A process
    /// measured cold at a low rate spends more CPU compiling than working (docs/benchmarks.md, "End to end").
    /// </summary>
    public int EndToEndJitWarmupAlerts => Quick ? 1_500 : 6_000;

    /// <summary>How long the end-to-end run waits for the last submits, and then for the last deliveries.</summary>
    public TimeSpan EndToEndWait => TimeSpan.FromSeconds(Quick ? 10 : 30);

    public static SuiteOptions Parse(string[] args)
    {
        string Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault()
            ?? throw new ArgumentException($"{name} is required.");
        string? Optional(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

        return new SuiteOptions
        {
            AdminConnection = Value("--admin-connection"),
            ApiDll = Value("--api"),
            Pgbench = Value("--pgbench"),
            SqlDirectory = Value("--sql"),
            OutputDirectory = Value("--out"),
            Quick = args.Contains("--quick"),
            Commit = Optional("--commit") ?? "unknown",
            Only = Optional("--only"),
            EndToEndRate = Optional("--e2e-rate") is { } rate ? double.Parse(rate, CultureInfo.InvariantCulture) : 1_000,
        };
    }
}
