using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features.Deliveries;

/// <summary>The <c>data</c> of the <c>alert.revoked</c> sent when a new version narrows the audience and leaves the receiving agency out.</summary>
/// <param name="Id">The alert.</param>
/// <param name="Version">The version that left the agency out.</param>
/// <param name="Reason">What the agency is asked to do.</param>
public sealed record AudienceNarrowedNotice(Guid Id, int Version, string Reason)
{
    public const string DeleteYourCopies = "Your agency is no longer in the audience of this alert. Delete the copies you hold.";
}

/// <summary>The <c>data</c> of a <c>ping</c> (POST /api/v1/subscriptions/{id}/ping): it carries no intelligence.</summary>
public sealed record PingNotice(Guid SubscriptionId, string Message)
{
    public const string Reachable = "IntelSharing test event: your endpoint is reachable and can verify our signature.";
}

/// <summary>
/// Every webhook event type a partner may receive, with the type its <c>data</c> is serialised from and an example: the
/// OpenAPI document is written from this list (Program.cs hands it to <see cref="WebhookEventsDocumentFilter"/>), and the
/// contract test checks every event the dispatcher sends against it.
/// </summary>
public static class WebhookEventsContract
{
    /// <summary>
    /// Sent in place of an <c>alert.published</c>, <c>alert.updated</c> or correlation event that is (re)sent after the alert
    /// expired: the stored payload was purged of the alert's content and only its tombstone remains.
    /// </summary>
    public const string AlertPurged = "alert.purged";

    // Declared before All: static fields initialise in order.
    private static readonly AgencyRef Hungary = new()
    {
        Id = Guid.Parse(ContractExamples.HungarianPoliceId), Name = "Hungarian National Police — Border Policing Department", Country = "HU",
    };

    public static readonly IReadOnlyList<WebhookEventContract> All =
    [
        new(EventTypes.AlertPublished, "An alert your agency may see and your subscription matches, sent for the first time: data is the alert.",
            [typeof(AlertView)], ContractExamples.SmugglingAlertView),
        new(EventTypes.AlertUpdated, "A new version of an alert your subscription was sent before: data is the whole new version.",
            [typeof(AlertView)], ContractExamples.SmugglingAlertView),
        new(EventTypes.AlertRevoked,
            "Delete your copies. Either the originator recalled the alert (data is its tombstone), or a new version narrowed the audience " +
            "and left your agency out (data is an AudienceNarrowedNotice).",
            [typeof(AlertTombstone), typeof(AudienceNarrowedNotice)], () => Node(Tombstone(AlertStatus.Revoked, "Superseded by alert 01a1fa60-…: the crossing was moved."))),
        new(EventTypes.AlertExpired, "The alert reached its expiry and its personal data was purged: data is its tombstone. Delete your copies.",
            [typeof(AlertTombstone)], () => Node(Tombstone(AlertStatus.Expired, "The alert passed its expiry date; its content was purged."))),
        new(AlertPurged, "An earlier event about an alert that has since expired, (re)sent after the purge: data is the tombstone, not the content.",
            [typeof(AlertTombstone)], () => Node(Tombstone(AlertStatus.Expired, "The alert passed its expiry date; its content was purged."))),
        new(EventTypes.AlertFeedback, "A partner reported on your alert (received, hit, …): sent to the originator only.",
            [typeof(FeedbackView)], () => Node(new FeedbackView
            {
                Id = Guid.Parse("01a1fa71-0c4e-7d1a-9b55-3e1f2a6c7d80"),
                AlertId = Guid.Parse(ContractExamples.SmugglingAlertId),
                AlertVersion = 1,
                Agency = Hungary,
                Kind = FeedbackKind.Hit,
                Note = "The truck was stopped at Röszke at 01:40; 38 people on board.",
                CreatedAt = ContractExamples.SmugglingPublishedAt.AddHours(7),
            })),
        new(EventTypes.AlertCorrelated,
            "Your alert shares indicators with another active alert your agency may see: data names both and the shared indicators.",
            [typeof(CorrelatedNotice)], () => Node(new CorrelatedNotice(
                Guid.Parse(ContractExamples.SmugglingAlertId),
                new CorrelatedAlert
                {
                    Id = Guid.Parse("01a1fa80-5b1d-7c3e-8f20-6a4b3c2d1e0f"),
                    Title = "Refrigerated truck SU 123-AB seen at Kelebia",
                    Category = AlertCategory.MigrantSmuggling,
                    Severity = Severity.Medium,
                    Tlp = Tlp.Green,
                    Originator = Hungary,
                },
                [new IndicatorRef(IndicatorType.VehiclePlate, "SU123AB")],
                ContractExamples.SmugglingPublishedAt.AddHours(2)))),
        new(EventTypes.AlertCorrelationHidden,
            "Another agency holds an active alert sharing indicators with your alert but may not see yours: the agency is named, its alert is not. " +
            "Share your alert with it if you decide it should know.",
            [typeof(HiddenCorrelationNotice)], () => Node(new HiddenCorrelationNotice(
                Guid.Parse(ContractExamples.SmugglingAlertId), Hungary,
                [new IndicatorRef(IndicatorType.Phone, "+381641234567")],
                ContractExamples.SmugglingPublishedAt.AddHours(2)))),
        new(EventTypes.ApiKeyIssued, "An operator issued an API key to your agency: the key's public facts, never the secret.",
            [typeof(ApiKeyIssuedNotice)], () => Node(new ApiKeyIssuedNotice(
                Guid.Parse(ContractExamples.BorderPoliceId),
                new ApiKeyView(Guid.Parse(ContractExamples.BorderPoliceKeyId), "isk_3kq9", "Operations centre gateway", ["alerts:read", "alerts:write"],
                    ContractExamples.BorderPoliceKeyIssuedAt, null, null, null),
                new AgencyRefView(Guid.Parse(ContractExamples.OperatorId), "IntelSharing operations desk"),
                "Ticket OPS-2026-0412: key for the new gateway"))),
        new(EventTypes.Ping, "A test event you asked for (POST /api/v1/subscriptions/{id}/ping): check that you can verify the signature.",
            [typeof(PingNotice)], () => Node(new PingNotice(Guid.Parse("01a19ba0-77c2-7e0d-a5f1-2b9c8d7e6f50"), PingNotice.Reachable))),
    ];

    private static AlertTombstone Tombstone(AlertStatus status, string reason) => new()
    {
        Id = Guid.Parse(ContractExamples.SmugglingAlertId),
        Version = 2,
        Status = status,
        Category = AlertCategory.MigrantSmuggling,
        Originator = new AgencyRef { Id = Guid.Parse(ContractExamples.BorderPoliceId), Name = ContractExamples.BorderPoliceName, Country = "RS" },
        Reason = reason,
        CreatedAt = ContractExamples.SmugglingPublishedAt,
        UpdatedAt = ContractExamples.SmugglingPublishedAt.AddDays(1),
    };

    private static JsonNode Node<T>(T data) => JsonSerializer.SerializeToNode(data, JsonDefaults.Options)!;
}
