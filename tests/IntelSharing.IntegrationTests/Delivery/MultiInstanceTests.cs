using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// Two real API processes on one PostgreSQL, one killed with SIGKILL mid-way: every delivery still arrives
/// at least once, and every duplicate carries the same webhook-id.
/// </summary>
public sealed class MultiInstanceTests
{
    private const int Alerts = 1000;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_one_of_two_instances_under_load_loses_no_delivery_and_duplicates_share_their_webhook_id()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await cluster.CreateDatabaseAsync("multiinstance");
        var receivers = new List<PartnerReceiver>();
        for (var i = 0; i < 3; i++)
        {
            receivers.Add(await PartnerReceiver.StartAsync());
        }

        await using var first = ApiProcess.Start(connectionString);
        await first.WaitUntilReadyAsync();
        await using var second = ApiProcess.Start(connectionString);
        await second.WaitUntilReadyAsync();

        // Setup straight in the database: an originator and three partners with keys.
        var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        await using var _ = database;
        var originatorKey = await CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        for (var i = 0; i < 3; i++)
        {
            var partnerKey = await CreateAgencyAsync(database, $"Partner {i}", [Scopes.AlertsRead, Scopes.SubscriptionsManage]);
            using var partner = first.Client(partnerKey);
            var created = await partner.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = receivers[i].Url }), Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var toFirst = first.Client(originatorKey);
        using var toSecond = second.Client(originatorKey);
        var accepted = new ConcurrentBag<Guid>();
        var submitted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Alerts), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, token) =>
        {
            var client = i % 2 == 0 || second.HasExited ? toFirst : toSecond;
            if (Interlocked.Increment(ref submitted) == Alerts / 3)
            {
                second.Kill();
            }

            // A real client retries on the survivor with the same Idempotency-Key: an alert the killed instance
            // committed but never acknowledged is then answered, not duplicated.
            var key = $"multi-{i}";
            HttpResponseMessage response;
            try
            {
                response = await SubmitAsync(client, key, token);
            }
            catch (HttpRequestException) when (client == toSecond)
            {
                response = await SubmitAsync(toFirst, key, token);
            }

            if (response.StatusCode == HttpStatusCode.Created)
            {
                accepted.Add((await response.ReadJsonAsync()).GetProperty("id").GetGuid());
            }
        });

        Assert.True(second.HasExited);
        Assert.Equal(Alerts, accepted.Distinct().Count());

        foreach (var receiver in receivers)
        {
            await DeliveryTestSettings.EventuallyAsync(
                () => Task.FromResult(HasAll(receiver, accepted)),
                "every acknowledged alert at every partner", TimeSpan.FromSeconds(120));
        }

        foreach (var receiver in receivers)
        {
            var byAlert = receiver.Received.GroupBy(r => r.Json.GetProperty("data").GetProperty("id").GetGuid()).ToList();
            Assert.All(accepted, id => Assert.Contains(byAlert, g => g.Key == id));
            Assert.All(byAlert, g => Assert.Single(g.Select(r => r.Id).Distinct()));
        }

        await using var connection = await database.OpenAsync(Ct);
        var undelivered = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'");
        Assert.Equal(0, undelivered);
        foreach (var receiver in receivers)
        {
            await receiver.DisposeAsync();
        }
    }

    private static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string idempotencyKey, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request, token);
    }

    private static bool HasAll(PartnerReceiver receiver, ConcurrentBag<Guid> accepted)
    {
        var seen = receiver.Received.Select(r => r.Json.GetProperty("data").GetProperty("id").GetGuid()).ToHashSet();
        return accepted.All(seen.Contains);
    }

    private static async Task<string> CreateAgencyAsync(Database database, string name, string[] scopes)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var id = Guid.CreateVersion7();
        await connection.ExecuteAsync(
            "INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at) VALUES (@id, @name, 'RS', @kind, TRUE, @now, @now)",
            new { id, name, kind = WireNames.Of(AgencyKind.Police), now = DateTimeOffset.UtcNow });
        return (await IssueApiKey.IssueAsync(connection, TimeProvider.System, id, "test", scopes, null, CancellationToken.None))!.Key;
    }

    /// <summary>The API as a separate operating-system process, as operators run it.</summary>
    private sealed class ApiProcess : IAsyncDisposable
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

        public static ApiProcess Start(string connectionString)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet", [ApiAssembly(), "--urls", $"http://127.0.0.1:{port}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["Database__Provider"] = "Postgres";
            start.Environment["Database__ConnectionString"] = connectionString;
            start.Environment["Secrets__EncryptionKey"] = Convert.ToBase64String(new byte[32]);
            start.Environment["Delivery__AllowHttp"] = "true";
            start.Environment["Delivery__AllowedPrivateNetworks__0"] = "127.0.0.0/8";
            start.Environment["Delivery__Lease"] = "00:00:05";
            start.Environment["Delivery__AttemptTimeout"] = "00:00:03";
            start.Environment["RateLimits__PerAgencyPermits"] = "1000000";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            return new ApiProcess(Process.Start(start)!, port);
        }

        public HttpClient Client(string key)
        {
            var client = new HttpClient { BaseAddress = BaseAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return client;
        }

        public async Task WaitUntilReadyAsync()
        {
            using var client = new HttpClient { BaseAddress = BaseAddress };
            await DeliveryTestSettings.EventuallyAsync(
                async () =>
                {
                    if (_process.HasExited)
                    {
                        throw new InvalidOperationException("The API process exited: " + string.Join('\n', _output));
                    }

                    try
                    {
                        return (await client.GetAsync("/health/ready")).IsSuccessStatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                "the API process to be ready", TimeSpan.FromSeconds(60));
        }

        /// <summary>SIGKILL: no shutdown hooks, in-flight claims abandoned.</summary>
        public void Kill() => _process.Kill(entireProcessTree: true);

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
}
