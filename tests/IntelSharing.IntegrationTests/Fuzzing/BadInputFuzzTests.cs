using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// Seeded bad-input fuzzing of every endpoint (docs/robustness.md). The oracle, for every request:
/// no 5xx; every 4xx the application writes is application/problem+json with one of our problem types;
/// no response header smuggled in from the input; and a request that is not accepted (not 2xx) commits
/// no write at all (<see cref="WriteJournal"/>). INTELSHARING_FUZZ_COUNT sets how many requests
/// (default 2,000), INTELSHARING_FUZZ_SEED the seed (default <see cref="FuzzSettings.DefaultSeed"/>, so the commit decides the outcome;
/// `random` draws a new one; printed, and in every failure).
/// </summary>
public abstract class BadInputFuzzTests(ApiFixture app)
{
    private readonly ServerErrorLog _serverErrors = ((IFuzzFixture)app).ServerErrors;
    private readonly RequestsInProgress _inProgress = ((IFuzzFixture)app).InProgress;

    private const int MaxListedFailures = 15;

    /// <summary>
    /// Valid requests that may rightly commit nothing but their audit record: a ping only sends; a bulk replay may
    /// match no delivery; activating an active agency and adding a member twice are idempotent.
    /// </summary>
    private static readonly HashSet<string> WritesNothingWhenValid =
    [
        "POST api/v1/subscriptions/{id}/ping", "POST api/v1/deliveries/replay", "POST api/v1/agencies/{id}/activate",
        "PUT api/v1/sharing-groups/{id}/members/{agencyId}",
        // A read with its question in the body: it writes only its audit record, so any other write is a fault.
        "POST api/v1/indicators/search",
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Default request count when INTELSHARING_FUZZ_COUNT is not set.</summary>
    protected abstract int DefaultCount { get; }

    [Fact]
    public async Task Fuzzed_requests_to_every_endpoint_never_get_a_5xx_get_problem_details_for_4xx_and_change_nothing_unless_accepted()
    {
        app.RequireDatabase();
        var settings = FuzzSettings.FromEnvironment(DefaultCount);
        Report($"Fuzz on {app.Provider}: seed {settings.Seed}, {settings.Count} requests{(settings.OnlyCase is { } only ? $", only case {only}" : string.Empty)}. " +
            $"Reproduce: {settings.Command(app.Provider.ToString())}");

        var world = await FuzzWorld.CreateAsync(app, FuzzHosting.ClosedPort(), Ct);
        var journal = await WriteJournal.InstallAsync(app);
        using var http = new RawHttp(app.CreateClient().BaseAddress!);
        var fuzzer = new RequestFuzzer(world, settings.Seed);

        await ValidFormsAreAcceptedAsync(fuzzer, http, journal, world, settings);

        var stats = new FuzzStats();
        var failures = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        long position;
        var first = settings.OnlyCase ?? 0;
        var last = settings.OnlyCase ?? (settings.Count - 1);
        for (var index = first; index <= last; index++)
        {
            // Every case starts from the same state of the pooled resources, so a case reproduces on its own.
            await world.RepairAsync();
            position = await journal.PositionAsync();

            var request = fuzzer.Generate(index);
            var response = await http.SendAsync(request, Ct);
            await _inProgress.WaitUntilIdleAsync();
            var after = await journal.PositionAsync();
            var violation = FuzzOracle.Check(request, response);
            // A request whose answer never arrived because the client itself cut the body short has an unknown
            // outcome, as for any client whose connection drops: that is what Idempotency-Key is for.
            var outcomeUnknown = response.Status is null && request.ClientEndsBodyEarly;
            if (violation is null && after != position && !response.IsSuccess && !outcomeUnknown
                && await journal.WritesBesidesAuditSinceAsync(position) is { Length: > 0 } writes)
            {
                violation = $"answered {response.Status?.ToString(CultureInfo.InvariantCulture) ?? "nothing"} but committed writes: {writes}";
            }

            stats.Record(request, response);
            var logged = _serverErrors.Drain();
            if (violation is not null)
            {
                failures.Add(FormatFailure(settings, index, request, response, violation, logged));
            }

            position = after;
        }

        stopwatch.Stop();
        Report($"Fuzz on {app.Provider}, seed {settings.Seed}: " + stats.Summary(stopwatch.Elapsed));
        if (failures.Count > 0)
        {
            Assert.Fail(
                $"{failures.Count} of {last - first + 1} fuzzed requests broke the oracle (seed {settings.Seed}). Reproduce: {settings.Command(app.Provider.ToString())}\n\n" +
                string.Join("\n\n", failures.Take(MaxListedFailures)) +
                (failures.Count > MaxListedFailures ? $"\n\n… and {failures.Count - MaxListedFailures} more." : string.Empty));
        }
    }

    [Fact]
    public void Every_write_endpoint_and_every_query_parameter_has_a_fuzz_target()
    {
        app.RequireDatabase();
        var descriptions = app.Services.GetRequiredService<IApiDescriptionGroupCollectionProvider>().ApiDescriptionGroups.Items
            .SelectMany(g => g.Items)
            .Where(d => d.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true)
            .ToList();
        var targets = FuzzTargets.All.ToDictionary(t => t.Name);

        var missing = descriptions.Select(Name).Where(name => !targets.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0, "Endpoints without a fuzz target in FuzzTargets.All: " + string.Join(", ", missing));

        foreach (var description in descriptions)
        {
            var target = targets[Name(description)];
            var query = description.ParameterDescriptions.Where(p => p.Source == BindingSource.Query).Select(p => p.Name).ToList();
            var fuzzed = target.QueryParameters?.Keys.ToList() ?? [];
            Assert.True(query.All(fuzzed.Contains), $"{target.Name}: query parameters {string.Join(", ", query.Except(fuzzed))} are not fuzzed.");
        }

        var stale = targets.Keys.Except(descriptions.Select(Name)).ToList();
        Assert.True(stale.Count == 0, "Fuzz targets for endpoints that no longer exist: " + string.Join(", ", stale));

        // "POST api/v1/alerts/" and "{id:guid}" as the fuzz targets spell them: "POST api/v1/alerts", "{id}".
        static string Name(ApiDescription d) => $"{d.HttpMethod} {Regex.Replace(d.RelativePath!, ":[^}]+}", "}").TrimEnd('/')}";
    }

    /// <summary>
    /// The valid form of each request must be accepted, or mutations would only ever test the first check;
    /// and an accepted write must move the journal, or "changed nothing" would be vacuous.
    /// </summary>
    private async Task ValidFormsAreAcceptedAsync(RequestFuzzer fuzzer, RawHttp http, WriteJournal journal, FuzzWorld world, FuzzSettings settings)
    {
        var problems = new List<string>();
        for (var i = 0; i < FuzzTargets.All.Count; i++)
        {
            var target = FuzzTargets.All[i];
            var request = fuzzer.Valid(target, i);
            var before = await journal.PositionAsync();
            var response = await http.SendAsync(request, Ct);
            await _inProgress.WaitUntilIdleAsync();
            if (target.Body is not null && !response.IsSuccess)
            {
                problems.Add($"{target.Name}: the valid form got {response.Status}: {response.BodyExcerpt}");
            }

            var logged = _serverErrors.Drain();
            if (response.Status is null or >= 500)
            {
                problems.Add($"{target.Name}: the valid form got {response.Status?.ToString(CultureInfo.InvariantCulture) ?? response.Error}; server logged: {FuzzRequest.Shorten(string.Join(" | ", logged), 1500)}");
            }

            if (target.Method != "GET" && response.IsSuccess && !WritesNothingWhenValid.Contains(target.Name)
                && (await journal.WritesBesidesAuditSinceAsync(before)).Length == 0)
            {
                problems.Add($"{target.Name}: accepted ({response.Status}) but wrote nothing besides its audit record; the no-change oracle would be blind.");
            }

            await world.RepairAsync();
        }

        Assert.True(problems.Count == 0, $"Seed {settings.Seed}: " + string.Join("\n", problems));
    }

    private static string FormatFailure(FuzzSettings settings, int index, FuzzRequest request, FuzzResponse response, string violation, IReadOnlyList<string> logged) =>
        $"Case {index} ({request.Endpoint}): {violation}\n" +
        (logged.Count > 0 ? $"  server logged: {FuzzRequest.Shorten(string.Join(" | ", logged), 1500)}\n" : string.Empty) +
        $"  got: {response.Status?.ToString(CultureInfo.InvariantCulture) ?? "no response"} {response.MediaType} {response.Error} {response.BodyExcerpt}\n" +
        $"  {request.Describe().Replace("\n", "\n  ", StringComparison.Ordinal)}\n" +
        $"  only this case: INTELSHARING_FUZZ_SEED={settings.Seed} INTELSHARING_FUZZ_CASE={index}";

    private static void Report(string message)
    {
        TestContext.Current.SendDiagnosticMessage(message);
        TestContext.Current.TestOutputHelper?.WriteLine(message);
    }
}

