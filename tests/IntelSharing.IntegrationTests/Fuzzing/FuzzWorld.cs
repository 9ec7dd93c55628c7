using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// The real resources fuzzed requests point at, so that mutations reach past "not found" into validation
/// and the handlers: agencies with keys of every role, subscriptions, alerts, deliveries (some dead) and
/// cursors the API issued. The fuzzer draws from these lists by index, so a seed always makes the same
/// choices. <see cref="RepairAsync"/> undoes what valid destructive requests did (deleted or paused
/// subscriptions, revoked spare keys, replayed dead letters), so later requests still reach deep.
/// </summary>
public sealed class FuzzWorld
{
    private readonly ApiFixture _app;
    private readonly List<PooledAlert> _alerts = [];
    private readonly List<Guid> _groups = [];
    private HttpClient _originator = null!;
    private HttpClient _operator = null!;

    private FuzzWorld(ApiFixture app) => _app = app;

    private enum AlertTemplate
    {
        Cyber,
        Smuggling,
        Restricted,
    }

    private sealed record PooledAlert(Guid Id, AlertTemplate Template, int Version);

    /// <summary>The current ETag of a pooled alert, as a client that just read it would send in If-Match.</summary>
    public string ETagOf(Guid alertId) => $"\"{_alerts.FirstOrDefault(a => a.Id == alertId)?.Version ?? 1}\"";

    public string OriginatorKey { get; private set; } = string.Empty;

    public string PartnerKey { get; private set; } = string.Empty;

    public string OperatorKey { get; private set; } = string.Empty;

    /// <summary>Keys that authenticate but must not be enough: read-only, revoked, expired.</summary>
    public IReadOnlyList<string> WeakKeys { get; private set; } = [];

    public Guid OriginatorAgencyId { get; private set; }

    public Guid PartnerAgencyId { get; private set; }

    public IReadOnlyList<Guid> AgencyIds { get; private set; } = [];

    /// <summary>Keys of the partner agency that no request authenticates with, so revoking them is harmless.</summary>
    public IReadOnlyList<Guid> SpareKeyIds { get; private set; } = [];

    public IReadOnlyList<Guid> SubscriptionIds { get; private set; } = [];

    /// <summary>Alerts of the originator, visible to the partner; revoked or widened ones are replaced by <see cref="RepairAsync"/>.</summary>
    public IReadOnlyList<Guid> AlertIds => _alerts.Select(a => a.Id).ToList();

    /// <summary>Cyber alerts, which the valid update (a cyber alert) may replace.</summary>
    public IReadOnlyList<Guid> CyberAlertIds => _alerts.Where(a => a.Template == AlertTemplate.Cyber).Select(a => a.Id).ToList();

    /// <summary>amber+strict alerts for the partner only, whose audience can be widened.</summary>
    public IReadOnlyList<Guid> RestrictedAlertIds => _alerts.Where(a => a.Template == AlertTemplate.Restricted).Select(a => a.Id).ToList();

    /// <summary>Agencies in no audience yet: sharing with one of them is valid; operators rename, deactivate and activate them.</summary>
    public IReadOnlyList<Guid> BystanderAgencyIds { get; private set; } = [];

    /// <summary>Sharing groups; deleted ones are replaced by <see cref="RepairAsync"/>.</summary>
    public IReadOnlyList<Guid> SharingGroupIds => _groups;

    public IReadOnlyList<Guid> DeliveryIds { get; private set; } = [];

    public IReadOnlyList<Guid> DeadDeliveryIds { get; private set; } = [];

    /// <summary>Cursors the API issued, reused across endpoints and filters by the fuzzer.</summary>
    public IReadOnlyList<string> Cursors { get; private set; } = [];

    /// <summary>A loopback address nothing listens on: pings fail fast and never leave the machine.</summary>
    public string PartnerUrl { get; private set; } = string.Empty;

    public IEnumerable<Guid> AllIds => AgencyIds.Concat(SpareKeyIds).Concat(SubscriptionIds).Concat(AlertIds).Concat(DeliveryIds);

