using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using IntelSharing.Api.Infrastructure.Persistence;
using NetArchTest.Rules;

namespace IntelSharing.UnitTests.Architecture;

// Pins the layering the folders promise: Infrastructure is below every feature, Sharing is below Alerts, and a
// feature uses another feature only through what that feature offers to others
// (docs/decisions/0024-boundaries-pinned-by-an-architecture-test.md).
public sealed class BoundaryTests
{
    private const string Features = "IntelSharing.Api.Features";
    private static readonly Assembly Api = typeof(Database).Assembly;

    // A feature may use another feature's types declared in its *Contract.cs file (the wire contract it publishes), and
    // types whose name ends with one of these: they are written to be shared.
    // *Contract: an interface or small record another slice calls; *View: a read model; *Input: a request shape;
    // *Ref: how a body points at another resource (an agency, a sharing group).
    private static readonly string[] SharedSuffixes = ["Contract", "View", "Input", "Ref"];

    // Entry points a feature offers to others although their names do not say so: types written to serve other
    // features, never a whole namespace. Each one needs a reason, and another feature must use it (a test below fails
    // for an entry nobody uses); shrink this list rather than grow it.
    private static readonly Dictionary<string, string> DocumentedEntryPoints = new()
    {
        [$"{Features}.Sharing.SharingPolicy"] = "the sharing policy every read and every push must ask (PRODUCT.md: nothing else decides)",
        [$"{Features}.Sharing.AlertAccess"] = "the policy's answer for one caller and one alert, which reads, the outbox and withdrawals act on",
        [$"{Features}.Sharing.AudienceResolver"] = "an alert's audience is resolved to agencies by the rules the policy then applies",
        [$"{Features}.Deliveries.Dispatch.Outbox"] = "writers hand the delivery engine its rows in their own transaction (the transactional outbox)",
        [$"{Features}.Deliveries.Dispatch.DeliverySignal"] = "a writer wakes the dispatcher after it commits",
        [$"{Features}.Deliveries.Dispatch.DeliveryHolds"] = "resuming a subscription or reactivating an agency releases, in its own transaction, what waited held for it (ADR 48)",
        [$"{Features}.Deliveries.Dispatch.DeliveryOptions"] = "subscriptions are held to the delivery settings (caps, secret overlap) the engine runs with",
        [$"{Features}.Deliveries.Dispatch.WebhookSender"] = "a subscription's test ping goes through the same sender, signing and outbound checks as a delivery",
        [$"{Features}.Deliveries.Dispatch.AttemptOutcome"] = "the test ping answers with the sender's outcome of its one attempt",
        [$"{Features}.Deliveries.Dispatch.EventTypes"] = "subscriptions filter on, and the feed reports, the event types the engine sends",
        [$"{Features}.Deliveries.Dispatch.WebhookSigner"] = "a subscription's signing secret is made by the signer that uses it",
        [$"{Features}.Deliveries.Dispatch.PartnerBreakers"] = "partner health shows the state of the circuit breakers that guard deliveries",
        [$"{Features}.Alerts.GetAlert"] = "STIX export sends this query so it serves exactly what the JSON read serves",
        [$"{Features}.Alerts.SubmitAlert"] = "TAXII's add objects publishes its alert with this command, so it is the same submission as POST /alerts (ADR 52)",
        [$"{Features}.Alerts.CommittedVersion"] = "what SubmitAlert answers, and TAXII's add objects names the alert it made from (ADR 52)",
        [$"{Features}.Alerts.AlertInputValidator"] = "TAXII's add objects checks each indicator, CVE and technique by the rules an alert's are checked by (ADR 52)",
        [$"{Features}.Alerts.AlertStore"] = "correlation reads an alert's current version the way every alert read does",
        [$"{Features}.Alerts.PersonalData"] = "an indicator search that touches personal data obeys the purpose rule of alert reads",
        [$"{Features}.Indicators.IndicatorIndex"] = "an alert's indicators are indexed in the same transaction as its version",
        [$"{Features}.Feed.FeedSignals"] = "a writer wakes the feed sequencer after it commits (the change itself is recorded by triggers)",
        [$"{Features}.Feed.FeedWithdrawals"] = "a version that drops agencies from the audience records alert.withdrawn for them in its own transaction",
        [$"{Features}.Stix.StixObjectIndex"] = "a version records its STIX object ids in its own transaction; TAXII looks objects up by them",
        [$"{Features}.Stix.ExportAlertStix"] = "GET /alerts/{id} answers Accept: application/stix+json with the STIX export",
        [$"{Features}.Stix.StixDefinitions"] = "TAXII serves STIX objects and must name the same marking definitions",
        [$"{Features}.Stix.StixIds"] = "TAXII must hand out the same deterministic STIX ids as the export",
        [$"{Features}.Stix.StixRendering"] = "a version stores its STIX objects, rendered, in its own transaction; TAXII serves them as stored (ADR 36)",
        [$"{Features}.SharingGroups.SharingGroupStore"] = "the audience resolver expands a named sharing group into its members",
        [$"{Features}.Agencies.GetAllowedPrivateNetworks"] = "a subscription endpoint is checked against its agency's allowed private networks",

        // The console (docs/decisions/0031) shows what the API serves by sending the API's own Mediator messages, so that
        // the same validators, scope checks and sharing policy decide; each entry is a use case it shows.
        [$"{Features}.Deliveries.ListDeliveries"] = "the console's dead letters, home page and alert ledger are this query",
        [$"{Features}.Deliveries.GetDelivery"] = "the console's delivery page is this query",
        [$"{Features}.Deliveries.ReplayDeliveries"] = "the console's replay buttons send this command",
        [$"{Features}.Subscriptions.ListSubscriptions"] = "the console's home page lists subscriptions with this query",
        [$"{Features}.Alerts.ListAlertVersions"] = "the console's alert page shows versions with this query",
        [$"{Features}.Alerts.ListAlertFeedback"] = "the console's alert page lists feedback with this query",
        [$"{Features}.Indicators.ListCorrelations"] = "the console's alert page lists the alerts that share its indicators with this query",
        [$"{Features}.Indicators.ListHiddenCorrelations"] = "the console's alert page lists the agencies that may not see it with this query",
        [$"{Features}.Audit.VerifyAuditChain"] = "the console's audit page runs this verification",
        [$"{Features}.Subscriptions.ListPartnerHealth"] = "the console's partner-health page is this query",
        [$"{Features}.Statistics.ReadStatistics"] = "the console's published-results page is this query",
        [$"{Features}.Statistics.StatisticsCsv"] = "the console's published-results page downloads the same CSV as the API",
    };

