using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using Severity = IntelSharing.Api.Domain.Severity;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// GET /api/v1/alerts — the alerts the caller may see, oldest change first, filtered, in keyset pages.
/// An alert that changes moves to the end, so a client that follows <c>nextCursor</c> sees every change.
/// With <c>q</c>, only the active alerts whose text holds every word of it, newest change first (ADR 21, ADR 35), or with
/// <c>sort=relevance</c> the newest matches ranked by how well they answer the words (ADR 41).
/// </summary>
public static partial class ListAlerts
{
    /// <summary>Query parameters arrive as text and are parsed by the validator, so every mistake is named.</summary>
    public sealed record Query(
        Caller Caller,
        string? Category,
        string? Severity,
        string? MinSeverity,
        string? Country,
        string? UpdatedAfter,
        string? Cursor,
        string? Limit,
        string? Purpose,
        string? DueForReview = null,
        string? Q = null,
        string? Sort = null) : IQuery<Result<string>>, IPagedQuery
    {
        /// <summary>Whether a search is ranked by relevance (<c>sort=relevance</c>) rather than newest change first.</summary>
        public bool ByRelevance => Sort == SortByRelevance;
        public IReadOnlyList<string> Categories => Split(Category);

        public IReadOnlyList<string> Severities => Split(Severity);

        public IReadOnlyList<string> CountryCodes => Split(Country);

        public DateTimeOffset? UpdatedAfterValue => UpdatedAfter is null ? null : DateTimeOffset.Parse(UpdatedAfter, CultureInfo.InvariantCulture).ToUniversalTime();

        /// <summary>The folded words of <c>q</c>; empty without one.</summary>
        public IReadOnlyList<string> SearchTerms => Q is null ? [] : AlertSearch.Terms(Q);

        /// <summary>The filters a cursor is bound to (the folded words of q, so that Beograd and Београд share cursors).</summary>
        public string CursorScope => string.Join('|', Category, Severity, MinSeverity, Country, UpdatedAfter, DueForReview)
            + (Q is null ? string.Empty : "|q=" + string.Join(' ', SearchTerms))
            + (ByRelevance ? "|sort=" + SortByRelevance : string.Empty);

        private static string[] Split(string? value) =>
            value is null ? [] : value.Split(',', StringSplitOptions.TrimEntries);
    }

    public sealed partial class Validator : AbstractValidator<Query>
    {
        /// <summary>More than every category or severity there is: a repeated value is harmless, a thousand of them is not a filter.</summary>
        public const int MaxFilterValues = 10;

