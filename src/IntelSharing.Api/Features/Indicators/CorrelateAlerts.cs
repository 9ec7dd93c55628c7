using System.Data.Common;
using System.Text.Json;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Indicators;

/// <summary>Bound from the <c>Correlation</c> section (<c>Correlation__Enabled</c>, <c>Correlation__PollIntervalMilliseconds</c>).</summary>
public sealed class CorrelationOptions
{
    public const string Section = "Correlation";

    /// <summary>
    /// Whether this instance matches published versions and sends correlation events. Off, versions stay queued in
    /// <c>correlation_pending</c> (an instance with it on catches up); search and the correlation views work either way.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the worker looks for versions to match when it found none.</summary>
    public int PollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>
    /// A value carried by more active alerts than this is over-correlating (a bank every campaign pays through, a
    /// public resolver): it is not correlated — it tells nobody anything and would make every publication match all
    /// of them — but stays searchable and visible in the views. MISP keeps the same kind of threshold.
    /// </summary>
    public int MaxAlertsPerValue { get; set; } = 50;

    /// <summary>
    /// Shared (indicator, other alert) rows matched per version at most: an indicator hundreds of thousands of alerts
    /// carry would otherwise make one publication's run (and its one transaction) unbounded. Views are not limited by it.
    /// </summary>
    public int MaxMatchesPerVersion { get; set; } = 2_000;
}