    [Fact]
    public void Infrastructure_depends_on_no_feature()
    {
        var result = Types.InAssembly(Api)
            .That().ResideInNamespaceMatching(Within("IntelSharing.Api.Infrastructure"))
            .ShouldNot().HaveDependencyOnAny(Features)
            .GetResult();

        Assert.True(result.IsSuccessful, Describe(result));
    }

    [Fact]
    public void The_domain_depends_on_no_feature_and_no_infrastructure()
    {
        var result = Types.InAssembly(Api)
            .That().ResideInNamespaceMatching(Within("IntelSharing.Api.Domain"))
            .ShouldNot().HaveDependencyOnAny(Features, "IntelSharing.Api.Infrastructure")
            .GetResult();

        Assert.True(result.IsSuccessful, Describe(result));
    }

    [Fact]
    public void Sharing_does_not_depend_on_alerts()
    {
        var result = Types.InAssembly(Api)
            .That().ResideInNamespaceMatching(Within($"{Features}.Sharing"))
            .ShouldNot().HaveDependencyOnAny($"{Features}.Alerts")
            .GetResult();

        Assert.True(result.IsSuccessful, Describe(result));
    }

    // Dialect differences (SQL, transactions, error codes) belong to SqlDialect; a feature writes one statement for both.
    [Fact]
    public void Features_reach_the_database_without_naming_a_driver()
    {
        var result = Types.InAssembly(Api)
            .That().ResideInNamespaceMatching(Within(Features))
            .ShouldNot().HaveDependencyOnAny("Npgsql", "Microsoft.Data.Sqlite")
            .GetResult();

        Assert.True(result.IsSuccessful, Describe(result));
    }

    // Driver types (connections, parameters, exceptions) are named where the dialect lives; elsewhere code asks SqlDialect.
    private static readonly Dictionary<string, string> DriverUsersOutsidePersistence = new()
    {
        ["IntelSharing.Api.Infrastructure.Observability.Telemetry"] = "traces the drivers' commands with their own instrumentation",
    };

