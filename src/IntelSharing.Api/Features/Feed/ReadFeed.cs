using System.Globalization;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Feed;

/// <summary>
/// GET /api/v1/feed — every change the caller may see, in position order, from a position on: alerts published,
/// updated (including a new version that shares the alert with the caller), revoked or expired, and feedback on the
/// caller's own alerts, and alert.withdrawn for an agency a new version dropped from the audience. Positions are handed out after commit (<see cref="FeedSequencer"/>), so a reader that follows
/// <c>nextCursor</c> never skips a change that committed late. Who may see a change is the sharing policy's answer
/// for the alert as it is now, at the moment of reading. With <c>Accept: text/event-stream</c> the same feed is a
/// stream (<see cref="FeedServerSentEvents"/>).
/// </summary>
public static class ReadFeed
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    /// <summary>
    /// Positions one page looks at, at most. An agency that may see few of the changes still gets an answer in bounded
    /// time: a page can be short, or empty, with a <c>nextCursor</c> beyond what it scanned.
    /// </summary>
    public const long ScanWindow = 10_000;

    /// <summary>Query parameters arrive as text and are parsed by the validator, so every mistake is named.</summary>
    public sealed record Query(Caller Caller, string? After, string? Limit) : IQuery<FeedPage>
    {
        public long AfterPosition => After is null ? 0 : long.Parse(After, NumberStyles.None, CultureInfo.InvariantCulture);

        public int Take => Limit is null ? DefaultLimit : int.Parse(Limit, CultureInfo.InvariantCulture);
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.After)
                .Must(a => a!.Length <= 19 && long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                .When(q => q.After is not null)
                .WithMessage("after must be a position this feed handed out (a whole number, 0 for the beginning).");
            RuleFor(q => q.Limit)
                .Must(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit)
                .When(q => q.Limit is not null)
                .WithMessage($"limit must be a whole number from 1 to {MaxLimit}.");
        }
    }

    public sealed class Handler(Database database) : IQueryHandler<Query, FeedPage>
    {
        public async ValueTask<FeedPage> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var after = query.AfterPosition;

            // The head first, in its own statement: every position up to it is committed, so the page below (a later
            // snapshot) sees all of them, and the cursor handed back never passes a position the page did not look at.
            var head = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COALESCE(MAX(position), 0) FROM feed_changes", cancellationToken: cancellationToken));
            var until = Math.Min(head, after > long.MaxValue - ScanWindow ? long.MaxValue : after + ScanWindow);
            if (until <= after)
            {
                return new FeedPage([], after);
            }

            var items = (await connection.QueryAsync<FeedChange>(new CommandDefinition(
                $"""
                SELECT c.position AS Position, c.type AS Type, c.alert_id AS AlertId, c.alert_version AS AlertVersion,
                       c.feedback_id AS FeedbackId, c.created_at AS OccurredAt
                FROM feed_changes c JOIN alerts a ON a.id = c.alert_id
                WHERE c.position > @after AND c.position <= @until
                  AND (c.recipient_id = @agencyId
                       OR (c.recipient_id IS NULL AND {SharingPolicy.VisibleSql("a", "@agencyId")}
                           AND (c.type <> 'alert.feedback' OR a.originator_id = @agencyId)))
                ORDER BY c.position
                LIMIT @take
                """,
                new { after, until, take = query.Take, agencyId = query.Caller.AgencyId }, cancellationToken: cancellationToken))).AsList();

            // A full page ends at its last item; a short one has seen every position up to `until`.
            var next = items.Count == query.Take ? items[^1].Position : until;
            return new FeedPage(items, next);
        }
    }

    public static RouteHandlerBuilder MapReadFeed(this RouteGroupBuilder group) => group
        .MapGet("/", async ([FromQuery] string? after, [FromQuery] string? limit, HttpContext context, IMediator mediator) =>
        {
            var caller = Caller.From(context.User);
            if (FeedServerSentEvents.IsRequested(context.Request))
            {
                return await FeedServerSentEvents.RunAsync(context, caller, after, limit);
            }

            var page = await mediator.Send(new Query(caller, after, limit), context.RequestAborted);
            return TypedResults.Ok(page);
        })
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.FeedRead, AuditResources.Feed)
        .WithName("ReadFeed")
        .WithSummary("Every change you may see, in an order that never skips one")
        .WithDescription(
            "Changes to alerts you may see (alert.published, alert.updated — also the version that shares an alert with you —, alert.revoked, alert.expired), " +
            "feedback on your own alerts (alert.feedback), and alert.withdrawn when a new version drops your agency from an alert's audience " +
            "(only the alert id and version: you may no longer read it), in position order. Start with after=0 (or leave it out), then pass nextCursor back as after: " +
            "a change that commits late gets a later position, never one you have passed, so you see every change exactly once. " +
            "Who may see a change is decided when you read it, against the alert as it is now: a narrowed audience hides its later changes. " +
            $"limit is 1 to {MaxLimit} (default {DefaultLimit}); a page may be short, or empty, and still move nextCursor on. " +
            "With Accept: text/event-stream the same feed is a Server-Sent Events stream: id is the position, Last-Event-ID (or after) resumes, " +
            "comment lines are heartbeats; each agency may hold a few streams at once (429 beyond). Read an alert with GET /api/v1/alerts/{id}.")
        // Declared by hand: the same lambda also answers with the event stream (an IResult of its own), so its return
        // type cannot name the page.
        .Produces<FeedPage>();
}

/// <summary>One change, as the feed serves it: what happened to which alert, at which position. Read the alert itself with GET /api/v1/alerts/{alertId}.</summary>
public sealed record FeedChange
{
    /// <summary>Every change type the feed serves: the alert events it shares with webhooks, and its own alert.withdrawn.</summary>
    public static readonly IReadOnlyList<string> Types = [.. Deliveries.Dispatch.EventTypes.InFeed, FeedWithdrawals.Type];

    /// <summary>The change's place in the feed; pass the last one you processed as <c>after</c> (or <c>Last-Event-ID</c>).</summary>
    public long Position { get; init; }

    /// <summary>
    /// alert.published, alert.updated, alert.revoked, alert.expired, alert.feedback, or alert.withdrawn: a new version
    /// dropped your agency from the alert's audience; you may no longer read it, and its later changes are not shown.
    /// </summary>
    [ClosedSet(typeof(FeedChange), nameof(Types))]
    public string Type { get; init; } = string.Empty;

    public Guid AlertId { get; init; }

    /// <summary>The alert version the change made (for feedback: the version the feedback answered; for alert.withdrawn: the version that dropped you).</summary>
    public int AlertVersion { get; init; }

    /// <summary>For alert.feedback: the feedback's id (GET /api/v1/alerts/{alertId}/feedback).</summary>
    public Guid? FeedbackId { get; init; }

    public DateTimeOffset OccurredAt { get; init; }
}

/// <summary>A page of the feed. <c>nextCursor</c> is always a position: pass it back as <c>after</c>; an empty page means nothing newer yet.</summary>
public sealed record FeedPage(IReadOnlyList<FeedChange> Items, long NextCursor);
