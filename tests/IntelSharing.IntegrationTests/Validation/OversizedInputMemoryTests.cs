using System.Net;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Faults;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Validation;

/// <summary>
/// The memory side of <see cref="OversizedInputTests"/>, measured where it shows: the API as its own process (on
/// PostgreSQL, as operators run it), its resident memory read from /proc. Before the fix one 750 KB request with
/// 150,000 bad country codes added about 390 MB, and 40 of them took the process to 5.8 GB. Runs alone (with the
/// fault tests) so that no other test's load moves the numbers.
/// </summary>
[Collection(nameof(FaultCollection))]
public sealed class OversizedInputMemoryTests
{
    private const int RequestsPerShape = 40;

    /// <summary>
    /// Growth allowed over the whole run, after a warm-up: room for the garbage collector to keep a few requests'
    /// worth of parsed bodies, far below the gigabytes the old code reached (it passed this bound within its first
    /// few requests).
    /// </summary>
    private const long MaxGrowthBytes = 200L * 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Forty_oversized_countries_indicators_and_persons_requests_each_leave_the_process_memory_within_a_fixed_bound()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Resident memory is read from /proc, which only Linux has.");
        }

        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await cluster.CreateDatabaseAsync("oversizedmemory");
        await using var api = ApiProcess.Start(connectionString);
        await api.WaitUntilReadyAsync();
        var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        await using var _ = database;
        var (agencyId, key) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        using var client = api.Client(key);
        var shapes = new[] { "countries", "indicators", "persons" }.Select(name => OversizedInputTests.Shapes[name]).ToList();

        // Warm-up: JIT, connection pools and the first heap growth are not what is measured.
        foreach (var shape in shapes)
        {
            for (var i = 0; i < 3; i++)
            {
                await AssertRefusedAsync(client, shape, agencyId);
            }
        }

        var baseline = api.ResidentBytes();
        var peak = baseline;
        foreach (var shape in shapes)
        {
            for (var i = 0; i < RequestsPerShape; i++)
            {
                await AssertRefusedAsync(client, shape, agencyId);
                peak = Math.Max(peak, api.ResidentBytes());
                // Stop at once when over: the old code would otherwise take the machine's memory with it.
                Assert.True(peak - baseline <= MaxGrowthBytes,
                    $"After {i + 1} '{shape.Name}' requests the process grew from {baseline / 1048576} MB to {peak / 1048576} MB.");
            }
        }

        FaultRuns.Report($"Resident memory: {baseline / 1048576} MB after warm-up, at most {peak / 1048576} MB over {shapes.Count * RequestsPerShape} oversized requests.");
    }

    private static async Task AssertRefusedAsync(HttpClient client, OversizedInputTests.Shape shape, Guid agencyId)
    {
        // The answer's size is OversizedInputTests' concern; here it is read and dropped, as a client would.
        using var response = await OversizedInputTests.SendAsync(client, shape, agencyId, Ct);
        await response.Content.CopyToAsync(Stream.Null, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