    [Fact]
    public void Only_persistence_names_a_database_driver()
    {
        var result = Types.InAssembly(Api)
            .That().DoNotResideInNamespaceMatching(Within("IntelSharing.Api.Infrastructure.Persistence"))
            .Should().NotHaveDependencyOnAny("Npgsql", "Microsoft.Data.Sqlite")
            .GetResult();

        var unlisted = (result.FailingTypes ?? [])
            .Where(type => !DriverUsersOutsidePersistence.Keys.Any(listed => type.FullName == listed || type.FullName.StartsWith(listed + "/", StringComparison.Ordinal)))
            .Select(type => $"  {type.FullName}: {type.Explanation}")
            .ToList();
        Assert.True(unlisted.Count == 0, "A database driver named outside Infrastructure/Persistence:\n" + string.Join('\n', unlisted));
    }

    public static TheoryData<string> FeatureNames()
    {
        var data = new TheoryData<string>();
        foreach (var feature in AllFeatures())
        {
            data.Add(feature);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FeatureNames))]
    public void A_feature_uses_other_features_only_through_their_shared_types(string feature)
    {
        var internalsOfOthers = FeatureTypes()
            .Where(type => FeatureOf(type) != feature && !IsShared(type))
            .Select(type => type.FullName!)
            .ToArray();

        var result = Types.InAssembly(Api)
            .That().ResideInNamespaceMatching(Within($"{Features}.{feature}"))
            .ShouldNot().HaveDependencyOnAny(internalsOfOthers)
            .GetResult();

        Assert.True(result.IsSuccessful, Describe(result));
    }

    [Fact]
    public void Every_documented_entry_point_is_a_type_of_a_feature()
    {
        var names = FeatureTypes().Select(type => type.FullName!).ToHashSet();

        Assert.All(DocumentedEntryPoints.Keys, entry => Assert.Contains(entry, names));
    }

    // An entry nobody outside its feature uses any more is an allowance waiting to be misused: remove it.
    [Fact]
    public void Every_documented_entry_point_is_used_by_another_feature()
    {
        var unused = DocumentedEntryPoints.Keys
            .Where(entry => Types.InAssembly(Api)
                .That().ResideInNamespaceMatching(Within(Features))
                .And().DoNotResideInNamespaceMatching(Within($"{Features}.{FeatureOf(entry)}"))
                .Should().NotHaveDependencyOnAny(entry)
                .GetResult().IsSuccessful)
            .ToList();

        Assert.True(unused.Count == 0, "Entry points no other feature uses:\n  " + string.Join("\n  ", unused));
    }

    private static bool IsShared(Type type)
    {
        var outermost = type;
        while (outermost.DeclaringType is not null)
        {
            outermost = outermost.DeclaringType;
        }
        return ContractTypes.Value.Contains(outermost.FullName!)
            || SharedSuffixes.Any(suffix => outermost.Name.EndsWith(suffix, StringComparison.Ordinal))
            || DocumentedEntryPoints.ContainsKey(outermost.FullName!);
    }

    // Needs the API's PDB (built beside it) to know which file declares a type.
    private static readonly Lazy<HashSet<string>> ContractTypes = new(() =>
        Types.InAssembly(Api).GetTypes()
            .Where(type => type.SourceFilePath?.EndsWith("Contract.cs", StringComparison.Ordinal) == true)
            .Select(type => type.ReflectionType.FullName!)
            .ToHashSet());

    private static IEnumerable<Type> FeatureTypes() =>
        Api.GetTypes().Where(type =>
            type.Namespace is not null
            && type.Namespace.StartsWith($"{Features}.", StringComparison.Ordinal)
            && !type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false)
            && !type.Name.Contains('<', StringComparison.Ordinal));

    // "Features.Sharing" must not also select "Features.SharingGroups".
    private static string Within(string ns) => $"^{Regex.Escape(ns)}($|\\.)";

    private static string FeatureOf(Type type) => FeatureOf(type.Namespace!);

    private static string FeatureOf(string name) => name[(Features.Length + 1)..].Split('.')[0];

    private static IEnumerable<string> AllFeatures() => FeatureTypes().Select(FeatureOf).Distinct().Order();

    private static string Describe(NetArchTest.Rules.TestResult result) =>
        result.IsSuccessful
            ? "no violations"
            : "Boundary crossed by:\n" + string.Join('\n', result.FailingTypes.Select(type => $"  {type.FullName}: {type.Explanation}"));
}