        public Validator(KeysetCursor cursors)
        {
            Include(new PageRules<Query>(cursors, windowed: q => q.ByRelevance));

            // A comma-separated parameter is one field to the client: name it "country", not "country[0]".
            // Each list's length first; its values are checked only when it is within bounds (ListRules).
            RuleFor(q => q.Categories).Must(c => c.Count <= MaxFilterValues).OverridePropertyName("category").WithMessage($"At most {MaxFilterValues} categories.");
            When(q => q.Categories.Count <= MaxFilterValues, () =>
                RuleForEach(q => q.Categories).OverrideIndexer(NoIndex).Must(c => WireNames.TryParse<AlertCategory>(c, out _)).OverridePropertyName("category")
                    .WithMessage($"'{{PropertyValue}}' is not a category ({string.Join(", ", WireNames.All<AlertCategory>())})."));
            RuleFor(q => q.Severities).Must(c => c.Count <= MaxFilterValues).OverridePropertyName("severity").WithMessage($"At most {MaxFilterValues} severities.");
            When(q => q.Severities.Count <= MaxFilterValues, () =>
                RuleForEach(q => q.Severities).OverrideIndexer(NoIndex).Must(s => WireNames.TryParse<Severity>(s, out _)).OverridePropertyName("severity")
                    .WithMessage($"'{{PropertyValue}}' is not a severity ({string.Join(", ", WireNames.All<Severity>())})."));
            RuleFor(q => q.MinSeverity).Must(s => WireNames.TryParse<Severity>(s, out _)).When(q => q.MinSeverity is not null)
                .WithMessage($"'{{PropertyValue}}' is not a severity ({string.Join(", ", WireNames.All<Severity>())}).");
            RuleFor(q => q.CountryCodes).Must(c => c.Count <= AlertInputValidator.MaxCountries).OverridePropertyName("country")
                .WithMessage($"At most {AlertInputValidator.MaxCountries} countries.");
            When(q => q.CountryCodes.Count <= AlertInputValidator.MaxCountries, () =>
                RuleForEach(q => q.CountryCodes).OverrideIndexer(NoIndex).Must(Countries.IsValid).OverridePropertyName("country")
                    .WithMessage("'{PropertyValue}' is not an ISO 3166-1 alpha-2 country code."));
            RuleFor(q => q.UpdatedAfter)
                // RFC 3339 requires the offset: without one, the server's own time zone would silently decide the instant.
                .Must(t => Rfc3339.TryParse(t, out _))
                .When(q => q.UpdatedAfter is not null)
                .WithMessage("updatedAfter must be an RFC 3339 date-time with its offset, e.g. 2026-11-01T00:00:00Z (send '+' as %2B).");
            RuleFor(q => q.DueForReview).Must(v => v is "true" or "false").When(q => q.DueForReview is not null)
                .WithMessage("dueForReview must be true or false.");
            // Length first: the words of an unbounded q are not worth computing.
            RuleFor(q => q.Q!.Length).LessThanOrEqualTo(AlertSearch.MaxQueryLength).When(q => q.Q is not null).OverridePropertyName("q")
                .WithMessage($"q is at most {AlertSearch.MaxQueryLength} characters.");
            When(q => q.Q is not null && q.Q.Length <= AlertSearch.MaxQueryLength, () =>
            {
                RuleFor(q => q.SearchTerms.Count).GreaterThan(0).OverridePropertyName("q")
                    .WithMessage("q needs at least one word (letters or digits) to search for.");
                RuleFor(q => q.SearchTerms.Count).LessThanOrEqualTo(AlertSearch.MaxQueryTerms).OverridePropertyName("q")
                    .WithMessage($"q has at most {AlertSearch.MaxQueryTerms} different words.");
            });
            RuleFor(q => q.Sort)
                .Cascade(CascadeMode.Stop)
                .Must(s => s is SortByNewest or SortByRelevance).WithMessage($"sort must be {SortByNewest} or {SortByRelevance}.")
                .Must((q, _) => q.Q is not null).WithMessage("sort orders a search: it needs q.")
                .When(q => q.Sort is not null);
        }

        private static string NoIndex(Query query, IEnumerable<string> values, string value, int index) => string.Empty;
    }

    /// <summary>The values of <c>sort</c>: a search newest change first (the default), or ranked by relevance.</summary>
    public const string SortByNewest = "newest";

    public const string SortByRelevance = "relevance";

    /// <summary>A match considered for a ranked search: its place newest first, and the folded text it is ranked by.</summary>
    private sealed record Candidate
    {
        public Guid Id { get; init; }

        public DateTimeOffset UpdatedAt { get; init; }

        public string Title { get; init; } = null!;

        public string Body { get; init; } = null!;
    }

    /// <summary>An alert read by the application's own walk newest first: where it is, and whether it is a match.</summary>
    private sealed record WalkedAlert
    {
        public Guid Id { get; init; }

        public DateTimeOffset UpdatedAt { get; init; }

        public bool Matches { get; init; }
    }

    private sealed record Row
    {
        public Guid Id { get; init; }

        public DateTimeOffset UpdatedAt { get; init; }

        public string Document { get; init; } = null!;

        public bool NamesPersons { get; init; }
    }

