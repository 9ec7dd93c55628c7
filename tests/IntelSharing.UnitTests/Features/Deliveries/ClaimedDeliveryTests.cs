using System.Text;
using IntelSharing.Api.Features.Deliveries.Dispatch;

namespace IntelSharing.UnitTests.Features.Deliveries;

public sealed class ClaimedDeliveryTests
{
    private static readonly DateTimeOffset Queued = new(2026, 12, 6, 21, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_delivery_of_an_event_in_a_claim_gets_the_body_rendered_once_from_the_row_that_carries_it()
    {
        var published = Guid.NewGuid();
        var revoked = Guid.NewGuid();
        const string document = """{"id":"a","title":"Group of about 40 expected at Horgoš–Röszke tonight"}""";
        const string notice = """{"type":"alert.revoked","timestamp":"2026-12-06T21:00:00.000000Z","data":{"alertId":"a"}}""";
        ClaimedDelivery[] rows =
        [
            new() { Id = Guid.NewGuid(), EventId = published, EventType = EventTypes.AlertPublished, EventCreatedAt = Queued, StoredPayload = Outbox.PayloadOfVersion, VersionDocument = document },
            new() { Id = Guid.NewGuid(), EventId = revoked, EventType = EventTypes.AlertRevoked, EventCreatedAt = Queued, StoredPayload = notice },
            // The claim reads the payload and document on one row per event only.
            new() { Id = Guid.NewGuid(), EventId = published, EventType = EventTypes.AlertPublished, EventCreatedAt = Queued },
        ];

        var claimed = ClaimedDelivery.WithBodies(rows);

        var expected = Outbox.Payload(EventTypes.AlertPublished, Queued, document);
        Assert.Equal(expected, Encoding.UTF8.GetString(claimed[0].Body!));
        Assert.Same(claimed[0].Body, claimed[2].Body);
        Assert.Equal(notice, Encoding.UTF8.GetString(claimed[1].Body!));
        Assert.Equal(rows.Select(r => r.Id), claimed.Select(c => c.Id));
    }

    [Fact]
    public void A_delivery_whose_version_is_not_stored_gets_no_body_and_its_neighbours_still_get_theirs()
    {
        const string notice = """{"type":"alert.revoked","timestamp":"2026-12-06T21:00:00.000000Z","data":{"alertId":"a"}}""";
        ClaimedDelivery[] rows =
        [
            new() { Id = Guid.NewGuid(), EventId = Guid.NewGuid(), EventType = EventTypes.AlertPublished, StoredPayload = Outbox.PayloadOfVersion },
            new() { Id = Guid.NewGuid(), EventId = Guid.NewGuid(), EventType = EventTypes.AlertRevoked, StoredPayload = notice },
        ];

        var claimed = ClaimedDelivery.WithBodies(rows);

        Assert.Null(claimed[0].Body);
        Assert.Equal(notice, Encoding.UTF8.GetString(claimed[1].Body!));
    }
}