/// <summary>The response checks, apart from the database one.</summary>
public static class FuzzOracle
{
    public static string? Check(FuzzRequest request, FuzzResponse response)
    {
        if (response.Status is null)
        {
            return request.MayBeRefusedByTheServer ? null : $"no response: {response.Error}";
        }

        if (response.Status >= 500)
        {
            return $"server error {response.Status}";
        }

        if (response.Headers.Any(h => h.Key.Contains("injected", StringComparison.OrdinalIgnoreCase) || h.Value.Contains('\n', StringComparison.Ordinal)))
        {
            return "a response header was injected from the request";
        }

        if (response.Status >= 400)
        {
            if (request.MayBeRefusedByTheServer && response.Body.Length == 0)
            {
                // Kestrel's HTTP/1.1 parser or its limits refused the request before the application saw it.
                return null;
            }

            if (response.MediaType != "application/problem+json")
            {
                return $"{response.Status} is '{response.MediaType}', not application/problem+json";
            }

            try
            {
                using var problem = JsonDocument.Parse(response.Body);
                var root = problem.RootElement;
                if (root.ValueKind != JsonValueKind.Object
                    || !root.TryGetProperty("type", out var type)
                    || type.ValueKind != JsonValueKind.String
                    || !type.GetString()!.StartsWith("urn:intelsharing:problem:", StringComparison.Ordinal))
                {
                    return $"{response.Status} problem without one of our problem types";
                }

                if (!root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Number || status.GetInt32() != response.Status)
                {
                    return $"{response.Status} problem whose 'status' does not match";
                }
            }
            catch (JsonException ex)
            {
                return $"{response.Status} problem body is not JSON: {ex.Message}";
            }
        }

        return null;
    }
}