    public sealed class Handler(Database database, KeysetPaging paging, AuditTrail audit, TimeProvider time, IOptions<SearchOptions> search) : IQueryHandler<Query, Result<string>>
    {
        /// <summary>Oldest change first: an alert that changes moves to the end, where a client following nextCursor meets it again.</summary>
        private static readonly KeysetOrder ChangeOrder = new(new("a.updated_at", KeysetField.At), new("a.id", KeysetField.Id));

        /// <summary>
        /// A search is newest change first (ADR 35): the first page of a broad word is the newest alerts that hold it, read
        /// from the top of ix_alerts_updated, not the best of every match ranked.
        /// </summary>
        private static readonly KeysetOrder NewestFirst = new(new("a.updated_at", KeysetField.At, Descending: true), new("a.id", KeysetField.Id, Descending: true));

        /// <summary>What a page of the list reads of each alert.</summary>
        private static readonly string RowColumns = $"a.id AS Id, a.updated_at AS UpdatedAt, a.document AS Document, {PersonalData.NamesPersonsSql("a")} AS NamesPersons";

        /// <summary>What a ranked search reads of each candidate: no document, only the folded text it is ranked by.</summary>
        private const string CandidateColumns = "a.id AS Id, a.updated_at AS UpdatedAt, s.title AS Title, s.body AS Body";

        /// <summary>
        /// Candidates read per statement where the plan asks for pages (<see cref="TextSearchPlan.CandidatesInPages"/>): about a
        /// page of the list, the LIMIT at which PostgreSQL walks the newest-first index rather than reading every match.
        /// </summary>
        private const int CandidatesPerStatement = 25;

        /// <summary>Relevance first, then newest change, then id: a total order, so a cursor's place in it is exact.</summary>
        private static readonly Comparison<(Candidate Alert, int Rank)> ByRelevance = (x, y) =>
            y.Rank != x.Rank ? y.Rank.CompareTo(x.Rank)
            : y.Alert.UpdatedAt != x.Alert.UpdatedAt ? y.Alert.UpdatedAt.CompareTo(x.Alert.UpdatedAt)
            : y.Alert.Id.CompareTo(x.Alert.Id);

        public async ValueTask<Result<string>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            List<Row> page;
            string? next;
            if (query.SearchTerms.Count > 0)
            {
                var found = await SearchAsync(connection, query, cancellationToken);
                if (found is null)
                {
                    return SearchTimedOut(search.Value.TimeoutMilliseconds);
                }

                (page, next) = found.Value;
            }
            else
            {
                var parameters = new DynamicParameters();
                var sql = ListSql(query, parameters, plan: null, RowColumns);
                paging.Append(sql, parameters, query, ChangeOrder);
                var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
                (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.UpdatedAt, r.Id));
            }

            if (query.Purpose is null && page.Exists(r => r.NamesPersons))
            {
                return PersonalData.PurposeRequired("This page includes an alert that");
            }

