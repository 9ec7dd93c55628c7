using System.Globalization;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>Who sends the valid form of a request.</summary>
public enum FuzzCaller
{
    Originator,
    Partner,
    Operator,
}

/// <summary>
/// One endpoint of Routes.cs and a valid request to it, which the fuzzer then mutates. <see cref="Route"/> is
/// the route pattern as the OpenAPI description names it; the coverage test holds this list against the app's
/// endpoints, so a new write endpoint or query parameter without a fuzz target fails the build.
/// </summary>
public sealed record FuzzTarget(
    string Method,
    string Route,
    FuzzCaller Caller,
    int Weight,
    Func<FuzzWorld, Random, JsonObject>? Body = null,
    IReadOnlyDictionary<string, string[]>? QueryParameters = null)
{
    public string Name => $"{Method} {Route}";

    /// <summary>Where the {id} of this route comes from, when not the resource's whole pool.</summary>
    public Func<FuzzWorld, IReadOnlyList<Guid>>? Ids { get; init; }

    /// <summary>Headers the valid request needs besides the key, given the id in the route (If-Match).</summary>
    public Func<FuzzWorld, Guid, IEnumerable<KeyValuePair<string, string>>>? Headers { get; init; }

    /// <summary>Fills the route's placeholders with ids of the right kind, mostly ones that exist; returns the path and the {id}.</summary>
    public (string Path, Guid Id) Path(FuzzWorld world, Random random)
    {
        var agency = Pick(random, world.AgencyIds);
        if (Route.Contains("{keyId}", StringComparison.Ordinal) && random.Next(10) < 7)
        {
            // Usually a key together with the agency it belongs to, so revocation can succeed.
            agency = world.PartnerAgencyId;
        }

        if (Route.StartsWith("api/v1/sharing-groups", StringComparison.Ordinal))
        {
            // Members: the partner (already one) or a bystander (not yet, or only in the first group).
            agency = random.Next(2) == 0 ? world.PartnerAgencyId : Pick(random, world.BystanderAgencyIds);
        }

        var id = Ids is not null ? Pick(random, Ids(world)) : IdFor(world, random);
        var path = ("/" + Route)
            .Replace("{agencyId}", agency.ToString(), StringComparison.Ordinal)
            .Replace("{keyId}", Pick(random, world.SpareKeyIds).ToString(), StringComparison.Ordinal)
            .Replace("{feedbackId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
            .Replace("{id}", id.ToString(), StringComparison.Ordinal);
        return (path, id);
    }

    private Guid IdFor(FuzzWorld world, Random random) => Route switch
    {
        _ when Route.StartsWith("api/v1/alerts", StringComparison.Ordinal) => Pick(random, world.AlertIds),
        _ when Route.StartsWith("api/v1/agencies", StringComparison.Ordinal) => Pick(random, world.AgencyIds),
        _ when Route.StartsWith("api/v1/subscriptions", StringComparison.Ordinal) => Pick(random, world.SubscriptionIds),
        _ when Route.StartsWith("api/v1/sharing-groups", StringComparison.Ordinal) => Pick(random, world.SharingGroupIds),
        _ when Route.StartsWith("api/v1/deliveries", StringComparison.Ordinal) => random.Next(2) == 0 ? Pick(random, world.DeadDeliveryIds) : Pick(random, world.DeliveryIds),
        _ => Guid.NewGuid(),
    };

    public string Key(FuzzWorld world) => Caller switch
    {
        FuzzCaller.Originator => world.OriginatorKey,
        FuzzCaller.Partner => world.PartnerKey,
        _ => world.OperatorKey,
    };

    public static T Pick<T>(Random random, IReadOnlyList<T> values) => values[random.Next(values.Count)];
}

/// <summary>Every endpoint in Routes.cs, with a valid request for each.</summary>
public static class FuzzTargets
{
    /// <summary>cursor and limit, as every list accepts them; declared before <see cref="All"/>, which reads it as it is initialised.</summary>
    private static readonly IReadOnlyDictionary<string, string[]> Paging = new Dictionary<string, string[]>
    {
        ["cursor"] = [],
        ["limit"] = ["1", "200"],
    };

    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        // Writes: every POST, PUT and DELETE.
        new("POST", "api/v1/alerts", FuzzCaller.Originator, 24, (world, random) => ValidAlert(world, random)),
        new("PUT", "api/v1/alerts/{id}", FuzzCaller.Originator, 8, (world, random) => ValidCyberAlert(world, random))
        {
            Ids = world => world.CyberAlertIds,
            Headers = (world, id) => [new("If-Match", world.ETagOf(id))],
        },
        new("POST", "api/v1/alerts/{id}/revoke", FuzzCaller.Originator, 3, (_, random) => new JsonObject
        {
            ["reason"] = FuzzTarget.Pick(random, ["The network named was misidentified; see the corrected alert.", "Duplicate of an earlier alert."]),
        }),
        new("POST", "api/v1/alerts/{id}/share", FuzzCaller.Originator, 4, (world, random) => new JsonObject
        {
            ["agencies"] = new JsonArray(FuzzTarget.Pick(random, world.BystanderAgencyIds).ToString()),
        })
        {
            Ids = world => world.RestrictedAlertIds,
        },
        new("POST", "api/v1/alerts/{id}/feedback", FuzzCaller.Partner, 4, (_, random) => new JsonObject
        {
            ["kind"] = FuzzTarget.Pick(random, ["received", "hit", "actioned", "false_positive"]),
            ["note"] = "Matches a vehicle stopped at Kelebija on 2 November.\nPlates forged.",
        }),
        new("POST", "api/v1/agencies", FuzzCaller.Operator, 6, (_, random) => new JsonObject
        {
            ["name"] = $"Fuzz agency {random.Next(1_000_000)}",
            ["country"] = FuzzTarget.Pick(random, ["HR", "BA", "MK", "AT", "GB"]),
            ["kind"] = FuzzTarget.Pick(random, ["police", "border_guard", "cert", "ministry", "customs", "eu_agency"]),
        }),
        new("POST", "api/v1/agencies/{agencyId}/keys", FuzzCaller.Operator, 5, (_, random) => new JsonObject
        {
            ["name"] = "SIS gateway production",
            ["scopes"] = new JsonArray("alerts:read", FuzzTarget.Pick(random, ["alerts:write", "subscriptions:manage"])),
            ["expiresAt"] = DateTimeOffset.UtcNow.AddDays(random.Next(1, 400)).ToString("O", CultureInfo.InvariantCulture),
        }),
        new("DELETE", "api/v1/agencies/{agencyId}/keys/{keyId}", FuzzCaller.Operator, 3),
        new("POST", "api/v1/subscriptions", FuzzCaller.Partner, 6, (world, random) => ValidSubscription(world, random)),
        new("PUT", "api/v1/subscriptions/{id}", FuzzCaller.Partner, 6, (world, random) => ValidSubscription(world, random)),
        new("POST", "api/v1/subscriptions/{id}/pause", FuzzCaller.Partner, 2),
        new("POST", "api/v1/subscriptions/{id}/resume", FuzzCaller.Partner, 2),
        new("DELETE", "api/v1/subscriptions/{id}", FuzzCaller.Partner, 2),
        new("POST", "api/v1/subscriptions/{id}/rotate-secret", FuzzCaller.Partner, 2),
        new("POST", "api/v1/subscriptions/{id}/ping", FuzzCaller.Partner, 2),
        new("POST", "api/v1/deliveries/{id}/replay", FuzzCaller.Partner, 3),
        new("POST", "api/v1/deliveries/replay", FuzzCaller.Partner, 4, (world, random) => new JsonObject
        {
            ["subscriptionId"] = FuzzTarget.Pick(random, world.SubscriptionIds).ToString(),
            ["from"] = DateTimeOffset.UtcNow.AddDays(-1).ToString("O", CultureInfo.InvariantCulture),
            ["to"] = DateTimeOffset.UtcNow.AddDays(1).ToString("O", CultureInfo.InvariantCulture),
            ["states"] = new JsonArray(FuzzTarget.Pick(random, ["dead", "failed", "cancelled", "delivered"])),
        }),

        // Reads: every query parameter, and every route id.
        new("GET", "api/v1/alerts", FuzzCaller.Partner, 8, QueryParameters: new Dictionary<string, string[]>
        {
            ["category"] = ["migrant_smuggling", "cyber_incident", "migrant_smuggling,cyber_incident"],
            ["severity"] = ["low", "high", "medium,critical"],
            ["minSeverity"] = ["medium", "critical"],
            ["country"] = ["RS", "RS,HU", "BA"],
            ["updatedAfter"] = ["2020-01-01T00:00:00Z", "2026-11-01T00:00:00%2B01:00"],
            ["cursor"] = [],
            ["limit"] = ["1", "50", "200"],
            ["dueForReview"] = ["true", "false"],
            ["q"] = [.. new[] { "Horgoš", "Београд Subotica", "\"NEAR(Šid*\"", "Đorđe -Djordje:*" }.Select(Uri.EscapeDataString)],
            ["sort"] = ["newest", "relevance"],
        }),
        new("GET", "api/v1/alerts/{id}", FuzzCaller.Partner, 2),
        new("GET", "api/v1/alerts/{id}/correlations", FuzzCaller.Partner, 2, QueryParameters: new Dictionary<string, string[]>
        {
            ["cursor"] = [],
            ["limit"] = ["1", "200"],
        }),
        new("GET", "api/v1/alerts/{id}/correlations/hidden", FuzzCaller.Originator, 2, QueryParameters: new Dictionary<string, string[]>
        {
            ["cursor"] = [],
            ["limit"] = ["1", "200"],
        }),
        new("GET", "api/v1/indicators", FuzzCaller.Partner, 4, QueryParameters: new Dictionary<string, string[]>
        {
            ["type"] = ["domain", "ipv4", "sha256"],
            ["value"] = ["euprava-login.example.com", "185.220.101.4", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"],
            ["cursor"] = [],
            ["limit"] = ["1", "200"],
        }),
        new("POST", "api/v1/indicators/search", FuzzCaller.Partner, 4, (_, random) => new JsonObject
        {
            ["indicators"] = new JsonArray(
                new JsonObject { ["type"] = "domain", ["value"] = FuzzTarget.Pick(random, ["euprava-login.example.com", "MUP-GOV-RS.example.net"]) },
                new JsonObject { ["type"] = "ipv4", ["value"] = "185.220.101.4" }),
            ["limit"] = random.Next(1, 201),
        }),
        new("GET", "api/v1/alerts/{id}/versions", FuzzCaller.Partner, 1, QueryParameters: Paging),
        new("GET", "api/v1/alerts/{id}/stix", FuzzCaller.Partner, 1),
        new("GET", "api/v1/alerts/{id}/feedback", FuzzCaller.Originator, 1, QueryParameters: Paging),
        new("GET", "api/v1/alerts/{id}/feedback/{feedbackId}", FuzzCaller.Originator, 1),
        new("GET", "api/v1/alerts/{id}/deliveries", FuzzCaller.Originator, 3, QueryParameters: new Dictionary<string, string[]>
        {
            ["state"] = ["pending", "dead", "delivered"],
            ["cursor"] = [],
            ["limit"] = ["1", "200"],
        }),
        new("GET", "api/v1/agencies", FuzzCaller.Partner, 1, QueryParameters: Paging),
        new("GET", "api/v1/agencies/{id}", FuzzCaller.Partner, 1),
        new("GET", "api/v1/agencies/{agencyId}/keys", FuzzCaller.Operator, 1, QueryParameters: Paging),
        new("GET", "api/v1/agencies/me/keys", FuzzCaller.Partner, 1, QueryParameters: Paging),
        new("GET", "api/v1/subscriptions", FuzzCaller.Partner, 1, QueryParameters: Paging),
        new("GET", "api/v1/subscriptions/{id}", FuzzCaller.Partner, 1),
        new("GET", "api/v1/deliveries", FuzzCaller.Partner, 5, QueryParameters: new Dictionary<string, string[]>
        {
            ["state"] = ["pending", "dead", "in_flight"],
            ["subscription"] = [],
            ["cursor"] = [],
            ["limit"] = ["1", "200"],
        }),
        new("GET", "api/v1/deliveries/{id}", FuzzCaller.Partner, 1),
        new("GET", "api/v1/subscriptions/health", FuzzCaller.Partner, 2, QueryParameters: new Dictionary<string, string[]>
        {
            ["cursor"] = [],
            ["limit"] = ["1", "100"],
        }),
        new("GET", "api/v1/statistics", FuzzCaller.Originator, 4, QueryParameters: new Dictionary<string, string[]>
        {
            ["from"] = ["2026-01-01", "2026-11-30"],
            ["to"] = ["2026-03-31", "2026-12-06"],
            ["period"] = ["day", "month"],
        }),
        new("GET", "api/v1/feed", FuzzCaller.Partner, 3, QueryParameters: new Dictionary<string, string[]>
        {
            ["after"] = ["0", "1"],
            ["limit"] = ["1", "500"],
        }),

        // Agencies: operators rename, deactivate and activate (bystanders, so the fuzzer's own callers keep working).
        new("PATCH", "api/v1/agencies/{id}", FuzzCaller.Operator, 3, (_, random) => new JsonObject
        {
            ["name"] = $"Fuzz agency renamed {random.Next(1_000_000)}",
            ["kind"] = FuzzTarget.Pick(random, ["police", "border_guard", "customs"]),
        })
        {
            Ids = world => world.BystanderAgencyIds,
        },
        new("GET", "api/v1/agencies/{id}/allowed-private-networks", FuzzCaller.Operator, 1),
        new("PUT", "api/v1/agencies/{id}/allowed-private-networks", FuzzCaller.Operator, 2, (_, random) => new JsonObject
        {
            ["allowedPrivateNetworks"] = new JsonArray(FuzzTarget.Pick(random, ["10.20.0.0/16", "172.16.4.0/24", "fd00:1::/64"])),
        })
        {
            Ids = world => world.BystanderAgencyIds,
        },
        new("POST", "api/v1/agencies/{id}/deactivate", FuzzCaller.Operator, 2) { Ids = world => world.BystanderAgencyIds },
        new("POST", "api/v1/agencies/{id}/activate", FuzzCaller.Operator, 2) { Ids = world => world.BystanderAgencyIds },

        // Sharing groups.
        new("POST", "api/v1/sharing-groups", FuzzCaller.Operator, 4, (world, random) => ValidGroup(world, random)),
        new("GET", "api/v1/sharing-groups", FuzzCaller.Partner, 1, QueryParameters: Paging),
        new("GET", "api/v1/sharing-groups/{id}", FuzzCaller.Partner, 1),
        new("PUT", "api/v1/sharing-groups/{id}", FuzzCaller.Operator, 4, (world, random) => ValidGroup(world, random)),
        new("DELETE", "api/v1/sharing-groups/{id}", FuzzCaller.Operator, 2),
        new("PUT", "api/v1/sharing-groups/{id}/members/{agencyId}", FuzzCaller.Operator, 2),
        new("DELETE", "api/v1/sharing-groups/{id}/members/{agencyId}", FuzzCaller.Operator, 2),

        // The audit trail (operators hold audit:read).
        new("GET", "api/v1/audit", FuzzCaller.Operator, 4, QueryParameters: new Dictionary<string, string[]>
        {
            ["agency"] = [],
            ["action"] = ["alert.read", "auth.failed", "alert.submit,alert.read", "group.member.add"],
            ["resourceId"] = [],
            ["from"] = ["2020-01-01T00:00:00Z", "2026-11-01T00:00:00%2B01:00"],
            ["to"] = ["2099-01-01T00:00:00Z"],
            ["cursor"] = [],
            ["limit"] = ["1", "500"],
        }),
        new("GET", "api/v1/audit/verify", FuzzCaller.Operator, 2, QueryParameters: new Dictionary<string, string[]>
        {
            ["anchorSeq"] = ["1"],
            ["anchorHash"] = [new string('0', 64)],
            ["anchorSignature"] = [new string('0', 64)],
        }),
    ];

    private static JsonObject ValidGroup(FuzzWorld world, Random random) => new()
    {
        ["name"] = $"Western Balkans border services {random.Next(1_000_000)}",
        ["description"] = "Border police and customs of the route from Gevgelija to Horgoš.",
        ["members"] = new JsonArray(world.PartnerAgencyId.ToString(), FuzzTarget.Pick(random, world.BystanderAgencyIds).ToString()),
    };

    private static JsonObject ValidAlert(FuzzWorld world, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                return Samples.CyberAlert();
            case 1:
                return Samples.SmugglingAlert();
            case 2:
            {
                // Named persons: amber or stricter, with review and expiry dates; an audience.
                var alert = Samples.SmugglingAlert();
                alert["tlp"] = "amber+strict";
                alert["audience"] = new JsonObject
                {
                    ["agencies"] = new JsonArray(world.PartnerAgencyId.ToString()),
                    ["groups"] = new JsonArray(world.SharingGroupIds[0].ToString()),
                };
                alert["persons"] = new JsonArray(new JsonObject
                {
                    ["fullName"] = "Marko Petrović",
                    ["category"] = "suspect",
                    ["dateOfBirth"] = "1987-04-12",
                    ["nationality"] = "RS",
                    ["aliases"] = new JsonArray("Šofer"),
                });
                alert["reviewAt"] = DateTimeOffset.UtcNow.AddDays(90).ToString("O", CultureInfo.InvariantCulture);
                alert["expiresAt"] = DateTimeOffset.UtcNow.AddDays(365).ToString("O", CultureInfo.InvariantCulture);
                alert["observedAt"] = DateTimeOffset.UtcNow.AddHours(-6).ToString("O", CultureInfo.InvariantCulture);
                return alert;
            }

            default:
            {
                var alert = Samples.CyberAlert();
                alert["handling"] = new JsonObject { ["code"] = "H3", ["conditions"] = "Share only with national CERTs." };
                alert["indicators"]!.AsArray().Add(new JsonObject { ["type"] = "url", ["value"] = "https://euprava-login.example.com/prijava?next=%2F" });
                alert["indicators"]!.AsArray().Add(new JsonObject { ["type"] = "crypto_wallet", ["value"] = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" });
                alert["indicators"]!.AsArray().Add(new JsonObject { ["type"] = "email", ["value"] = "podrska@euprava-login.example.com" });
                return alert;
            }
        }
    }

    /// <summary>A new version of a cyber alert (an alert keeps its category).</summary>
    private static JsonObject ValidCyberAlert(FuzzWorld world, Random random)
    {
        var alert = Samples.CyberAlert();
        switch (random.Next(3))
        {
            case 0:
                alert["severity"] = "critical";
                alert["summary"] = alert["summary"]!.GetValue<string>() + " A second wave started on 3 November.";
                break;
            case 1:
                alert["tlp"] = "amber";
                alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(world.PartnerAgencyId.ToString()) };
                break;
        }

        return alert;
    }

    private static JsonObject ValidSubscription(FuzzWorld world, Random random) => new()
    {
        ["url"] = world.PartnerUrl,
        ["description"] = "Hungarian police alert intake",
        ["categories"] = new JsonArray(FuzzTarget.Pick(random, ["migrant_smuggling", "cyber_incident"])),
        ["minSeverity"] = FuzzTarget.Pick(random, ["low", "medium", "high", "critical"]),
        ["countries"] = new JsonArray("RS", "HU"),
        ["includeOwnAlerts"] = random.Next(2) == 0,
    };
}