/// <summary>INTELSHARING_FUZZ_COUNT, INTELSHARING_FUZZ_SEED and INTELSHARING_FUZZ_CASE.</summary>
public sealed record FuzzSettings(int Seed, int Count, int? OnlyCase)
{
    /// <summary>The seed of every run that does not ask for another: two runs of one commit send the same requests.</summary>
    public const int DefaultSeed = 20261206;

    public static FuzzSettings FromEnvironment(int defaultCount)
    {
        var requested = Environment.GetEnvironmentVariable("INTELSHARING_FUZZ_SEED");
        var seed = requested switch
        {
            null or "" => DefaultSeed,
            "random" => Random.Shared.Next(),
            _ when int.TryParse(requested, CultureInfo.InvariantCulture, out var s) => s,
            _ => throw new InvalidOperationException($"INTELSHARING_FUZZ_SEED must be an integer or 'random', not '{requested}'."),
        };
        var count = int.TryParse(Environment.GetEnvironmentVariable("INTELSHARING_FUZZ_COUNT"), CultureInfo.InvariantCulture, out var c) && c > 0
            ? c
            : defaultCount;
        int? only = int.TryParse(Environment.GetEnvironmentVariable("INTELSHARING_FUZZ_CASE"), CultureInfo.InvariantCulture, out var o) ? o : null;
        return new FuzzSettings(seed, count, only);
    }

