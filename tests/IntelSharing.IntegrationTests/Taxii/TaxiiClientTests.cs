using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using IntelSharing.IntegrationTests.Stix;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Taxii;

/// <summary>
/// The OASIS TAXII client (../shared/reference/taxii2-client, run by tests/taxii-client/walk_taxii.py) against the API
/// as a real process on PostgreSQL: discovery, API root, collections, every filter, as_pages over several pages,
/// manifest, object by id and versions, for an agency in a red alert's audience and for an outsider; then add objects
/// and their status (tests/taxii-client/add_taxii.py) with a writing key, and a read-only key refused. Skips with the
/// reason when the client or its Debian packages are missing, except under CI=true.
/// </summary>
public sealed class TaxiiClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_OASIS_taxii_client_walks_every_endpoint_and_filter_and_sees_exactly_what_the_sharing_rules_allow()
    {
        var client = ClientFolder();
        RequireOrSkip(client is not null && PythonHasPackages(), "The OASIS taxii2-client (../shared/reference/taxii2-client) or python3-requests/six/tz is missing.");
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await cluster.CreateDatabaseAsync("taxiiclient");
        await using var api = ApiProcess.Start(connectionString);
        await api.WaitUntilReadyAsync();
        var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        var (_, certKey) = await ApiProcess.CreateAgencyAsync(database, "National CERT", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        var (namedId, namedKey) = await ApiProcess.CreateAgencyAsync(database, "Europol EC3", [Scopes.AlertsRead], "NL");
        var (_, outsiderKey) = await ApiProcess.CreateAgencyAsync(database, "Turkish National Police", [Scopes.AlertsRead], "TR");
        using var cert = api.Client(certKey);
        Assert.Equal(HttpStatusCode.Created, (await cert.PostAsync("/api/v1/alerts", Samples.Json(Samples.CyberAlert()), Ct)).StatusCode);
        var red = Samples.CyberAlert();
        red["tlp"] = "red";
        red["audience"] = new JsonObject { ["agencies"] = new JsonArray(namedId.ToString()) };
        var redResponse = await cert.PostAsync("/api/v1/alerts", Samples.Json(red), Ct);
        Assert.Equal(HttpStatusCode.Created, redResponse.StatusCode);
        var redId = (await redResponse.ReadJsonAsync()).GetProperty("id").GetGuid();
        var url = new Uri(api.BaseAddress, "/taxii2/").ToString();

        var named = await RunAsync("walk_taxii.py", client!, url, namedKey, "cyber_incident", "30");
        var outsider = await RunAsync("walk_taxii.py", client!, url, outsiderKey, "cyber_incident", "10", redId.ToString());
        // The write side (ADR 52): add_objects, the status, the new alert's objects read back; a read-only key refused.
        var added = await RunAsync("add_taxii.py", client!, url, certKey, outsiderKey);

        Assert.True(named.ExitCode == 0, named.Output);
        Assert.True(outsider.ExitCode == 0, outsider.Output);
        Assert.True(added.ExitCode == 0, added.Output);
        Assert.StartsWith("OK:", named.Output.Trim(), StringComparison.Ordinal);
        Assert.StartsWith("OK:", outsider.Output.Trim(), StringComparison.Ordinal);
        Assert.StartsWith("OK:", added.Output.Trim(), StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string scriptName, string client, string url, string key, params string[] arguments)
    {
        var script = Path.Combine(StixSchemas.RepositoryRoot, "tests", "taxii-client", scriptName);
        var start = new ProcessStartInfo("/usr/bin/python3", [script, client, url, key, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await output + await error);
    }

    private static string? ClientFolder()
    {
        for (var directory = new DirectoryInfo(StixSchemas.RepositoryRoot); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "shared", "reference", "taxii2-client");
            if (Directory.Exists(Path.Combine(candidate, "taxii2client")))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool PythonHasPackages()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return false;
        }

        using var probe = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import requests, six, pytz"]) { RedirectStandardError = true, UseShellExecute = false })!;
        probe.WaitForExit();
        return probe.ExitCode == 0;
    }

    private static void RequireOrSkip(bool available, string reason)
    {
        if (available)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(reason + " CI=true: the TAXII client run must not skip.");
        }

        Assert.Skip(reason);
    }
}
