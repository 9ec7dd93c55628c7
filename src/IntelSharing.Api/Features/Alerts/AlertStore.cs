using System.Data.Common;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// Writes one published version: the current row in <c>alerts</c>, the immutable copy in
/// <c>alert_versions</c>, and the country, audience and indicator rows that reads filter on. Shared by every
/// slice that publishes a version (submit, update), inside the caller's transaction.
/// </summary>
public static class AlertStore
{
    /// <summary>
    /// The end of a write that publishes a new version of an existing alert (update, share, revoke): its audit record
    /// inside the same transaction, written as a submission group writes its records (<see cref="AuditWriter.AddAll"/>),
    /// the commit, then <see cref="Published"/>.
    /// </summary>
    public static async Task<CommittedVersion> CommitVersionAsync(
        DbConnection connection, WriteTransaction write, AuditTrail audit, DeliverySignal signal, FeedSignals feed,
        AuditEvent record, Guid alertId, int version, string document, int queued, CancellationToken cancellationToken)
    {
        var records = new SqlBatch();
        AuditWriter.AddAll(SqlDialect.Of(connection), records, [audit.Build(record with { ResourceType = AuditResources.Alert, ResourceId = alertId })]);
        await records.ExecuteAsync(connection, write.Transaction, cancellationToken);
        await write.CommitAsync(cancellationToken);
        Published(audit, feed, signal, queued);
        return new CommittedVersion(alertId, version, document, Replayed: false);
    }

    /// <summary>
    /// What follows the commit of any published version, submitted (in its commit group) or not: the request has its
    /// audit record, the feed sequencer is woken, and the dispatcher when deliveries were queued.
    /// </summary>
    public static void Published(AuditTrail audit, FeedSignals feed, DeliverySignal signal, int queued)
    {
        audit.Committed();
        feed.Written();
        if (queued > 0)
        {
            signal.Notify();
        }
    }

    public static async Task InsertVersionAsync(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, AlertView view, string document, bool isNew, CancellationToken cancellationToken)
    {
        // Read before the version is written: who may see the alert as it stands, for the feed's alert.withdrawn.
        var dropped = isNew ? [] : await FeedWithdrawals.DroppedByAsync(connection, transaction, view, cancellationToken);
        var batch = new SqlBatch();
        AddVersion(batch, dialect, view, document, isNew);
        FeedWithdrawals.Add(batch, view, dropped);
        await batch.ExecuteAsync(connection, transaction, cancellationToken);
    }

    /// <summary>Adds the writes of <see cref="InsertVersionAsync"/> to a batch that the caller sends with the rest of its transaction.</summary>
    public static void AddVersion(SqlBatch batch, SqlDialect dialect, AlertView view, string document, bool isNew)
    {
        var row = new
        {
            view.Id,
            OriginatorId = view.Originator.Id,
            Category = WireNames.Of(view.Category),
            Severity = WireNames.Of(view.Severity),
            SeverityRank = (int)view.Severity,
            Tlp = WireNames.Of(view.Tlp),
            HandlingCode = WireNames.Of(view.Handling.Code!.Value),
            HasAudience = view.Audience.Count > 0,
            view.Version,
            Status = WireNames.Of(view.Status),
            view.CreatedAt,
            view.UpdatedAt,
            view.ReviewAt,
            view.ExpiresAt,
            Document = document,
        };

        batch.Add(isNew
            ? $"""
              INSERT INTO alerts (id, originator_id, category, severity, severity_rank, tlp, handling_code, has_audience,
                                  version, status, created_at, updated_at, review_at, expires_at, document)
              VALUES (@Id, @OriginatorId, @Category, @Severity, @SeverityRank, @Tlp, @HandlingCode, @HasAudience,
                      @Version, @Status, @CreatedAt, @UpdatedAt, @ReviewAt, @ExpiresAt, {dialect.Json("@Document")})
              """
            : $"""
              UPDATE alerts SET category = @Category, severity = @Severity, severity_rank = @SeverityRank, tlp = @Tlp,
                     handling_code = @HandlingCode, has_audience = @HasAudience, version = @Version, status = @Status,
                     updated_at = @UpdatedAt, review_at = @ReviewAt, expires_at = @ExpiresAt, document = {dialect.Json("@Document")}
              WHERE id = @Id;
              DELETE FROM alert_countries WHERE alert_id = @Id;
              DELETE FROM alert_audience WHERE alert_id = @Id
              """,
            row);
        batch.Add($"""
            INSERT INTO alert_versions (alert_id, version, created_at, document)
            VALUES (@Id, @Version, @UpdatedAt, {dialect.Json("@Document")})
            """);

        AddRows(batch, "alert_countries (alert_id, country)", "country", view.Id, view.Countries);
        AddRows(batch, "alert_audience (alert_id, agency_id)", "audience", view.Id, view.Audience.Select(a => (object)a.Id).ToList());
        IndicatorIndex.AddVersion(batch, view);
        StixObjectIndex.AddVersion(batch, view);

        // Full-text search: the version's folded text, in the same batch, so search never lags the version (ADR 21).
        AlertSearch.AddTo(batch, view);
    }

