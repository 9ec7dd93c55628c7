using System.Data.Common;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;
using Dapper;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Taxii;

/// <summary>
/// GET /taxii2/api/collections/{id}/objects/, …/manifest/, …/objects/{objectId}/ and …/objects/{objectId}/versions/
/// (TAXII 2.1 §5.3–5.8). The objects of a collection are the STIX objects of the alerts of its category that the
/// caller may see, decided by <see cref="SharingPolicy.VisibleSql"/> in the query itself, so every object, manifest
/// entry and count follows the policy. Pages walk the alerts by keyset over (updated_at, id) — the index every
/// listing uses — and an object's date_added is when its alert's current version was published. Only the current
/// version of an alert is served (earlier versions are the originator's, as in the REST API), so every
/// match[version] answers that version.
/// </summary>
public static class GetTaxiiObjects
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>At most this many alerts are read for one page, however sparse the filters make them.</summary>
    private const int MaxAlertsPerPage = 2000;

    /// <summary>The most alerts one query of a page reads.</summary>
    private const int MaxAlertsPerBatch = 500;

    /// <summary>Objects an alert of each category has added to a page without filters here, on average (see WalkAsync).</summary>
    private static readonly double[] ObjectsPerAlert = [.. Enum.GetValues<Domain.AlertCategory>().Select(_ => 10.0)];

    public enum View
    {
        Objects,
        Manifest,
        Versions,
    }

    public sealed record Query(
        Caller Caller, TaxiiProtocol.CollectionResource Collection, View View, string? ObjectId, string? Purpose,
        string? AddedAfter, string? Limit, string? Next, string? MatchId, string? MatchType, string? MatchVersion, string? MatchSpecVersion)
        : IQuery<IResult>
    {
        /// <summary>What a <c>next</c> is bound to: the caller, the collection, the view and every filter.</summary>
        public string Fingerprint => string.Join('|', Caller.AgencyId, Collection.Id, View, ObjectId, Purpose is null ? "-" : "p", AddedAfter, MatchId, MatchType, MatchVersion, MatchSpecVersion);
    }

    private sealed record Row
    {
        public Guid Id { get; init; }

        public DateTimeOffset UpdatedAt { get; init; }

        public string Tlp { get; init; } = null!;

        public int Version { get; init; }

        /// <summary>The version's stored STIX objects (<see cref="StixRendering"/>), or null when they must be rendered from <see cref="Document"/>.</summary>
        public byte[]? Rendered { get; init; }

        public string? Document { get; init; }
    }

    /// <summary>One object of a page, with where it was found (for the next page's position).</summary>
    private sealed record Entry(StixRendering.RenderedObject Object, DateTimeOffset DateAdded, Guid AlertId, int Index);

    /// <summary>The alerts a request opened, disposed with it: the objects of its page are elements of their documents.</summary>
    private sealed class OpenedAlerts : IDisposable
    {
        private readonly List<StixRendering.RenderedAlert> alerts = [];

        public async Task<StixRendering.RenderedAlert> OpenAsync(DbConnection connection, Row row, bool withPersons, CancellationToken cancellationToken)
        {
            var alert = await StixRendering.OpenAsync(connection, row.Id, row.Version, row.Tlp, row.Rendered, row.Document, withPersons, cancellationToken);
            alerts.Add(alert);
            return alert;
        }

        public void Dispose()
        {
            foreach (var alert in alerts)
            {
                alert.Dispose();
            }
        }
    }

    public sealed class Handler(Database database, KeysetCursor cursors, AuditTrail audit) : IQueryHandler<Query, IResult>
    {
        public async ValueTask<IResult> Handle(Query query, CancellationToken cancellationToken)
        {
            if (Invalid(query) is { } problem)
            {
                return TaxiiProtocol.Error(StatusCodes.Status400BadRequest, "Bad request", problem);
            }

            var limit = query.Limit is null ? DefaultLimit : int.Parse(query.Limit, CultureInfo.InvariantCulture);
            var types = Split(query.MatchType);
            var ids = query.ObjectId is not null ? [query.ObjectId] : Split(query.MatchId);
            var specVersions = Split(query.MatchSpecVersion);
            var versions = Split(query.MatchVersion);
            DateTimeOffset? addedAfter = query.AddedAfter is null ? null : Rfc3339.TryParse(query.AddedAfter, out var after) ? after : null;

            // The position after which this page starts: the alert (time, id) and how many of its objects were served.
            KeysetCursor.Position? from = null;
            var skip = 0;
            if (query.Next is not null)
            {
                var dot = query.Next.IndexOf('.', StringComparison.Ordinal);
                if (dot <= 0 || !int.TryParse(query.Next.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out skip)
                    || cursors.TryDecode(query.Next[(dot + 1)..], $"{query.Fingerprint}|{skip}", out var position) is not null)
                {
                    return TaxiiProtocol.Error(StatusCodes.Status400BadRequest, "Bad request",
                        "next is not one this server issued for you and these filters; start again without it.");
                }

                from = position;
            }

            await using var connection = await database.OpenAsync(cancellationToken);
            using var opened = new OpenedAlerts();
            var (page, more, next) = ids.Count > 0
                ? await ByIdAsync(connection, query, opened, ids, types, specVersions, versions, addedAfter, from, limit, cancellationToken)
                : await WalkAsync(connection, query, opened, types, specVersions, versions, addedAfter, from, skip, limit, cancellationToken);

            audit.Annotate(detail: new { collection = query.Collection.Id, view = query.View.ToString().ToLowerInvariant(), objects = page.Count, alertIds = page.Select(e => e.AlertId).Where(a => a != Guid.Empty).Distinct() });
            if (query.ObjectId is not null && page.Count == 0)
            {
                return TaxiiProtocol.Error(StatusCodes.Status404NotFound, "Object not found", "There is no such object in this collection, or you may not read it.");
            }

            var headers = page.Count == 0 ? null : new Dictionary<string, string>
            {
                ["X-TAXII-Date-Added-First"] = StixDefinitions.Timestamp(page.Min(e => e.DateAdded)),
                ["X-TAXII-Date-Added-Last"] = StixDefinitions.Timestamp(page.Max(e => e.DateAdded)),
            };
            return TaxiiProtocol.Ok(Envelope(query.View, page, more, next is null ? null : Next(next.Value.Position, next.Value.Served, query)), headers);

            string Next(KeysetCursor.Position position, int served, Query q) =>
                $"{served.ToString(CultureInfo.InvariantCulture)}.{cursors.Encode(position, $"{q.Fingerprint}|{served.ToString(CultureInfo.InvariantCulture)}")}";
        }

        /// <summary>
        /// A listing: the caller's visible alerts of the collection by keyset, each expanded into its objects. An object
        /// several alerts share (TLP markings, the originator's identity, IntelSharing's definitions, an observable) is
        /// served once per page, in the version of the first alert that carried it there.
        /// </summary>
        private static async Task<(List<Entry> Page, bool More, (KeysetCursor.Position Position, int Served)? Next)> WalkAsync(
            DbConnection connection, Query query, OpenedAlerts opened, List<string> types, List<string> specVersions, List<string> versions,
            DateTimeOffset? addedAfter, KeysetCursor.Position? from, int skip, int limit, CancellationToken cancellationToken)
        {
            var page = new List<Entry>();
            var onPage = new HashSet<string>(StringComparer.Ordinal);
            var everyVersion = versions.Contains("all");
            var scanned = 0;
            var alertsOpened = 0;

            // Each alert read brings its stored objects (some 20 KB for a cyber alert), so a query asks for about as many
            // alerts as the page needs, and doubles while a sparse filter leaves the page short. How many that is comes, for
            // a page without filters, from how many objects the collection's alerts have added to pages here; a filter
            // keeps the fixed guess of a dozen objects an alert. The page is the same either way: only what is read for it differs.
            // However a caller's pages move the average (an agency publishing tiny alerts and paging through them), a first
            // query reads at most twice the fixed guess; a page short of objects goes on doubling as before.
            var unfiltered = types.Count == 0 && specVersions.Count == 0 && versions.Count == 0;
            var collection = (int)query.Collection.Category;
            var fixedGuess = (limit / 10) + 2;
            var batch = unfiltered
                ? Math.Min((int)Math.Ceiling((limit + 1) / Volatile.Read(ref ObjectsPerAlert[collection])) + 1, 2 * fixedGuess)
                : fixedGuess;
            while (page.Count <= limit && scanned < MaxAlertsPerPage)
            {
                var wanted = Math.Min(batch, MaxAlertsPerPage - scanned);
                batch = Math.Min(batch * 2, MaxAlertsPerBatch);
                var resumed = from;
                var rows = await ReadAlertsAsync(connection, query, addedAfter, from, wanted, cancellationToken);
                var fresh = rows.Count(r => resumed is not { } p || r.Id != p.Id || r.UpdatedAt != p.At);
                scanned += fresh;
                foreach (var row in rows)
                {
                    var objects = (await opened.OpenAsync(connection, row, query.Purpose is not null, cancellationToken)).Objects;
                    alertsOpened++;
                    var start = from is { } f && f.Id == row.Id && f.At == row.UpdatedAt ? skip : 0;
                    for (var index = start; index < objects.Count; index++)
                    {
                        var stix = objects[index];
                        if (Matches(stix, types, specVersions, versions)
                            && onPage.Add(everyVersion ? $"{stix.Id} {stix.Version}" : stix.Id))
                        {
                            page.Add(new Entry(stix, row.UpdatedAt, row.Id, index));
                        }
                    }

                    from = new KeysetCursor.Position(row.UpdatedAt, row.Id);
                    skip = objects.Count;
                    if (page.Count > limit)
                    {
                        break;
                    }
                }

                if (fresh < wanted || page.Count > limit)
                {
                    break;
                }
            }

            if (unfiltered && alertsOpened >= 2)
            {
                // A moving average; instances and racing requests each keep their own guess, and a lost update costs nothing.
                var seen = Math.Clamp(page.Count / (double)alertsOpened, 1, 100);
                Volatile.Write(ref ObjectsPerAlert[collection], (0.9 * Volatile.Read(ref ObjectsPerAlert[collection])) + (0.1 * seen));
            }

            if (page.Count > limit)
            {
                var last = page[limit - 1];
                page.RemoveRange(limit, page.Count - limit);
                return (page, true, (new KeysetCursor.Position(last.DateAdded, last.AlertId), last.Index + 1));
            }

            // A sparse filter read its bound of alerts without filling the page: the next request continues from there.
            return scanned >= MaxAlertsPerPage && from is { } reached ? (page, true, (reached, skip)) : (page, false, null);
        }

        /// <summary>
        /// Object by id and match[id]. An object that belongs to no alert (the TLP marking definitions, IntelSharing's
        /// identity and extension definitions) is answered from <see cref="StixObjectIndex.Universal"/> without reading
        /// an alert: it is the same for every caller who may read the collection (ADR 36). Any other id is looked up
        /// through <see cref="StixObjectIndex"/>, in the newest alert of the collection the caller may see that carries
        /// it — that alert's version is the object's latest. At most 50 ids, so at most 50 objects, ordered by
        /// (date added, id); <c>next</c> is the last one served.
        /// </summary>
        private static async Task<(List<Entry> Page, bool More, (KeysetCursor.Position Position, int Served)? Next)> ByIdAsync(
            DbConnection connection, Query query, OpenedAlerts opened, List<string> ids, List<string> types, List<string> specVersions, List<string> versions,
            DateTimeOffset? addedAfter, KeysetCursor.Position? from, int limit, CancellationToken cancellationToken)
        {
            var found = new List<(Entry Entry, Guid Key)>();
            foreach (var id in ids.Distinct(StringComparer.Ordinal))
            {
                if (StixObjectIndex.KeyOf(id) is not { } key)
                {
                    continue;
                }

                if (StixObjectIndex.Universal(id) is { } universal)
                {
                    if ((addedAfter is null || universal.DateAdded > addedAfter) && Matches(universal.Object, types, specVersions, versions))
                    {
                        found.Add((new Entry(universal.Object, universal.DateAdded, Guid.Empty, 0), key));
                    }

                    continue;
                }

                if (await FindCarriedAsync(connection, query, opened, id, key, addedAfter, cancellationToken) is { } entry
                    && Matches(entry.Object, types, specVersions, versions))
                {
                    found.Add((entry, key));
                }
            }

            var ordered = found
                .OrderBy(f => f.Entry.DateAdded)
                .ThenBy(f => f.Key.ToString(), StringComparer.Ordinal)
                .Where(f => from is not { } p || f.Entry.DateAdded > p.At
                    || (f.Entry.DateAdded == p.At && string.CompareOrdinal(f.Key.ToString(), p.Id.ToString()) > 0))
                .ToList();
            if (ordered.Count <= limit)
            {
                return ([.. ordered.Select(f => f.Entry)], false, null);
            }

            var last = ordered[limit - 1];
            return ([.. ordered.Take(limit).Select(f => f.Entry)], true, (new KeysetCursor.Position(last.Entry.DateAdded, last.Key), 0));
        }

        /// <summary>
        /// The object from the newest visible alert of the collection that carries it. The two newest carriers are read
        /// with their objects first (one is the rule: most ids belong to one alert, and the originator's identity is in
        /// every alert of its agency); only when both turn out stale (index rows are never deleted) are more read.
        /// </summary>
        private static async Task<Entry?> FindCarriedAsync(
            DbConnection connection, Query query, OpenedAlerts opened, string id, Guid key, DateTimeOffset? addedAfter, CancellationToken cancellationToken)
        {
            const int FirstLook = 2;
            foreach (var (offset, take) in new[] { (0, FirstLook), (FirstLook, MaxCarriersChecked - FirstLook) })
            {
                var rows = await ReadCarriersAsync(connection, query, key, addedAfter, offset, take, cancellationToken);
                foreach (var row in rows)
                {
                    var objects = (await opened.OpenAsync(connection, row, query.Purpose is not null, cancellationToken)).Objects;
                    for (var index = 0; index < objects.Count; index++)
                    {
                        if (objects[index].Id == id)
                        {
                            return new Entry(objects[index], row.UpdatedAt, row.Id, index);
                        }
                    }

                    // Not there: a row left by an earlier version that no longer carries the object, or a person without a purpose.
                }

                if (rows.Count < take)
                {
                    break;
                }
            }

            return null;
        }

        /// <summary>How many alerts carrying one object id are checked, newest first, before the object counts as absent.</summary>
        private const int MaxCarriersChecked = 20;

        /// <summary>
        /// The collection's alerts the caller may see that carry the object whose UUID is <c>@key</c>, newest first, with
        /// their stored objects (or documents). Public for the plan test (EXPLAIN).
        /// </summary>
        public static string CarriersSql(SqlDialect dialect, bool addedAfter) =>
            $"""
            SELECT a.id AS Id, a.updated_at AS UpdatedAt, a.tlp AS Tlp, a.version AS Version, {StixRendering.Columns(dialect)}
            FROM stix_object_alerts s JOIN alerts a ON a.id = s.alert_id
            {StixRendering.Join}
            WHERE s.object_key = @key AND a.category = @category AND {SharingPolicy.VisibleSql("a", "@agencyId")}
            {(addedAfter ? "AND a.updated_at > @addedAfter" : "")}
            ORDER BY a.updated_at DESC, a.id DESC
            LIMIT @take OFFSET @offset
            """;

        private static async Task<List<Row>> ReadCarriersAsync(
            DbConnection connection, Query query, Guid key, DateTimeOffset? addedAfter, int offset, int take, CancellationToken cancellationToken) =>
            (await connection.QueryAsync<Row>(new CommandDefinition(
                CarriersSql(SqlDialect.Of(connection), addedAfter is not null),
                new { key, category = WireNames.Of(query.Collection.Category), agencyId = query.Caller.AgencyId, addedAfter, offset, take },
                cancellationToken: cancellationToken))).AsList();

        private static async Task<List<Row>> ReadAlertsAsync(
            DbConnection connection, Query query, DateTimeOffset? addedAfter, KeysetCursor.Position? from, int take, CancellationToken cancellationToken)
        {
            var sql = new StringBuilder(
                $"""
                SELECT a.id AS Id, a.updated_at AS UpdatedAt, a.tlp AS Tlp, a.version AS Version, {StixRendering.Columns(SqlDialect.Of(connection))}
                FROM alerts a
                {StixRendering.Join}
                WHERE a.category = @category AND {SharingPolicy.VisibleSql("a", "@agencyId")}
                """);
            var parameters = new DynamicParameters();
            parameters.Add("category", WireNames.Of(query.Collection.Category));
            parameters.Add("agencyId", query.Caller.AgencyId);
            if (addedAfter is { } after)
            {
                sql.Append(" AND a.updated_at > @addedAfter");
                parameters.Add("addedAfter", after);
            }

            if (from is { } position)
            {
                // The alert of the position is read again: the rest of its objects may belong to this page.
                sql.Append(" AND (a.updated_at > @afterTime OR (a.updated_at = @afterTime AND a.id >= @afterId))");
                parameters.Add("afterTime", position.At);
                parameters.Add("afterId", position.Id);
            }

            sql.Append(" ORDER BY a.updated_at, a.id LIMIT @take");
            parameters.Add("take", take + (from is null ? 0 : 1));
            return (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
        }

        private static bool Matches(StixRendering.RenderedObject stix, List<string> types, List<string> specVersions, List<string> versions)
        {
            if (types.Count > 0 && !types.Contains(stix.Type))
            {
                return false;
            }

            if (specVersions.Count > 0 && !specVersions.Contains(stix.SpecVersion ?? "2.0"))
            {
                return false;
            }

            // One version per object is served: first, last and all all name it; a timestamp must be its version.
            return versions.Count == 0 || versions.Any(v => v is "first" or "last" or "all" || (Rfc3339.TryParse(v, out var at) && stix.Version is { } mine && Rfc3339.TryParse(mine, out var version) && at == version));
        }

        /// <summary>
        /// The envelope (§3.7), manifest (§3.6.2) or versions (§3.6.3) resource, written as UTF-8 with each object's stored
        /// JSON copied as it is: no tree of the page is built. Into a pooled buffer that the response returns once sent: a
        /// page is about 100 KB, and as a string (and the array it was written into) it was two large-object-heap
        /// allocations per request, whose background collections took a tenth of the machine under TAXII load.
        /// </summary>
        private static ArrayPoolBufferWriter<byte> Envelope(View view, List<Entry> page, bool more, string? next)
        {
            var buffer = new ArrayPoolBufferWriter<byte>(view == View.Objects ? 2048 + (page.Count * 1024) : 256 + (page.Count * 160));
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = StixDefinitions.Json.Encoder }))
            {
                writer.WriteStartObject();
                if (view == View.Versions)
                {
                    writer.WriteStartArray("versions");
                    foreach (var entry in page)
                    {
                        writer.WriteStringValue(entry.Object.Version ?? StixDefinitions.Timestamp(entry.DateAdded));
                    }
                }
                else
                {
                    writer.WriteStartArray("objects");
                    foreach (var entry in page)
                    {
                        if (view == View.Objects)
                        {
                            // The object's bytes as parsed (valid JSON that this API wrote): copied, not re-tokenised.
                            writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(entry.Object.Json), skipInputValidation: true);
                            continue;
                        }

                        writer.WriteStartObject();
                        writer.WriteString("id", entry.Object.Id);
                        writer.WriteString("date_added", StixDefinitions.Timestamp(entry.DateAdded));
                        writer.WriteString("version", entry.Object.Version ?? StixDefinitions.Timestamp(entry.DateAdded));
                        writer.WriteString("media_type", ExportAlertStix.StixMediaType);
                        writer.WriteEndObject();
                    }
                }

                writer.WriteEndArray();
                writer.WriteBoolean("more", more);
                if (next is not null)
                {
                    writer.WriteString("next", next);
                }

                writer.WriteEndObject();
            }

            return buffer;
        }

        private static string? Invalid(Query query)
        {
            if (query.Limit is not null && !(int.TryParse(query.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit))
            {
                return $"limit must be a whole number from 1 to {MaxLimit}.";
            }

            if (query.AddedAfter is not null && !Rfc3339.TryParse(query.AddedAfter, out _))
            {
                return "added_after must be a timestamp with its offset, e.g. 2026-11-01T00:00:00.000Z.";
            }

            foreach (var (name, value) in new[] { ("match[id]", query.MatchId), ("match[type]", query.MatchType), ("match[version]", query.MatchVersion), ("match[spec_version]", query.MatchSpecVersion), ("next", query.Next) })
            {
                if (value is { Length: > 2000 } || Split(value).Count > 50)
                {
                    return $"{name} is at most 50 comma-separated values and 2,000 characters.";
                }
            }

            return Split(query.MatchVersion).FirstOrDefault(v => v is not ("first" or "last" or "all") && !Rfc3339.TryParse(v, out _)) is { } bad
                ? $"match[version] values are first, last, all or a timestamp; '{bad}' is none of them."
                : null;
        }

        private static List<string> Split(string? value) =>
            value is null ? [] : [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
    }

    public static void MapGetTaxiiObjects(this RouteGroupBuilder group)
    {
        Map(group, "/api/collections/{collectionId}/objects/", View.Objects, "TaxiiObjects", "The objects of a collection");
        Map(group, "/api/collections/{collectionId}/manifest/", View.Manifest, "TaxiiManifest", "The manifest of a collection");
        Map(group, "/api/collections/{collectionId}/objects/{objectId}/", View.Objects, "TaxiiObject", "One object of a collection");
        Map(group, "/api/collections/{collectionId}/objects/{objectId}/versions/", View.Versions, "TaxiiObjectVersions", "The versions of one object");
    }

    private static void Map(RouteGroupBuilder group, string pattern, View view, string name, string summary) => group
        .MapGet(pattern, async (
            string collectionId,
            string? objectId,
            [FromQuery(Name = "added_after")] string? addedAfter,
            [FromQuery] string? limit,
            [FromQuery] string? next,
            [FromQuery(Name = "match[id]")] string? matchId,
            [FromQuery(Name = "match[type]")] string? matchType,
            [FromQuery(Name = "match[version]")] string? matchVersion,
            [FromQuery(Name = "match[spec_version]")] string? matchSpecVersion,
            [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose,
            HttpContext context,
            IMediator mediator) =>
        {
            if (!TaxiiProtocol.Accepts(context.Request))
            {
                return TaxiiProtocol.NotAcceptable();
            }

            if (TaxiiProtocol.FindCollection(collectionId) is not { } collection)
            {
                return TaxiiProtocol.CollectionNotFound();
            }

            return await mediator.Send(
                new Query(Caller.From(context.User), collection, view, objectId, RequestOrigin.CleanPurpose(purpose), addedAfter, limit, next, matchId, matchType, matchVersion, matchSpecVersion),
                context.RequestAborted);
        })
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.TaxiiRead, AuditResources.Alert)
        .WithName(name)
        .WithSummary(summary);
}
