using System.Text.Json.Serialization;

namespace IntelSharing.Api.Features.Statistics;

/// <summary>
/// The published results: counts only, never content. A null count is suppressed: it is under the deployment's
/// minimum cell count, or it would let a suppressed count be worked out from a total (docs/statistics.md).
/// </summary>
public sealed record StatisticsReport
{
    /// <summary>The first day counted (UTC).</summary>
    public required string From { get; init; }

    /// <summary>The last day counted (UTC), inclusive.</summary>
    public required string To { get; init; }

    /// <summary><c>day</c> (periods yyyy-mm-dd) or <c>month</c> (periods yyyy-mm).</summary>
    public required string Period { get; init; }

    /// <summary>Counts from 1 to this number minus one are suppressed (Statistics__MinimumCellCount).</summary>
    public required int MinimumCellCount { get; init; }

    /// <summary>
    /// <c>visible</c>: alerts the caller's agency may see, and the deliveries and feedback of the alerts it published;
    /// <c>all</c>: every alert, delivery and feedback (agencies:admin).
    /// </summary>
    public required string Coverage { get; init; }

    /// <summary>Alerts first published in each period, by category and by country named in the alert (an alert naming two countries counts in both).</summary>
    public required IReadOnlyList<AlertCount> Alerts { get; init; }

    /// <summary>Alerts first published in each period, by category (each alert once).</summary>
    public required IReadOnlyList<AlertTotal> AlertTotals { get; init; }

    /// <summary>Deliveries created in the range, by receiving agency.</summary>
    public required IReadOnlyList<PartnerDeliveries> Deliveries { get; init; }

    public required DeliveryTotals DeliveryTotals { get; init; }

    /// <summary>Feedback given in the range, by the agency that gave it.</summary>
    public required IReadOnlyList<PartnerFeedback> Feedback { get; init; }

    public required FeedbackTotals FeedbackTotals { get; init; }
}

/// <param name="Period">yyyy-mm-dd or yyyy-mm.</param>
/// <param name="Category">migrant_smuggling or cyber_incident.</param>
/// <param name="Country">ISO 3166-1 alpha-2, or empty for alerts that name no country.</param>
/// <param name="Count">null when suppressed.</param>
public sealed record AlertCount(string Period, string Category, string Country, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Count);

public sealed record AlertTotal(string Period, string Category, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Count);

/// <param name="AgencyId">The receiving agency.</param>
/// <param name="AgencyName">Its registered name.</param>
/// <param name="Country">Its country, ISO 3166-1 alpha-2.</param>
/// <param name="Delivered">Deliveries the partner acknowledged with a 2xx.</param>
/// <param name="Failed">Deliveries not (yet) acknowledged after at least one attempt: failed (will retry) or dead (gave up).</param>
public sealed record PartnerDeliveries(Guid AgencyId, string AgencyName, string Country, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Delivered, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Failed);

public sealed record DeliveryTotals([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Delivered, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Failed);

/// <param name="AgencyId">The agency that gave the feedback.</param>
/// <param name="AgencyName">Its registered name.</param>
/// <param name="Country">Its country, ISO 3166-1 alpha-2.</param>
/// <param name="Hits">Feedback "hit": the partner found it too.</param>
/// <param name="Actioned">Feedback "actioned": the partner acted on it.</param>
public sealed record PartnerFeedback(Guid AgencyId, string AgencyName, string Country, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Hits, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Actioned);

public sealed record FeedbackTotals([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Hits, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Actioned);
