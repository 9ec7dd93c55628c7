using IntelSharing.Client;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>
/// The core partner flow through the .NET client generated from the committed document (clients/dotnet), against the
/// real API: an operator registers agencies and issues keys, a partner subscribes a real loopback endpoint, the
/// originator submits, the partner reads, lists, verifies the signed webhook with the client's WebhookVerifier and
/// answers. A contract change the client does not match fails here (or fails to build).
/// </summary>
public abstract class DotnetClientTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Register_subscribe_submit_read_list_verify_and_answer_through_the_generated_client()
    {
        var operatorAgency = await app.CreateOperatorAsync();
        var agencies = new AgenciesClient(app.ClientWithKey(operatorAgency.Key));
        var borderPolice = await agencies.RegisterAgencyAsync(new AgencyInput { Name = $"Border Police Directorate {Guid.NewGuid():N}", Country = "RS", Kind = AgencyKind.Border_guard }, Ct);
        var huPolice = await agencies.RegisterAgencyAsync(new AgencyInput { Name = $"Hungarian Police {Guid.NewGuid():N}", Country = "HU", Kind = AgencyKind.Police }, Ct);
        var borderPoliceKey = await agencies.IssueApiKeyAsync(borderPolice.Id, new ApiKeyInput { Name = "Case system", Scopes = [Scopes.AlertsWrite, Scopes.AlertsRead] }, Ct);
        var huPoliceKey = await agencies.IssueApiKeyAsync(huPolice.Id, new ApiKeyInput { Name = "Webhook receiver", Scopes = [Scopes.AlertsRead, Scopes.SubscriptionsManage] }, Ct);

        await using var receiver = await PartnerReceiver.StartAsync();
        var subscription = await new SubscriptionsClient(app.ClientWithKey(huPoliceKey.Key))
            .CreateSubscriptionAsync(new SubscriptionInput { Url = receiver.Url, Categories = [AlertCategory.Migrant_smuggling] }, Ct);

        var originator = new AlertsClient(app.ClientWithKey(borderPoliceKey.Key));
        var submitted = await originator.SubmitAlertAsync(SmugglingAlertFor(huPolice.Id), Guid.NewGuid().ToString(), Ct);

        var partner = new AlertsClient(app.ClientWithKey(huPoliceKey.Key));
        var read = await partner.GetAlertAsync(submitted.Id, cancellationToken: Ct);
        Assert.Equal(Tlp.Amber_strict, read.Tlp);
        Assert.Equal(borderPolice.Id, read.Originator.Id);
        var page = await partner.ListAlertsAsync(cancellationToken: Ct);
        Assert.Contains(page.Items, item => item.Id == submitted.Id);

        await receiver.WaitForAsync(1);
        var webhook = Assert.Single(receiver.Received);
        var verifier = new WebhookVerifier(subscription.Secret);
        Assert.Null(verifier.Verify(webhook.Id, webhook.Timestamp, webhook.Signature, webhook.Body));
        Assert.False(verifier.IsValid(webhook.Id, webhook.Timestamp, webhook.Signature, webhook.Body.Replace("amber+strict", "clear", StringComparison.Ordinal)));
        Assert.Equal(submitted.Id, webhook.Json.GetProperty("data").GetProperty("id").GetGuid());

        var feedback = await partner.SubmitFeedbackAsync(submitted.Id, new FeedbackInput { Kind = FeedbackKind.Hit, Note = "Stopped at Horgoš." }, Ct);
        Assert.Equal(FeedbackKind.Hit, feedback.Kind);
    }

    [Fact]
    public async Task A_problem_answer_reaches_the_caller_as_an_exception_with_its_status()
    {
        var agency = await app.CreateAgencyAsync("Border Police Directorate", "RS");
        var alerts = new AlertsClient(app.ClientWithKey(agency.Key));

        var notFound = await Assert.ThrowsAsync<IntelSharingApiException<ProblemDetails>>(() => alerts.GetAlertAsync(Guid.NewGuid(), cancellationToken: Ct));

        Assert.Equal(404, notFound.StatusCode);
        Assert.Equal("urn:intelsharing:problem:not-found", notFound.Result.Type);
    }

    /// <summary>amber+strict: only the named agency (and the originator) may see it.</summary>
    private static AlertInput SmugglingAlertFor(Guid recipient) => new()
    {
        Category = AlertCategory.Migrant_smuggling,
        Title = "Group of about 40 expected at Horgoš–Röszke tonight",
        Summary = "A network using the name 'Kurdish route' moves about 40 people from Preševo towards Subotica in a refrigerated truck.",
        Severity = Severity.High,
        Tlp = Tlp.Amber_strict,
        Audience = new Audience { Agencies = [recipient] },
        Handling = new Handling { Code = HandlingCode.H1 },
        Evaluation = new Evaluation { Source = SourceReliability.B, Information = InformationAssessment._2 },
        Basis = Basis.Assessment,
        Countries = ["RS", "HU"],
        Smuggling = new Smuggling
        {
            Route = [new RoutePoint { Place = "Preševo", Country = "RS" }, new RoutePoint { Place = "Subotica", Country = "RS" }],
            CrossingPoints = [new CrossingPoint { Name = "Horgoš–Röszke", Countries = ["RS", "HU"] }],
            ModusOperandi = "Concealment in a refrigerated truck with forged CMR documents",
            EstimatedPeople = 40,
            NetworkNames = ["Kurdish route"],
        },
    };
}

public sealed class DotnetClientTestsOnSqlite(IsolationSqliteFixture app) : DotnetClientTests(app), IClassFixture<IsolationSqliteFixture>;

public sealed class DotnetClientTestsOnPostgres(IsolationPostgresFixture app) : DotnetClientTests(app), IClassFixture<IsolationPostgresFixture>;