    /// <summary>
    /// The writes of <see cref="AddVersion"/> for many new alerts at once — a commit group of submissions (ADR 17) — as
    /// one multi-row statement per table (in chunks of a few fixed sizes, <see cref="SqlBatch.AddRows"/>) instead of one
    /// statement per table per alert: the same rows, a fraction of the statements to parse, plan and execute.
    /// </summary>
    public static void AddFirstVersions(SqlBatch batch, SqlDialect dialect, IReadOnlyList<(AlertView View, string Document)> alerts)
    {
        var names = alerts.Select(_ => batch.NextName("v")).ToArray();
        string Id(int i) => batch.Parameter(names[i] + "id", alerts[i].View.Id);
        string At(int i) => batch.Parameter(names[i] + "at", alerts[i].View.CreatedAt);
        string Document(int i) => dialect.Json(batch.Parameter(names[i] + "doc", alerts[i].Document));

        batch.AddRows(
            alerts.Count,
            """
            INSERT INTO alerts (id, originator_id, category, severity, severity_rank, tlp, handling_code, has_audience,
                                version, status, created_at, updated_at, review_at, expires_at, document)
            """,
            i =>
            {
                var view = alerts[i].View;
                string P(string column, object? value) => batch.Parameter(names[i] + column, value);
                return $"({Id(i)}, {P("orig", view.Originator.Id)}, {P("cat", WireNames.Of(view.Category))}, {P("sev", WireNames.Of(view.Severity))}, " +
                    $"{P("rank", (int)view.Severity)}, {P("tlp", WireNames.Of(view.Tlp))}, {P("hc", WireNames.Of(view.Handling.Code!.Value))}, " +
                    $"{P("aud", view.Audience.Count > 0)}, {P("ver", view.Version)}, {P("st", WireNames.Of(view.Status))}, {At(i)}, {At(i)}, " +
                    $"{P("rev", view.ReviewAt)}, {P("exp", view.ExpiresAt)}, {Document(i)})";
            });
        batch.AddRows(alerts.Count, "INSERT INTO alert_versions (alert_id, version, created_at, document)",
            i => $"({Id(i)}, {batch.Parameter(names[i] + "ver", alerts[i].View.Version)}, {At(i)}, {Document(i)})");

        var countries = alerts.SelectMany((a, i) => a.View.Countries.Select(c => (Alert: i, Value: (object)c))).ToList();
        AddChildRows(batch, "alert_countries (alert_id, country)", countries, Id);
        var audience = alerts.SelectMany((a, i) => a.View.Audience.Select(g => (Alert: i, Value: (object)g.Id))).ToList();
        AddChildRows(batch, "alert_audience (alert_id, agency_id)", audience, Id);

        var indicators = alerts.SelectMany((a, i) => a.View.Indicators
            .Select(x => (Type: WireNames.Of(x.Type), x.Value)).Distinct()
            .Select(x => (Alert: i, x.Type, x.Value))).ToList();
        batch.AddRows(indicators.Count, "INSERT INTO alert_indicators (alert_id, value_key, type, value, version, seen_at)", r =>
        {
            var (i, type, value) = indicators[r];
            var n = batch.NextName("x");
            return $"({Id(i)}, {batch.Parameter(n + "k", IndicatorIndex.Key(type, value))}, {batch.Parameter(n + "t", type)}, {batch.Parameter(n + "v", value)}, " +
                $"{batch.Parameter(names[i] + "ver", alerts[i].View.Version)}, {At(i)})";
        });

        // Full-text search, the correlation queue and the STIX object index, as AddVersion writes them for one alert (ADR 21, 20, 28).
        batch.AddRows(alerts.Count, "INSERT INTO alert_search (alert_id, title, body)", i =>
        {
            var (title, body) = AlertSearch.DocumentOf(alerts[i].View);
            return $"({Id(i)}, {batch.Parameter(names[i] + "title", title)}, {batch.Parameter(names[i] + "body", body)})";
        });
        // A first version without indicators has nothing to match: no queue row, and no run that would claim it for nothing.
        var correlated = Enumerable.Range(0, alerts.Count).Where(i => alerts[i].View.Indicators.Count > 0).ToList();
        batch.AddRows(correlated.Count, "INSERT INTO correlation_pending (alert_id, version, queued_at)",
            r => $"({Id(correlated[r])}, {batch.Parameter(names[correlated[r]] + "ver", alerts[correlated[r]].View.Version)}, {At(correlated[r])})");
        StixObjectIndex.AddVersions(batch, alerts.Select(a => a.View).ToList());
    }

