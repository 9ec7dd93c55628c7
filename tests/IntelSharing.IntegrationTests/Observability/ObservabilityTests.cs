using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Observability;

/// <summary>What an operator watches: /metrics under its documented names, and traces that follow an alert to its partners.</summary>
public abstract class ObservabilityTests<TFixture>(TFixture app) : IAsyncLifetime
    where TFixture : ApiFixture, IFakeClockFixture
{
    private readonly PartnerRig _partners = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _partners.DisposeAsync();

    private Task<TestAgency> PartnerAsync(string name, string country = "HU") =>
        app.CreateAgencyAsync(name, country, AgencyKind.Police, Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage);

    private static async Task<PrometheusText> ScrapeAsync(HttpClient scraper)
    {
        var response = await scraper.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new PrometheusText(await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Scraping_metrics_takes_a_metrics_read_key_and_neither_a_partner_key_nor_agencies_admin()
    {
        var partner = await PartnerAsync("Hungarian Police");
        var operations = await app.CreateOperatorAsync();
        var monitoring = await app.CreateAgencyAsync("Operations monitoring", "RS", AgencyKind.Operator, Scopes.MetricsRead);

        Assert.Equal(HttpStatusCode.Forbidden, (await partner.Client.GetAsync("/metrics", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operations.Client.GetAsync("/metrics", Ct)).StatusCode);
        var scrape = await monitoring.Client.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);

        // A metrics key reads nothing else.
        Assert.Equal(HttpStatusCode.Forbidden, (await monitoring.Client.GetAsync("/api/v1/deliveries?state=dead", Ct)).StatusCode);
    }

    [Fact]
    public async Task Health_and_metrics_refuse_a_query_parameter_with_a_400_naming_it_and_answer_without_one()
    {
        var monitoring = await app.CreateAgencyAsync("Operations monitoring", "RS", AgencyKind.Operator, Scopes.MetricsRead);
        using var anonymous = app.ClientWithKey(null);

        foreach (var (client, path) in new[] { (anonymous, "/health/live"), (anonymous, "/health/ready"), (monitoring.Client, "/metrics") })
        {
            var refused = await client.GetAsync($"{path}?verbose=1", Ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var errors = (await refused.ReadJsonAsync()).GetProperty("errors");
            Assert.Equal(["verbose"], errors.EnumerateObject().Select(e => e.Name));
            Assert.Contains("takes no query parameters", errors.GetProperty("verbose")[0].GetString()!, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path, Ct)).StatusCode);
        }

        // The key is still asked for first: a caller without one learns nothing about the endpoint's parameters.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics?verbose=1", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_delivery_increments_the_delivered_counter_and_a_queued_delivery_shows_in_the_backlog_gauge_under_the_documented_names()
    {
        var scraper = (await app.CreateAgencyAsync("Operations monitoring", "RS", AgencyKind.Operator, Scopes.MetricsRead)).Client;
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var answering = await PartnerAsync("Hungarian Police");
        var (answeringReceiver, answeringSubscription) = await _partners.SubscribedReceiverAsync(answering);
        var down = await PartnerAsync("Croatian Border Police", "HR");
        var (downReceiver, downSubscription) = await _partners.SubscribedReceiverAsync(down);
        downReceiver.Behaviour = _ => new PartnerReceiver.Response(HttpStatusCode.ServiceUnavailable);

        var before = await ScrapeAsync(scraper);
        Assert.Equal("counter", before.TypeOf("intelsharing_deliveries_delivered_total"));
        var deliveredBefore = before.Value("intelsharing_deliveries_delivered_total") ?? 0;
        var failedBefore = before.Value("intelsharing_deliveries_failed_total") ?? 0;

        var submitted = await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        await answeringReceiver.WaitForAsync(1);
        await downReceiver.WaitForAsync(1);

        // The counters move once each outcome is committed.
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            var scrape = await ScrapeAsync(scraper);
            return scrape.Value("intelsharing_deliveries_delivered_total") >= deliveredBefore + 1
                && scrape.Value("intelsharing_deliveries_failed_total") >= failedBefore + 1;
        }, "the delivered and failed counters to move");

        // From then on the backlog gauges are exact on the very next scrape: they have one writer, which reads the backlog
        // and sets them under one lock, so no read begun before the outcomes were recorded can land after this one.
        var after = await ScrapeAsync(scraper);

        Assert.Equal("counter", after.TypeOf("intelsharing_deliveries_delivered_total"));
        Assert.Equal("counter", after.TypeOf("intelsharing_deliveries_failed_total"));
        Assert.Equal("counter", after.TypeOf("intelsharing_deliveries_dead_total"));
        Assert.Equal("histogram", after.TypeOf("intelsharing_delivery_attempt_duration_seconds"));
        Assert.True(after.Value("intelsharing_delivery_attempt_duration_seconds_count") >= 2);
        Assert.Equal("gauge", after.TypeOf("intelsharing_deliveries_pending"));
        Assert.Equal("gauge", after.TypeOf("intelsharing_deliveries_oldest_pending_age_seconds"));

        // The partner that is down has its delivery queued for a retry; the one that answered has nothing waiting.
        Assert.Equal(1, after.Value($"intelsharing_deliveries_pending{{subscription=\"{downSubscription}\"}}"));
        Assert.True(after.Value($"intelsharing_deliveries_oldest_pending_age_seconds{{subscription=\"{downSubscription}\"}}") >= 0);
        Assert.Null(after.Value($"intelsharing_deliveries_pending{{subscription=\"{answeringSubscription}\"}}"));

        // ASP.NET Core's hosting and Kestrel meters and the runtime's are served; the HTTP client's, Npgsql's and Polly's,
        // measured on every partner request and command, are not (the delivery metrics above count each attempt), nor
        // the routing, rate-limiting, authentication and authorization meters, measured on every request (its status
        // code on the hosting meter's request duration counts a 404, 429, 401 or 403). The scrapes above were requests
        // that each of those meters measures.
        Assert.Contains(after.Series, s => s.StartsWith("microsoft_aspnetcore_hosting_", StringComparison.Ordinal));
        Assert.Contains(after.Series, s => s.StartsWith("microsoft_aspnetcore_server_kestrel_", StringComparison.Ordinal));
        Assert.Contains(after.Series, s => s.StartsWith("system_runtime_", StringComparison.Ordinal));
        Assert.DoesNotContain(after.Series, s => s.StartsWith("system_net_http_", StringComparison.Ordinal)
            || s.StartsWith("npgsql_", StringComparison.Ordinal) || s.StartsWith("polly_", StringComparison.Ordinal)
            || s.StartsWith("private_", StringComparison.Ordinal) || s.StartsWith("microsoft_aspnetcore_routing_", StringComparison.Ordinal)
            || s.StartsWith("microsoft_aspnetcore_ratelimiting_", StringComparison.Ordinal)
            || s.StartsWith("microsoft_aspnetcore_authentication_", StringComparison.Ordinal)
            || s.StartsWith("microsoft_aspnetcore_authorization_", StringComparison.Ordinal));

        // The bridge's old name for the counter is gone.
        Assert.DoesNotContain(after.Series, s => s.StartsWith("intelsharing_delivery_intelsharing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_attempt_to_deliver_a_submission_sends_the_partner_a_traceparent_in_the_submissions_trace()
    {
        var originator = await PartnerAsync("Border Police Directorate", "RS");
        var partner = await PartnerAsync("Hungarian Police");
        var (receiver, subscriptionId) = await _partners.SubscribedReceiverAsync(partner);
        receiver.Behaviour = n => new PartnerReceiver.Response(n == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent);

        // The originator's own system is traced and sends its context with the submission.
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Samples.Json(Samples.SmugglingAlert()) };
        submit.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");
        Assert.Equal(HttpStatusCode.Created, (await originator.Client.SendAsync(submit, Ct)).StatusCode);

        await receiver.WaitForAsync(1);
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await using var connection = await app.Database.OpenAsync(Ct);
            return await connection.ExecuteScalarAsync<int>(
                "SELECT COUNT(*) FROM deliveries WHERE subscription_id = @subscriptionId AND state = 'failed'", new { subscriptionId }) == 1;
        }, "the first attempt to be recorded as failed");
        app.Advance(TimeSpan.FromSeconds(6)); // the first retry of the schedule
        await receiver.WaitForAsync(2);

        Assert.Equal(2, receiver.Received.Count);
        Assert.All(receiver.Received, webhook => Assert.Matches(new Regex($"^00-{traceId}-[0-9a-f]{{16}}-0[01]$"), webhook.TraceParent));
        // Each attempt is its own span within the trace.
        Assert.Equal(2, receiver.Received.Select(w => w.TraceParent).Distinct().Count());
    }
}

public sealed class ObservabilityTestsOnSqlite(DeliverySqliteFixture app) : ObservabilityTests<DeliverySqliteFixture>(app), IClassFixture<DeliverySqliteFixture>;

public sealed class ObservabilityTestsOnPostgres(DeliveryPostgresFixture app) : ObservabilityTests<DeliveryPostgresFixture>(app), IClassFixture<DeliveryPostgresFixture>;
