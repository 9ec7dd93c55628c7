using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.Observability;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Observability;

/// <summary>
/// OTLP export as an operator switches it on: the real executable, the standard <c>OTEL_*</c> variables, a real OTLP/HTTP
/// collector endpoint on loopback (issue 11, item 1). What the collector receives is read from the protobuf bytes.
/// </summary>
public abstract class OtlpExportTests
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The database the process runs on: its provider and connection string, or null to skip (the reason given).</summary>
    protected abstract Task<DatabaseOptions?> DatabaseAsync();

    /// <summary>Whether the database's driver is traced (Npgsql is; Microsoft.Data.Sqlite has no instrumentation).</summary>
    protected virtual bool DatabaseCallsAreTraced => false;

    [Fact]
    public async Task With_the_otlp_variables_set_a_submission_and_its_delivery_are_exported_as_one_trace_and_the_delivery_counter_as_a_metric()
    {
        var options = await DatabaseAsync();
        if (options is null)
        {
            return;
        }

        await using var collector = await OtlpReceiver.StartAsync();
        await using var partnerEndpoint = await PartnerReceiver.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["Database__Provider"] = options.Provider.ToString(),
            ["Database__ConnectionString"] = options.ConnectionString!,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "intelsharing-api-under-test",
            // Export within a second rather than the SDK's 5 s (spans) and 60 s (metrics): the test waits less, nothing else changes.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        };
        await using var api = ApiProcess.Start(options.ConnectionString!, settings);
        await api.WaitUntilReadyAsync();
        await using var database = new Database(Options.Create(options));
        var (_, originatorKey) = await ApiProcess.CreateAgencyAsync(database, "Border Police Directorate", [Scopes.AlertsWrite, Scopes.AlertsRead]);
        var (_, partnerKey) = await ApiProcess.CreateAgencyAsync(database, "Hungarian Police", [Scopes.AlertsRead, Scopes.SubscriptionsManage], "HU");
        using (var partner = api.Client(partnerKey))
        {
            var subscribed = await partner.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = partnerEndpoint.Url }), Ct);
            Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        }

        // The originator's system is traced and sends its context, so the trace id of the submission is known.
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using (var originator = api.Client(originatorKey))
        {
            using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) };
            submit.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");
            Assert.Equal(HttpStatusCode.Created, (await originator.SendAsync(submit, Ct)).StatusCode);
        }

        await partnerEndpoint.WaitForAsync(1);
        var partnerSpanId = Assert.Single(partnerEndpoint.Received).TraceParent.Split('-')[2];

        // The collector gets, in the submission's trace, the request's server span, the delivery attempt's span, and the
        // span the partner was told about in its traceparent: one trace id leads from the submission to the partner.
        IReadOnlyList<OtlpSpan> trace = [];
        await DeliveryTestSettings.EventuallyAsync(
            () =>
            {
                trace = collector.Spans().Where(s => s.TraceId == traceId).ToList();
                return Task.FromResult(trace.Any(s => s.Name == DeliveryTracing.AttemptActivityName) && trace.Any(s => s.SpanId == partnerSpanId));
            },
            $"the collector to receive the delivery span of trace {traceId} (received {collector.Received.Count} exports: {string.Join(", ", collector.Received.Select(e => e.Path))})",
            TimeSpan.FromSeconds(60));

        Assert.All(collector.Received, export => Assert.Equal("application/x-protobuf", export.ContentType));
        Assert.Contains(trace, s => s.Name.StartsWith("POST", StringComparison.Ordinal) && s.ParentSpanId == "b7ad6b7169203331");
        var deliver = trace.Single(s => s.Name == DeliveryTracing.AttemptActivityName);
        Assert.Contains(trace, s => s.SpanId == deliver.ParentSpanId);
        if (DatabaseCallsAreTraced)
        {
            // The request's own database calls are spans of the same trace, children of the request, naming the database.
            var request = trace.First(s => s.Name.StartsWith("POST", StringComparison.Ordinal));
            Assert.Contains(trace, s => s.ParentSpanId == request.SpanId
                && (s.Attributes.GetValueOrDefault("db.system.name") ?? s.Attributes.GetValueOrDefault("db.system")) == "postgresql");
        }

        // The resource names the service as OTEL_SERVICE_NAME says.
        Assert.Contains(collector.Received, e => e.Path == "/v1/traces" && e.Body.AsSpan().IndexOf("intelsharing-api-under-test"u8) >= 0);

        // Metrics go to the same collector, the delivery counter among them.
        await DeliveryTestSettings.EventuallyAsync(
            () => Task.FromResult(collector.MetricNames().Contains("intelsharing.deliveries.delivered")),
            "the collector to receive the intelsharing.deliveries.delivered metric", TimeSpan.FromSeconds(60));
    }
}

public sealed class OtlpExportTestsOnSqlite : OtlpExportTests, IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"intelsharing-otlp-{Guid.NewGuid():N}.db");

    protected override Task<DatabaseOptions?> DatabaseAsync() =>
        Task.FromResult<DatabaseOptions?>(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = $"Data Source={_file}" });

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            File.Delete(_file + suffix);
        }
    }
}

public sealed class OtlpExportTestsOnPostgres : OtlpExportTests
{
    protected override bool DatabaseCallsAreTraced => true;

    protected override async Task<DatabaseOptions?> DatabaseAsync()
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        return new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = await cluster.CreateDatabaseAsync("otlp") };
    }
}
