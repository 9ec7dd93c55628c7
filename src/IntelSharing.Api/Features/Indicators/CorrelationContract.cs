using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;

namespace IntelSharing.Api.Features.Indicators;

/// <summary>Another active alert that shares indicators with yours, as far as you may see it.</summary>
public sealed record CorrelatedAlert
{
    public required Guid Id { get; init; }

    public required string Title { get; init; }

    public required AlertCategory Category { get; init; }

    public required Severity Severity { get; init; }

    public required Tlp Tlp { get; init; }

    public required AgencyRef Originator { get; init; }
}

/// <summary>One correlation: the other alert, the indicators both carry, and since when they have shared one.</summary>
public sealed record Correlation(CorrelatedAlert MatchedAlert, IReadOnlyList<IndicatorRef> Indicators, DateTimeOffset SeenAt);

public sealed record CorrelationPage(IReadOnlyList<Correlation> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>
/// An agency holding an active alert that shares indicators with your alert but that may not see your alert. Its
/// alert is not named: you decide whether to share yours with it (POST /api/v1/alerts/{id}/share).
/// </summary>
public sealed record HiddenCorrelation(AgencyRef Agency, IReadOnlyList<IndicatorRef> Indicators, DateTimeOffset SeenAt);

public sealed record HiddenCorrelationPage(IReadOnlyList<HiddenCorrelation> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>The <c>data</c> of <c>alert.correlated</c>: your alert <paramref name="AlertId"/> shares indicators with an alert you may see.</summary>
public sealed record CorrelatedNotice(Guid AlertId, CorrelatedAlert MatchedAlert, IReadOnlyList<IndicatorRef> Indicators, DateTimeOffset SeenAt);

/// <summary>
/// The <c>data</c> of <c>alert.correlation_hidden</c>: <paramref name="Agency"/> holds an active alert sharing these indicators with
/// your alert <paramref name="AlertId"/> but may not see your alert. Its alert is not named; share yours if you decide it should know.
/// </summary>
public sealed record HiddenCorrelationNotice(Guid AlertId, AgencyRef Agency, IReadOnlyList<IndicatorRef> Indicators, DateTimeOffset SeenAt);

/// <summary>What the two correlation views share: loading the caller's alert under the read rules, and the shared indicators.</summary>
public static class Correlations
{
    /// <summary>One indicator carried by the alert and by an other alert (or by any alert of an agency).</summary>
    public sealed record SharedRow
    {
        public Guid OwnerId { get; init; }

        public string Type { get; init; } = string.Empty;

        public string Value { get; init; } = string.Empty;

        public DateTimeOffset MineSeenAt { get; init; }

        public DateTimeOffset TheirsSeenAt { get; init; }

        /// <summary>A match exists from the moment the second of the two alerts carried the value.</summary>
        public DateTimeOffset SeenAt => MineSeenAt > TheirsSeenAt ? MineSeenAt : TheirsSeenAt;
    }

    /// <summary>
    /// The caller's view of the alert, under the same rules as reading it: 404 when it may not see it, 400 without a
    /// purpose when it names persons.
    /// </summary>
    public static async Task<Result<AlertStore.Current>> LoadVisibleAsync(DbConnection connection, Caller caller, Guid id, string? purpose, CancellationToken cancellationToken)
    {
        var current = await AlertStore.LoadAsync(connection, null, id, caller.AgencyId, cancellationToken);
        if (current is null || !current.VisibleTo(caller.AgencyId))
        {
            return Failure.NotFound("alert");
        }

        using var document = JsonDocument.Parse(current.Document);
        if (purpose is null && document.RootElement.TryGetProperty("persons", out var persons) && persons.GetArrayLength() > 0)
        {
            return PersonalData.PurposeRequired("This alert");
        }

        return current;
    }

    /// <summary>The shared indicators of <paramref name="rows"/>, grouped by owner, each value once with the earliest time it was shared.</summary>
    public static Dictionary<Guid, (IReadOnlyList<IndicatorRef> Indicators, DateTimeOffset SeenAt)> Group(IEnumerable<SharedRow> rows) =>
        rows.GroupBy(r => r.OwnerId).ToDictionary(
            g => g.Key,
            g =>
            {
                var values = g.GroupBy(r => (r.Type, r.Value)).Select(v => (v.Key, SeenAt: v.Min(r => r.SeenAt))).OrderBy(v => v.Key.Type, StringComparer.Ordinal)
                    .ThenBy(v => v.Key.Value, StringComparer.Ordinal).ToList();
                IReadOnlyList<IndicatorRef> indicators = values
                    .Select(v => new IndicatorRef(Infrastructure.Json.WireNames.TryParse<IndicatorType>(v.Key.Type, out var type) ? type : default, v.Key.Value))
                    .ToList();
                return (indicators, values.Min(v => v.SeenAt));
            });

    /// <summary>The fingerprint a correlation cursor is bound to: the alert and which view.</summary>
    public static string Fingerprint(Guid alertId, string view) => string.Create(CultureInfo.InvariantCulture, $"{view}:{alertId}");

    public static Task<IEnumerable<SharedRow>> QuerySharedAsync(DbConnection connection, string sql, DynamicParameters parameters, CancellationToken cancellationToken) =>
        connection.QueryAsync<SharedRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
}

/// <summary>An indicator as the caller sent or an alert carries it: its type and normalised value.</summary>
public sealed record IndicatorRef(IndicatorType Type, string Value);