    public string Command(string provider) =>
        $"INTELSHARING_FUZZ_SEED={Seed} INTELSHARING_FUZZ_COUNT={Count} dotnet test IntelSharing.sln --filter \"FullyQualifiedName~BadInputFuzzTestsOn{provider}\"";
}

/// <summary>What the run did, for the test output and docs/robustness.md.</summary>
public sealed class FuzzStats
{
    private readonly Dictionary<string, int> _byStatus = [];
    private readonly Dictionary<string, int> _byEndpoint = [];
    private readonly List<(TimeSpan Elapsed, string What)> _slowest = [];
    private readonly List<string> _unanswered = [];
    private int _total;
    private int _accepted;
    private int _refusedByServer;
    private int _raw;

    public void Record(FuzzRequest request, FuzzResponse response)
    {
        _total++;
        var status = response.Status?.ToString(CultureInfo.InvariantCulture) ?? "none";
        _byStatus[status] = _byStatus.GetValueOrDefault(status) + 1;
        _byEndpoint[request.Endpoint] = _byEndpoint.GetValueOrDefault(request.Endpoint) + 1;
        _accepted += response.IsSuccess ? 1 : 0;
        _raw += request.NeedsRawSocket ? 1 : 0;
        _refusedByServer += request.MayBeRefusedByTheServer && response.Status is null or >= 400 && response.Body.Length == 0 ? 1 : 0;
        if (response.Status is null && _unanswered.Count < 5)
        {
            _unanswered.Add($"[{string.Join("; ", request.Mutations)}] {response.Error}");
        }

        _slowest.Add((response.Elapsed, $"{request.Endpoint} [{string.Join("; ", request.Mutations)}]"));
        if (_slowest.Count > 5)
        {
            _slowest.Sort((a, b) => b.Elapsed.CompareTo(a.Elapsed));
            _slowest.RemoveAt(5);
        }
    }

    public string Summary(TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{_total} requests in {elapsed.TotalSeconds:F1} s ({_total / Math.Max(0.001, elapsed.TotalSeconds):F0}/s); ")
            .Append(CultureInfo.InvariantCulture, $"{_accepted} accepted (2xx), {_raw} sent on a raw socket, {_refusedByServer} refused by Kestrel before the application.\n")
            .Append("  by status: ").Append(string.Join(", ", _byStatus.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}×{p.Value}"))).Append('\n')
            .Append("  by endpoint: ").Append(string.Join(", ", _byEndpoint.OrderByDescending(p => p.Value).Select(p => $"{p.Key}×{p.Value}"))).Append('\n')
            .Append("  connection closed without an answer (wire-level requests only), e.g.: ").Append(string.Join("; ", _unanswered.Select(u => FuzzRequest.Shorten(u, 160)))).Append('\n')
            .Append("  slowest: ").Append(string.Join("; ", _slowest.OrderByDescending(s => s.Elapsed).Select(s => $"{s.Elapsed.TotalMilliseconds:F0} ms {FuzzRequest.Shorten(s.What, 120)}")));
        return text.ToString();
    }
}

public sealed class BadInputFuzzTestsOnSqlite(FuzzSqliteFixture app) : BadInputFuzzTests(app), IClassFixture<FuzzSqliteFixture>
{
    protected override int DefaultCount => 2_000;
}

public sealed class BadInputFuzzTestsOnPostgres(FuzzPostgresFixture app) : BadInputFuzzTests(app), IClassFixture<FuzzPostgresFixture>
{
    protected override int DefaultCount => 1_000;
}