    public static async Task<FuzzWorld> CreateAsync(ApiFixture app, int closedPort, CancellationToken cancellationToken)
    {
        var world = new FuzzWorld(app) { PartnerUrl = $"http://127.0.0.1:{closedPort}/webhooks/intelsharing" };
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsWrite, Scopes.AlertsRead, Scopes.StatisticsRead);
        var partner = await app.CreateAgencyAsync("Hungarian National Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var operations = await app.CreateOperatorAsync();
        var readOnly = await app.CreateAgencyAsync("Europol EC3", "NL", AgencyKind.EuAgency, Scopes.AlertsRead);
        world.OriginatorKey = originator.Key;
        world.PartnerKey = partner.Key;
        world.OperatorKey = operations.Key;
        world.OriginatorAgencyId = originator.Id;
        world.PartnerAgencyId = partner.Id;
        var bystanders = new List<Guid>();
        foreach (var (name, country) in new[] { ("Croatian Border Police", "HR"), ("Frontex Situation Centre", "PL"), ("Border Police of Bosnia and Herzegovina", "BA") })
        {
            bystanders.Add((await app.CreateAgencyAsync(name, country, AgencyKind.BorderGuard, Scopes.AlertsRead)).Id);
        }

        world.BystanderAgencyIds = bystanders;
        world.AgencyIds = [originator.Id, partner.Id, operations.Id, readOnly.Id, .. bystanders];
        world._originator = originator.Client;
        world._operator = operations.Client;
        for (var i = 0; i < 2; i++)
        {
            world._groups.Add(await world.CreateGroupAsync(cancellationToken));
        }

        await using (var connection = await app.Database.OpenAsync(cancellationToken))
        {
            var spare = new List<Guid>();
            for (var i = 0; i < 3; i++)
            {
                spare.Add((await IssueApiKey.IssueAsync(connection, TimeProvider.System, partner.Id, $"spare {i}", [Scopes.AlertsRead], null, cancellationToken))!.Id);
            }

            world.SpareKeyIds = spare;
            var revoked = (await IssueApiKey.IssueAsync(connection, TimeProvider.System, partner.Id, "revoked", [Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage], null, cancellationToken))!;
            await connection.ExecuteAsync(new CommandDefinition("UPDATE api_keys SET revoked_at = @now WHERE id = @id", new { id = revoked.Id, now = DateTimeOffset.UtcNow }, cancellationToken: cancellationToken));
            var expired = (await IssueApiKey.IssueAsync(connection, TimeProvider.System, partner.Id, "expired", [Scopes.AlertsRead, Scopes.AlertsWrite, Scopes.SubscriptionsManage], DateTimeOffset.UtcNow.AddDays(-1), cancellationToken))!;
            world.WeakKeys = [readOnly.Key, revoked.Key, expired.Key];
        }

        var subscriptions = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var created = await partner.Client.PostAsync("/api/v1/subscriptions", Samples.Json(new JsonObject { ["url"] = world.PartnerUrl, ["description"] = $"Fuzz subscription {i}" }), cancellationToken);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            subscriptions.Add((await created.ReadJsonAsync()).GetProperty("subscription").GetProperty("id").GetGuid());
        }

        world.SubscriptionIds = subscriptions;

        foreach (var template in new[] { AlertTemplate.Cyber, AlertTemplate.Cyber, AlertTemplate.Smuggling, AlertTemplate.Restricted, AlertTemplate.Restricted })
        {
            world._alerts.Add(new PooledAlert(await world.PublishAsync(template, cancellationToken), template, 1));
        }

        await using (var connection = await app.Database.OpenAsync(cancellationToken))
        {
            world.DeliveryIds = (await connection.QueryAsync<Guid>(new CommandDefinition("SELECT id FROM deliveries ORDER BY id", cancellationToken: cancellationToken))).ToList();
            world.DeadDeliveryIds = world.DeliveryIds.Where((_, i) => i % 2 == 0).ToList();
        }

        Assert.NotEmpty(world.DeliveryIds);
        await world.RepairAsync();

        var cursors = new List<string>();
        foreach (var (key, path) in new[] { (partner.Key, "/api/v1/alerts?limit=1"), (partner.Key, "/api/v1/deliveries?limit=1"), (operations.Key, "/api/v1/deliveries?state=dead&limit=1"), (operations.Key, "/api/v1/audit?limit=1"), (originator.Key, "/api/v1/alerts?category=cyber_incident&limit=1") })
        {
            using var client = app.ClientWithKey(key);
            var page = await client.GetFromJsonAsync<JsonElement>(path, cancellationToken);
            cursors.Add(page.GetProperty("nextCursor").GetString()!);
        }