/// <summary>
/// After commit, matches each published version's indicators against every other active alert and tells both
/// originators, within what the sharing policy lets each see (docs/sharing.md, "Correlation"; ADR 0020):
/// <list type="bullet">
/// <item>an originator that may see the other alert gets <c>alert.correlated</c> naming it;</item>
/// <item>one that may not is told nothing; the other alert's originator gets <c>alert.correlation_hidden</c> naming the
/// agency, the indicator and its own alert, and decides whether to share.</item>
/// </list>
/// Each (alert, counterpart, indicator, kind) is told once (<c>correlation_notices</c>), so a new version or a share tells
/// only what is new. Runs are serialised across instances by a transaction lock; the send-time decision
/// (<see cref="SendDecision"/>) withdraws events whose pair was revoked, expired, changed or narrowed before sending.
/// </summary>
public sealed class CorrelateAlerts(
    Database database, Outbox outbox, DeliverySignal signal, TimeProvider time, IOptions<CorrelationOptions> options, ILogger<CorrelateAlerts> logger)
    : BackgroundService
{
    // Any constant shared by every IntelSharing process works; this one spells "CORR".
    private const long LockKey = 0x434F5252;

    private sealed record Pending
    {
        public Guid AlertId { get; init; }

        public int Version { get; init; }
    }

    private sealed record Subject
    {
        public Guid Id { get; init; }

        public int Version { get; init; }

        public string Title { get; init; } = string.Empty;

        public string Category { get; init; } = string.Empty;

        public string Severity { get; init; } = string.Empty;

        public string Tlp { get; init; } = string.Empty;

        public Guid OriginatorId { get; init; }

        public string OriginatorName { get; init; } = string.Empty;

        public string OriginatorCountry { get; init; } = string.Empty;

        public CorrelatedAlert ToCorrelated() => new()
        {
            Id = Id,
            Title = Title,
            Category = WireNames.TryParse<AlertCategory>(Category, out var category) ? category : default,
            Severity = WireNames.TryParse<Severity>(Severity, out var severity) ? severity : default,
            Tlp = WireNames.TryParse<Tlp>(Tlp, out var tlp) ? tlp : default,
            Originator = Originator,
        };

        public AgencyRef Originator => new() { Id = OriginatorId, Name = OriginatorName, Country = OriginatorCountry };
    }

    private sealed record Match
    {
        public Guid OtherId { get; init; }

        public byte[] ValueKey { get; init; } = [];

        public string Type { get; init; } = string.Empty;

        public string Value { get; init; } = string.Empty;

        public DateTimeOffset MineSeenAt { get; init; }

        public DateTimeOffset TheirsSeenAt { get; init; }

        public bool MineSeesOther { get; init; }

        public bool OtherSeesMine { get; init; }
    }

    private sealed record Notice
    {
        public Guid AlertId { get; init; }

        public Guid CounterpartId { get; init; }

        public byte[] ValueKey { get; init; } = [];

        public string Kind { get; init; } = string.Empty;
    }

    private sealed record Recipient
    {
        public Guid SubscriptionId { get; init; }

        public Guid AgencyId { get; init; }
    }

    /// <summary>One event to build: what <paramref name="Recipient"/> is told about its alert <paramref name="Mine"/>.</summary>
    private sealed record Told(string Kind, Subject Mine, Subject Counterpart, Guid Recipient);

    private const string SubjectColumns =
        """
        x.id AS Id, x.version AS Version, x.document ->> 'title' AS Title, x.category AS Category, x.severity AS Severity, x.tlp AS Tlp,
        g.id AS OriginatorId, g.name AS OriginatorName, g.country AS OriginatorCountry
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogInformation("Correlation is off (Correlation__Enabled=false): published versions stay queued for an instance that has it on.");
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(50, options.Value.PollIntervalMilliseconds)));
        do
        {
            try
            {
                while (await RunOnceAsync(stoppingToken) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Correlation run failed; it runs again shortly.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Matches up to 20 queued versions; returns how many it took from the queue.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        List<Pending> pending;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            pending = (await connection.QueryAsync<Pending>(new CommandDefinition(
                "SELECT alert_id AS AlertId, version AS Version FROM correlation_pending ORDER BY queued_at, alert_id LIMIT 20",
                cancellationToken: cancellationToken))).AsList();
        }

        foreach (var version in pending)
        {
            await CorrelateAsync(version, cancellationToken);
        }

        return pending.Count;
    }

    private async Task CorrelateAsync(Pending pending, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await Database.BeginWriteAsync(connection, cancellationToken);
        await database.Dialect.LockForTransactionAsync(connection, transaction, LockKey, cancellationToken);
        var claimed = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM correlation_pending WHERE alert_id = @AlertId AND version = @Version", pending, transaction, cancellationToken: cancellationToken));
        var subject = claimed == 0 ? null : await connection.QuerySingleOrDefaultAsync<Subject>(new CommandDefinition(
            $"""
            SELECT {SubjectColumns} FROM alerts x JOIN agencies g ON g.id = x.originator_id
            WHERE x.id = @AlertId AND x.status = 'active' AND g.is_active
            """,
            pending, transaction, cancellationToken: cancellationToken));
        if (subject is null)
        {
            // Taken by another instance, superseded by a newer queued version, or no longer active: nothing to tell.
            await transaction.CommitAsync(cancellationToken);
            return;
        }

        var matches = (await connection.QueryAsync<Match>(new CommandDefinition(
            $"""
            SELECT o.id AS OtherId, t.value_key AS ValueKey, t.type AS Type, t.value AS Value, m.seen_at AS MineSeenAt, t.seen_at AS TheirsSeenAt,
                   {SharingPolicy.VisibleSql("o", "a.originator_id")} AS MineSeesOther,
                   {SharingPolicy.VisibleSql("a", "o.originator_id")} AS OtherSeesMine
            FROM alerts a
            JOIN alert_indicators m ON m.alert_id = a.id
            JOIN alert_indicators t ON t.value_key = m.value_key AND t.alert_id <> a.id
            JOIN alerts o ON o.id = t.alert_id AND o.status = 'active'
            JOIN agencies go ON go.id = o.originator_id AND go.is_active
            WHERE a.id = @id
              AND (SELECT COUNT(*) FROM (SELECT 1 FROM alert_indicators c WHERE c.value_key = m.value_key LIMIT @overCorrelating) carriers) < @overCorrelating
            ORDER BY t.seen_at, o.id
            LIMIT @max
            """,
            new { id = subject.Id, max = options.Value.MaxMatchesPerVersion, overCorrelating = options.Value.MaxAlertsPerValue + 1 },
            transaction, cancellationToken: cancellationToken))).AsList();
        if (matches.Count == options.Value.MaxMatchesPerVersion)
        {
            logger.LogWarning("Alert {AlertId} version {Version} matched {Count} indicator rows or more; only the first were correlated.", subject.Id, subject.Version, matches.Count);
        }

        var queued = matches.Count == 0 ? 0 : await TellAsync(connection, transaction, subject, matches, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (queued > 0)
        {
            signal.Notify();
        }
    }

    private async Task<int> TellAsync(DbConnection connection, DbTransaction transaction, Subject subject, List<Match> matches, CancellationToken cancellationToken)
    {
        var otherParameters = new DynamicParameters();
        var otherIds = SqlLists.In(otherParameters, "other", matches.Select(m => m.OtherId).Distinct().ToArray());
        var others = (await connection.QueryAsync<Subject>(new CommandDefinition(
            $"SELECT {SubjectColumns} FROM alerts x JOIN agencies g ON g.id = x.originator_id WHERE x.id IN {otherIds}",
            otherParameters, transaction, cancellationToken: cancellationToken))).ToDictionary(o => o.Id);
        var told = (await connection.QueryAsync<Notice>(new CommandDefinition(
            """
            SELECT alert_id AS AlertId, counterpart_alert_id AS CounterpartId, value_key AS ValueKey, kind AS Kind
            FROM correlation_notices WHERE alert_id = @Id OR counterpart_alert_id = @Id
            """,
            new { subject.Id }, transaction, cancellationToken: cancellationToken))).Select(n => (n.Kind, n.AlertId, n.CounterpartId, Convert.ToHexString(n.ValueKey))).ToHashSet();

        // For each shared value, each originator learns what the policy lets it see; what it may not see goes to the other's owner.
        var news = new Dictionary<Told, List<Match>>();
        void Tell(string kind, Subject mine, Subject counterpart, Guid recipient, Match match)
        {
            if (told.Add((kind, mine.Id, counterpart.Id, Convert.ToHexString(match.ValueKey))))
            {
                var key = new Told(kind, mine, counterpart, recipient);
                if (!news.TryGetValue(key, out var list))
                {
                    news[key] = list = [];
                }

                list.Add(match);
            }
        }

        foreach (var match in matches)
        {
            var other = others[match.OtherId];
            if (match.MineSeesOther)
            {
                Tell(EventTypes.AlertCorrelated, subject, other, subject.OriginatorId, match);
            }
            else
            {
                Tell(EventTypes.AlertCorrelationHidden, other, subject, other.OriginatorId, match);
            }

            if (other.OriginatorId == subject.OriginatorId)
            {
                continue;
            }

            if (match.OtherSeesMine)
            {
                Tell(EventTypes.AlertCorrelated, other, subject, other.OriginatorId, match);
            }
            else
            {
                Tell(EventTypes.AlertCorrelationHidden, subject, other, subject.OriginatorId, match);
            }
        }

        if (news.Count == 0)
        {
            return 0;
        }

        var subscriptionParameters = new DynamicParameters();
        var agencies = SqlLists.In(subscriptionParameters, "agency", news.Keys.Select(k => k.Recipient).Distinct().ToArray());
        var subscriptions = (await connection.QueryAsync<Recipient>(new CommandDefinition(
            $"SELECT id AS SubscriptionId, agency_id AS AgencyId FROM subscriptions WHERE status IN {Outbox.QueuingStatuses} AND agency_id IN {agencies}",
            subscriptionParameters, transaction, cancellationToken: cancellationToken))).ToLookup(s => s.AgencyId);

        var now = time.UtcNowMicros();
        var batch = new SqlBatch();
        var queued = 0;
        var noticeRows = new List<string>();
        foreach (var ((kind, mine, counterpart, recipient), shared) in news)
        {
            var indicators = shared.DistinctBy(m => Convert.ToHexString(m.ValueKey))
                .Select(m => new IndicatorRef(WireNames.TryParse<IndicatorType>(m.Type, out var type) ? type : default, m.Value)).ToList();
            var seenAt = shared.Min(m => m.MineSeenAt > m.TheirsSeenAt ? m.MineSeenAt : m.TheirsSeenAt);
            var data = kind == EventTypes.AlertCorrelated
                ? JsonSerializer.Serialize(new CorrelatedNotice(mine.Id, counterpart.ToCorrelated(), indicators, seenAt), JsonDefaults.Options)
                : JsonSerializer.Serialize(new HiddenCorrelationNotice(mine.Id, counterpart.Originator, indicators, seenAt), JsonDefaults.Options);
            var recipients = subscriptions[recipient].Select(s => (s.SubscriptionId, s.AgencyId)).ToList();
            queued += outbox.AddEvent(batch, kind, mine.Id, mine.Version, data, recipients, now, counterpartAlertId: counterpart.Id);

            foreach (var match in shared.DistinctBy(m => Convert.ToHexString(m.ValueKey)))
            {
                var n = batch.NextName("n");
                noticeRows.Add($"({batch.Parameter($"{n}a", mine.Id)}, {batch.Parameter($"{n}c", counterpart.Id)}, {batch.Parameter($"{n}k", match.ValueKey)}, {batch.Parameter($"{n}t", kind)}, {batch.Parameter("noticeAt", now)})");
            }
        }

        foreach (var chunk in noticeRows.Chunk(1000))
        {
            batch.Add($"""
                INSERT INTO correlation_notices (alert_id, counterpart_alert_id, value_key, kind, notified_at) VALUES {string.Join(", ", chunk)}
                ON CONFLICT DO NOTHING
                """);
        }

        await batch.ExecuteAsync(connection, transaction, cancellationToken);
        logger.LogInformation("Alert {AlertId} version {Version}: {Pairs} correlation notices, {Queued} deliveries queued.", subject.Id, subject.Version, news.Count, queued);
        return queued;
    }
}
