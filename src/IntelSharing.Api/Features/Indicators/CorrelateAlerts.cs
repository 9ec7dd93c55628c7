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

    /// <summary>
    /// How often the worker looks for versions to match once the queue holds less than a full run
    /// (<see cref="VersionsPerRun"/>): versions published meanwhile are matched together, in one transaction.
    /// </summary>
    public int PollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>
    /// Queued versions matched in one run: one transaction, one statement per step for all of them. A full run is
    /// followed by the next at once, so a backlog drains in runs of this size.
    /// </summary>
    public int VersionsPerRun { get; set; } = 64;

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
        public Guid SubjectId { get; init; }

        public Guid OtherId { get; init; }

        public byte[] ValueKey { get; init; } = [];

        public string Type { get; init; } = string.Empty;

        public string Value { get; init; } = string.Empty;

        public DateTimeOffset MineSeenAt { get; init; }

        public DateTimeOffset TheirsSeenAt { get; init; }

        public bool MineSeesOther { get; init; }

        public bool OtherSeesMine { get; init; }
    }

    /// <summary>
    /// What an agency was told about its alert <see cref="AlertId"/> and <see cref="CounterpartId"/>: the keys of the
    /// values, 32 bytes each, one per row of <c>correlation_notices</c> (written before migration 26) or all of them in
    /// the pair's row of <c>correlation_told</c> (<see cref="PerPair"/>).
    /// </summary>
    private sealed record Notice
    {
        public Guid AlertId { get; init; }

        public Guid CounterpartId { get; init; }

        public byte[] ValueKeys { get; init; } = [];

        public string Kind { get; init; } = string.Empty;

        public bool PerPair { get; init; }

        public IEnumerable<byte[]> Keys() => ValueKeys.Chunk(ValueKeyLength);
    }

    /// <summary>The length of an <c>alert_indicators.value_key</c> (SHA-256).</summary>
    private const int ValueKeyLength = 32;

    private sealed record Recipient
    {
        public Guid SubscriptionId { get; init; }

        public Guid AgencyId { get; init; }
    }

    /// <summary>One event to build: what <paramref name="Recipient"/> is told about its alert <paramref name="Mine"/>.</summary>
    private sealed record Told(string Kind, Subject Mine, Subject Counterpart, Guid Recipient);

    private const string SubjectColumns =
        """
        x.id AS Id, x.version AS Version, x.title AS Title, x.category AS Category, x.severity AS Severity, x.tlp AS Tlp,
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
                // A full run means more is queued; a partial one that the queue is drained, and what arrives next is
                // gathered until the next tick, so a steady stream is matched in runs of many versions, not one by one.
                while (await RunOnceAsync(stoppingToken) == options.Value.VersionsPerRun)
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

    /// <summary>
    /// Matches up to <see cref="CorrelationOptions.VersionsPerRun"/> queued versions, oldest first, in one transaction;
    /// returns how many it took from the queue.
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        await database.Dialect.LockForTransactionAsync(connection, transaction, LockKey, cancellationToken);

        // Claimed under the lock: a version published meanwhile re-queues its alert (a new row, or the upsert waits for
        // this transaction), so it is matched by a later run against what it then carries.
        var claimed = (await connection.QueryAsync<Guid>(new CommandDefinition(
            """
            DELETE FROM correlation_pending
            WHERE alert_id IN (SELECT alert_id FROM correlation_pending ORDER BY queued_at, alert_id LIMIT @batch)
            RETURNING alert_id
            """,
            new { batch = options.Value.VersionsPerRun }, transaction, cancellationToken: cancellationToken))).AsList();
        if (claimed.Count == 0)
        {
            await write.CommitAsync(cancellationToken);
            return 0;
        }

        var subjectParameters = new DynamicParameters();
        var claimedIds = SqlLists.InPadded(subjectParameters, "subject", claimed);
        // Revoked, expired or of a deactivated agency since it was queued: nothing to tell.
        var subjects = (await connection.QueryAsync<Subject>(new CommandDefinition(
            $"""
            SELECT {SubjectColumns} FROM alerts x JOIN agencies g ON g.id = x.originator_id
            WHERE x.id IN {claimedIds} AND x.status = 'active' AND g.is_active
            """,
            subjectParameters, transaction, cancellationToken: cancellationToken))).ToDictionary(x => x.Id);

        var queued = 0;
        if (subjects.Count > 0)
        {
            var matches = await MatchAsync(connection, transaction, subjects, cancellationToken);
            queued = matches.Count == 0 ? 0 : await TellAsync(connection, transaction, subjects, matches, cancellationToken);
        }

        await write.CommitAsync(cancellationToken);
        if (queued > 0)
        {
            signal.Notify();
        }

        return claimed.Count;
    }

    /// <summary>
    /// Every shared (value, other active alert) row of the subjects, with what each originator may see, in one query: at
    /// most <see cref="CorrelationOptions.MaxMatchesPerVersion"/> per subject, oldest first, and none for an
    /// over-correlating value (carried by more than <see cref="CorrelationOptions.MaxAlertsPerValue"/> active alerts;
    /// counting stops there, through the index). A value that passes has fewer carriers than the count's limit, so
    /// fetching at most that many per value loses nothing and bounds the work per value whatever the statistics say.
    /// </summary>
    private async Task<List<Match>> MatchAsync(DbConnection connection, DbTransaction transaction, Dictionary<Guid, Subject> subjects, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(new { max = options.Value.MaxMatchesPerVersion, overCorrelating = options.Value.MaxAlertsPerValue + 1 });
        var ids = SqlLists.InPadded(parameters, "subject", subjects.Keys);
        var matches = (await connection.QueryAsync<Match>(new CommandDefinition(
            $"""
            SELECT SubjectId, OtherId, ValueKey, Type, Value, MineSeenAt, TheirsSeenAt, MineSeesOther, OtherSeesMine
            FROM (
                SELECT a.id AS SubjectId, o.id AS OtherId, t.value_key AS ValueKey, t.type AS Type, t.value AS Value, m.seen_at AS MineSeenAt, t.seen_at AS TheirsSeenAt,
                       {SharingPolicy.VisibleSql("o", "a.originator_id")} AS MineSeesOther,
                       {SharingPolicy.VisibleSql("a", "o.originator_id")} AS OtherSeesMine,
                       ROW_NUMBER() OVER (PARTITION BY a.id ORDER BY t.seen_at, o.id) AS n
                FROM alerts a
                {database.Dialect.JoinInWrittenOrder} alert_indicators m ON m.alert_id = a.id
                {database.Dialect.OtherCarriersOf("m", "t", "@overCorrelating")}
                {database.Dialect.JoinInWrittenOrder} alerts o ON o.id = t.alert_id AND o.status = 'active'
                JOIN agencies go ON go.id = o.originator_id AND go.is_active
                WHERE a.id IN {ids}
            ) ranked
            WHERE n <= @max
            ORDER BY SubjectId, n
            """,
            parameters, transaction, cancellationToken: cancellationToken))).AsList();
        foreach (var cut in matches.GroupBy(m => m.SubjectId).Where(g => g.Count() == options.Value.MaxMatchesPerVersion))
        {
            logger.LogWarning("Alert {AlertId} version {Version} matched {Count} indicator rows or more; only the first were correlated.", cut.Key, subjects[cut.Key].Version, cut.Count());
        }

        return matches;
    }

    /// <summary>
    /// What was told about the subjects, as alert or as counterpart, in both tables: each row once. Every branch looks
    /// its keys up in an index one by one (ADR 46). As one <c>alert_id IN (…) OR counterpart_alert_id IN (…)</c>,
    /// PostgreSQL read the whole of <c>correlation_told</c> whenever its statistics put many rows on each alert (87,689 rows
    /// for 221 in the benchmark), a cost that grew with every correlation ever told.
    /// </summary>
    internal static (string Sql, DynamicParameters Parameters) NoticesStatement(SqlDialect dialect, IEnumerable<Guid> subjects)
    {
        var parameters = new DynamicParameters();
        var ids = SqlLists.InPadded(parameters, "subject", subjects);
        string Branch(string table, string valueKeys, string perPair, string column, string? except) =>
            $"""
            SELECT t.alert_id AS AlertId, t.counterpart_alert_id AS CounterpartId, t.{valueKeys} AS ValueKeys, t.kind AS Kind, {perPair} AS PerPair
            FROM {dialect.RowsByKey(table, column, ids, "t")}{(except is null ? string.Empty : $" WHERE t.{except} NOT IN {ids}")}
            """;

        // A row between two subjects is found from both ends: the second branch of each table leaves it to the first.
        var sql = string.Join(
            "\nUNION ALL\n",
            Branch("correlation_notices", "value_key", "FALSE", "alert_id", null),
            Branch("correlation_notices", "value_key", "FALSE", "counterpart_alert_id", "alert_id"),
            Branch("correlation_told", "value_keys", "TRUE", "alert_id", null),
            Branch("correlation_told", "value_keys", "TRUE", "counterpart_alert_id", "alert_id"));
        return (dialect.WithoutTableScans(sql), parameters);
    }

    private async Task<int> TellAsync(DbConnection connection, DbTransaction transaction, Dictionary<Guid, Subject> subjects, List<Match> matches, CancellationToken cancellationToken)
    {
        var otherParameters = new DynamicParameters();
        var otherIds = SqlLists.InPadded(otherParameters, "other", matches.Select(m => m.OtherId).Distinct());
        var others = (await connection.QueryAsync<Subject>(new CommandDefinition(
            $"SELECT {SubjectColumns} FROM alerts x JOIN agencies g ON g.id = x.originator_id WHERE x.id IN {otherIds}",
            otherParameters, transaction, cancellationToken: cancellationToken))).ToDictionary(o => o.Id);
        var (noticesSql, noticeParameters) = NoticesStatement(database.Dialect, subjects.Keys);
        var notices = (await connection.QueryAsync<Notice>(new CommandDefinition(
            noticesSql, noticeParameters, transaction, cancellationToken: cancellationToken))).AsList();
        var told = notices.SelectMany(n => n.Keys().Select(k => (n.Kind, n.AlertId, n.CounterpartId, Convert.ToHexString(k)))).ToHashSet();
        // A pair's row is rewritten whole when it is told of more values, so what it already holds is kept.
        var toldPerPair = notices.Where(n => n.PerPair).ToDictionary(n => (n.Kind, n.AlertId, n.CounterpartId), n => n.ValueKeys);

        // For each shared value, each originator learns what the policy lets it see; what it may not see goes to the other's owner.
        // One set for the whole run: two subjects that match each other are told once, by whichever comes first.
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
            var subject = subjects[match.SubjectId];
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
        var agencies = SqlLists.InPadded(subscriptionParameters, "agency", news.Keys.Select(k => k.Recipient).Distinct());
        var subscriptions = (await connection.QueryAsync<Recipient>(new CommandDefinition(
            $"SELECT id AS SubscriptionId, agency_id AS AgencyId FROM subscriptions WHERE status IN {Outbox.QueuingStatuses} AND agency_id IN {agencies}",
            subscriptionParameters, transaction, cancellationToken: cancellationToken))).ToLookup(s => s.AgencyId);

        var now = time.UtcNowMicros();
        var batch = new SqlBatch();
        var queued = 0;
        var pairs = new List<(Guid Mine, Guid Counterpart, byte[] ValueKeys, string Kind)>();
        foreach (var ((kind, mine, counterpart, recipient), shared) in news)
        {
            var values = shared.DistinctBy(m => Convert.ToHexString(m.ValueKey)).ToList();
            var before = toldPerPair.GetValueOrDefault((kind, mine.Id, counterpart.Id)) ?? [];
            pairs.Add((mine.Id, counterpart.Id, [.. before, .. values.SelectMany(m => m.ValueKey)], kind));
            var recipients = subscriptions[recipient].Select(s => (s.SubscriptionId, s.AgencyId)).ToList();
            if (recipients.Count == 0)
            {
                // Recorded as told all the same: an agency that subscribes later is not sent the backlog of what it missed.
                continue;
            }

            var indicators = values.Select(m => new IndicatorRef(WireNames.TryParse<IndicatorType>(m.Type, out var type) ? type : default, m.Value)).ToList();
            var seenAt = shared.Min(m => m.MineSeenAt > m.TheirsSeenAt ? m.MineSeenAt : m.TheirsSeenAt);
            var data = kind == EventTypes.AlertCorrelated
                ? JsonSerializer.Serialize(new CorrelatedNotice(mine.Id, counterpart.ToCorrelated(), indicators, seenAt), JsonDefaults.Options)
                : JsonSerializer.Serialize(new HiddenCorrelationNotice(mine.Id, counterpart.Originator, indicators, seenAt), JsonDefaults.Options);
            queued += outbox.AddEvent(batch, kind, mine.Id, mine.Version, data, recipients, now, counterpartAlertId: counterpart.Id);
        }

        var noticeAt = batch.Parameter("noticeAt", now);
        // One row per (alert, counterpart, kind), not per value (migration 26): a pair that shares four values is one row.
        batch.AddRows(
            pairs.Count,
            "INSERT INTO correlation_told (alert_id, counterpart_alert_id, kind, value_keys, notified_at)",
            i =>
            {
                var n = batch.NextName("n");
                var (mine, counterpart, valueKeys, kind) = pairs[i];
                return $"({batch.Parameter($"{n}a", mine)}, {batch.Parameter($"{n}c", counterpart)}, {batch.Parameter($"{n}t", kind)}, {batch.Parameter($"{n}k", valueKeys)}, {noticeAt})";
            },
            "ON CONFLICT (alert_id, counterpart_alert_id, kind) DO UPDATE SET value_keys = excluded.value_keys, notified_at = excluded.notified_at");

        await batch.ExecuteAsync(connection, transaction, cancellationToken);
        logger.LogInformation("{Versions} versions correlated: {Pairs} correlation notices, {Queued} deliveries queued.", subjects.Count, news.Count, queued);
        return queued;
    }
}