        world.Cursors = cursors;
        return world;
    }

    /// <summary>Puts the pooled resources back the way the fuzzer expects them (a test-side write, outside any fuzzed request).</summary>
    public async Task RepairAsync()
    {
        await using var connection = await _app.Database.OpenAsync(CancellationToken.None);
        var authority = new Uri(PartnerUrl).GetLeftPart(UriPartial.Authority);
        var subscriptions = new DynamicParameters(new { PartnerUrl, authority });
        await connection.ExecuteAsync(
            $"""
            UPDATE subscriptions SET status = 'active', status_reason = NULL, url = @PartnerUrl, authority = @authority
            WHERE id IN {SqlLists.In(subscriptions, "s", SubscriptionIds.ToArray())} AND (status <> 'active' OR url <> @PartnerUrl)
            """,
            subscriptions);
        var keys = new DynamicParameters();
        await connection.ExecuteAsync(
            $"UPDATE api_keys SET revoked_at = NULL WHERE id IN {SqlLists.In(keys, "k", SpareKeyIds.ToArray())} AND revoked_at IS NOT NULL", keys);
        var deliveries = new DynamicParameters();
        await connection.ExecuteAsync(
            $"UPDATE deliveries SET state = 'dead', attempts = 10 WHERE id IN {SqlLists.In(deliveries, "d", DeadDeliveryIds.ToArray())} AND state <> 'dead'", deliveries);

        // Deactivated agencies get nothing and their keys are refused: the fuzzer deactivates bystanders, and a
        // mutated route may name any pooled agency.
        var agencies = new DynamicParameters(new { active = true });
        await connection.ExecuteAsync(
            $"UPDATE agencies SET is_active = @active WHERE id IN {SqlLists.In(agencies, "g", AgencyIds.ToArray())} AND is_active <> @active", agencies);

        // Written behind the API's back: on SQLite nothing tells its key cache, and on PostgreSQL the notice arrives
        // asynchronously; the next fuzzed request must see the repaired keys and agencies.
        _app.Services.GetRequiredService<ApiKeyLookup>().Invalidate();

        var groups = new DynamicParameters();
        var existing = (await connection.QueryAsync<Guid>(
            $"SELECT id FROM sharing_groups WHERE id IN {SqlLists.In(groups, "sg", _groups.ToArray())}", groups)).ToHashSet();
        for (var i = 0; i < _groups.Count; i++)
        {
            if (!existing.Contains(_groups[i]))
            {
                _groups[i] = await CreateGroupAsync(CancellationToken.None);
            }
        }

        // Revoked alerts cannot change any more, and a widened audience cannot be widened with the same agencies:
        // publish a fresh alert in their place. Others keep their id; their version is what If-Match must name.
        var alerts = new DynamicParameters();
        var states = (await connection.QueryAsync<AlertState>(
            $"""
            SELECT a.id AS Id, a.status AS Status, a.version AS Version,
                   (SELECT COUNT(*) FROM alert_audience aa WHERE aa.alert_id = a.id) AS Audience
            FROM alerts a WHERE a.id IN {SqlLists.In(alerts, "a", AlertIds.ToArray())}
            """,
            alerts)).ToDictionary(a => a.Id);
        for (var i = 0; i < _alerts.Count; i++)
        {
            var pooled = _alerts[i];
            var state = states[pooled.Id];
            _alerts[i] = state.Status != "active" || (pooled.Template == AlertTemplate.Restricted && state.Audience > 1)
                ? new PooledAlert(await PublishAsync(pooled.Template, CancellationToken.None), pooled.Template, 1)
                : pooled with { Version = state.Version };
        }
    }

    private sealed record AlertState
    {
        public Guid Id { get; init; }

        public string Status { get; init; } = string.Empty;

        public int Version { get; init; }

        public long Audience { get; init; }
    }

    private async Task<Guid> CreateGroupAsync(CancellationToken cancellationToken)
    {
        var created = await _operator.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject
        {
            ["name"] = $"Western Balkans border services {Guid.NewGuid():N}",
            ["members"] = new JsonArray(PartnerAgencyId.ToString(), BystanderAgencyIds[0].ToString()),
        }), cancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private async Task<Guid> PublishAsync(AlertTemplate template, CancellationToken cancellationToken)
    {
        var alert = template switch
        {
            AlertTemplate.Cyber => Samples.CyberAlert(),
            AlertTemplate.Smuggling => Samples.SmugglingAlert(),
            _ => RestrictedAlert(PartnerAgencyId),
        };
        var created = await _originator.PostAsync("/api/v1/alerts", Samples.Json(alert), cancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    /// <summary>Amber+strict, for the partner only: exercises the audience paths.</summary>
    private static JsonObject RestrictedAlert(Guid audience)
    {
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = "amber+strict";
        alert["audience"] = new JsonObject { ["agencies"] = new JsonArray(audience.ToString()) };
        return alert;
    }
}