            audit.Annotate(detail: new { alertIds = page.Select(r => r.Id) });
            return WritePage(page, next);
        }

        /// <summary>
        /// The visible alerts that pass the filters, and with a search only the active ones holding every word, joined as
        /// the dialect planned it; the WHERE clause is left open for the keyset.
        /// </summary>
        private StringBuilder ListSql(Query query, DynamicParameters parameters, TextSearchPlan? plan, string columns)
        {
            var sql = VisibleSql(query, parameters, plan, columns);
            foreach (var condition in Conditions(query, parameters, plan))
            {
                sql.Append(" AND ").Append(condition);
            }

            return sql;
        }

        /// <summary>The alerts the caller may see (joined to their search text for a search); the WHERE clause is left open.</summary>
        private static StringBuilder VisibleSql(Query query, DynamicParameters parameters, TextSearchPlan? plan, string columns)
        {
            parameters.Add("agencyId", query.Caller.AgencyId);
            return new StringBuilder(
                $"""
                SELECT {columns}
                FROM alerts a{(plan is null ? string.Empty : $" {plan.Join} alert_search s ON s.alert_id = a.id")}
                WHERE {SharingPolicy.VisibleSql("a", "@agencyId")}
                """);
        }

        /// <summary>What an alert the caller may see must also be to be listed: the words of a search, and the filters.</summary>
        private List<string> Conditions(Query query, DynamicParameters parameters, TextSearchPlan? plan)
        {
            var conditions = new List<string>();
            if (plan is not null)
            {
                conditions.Add(plan.Predicate);
                parameters.Add("words", database.Dialect.AllWordsQuery(query.SearchTerms));
            }

            if (query.Categories.Count > 0)
            {
                conditions.Add($"a.category IN {SqlLists.In(parameters, "category", query.Categories)}");
            }

            if (query.Severities.Count > 0)
            {
                conditions.Add($"a.severity IN {SqlLists.In(parameters, "severity", query.Severities)}");
            }

            if (query.MinSeverity is not null && WireNames.TryParse<Severity>(query.MinSeverity, out var minSeverity))
            {
                conditions.Add("a.severity_rank >= @minRank");
                parameters.Add("minRank", (int)minSeverity);
            }

            if (query.CountryCodes.Count > 0)
            {
                conditions.Add($"EXISTS (SELECT 1 FROM alert_countries c WHERE c.alert_id = a.id AND c.country IN {SqlLists.In(parameters, "country", query.CountryCodes)})");
            }

            if (query.UpdatedAfterValue is { } updatedAfter)
            {
                conditions.Add("a.updated_at > @updatedAfter");
                parameters.Add("updatedAfter", updatedAfter);
            }

            if (query.DueForReview == "true")
            {
                // The originator's own active alerts whose personal data is due for review (Directive 2016/680 Art. 5).
                conditions.Add("a.originator_id = @agencyId AND a.status = 'active' AND a.review_at <= @reviewNow");
                parameters.Add("reviewNow", time.GetUtcNow());
            }

            return conditions;
        }

        /// <summary>
        /// The page of a search and its next cursor, or null when the database stopped it at the search's time bound. The
        /// sharing policy is in the same WHERE clause as the words, so an alert the caller may not see is skipped like a
        /// row without the words: it is never counted, paged, ranked or returned.
        /// </summary>
        private async Task<(List<Row> Page, string? Next)?> SearchAsync(DbConnection connection, Query query, CancellationToken cancellationToken)
        {
            await using var bounded = await database.Dialect.BeginTimeBoundReadAsync(connection, search.Value.TimeoutMilliseconds, cancellationToken);
            try
            {
                var plan = await database.Dialect.PlanTextSearchAsync(connection, bounded, database.Dialect.AllWordsQuery(query.SearchTerms), search.Value.SqliteWalkFromMatches, cancellationToken);
                return query.ByRelevance
                    ? await RankedPageAsync(connection, bounded, query, plan, cancellationToken)
                    : await NewestPageAsync(connection, bounded, query, plan, cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && database.Dialect.IsStatementTimeout(exception))
            {
                return null;
            }
        }

        /// <summary>
        /// A page newest change first (ADR 35). Where the application walks the alerts itself (SQLite), the walk stops after
        /// the alerts it may read for one page; when it stops there short of a page, the page found so far is the answer and
        /// its cursor continues from the last alert read.
        /// </summary>
        private async Task<(List<Row> Page, string? Next)> NewestPageAsync(DbConnection connection, DbTransaction? bounded, Query query, TextSearchPlan plan, CancellationToken cancellationToken)
        {
            if (plan.Walks)
            {
                var take = KeysetPaging.Take(query);
                var (matches, edge) = await WalkAsync(connection, bounded, query, plan, paging.PositionOf(query), take + 1, cancellationToken);
                var chosen = matches.Take(take).ToList();
                var served = await DocumentsAsync(connection, bounded, query, chosen.Select(m => m.Id).ToList(), cancellationToken);
                var page = chosen.Where(m => served.ContainsKey(m.Id)).Select(m => served[m.Id]).ToList();
                var next = matches.Count > take ? new KeysetCursor.Position(chosen[^1].UpdatedAt, chosen[^1].Id) : edge;
                return (page, next is { } resume ? paging.CursorAfter(resume, query) : null);
            }

            var parameters = new DynamicParameters();
            var sql = ListSql(query, parameters, plan, RowColumns);
            paging.Append(sql, parameters, query, NewestFirst);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, bounded, cancellationToken: cancellationToken))).AsList();
            return paging.Cut(rows, query, r => new KeysetCursor.Position(r.UpdatedAt, r.Id));
        }

        /// <summary>
        /// A page ranked by relevance (ADR 41). The candidates are the newest <c>Search__RelevanceCandidates</c> matches the
        /// caller may see, found by the same walk as a page newest first; the first page fixes them as a window between the
        /// newest and the oldest of them, which every later page's cursor carries, so each page ranks the same alerts and
        /// serves each once. An alert changed meanwhile has moved above the window and leaves it, as it leaves a walk
        /// newest first. Only the page's documents are read, and the policy decides them again as they are served.
        /// </summary>
        private async Task<(List<Row> Page, string? Next)> RankedPageAsync(DbConnection connection, DbTransaction? bounded, Query query, TextSearchPlan plan, CancellationToken cancellationToken)
        {
            var position = paging.PositionOf(query, windowed: true);
            List<Candidate> candidates;
            if (position?.Window is null && plan.Walks)
            {
                var (matches, _) = await WalkAsync(connection, bounded, query, plan, from: null, search.Value.RelevanceCandidates, cancellationToken);
                candidates = await TextsAsync(connection, bounded, matches, cancellationToken);
            }
            else
            {
                candidates = [];
                var wanted = search.Value.RelevanceCandidates;
                var chunk = plan.CandidatesInPages ? CandidatesPerStatement : wanted;
                KeysetCursor.Position? below = null;
                while (candidates.Count < wanted)
                {
                    var parameters = new DynamicParameters();
                    var sql = ListSql(query, parameters, plan, CandidateColumns);
                    if (position?.Window is { } fixedWindow)
                    {
                        sql.Append(" AND ").Append(NotNewerThan(parameters, "top", new(fixedWindow.TopAt, fixedWindow.TopId)))
                            .Append(" AND ").Append(NotOlderThan(parameters, "bottom", new(fixedWindow.BottomAt, fixedWindow.BottomId)));
                    }

                    if (below is { } lastRead)
                    {
                        sql.Append(" AND ").Append(NewestFirst.After(parameters, lastRead));
                    }

                    var asked = Math.Min(chunk, wanted - candidates.Count);
                    sql.Append(" ORDER BY ").Append(NewestFirst.OrderBy).Append(" LIMIT @candidates");
                    parameters.Add("candidates", asked);
                    var read = (await connection.QueryAsync<Candidate>(new CommandDefinition(sql.ToString(), parameters, bounded, cancellationToken: cancellationToken))).AsList();
                    candidates.AddRange(read);
                    if (read.Count < asked)
                    {
                        break;
                    }

                    below = new KeysetCursor.Position(read[^1].UpdatedAt, read[^1].Id);
                }
            }

            if (candidates.Count == 0)
            {
                return ([], null);
            }

            var window = position?.Window ?? new KeysetCursor.Window(candidates[0].UpdatedAt, candidates[0].Id, candidates[^1].UpdatedAt, candidates[^1].Id);
            var ranked = candidates.Select(c => (Alert: c, Rank: AlertSearch.Relevance(query.SearchTerms, c.Title, c.Body))).ToList();
            ranked.Sort(ByRelevance);
            var resumed = position is { } after
                ? ranked.SkipWhile(c => ByRelevance(c, (new Candidate { Id = after.Id, UpdatedAt = after.At }, after.Rank ?? 0)) <= 0)
                : ranked;
            var take = KeysetPaging.Take(query);
            var chosen = resumed.Take(take + 1).ToList();
            var more = chosen.Count > take;
            if (more)
            {
                chosen.RemoveAt(take);
            }

            var served = await DocumentsAsync(connection, bounded, query, chosen.Select(c => c.Alert.Id).ToList(), cancellationToken);
            var page = chosen.Where(c => served.ContainsKey(c.Alert.Id)).Select(c => served[c.Alert.Id]).ToList();
            var last = chosen.Count == 0 ? default : chosen[^1];
            return (page, more ? paging.CursorAfter(new(last.Alert.UpdatedAt, last.Alert.Id, last.Rank, window), query) : null);
        }

        /// <summary>The documents of a ranked page, of the alerts the caller may still see and that are still active.</summary>
        private static async Task<Dictionary<Guid, Row>> DocumentsAsync(DbConnection connection, DbTransaction? bounded, Query query, List<Guid> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return [];
            }

            var parameters = new DynamicParameters();
            parameters.Add("agencyId", query.Caller.AgencyId);
            var sql = $"SELECT {RowColumns} FROM alerts a WHERE {SharingPolicy.VisibleSql("a", "@agencyId")} AND a.status = 'active' AND a.id IN {SqlLists.In(parameters, "id", ids)}";
            var rows = await connection.QueryAsync<Row>(new CommandDefinition(sql, parameters, bounded, cancellationToken: cancellationToken));
            return rows.ToDictionary(r => r.Id);
        }

        /// <summary>
        /// The application's own walk newest first (SQLite; ADR 41): the alerts the caller may see after <paramref name="from"/>,
        /// read one by one, each with whether it holds the words and passes the filters, until <paramref name="wanted"/> of
        /// them do or <c>Search__SqliteMaxAlertsWalked</c> alerts were read. SQLite has no statement timeout; this bounds what
        /// one request reads. Counted over the alerts the caller may see only, so where a walk stops never depends on alerts
        /// hidden from it, and the edge returned (the last alert read, when the bound stopped the walk) is one the caller may
        /// see — a cursor is authenticated, not encrypted, so its position must name nothing hidden.
        /// </summary>
        private async Task<(List<WalkedAlert> Matches, KeysetCursor.Position? Edge)> WalkAsync(
            DbConnection connection, DbTransaction? bounded, Query query, TextSearchPlan plan, KeysetCursor.Position? from, int wanted, CancellationToken cancellationToken)
        {
            var parameters = new DynamicParameters();
            var sql = VisibleSql(query, parameters, plan, $"a.id AS Id, a.updated_at AS UpdatedAt, CASE WHEN {string.Join(" AND ", Conditions(query, parameters, plan))} THEN 1 ELSE 0 END AS Matches");
            if (from is { } position)
            {
                sql.Append(" AND ").Append(NewestFirst.After(parameters, position));
            }

            var limit = search.Value.SqliteMaxAlertsWalked;
            sql.Append(" ORDER BY ").Append(NewestFirst.OrderBy).Append(" LIMIT @walkLimit");
            parameters.Add("walkLimit", limit);
            var matches = new List<WalkedAlert>();
            var read = 0;
            WalkedAlert? last = null;
            await foreach (var row in connection.QueryUnbufferedAsync<WalkedAlert>(sql.ToString(), parameters, bounded).WithCancellation(cancellationToken))
            {
                read++;
                last = row;
                if (row.Matches)
                {
                    matches.Add(row);
                    if (matches.Count == wanted)
                    {
                        return (matches, null);
                    }
                }
            }

            return (matches, read == limit && last is not null ? new KeysetCursor.Position(last.UpdatedAt, last.Id) : null);
        }

        /// <summary>The folded text of the candidates a walk found, to rank them, in the walk's order.</summary>
        private static async Task<List<Candidate>> TextsAsync(DbConnection connection, DbTransaction? bounded, List<WalkedAlert> found, CancellationToken cancellationToken)
        {
            if (found.Count == 0)
            {
                return [];
            }

            var parameters = new DynamicParameters();
            var texts = (await connection.QueryAsync<Candidate>(new CommandDefinition(
                $"SELECT s.alert_id AS Id, s.title AS Title, s.body AS Body FROM alert_search s WHERE s.alert_id IN {SqlLists.In(parameters, "id", found.Select(f => f.Id).ToList())}",
                parameters, bounded, cancellationToken: cancellationToken))).ToDictionary(c => c.Id);
            return [.. found.Where(f => texts.ContainsKey(f.Id)).Select(f => texts[f.Id] with { UpdatedAt = f.UpdatedAt })];
        }

        /// <summary>The alerts at <paramref name="position"/> or before it in the order newest first (its own row included).</summary>
        private static string NotNewerThan(DynamicParameters parameters, string name, KeysetCursor.Position position)
        {
            parameters.Add(name + "At", position.At);
            parameters.Add(name + "Id", position.Id);
            return $"a.updated_at <= @{name}At AND (a.updated_at < @{name}At OR a.id <= @{name}Id)";
        }

        /// <summary>The alerts at <paramref name="position"/> or after it in the order newest first (its own row included).</summary>
        private static string NotOlderThan(DynamicParameters parameters, string name, KeysetCursor.Position position)
        {
            parameters.Add(name + "At", position.At);
            parameters.Add(name + "Id", position.Id);
            return $"a.updated_at >= @{name}At AND (a.updated_at > @{name}At OR a.id >= @{name}Id)";
        }

        private static Failure SearchTimedOut(int milliseconds) => new(
            StatusCodes.Status503ServiceUnavailable,
            ProblemTypes.SearchTimedOut,
            "The search took too long",
            $"Finding a page of the alerts that hold these words took longer than this server allows a search ({milliseconds} ms). Add a word or a filter " +
            "(category, severity, country, updatedAfter) so that fewer alerts match, or try again later.",
            new Dictionary<string, string[]> { ["q"] = ["Could not be searched within the server's time bound for a search."] });

        private static string WritePage(List<Row> page, string? nextCursor) => JsonPage.OfDocuments(page.Select(row => row.Document), nextCursor);
    }

    public static RouteHandlerBuilder MapListAlerts(this RouteGroupBuilder group) => group
        .MapGet("/", async (
            [FromQuery] string? category,
            [FromQuery] string? severity,
            [FromQuery] string? minSeverity,
            [FromQuery] string? country,
            [FromQuery] string? updatedAfter,
            [FromQuery] string? cursor,
            [FromQuery] string? limit,
            [FromQuery] string? dueForReview,
            [FromQuery] string? q,
            [FromQuery] string? sort,
            [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose,
            HttpContext context,
            IMediator mediator) =>
        {
            var result = await mediator.Send(
                new Query(Caller.From(context.User), category, severity, minSeverity, country, updatedAfter, cursor, limit, RequestOrigin.CleanPurpose(purpose), dueForReview, q, sort),
                context.RequestAborted);
            return result.Match(page => new JsonDocumentResult<AlertPage>(page)).OrProblem();
        })
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertList, AuditResources.Alert)
        .WithMetadata(QueryParameterDocs.Paging, ParameterDocs)
        .WithName("ListAlerts")
        .WithMetadata(
            DocumentedExample.Response(StatusCodes.Status200OK, "firstPage", "Both categories, oldest change first; follow nextCursor for more", ContractExamples.AlertPage),
            DocumentedExample.Response(StatusCodes.Status200OK, "caughtUp", "Nothing newer: nextCursor is null", ContractExamples.LastAlertPage),
            DocumentedExample.ProblemResponse(StatusCodes.Status400BadRequest, "badFilters", "Unknown severity and a limit out of range", ContractExamples.ListFilterProblem))
        .WithSummary("List the alerts you may see")
        .WithDescription("Oldest change first. Filters: category, severity (comma-separated values), minSeverity, country (comma-separated ISO codes), updatedAfter (RFC 3339), dueForReview=true (your own alerts past reviewAt). " +
            $"limit is 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}). Pass nextCursor back as cursor, with the same filters, for the next page; null means you have everything so far. " +
            "A page that includes an alert naming persons needs an X-Purpose header; every listing is audited with the ids it returned. " +
            $"q searches the text of active alerts (title, summary, modus operandi, network names, places, crossing points, conditions, indicator descriptions), at most {AlertSearch.MaxQueryLength} characters and {AlertSearch.MaxQueryTerms} words: " +
            "every word must occur; Cyrillic and Latin, capitals and accents do not matter (Београд = Beograd, Šid = Sid, Đorđe = Djordje = Dorde). " +
            "With q the order is newest change first (then by id); combine it with every filter and follow nextCursor as usual. " +
            $"sort=relevance ranks the newest {new SearchOptions().RelevanceCandidates} matches (Search__RelevanceCandidates) instead: alerts whose title holds more of the words first, then those whose text holds them more often, then newest; its cursor pages through that ranked set and ends with it. " +
            "On SQLite a page reads at most Search__SqliteMaxAlertsWalked alerts you may see; a search that found fewer matches there answers them with a nextCursor that continues the walk (a page may then be empty with a nextCursor). " +
            "A search the database cannot answer within the server's time bound (Search__TimeoutMilliseconds, PostgreSQL) is answered 503 with the problem type urn:intelsharing:problem:search-timed-out naming q: add a word or a filter.");

    // The parameters bind as text so that the validator can name every mistake; the document says what they accept.
    private static readonly QueryParameterDocs ParameterDocs = new(new Dictionary<string, QueryParameterDoc>
    {
        ["category"] = new(
            $"One category or several, comma-separated: {string.Join(", ", WireNames.All<AlertCategory>())}.",
            QueryParameterDoc.Text(), JsonValue.Create(WireNames.Of(AlertCategory.MigrantSmuggling))),
        ["severity"] = new(
            $"One severity or several, comma-separated: {string.Join(", ", WireNames.All<Severity>())}.",
            QueryParameterDoc.Text(), JsonValue.Create("high,critical")),
        ["minSeverity"] = new(
            "Only alerts at least this severe.",
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. WireNames.All<Severity>().Select(s => (JsonNode)JsonValue.Create(s))] },
            JsonValue.Create(WireNames.Of(Severity.Medium))),
        ["country"] = new(
            "One ISO 3166-1 alpha-2 code or several, comma-separated: alerts concerning any of them.",
            QueryParameterDoc.Text(), JsonValue.Create("RS,HU")),
        ["updatedAfter"] = new(
            "Only alerts changed after this instant (RFC 3339).",
            new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" }, JsonValue.Create("2026-11-01T00:00:00Z")),
        ["q"] = new(
            $"Full-text search: active alerts whose text holds every word, newest change first. At most {AlertSearch.MaxQueryLength} characters and {AlertSearch.MaxQueryTerms} words; " +
            "Cyrillic or Latin, capitals and accents do not matter (Београд = Beograd, Đorđe = Djordje = Dorde); punctuation and search syntax are plain text.",
            new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = AlertSearch.MaxQueryLength }, JsonValue.Create("Horgoš Kurdish")),
        ["sort"] = new(
            $"The order of a search (needs q): {SortByNewest} (the default, newest change first) or {SortByRelevance} (the newest matches, up to Search__RelevanceCandidates, " +
            "ranked: more of the words in the title first, then more occurrences of the words, then newest). A cursor continues only the order it was issued for.",
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create(SortByNewest), JsonValue.Create(SortByRelevance)] },
            JsonValue.Create(SortByRelevance)),
    });
}