    private static void AddChildRows(SqlBatch batch, string table, List<(int Alert, object Value)> rows, Func<int, string> alertId) =>
        batch.AddRows(rows.Count, $"INSERT INTO {table}", r => $"({alertId(rows[r].Alert)}, {batch.Parameter(batch.NextName("c"), rows[r].Value)})");

    /// <summary>What the lifecycle slices need to know about an alert, from the caller's point of view.</summary>
    public sealed record Current
    {
        public Guid Id { get; init; }

        public Guid OriginatorId { get; init; }

        public string Tlp { get; init; } = string.Empty;

        public string HandlingCode { get; init; } = string.Empty;

        public bool HasAudience { get; init; }

        public bool InAudience { get; init; }

        /// <summary>Whether the agency the row was loaded for is active now.</summary>
        public bool AgencyActive { get; init; }

        public int Version { get; init; }

        public string Status { get; init; } = string.Empty;

        public string Category { get; init; } = string.Empty;

        public DateTimeOffset CreatedAt { get; init; }

        public string Document { get; init; } = string.Empty;

        /// <summary>The sharing policy's answer for the caller; the originator always sees its own alerts.</summary>
        public bool VisibleTo(Guid agencyId) =>
            WireNames.TryParse<Tlp>(Tlp, out var tlp) && SharingPolicy.MaySee(agencyId, new AlertAccess(OriginatorId, tlp, HasAudience, InAudience, AgencyActive));
    }

    public static Task<Current?> LoadAsync(DbConnection connection, DbTransaction? transaction, Guid id, Guid agencyId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<Current>(new CommandDefinition(
            """
            SELECT a.id AS Id, a.originator_id AS OriginatorId, a.tlp AS Tlp, a.handling_code AS HandlingCode, a.has_audience AS HasAudience,
                   EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = a.id AND aa.agency_id = @agencyId) AS InAudience,
                   EXISTS (SELECT 1 FROM agencies ag WHERE ag.id = @agencyId AND ag.is_active) AS AgencyActive,
                   a.version AS Version, a.status AS Status, a.category AS Category, a.created_at AS CreatedAt, a.document AS Document
            FROM alerts a
            WHERE a.id = @id
            """,
            new { id, agencyId }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Takes the alert's row for a new version only if it is still at <paramref name="expectedVersion"/>: the
    /// optimistic-concurrency check behind If-Match, safe against two writers at once.
    /// </summary>
    public static async Task<bool> ClaimVersionAsync(DbConnection connection, DbTransaction transaction, Guid id, int expectedVersion, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE alerts SET version = version WHERE id = @id AND version = @expectedVersion AND status = 'active'",
            new { id, expectedVersion }, transaction, cancellationToken: cancellationToken)) == 1;

    /// <summary>Active agencies by id (the audience and the originator), for building a version.</summary>
    public static async Task<Dictionary<Guid, AgencyRef>> ActiveAgenciesAsync(DbConnection connection, IEnumerable<Guid> ids, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters();
        var list = SqlLists.In(parameters, "id", ids.Distinct().ToArray());
        return (await connection.QueryAsync<AgencyRef>(new CommandDefinition(
            $"SELECT id AS Id, name AS Name, country AS Country FROM agencies WHERE is_active AND id IN {list}",
            parameters, cancellationToken: cancellationToken))).ToDictionary(a => a.Id);
    }

    /// <summary>
    /// Replaces the current document (revocation, expiry) with a tombstone as a new version; the alert leaves full-text
    /// search, indicator search and correlation, and its stored STIX rendering goes: it holds the last version's content,
    /// persons included, which an expiry must purge (reads render a tombstone from its document).
    /// </summary>
    public static async Task WriteTombstoneAsync(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, Guid id, int version, AlertStatus status, string document, DateTimeOffset now, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE alerts SET version = @version, status = @status, updated_at = @now, document = {dialect.Json("@document")} WHERE id = @id;
            INSERT INTO alert_versions (alert_id, version, created_at, document) VALUES (@id, @version, @now, {dialect.Json("@document")});
            {AlertSearch.RemoveSql};
            {IndicatorIndex.RemoveSql}
            DELETE FROM stix_renderings WHERE alert_id = @id;
            """,
            new { id, version, status = WireNames.Of(status), now, document }, transaction, cancellationToken: cancellationToken));

    /// <summary>One multi-row INSERT instead of a statement per row.</summary>
    private static void AddRows<T>(SqlBatch batch, string table, string name, Guid alertId, IReadOnlyList<T> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        var id = batch.Parameter("Id", alertId);
        var rows = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            rows[i] = $"({id}, {batch.Parameter($"{name}{i}", values[i])})";
        }

        batch.Add($"INSERT INTO {table} VALUES {string.Join(", ", rows)}");
    }
}

/// <summary>
/// The alert version a write left committed (submit, update, share, revoke): what the endpoint answers with.
/// <paramref name="Replayed"/> is true when an idempotent submit returned the original result instead of storing anew.
/// </summary>
public sealed record CommittedVersion(Guid Id, int Version, string Document, bool Replayed);
