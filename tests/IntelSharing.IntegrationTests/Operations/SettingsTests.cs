using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using IntelSharing.Api.Infrastructure.Configuration;
using IntelSharing.Api.Infrastructure.Hosting;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace IntelSharing.IntegrationTests.Operations;

/// <summary>Settings as operators give them (secret files, the shipped appsettings.json, the k8s ConfigMap), read by the real executable.</summary>
public sealed partial class SettingsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Secrets_in_mounted_files_are_used_and_win_over_the_environment()
    {
        var folder = Directory.CreateTempSubdirectory("intelsharing-secrets-");
        try
        {
            var secrets = Directory.CreateDirectory(Path.Combine(folder.FullName, "secrets"));
            var database = Path.Combine(folder.FullName, "from-secret-file.db");
            // As `kubectl create secret --from-file` or an editor leaves them: with a trailing newline.
            await File.WriteAllTextAsync(Path.Combine(secrets.FullName, "Database__ConnectionString"), $"Data Source={database}\n", Ct);
            await File.WriteAllTextAsync(Path.Combine(secrets.FullName, "Secrets__EncryptionKey"), Convert.ToBase64String(new byte[32]) + "\n", Ct);

            var run = await ApiExecutable.RunAsync(
                new Dictionary<string, string>
                {
                    [SecretFiles.DirectoryVariable] = secrets.FullName,
                    // A stale value in the environment: the file wins.
                    ["Database__ConnectionString"] = "Data Source=/no/such/folder/intelsharing.db",
                },
                [CommandLine.Migrate]);

            Assert.True(run.ExitCode == 0, run.Output);
            await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
            Assert.True(await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM schema_migrations") > 0);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_secrets_folder_that_is_not_mounted_stops_the_server_with_exit_code_78_naming_it()
    {
        var run = await ApiExecutable.RunAsync(
            new Dictionary<string, string> { [SecretFiles.DirectoryVariable] = "/run/secrets/intelsharing-not-mounted" }, []);

        Assert.Equal(StartupConfiguration.ExitCode, run.ExitCode);
        Assert.Contains("INTELSHARING_SECRETS_DIR names '/run/secrets/intelsharing-not-mounted', which does not exist", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Production's log levels (the shipped appsettings.json, issue 11 item 5): requests that succeed write nothing, so the
    /// lines an operator reads are the warnings and the service's own events, not seven lines of framework chatter per
    /// request. The process is stopped gracefully, so every line it logged is written before "shutting down" is.
    /// </summary>
    [Fact]
    public async Task With_the_shipped_appsettings_requests_that_succeed_write_no_log_lines()
    {
        var folder = Directory.CreateTempSubdirectory("intelsharing-quiet-logs-");
        try
        {
            var connectionString = $"Data Source={Path.Combine(folder.FullName, "quiet.db")}";
            await using var server = ApiProcess.Start(connectionString, new Dictionary<string, string> { ["Database__Provider"] = "Sqlite" });
            await server.WaitUntilReadyAsync();
            await using var database = new IntelSharing.Api.Infrastructure.Persistence.Database(Microsoft.Extensions.Options.Options.Create(
                new IntelSharing.Api.Infrastructure.Persistence.DatabaseOptions { Provider = IntelSharing.Api.Infrastructure.Persistence.DatabaseProvider.Sqlite, ConnectionString = connectionString }));
            var (_, key) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate",
                [IntelSharing.Api.Infrastructure.Security.Scopes.AlertsWrite, IntelSharing.Api.Infrastructure.Security.Scopes.AlertsRead]);
            using var client = server.Client(key);

            var submitted = await client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
            Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
            var location = submitted.Headers.Location!.OriginalString;
            const int Reads = 30;
            for (var i = 0; i < Reads; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(i % 2 == 0 ? location : "/api/v1/alerts", Ct)).StatusCode);
            }

            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
            var lines = server.RecentOutput.Split('\n');
            var started = Array.FindLastIndex(lines, l => l.Contains("Application started", StringComparison.Ordinal));
            var stopping = Array.FindIndex(lines, l => l.Contains("Application is shutting down", StringComparison.Ordinal));
            Assert.True(started >= 0 && stopping > started, server.RecentOutput);
            var logged = lines[(started + 1)..stopping].Where(l => !l.Contains("Microsoft.Hosting.Lifetime", StringComparison.Ordinal)).ToList();
            Assert.True(logged.Count == 0, $"{Reads + 1} requests that succeeded wrote {logged.Count} lines:\n{string.Join('\n', logged)}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    public static TheoryData<string> LogFormats => ["appsettings.json", "deploy/k8s/configmap.yaml"];

    /// <summary>
    /// The traceId of a problem response, grepped in the server's output, finds the request's lines, each with a
    /// timestamp: with the shipped appsettings.json (one line per entry) and with the Kubernetes ConfigMap's settings
    /// (one JSON object per line).
    /// </summary>
    [Theory]
    [MemberData(nameof(LogFormats))]
    public async Task The_trace_id_of_a_problem_response_finds_the_requests_log_lines_each_with_a_timestamp(string settingsFrom)
    {
        var folder = Directory.CreateTempSubdirectory("intelsharing-logs-");
        try
        {
            var settings = new Dictionary<string, string>
            {
                ["Database__Provider"] = "Sqlite",
                ["Logging__LogLevel__Default"] = "Information",
                // The request lines; production keeps Microsoft.AspNetCore at Warning.
                ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
            };
            if (settingsFrom != "appsettings.json")
            {
                foreach (var (name, value) in ConfigMapLogging())
                {
                    settings[name] = value;
                }
            }

            await using var server = ApiProcess.Start($"Data Source={Path.Combine(folder.FullName, "logs.db")}", settings);
            await server.WaitUntilReadyAsync();
            using var client = server.Client("isk_wrongprefix_notakeyatall");

            var response = await client.GetAsync("/api/v1/alerts", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var traceId = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("traceId").GetString()!;
            var grep = traceId.Split('-')[1];

            string[] lines = [];
            await DeliveryTestSettings.EventuallyAsync(() =>
            {
                lines = [.. server.RecentOutput.Split('\n').Where(l => l.Contains(grep, StringComparison.Ordinal))];
                return Task.FromResult(lines.Length >= 2);
            }, $"the request's lines (trace {grep}) in: {server.RecentOutput}");

            Assert.All(lines, line => Assert.Matches(
                settingsFrom == "appsettings.json" ? TextTimestamp() : JsonTimestamp(), line));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The Logging__ settings of deploy/k8s/configmap.yaml, as the Deployment passes them.</summary>
    private static List<(string Name, string Value)> ConfigMapLogging()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "IntelSharing.sln")))
        {
            directory = directory.Parent;
        }

        var found = File.ReadAllLines(Path.Combine(directory.FullName, "deploy", "k8s", "configmap.yaml"))
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("Logging__", StringComparison.Ordinal))
            .Select(l => (Name: l[..l.IndexOf(':', StringComparison.Ordinal)], Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Trim('"')))
            .ToList();
        Assert.NotEmpty(found);
        return found;
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|fail|crit|dbug): ")]
    private static partial Regex TextTimestamp();

    [GeneratedRegex(@"^\{""Timestamp"":""\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"",")]
    private static partial Regex JsonTimestamp();
}
