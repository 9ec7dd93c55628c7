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
/// With <c>q</c>, only the active alerts whose text holds every word of it, newest change first (ADR 21, ADR 35).
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
        string? Q = null) : IQuery<Result<string>>, IPagedQuery
    {
        public IReadOnlyList<string> Categories => Split(Category);

        public IReadOnlyList<string> Severities => Split(Severity);

        public IReadOnlyList<string> CountryCodes => Split(Country);

        public DateTimeOffset? UpdatedAfterValue => UpdatedAfter is null ? null : DateTimeOffset.Parse(UpdatedAfter, CultureInfo.InvariantCulture).ToUniversalTime();

        /// <summary>The folded words of <c>q</c>; empty without one.</summary>
        public IReadOnlyList<string> SearchTerms => Q is null ? [] : AlertSearch.Terms(Q);

        /// <summary>The filters a cursor is bound to (the folded words of q, so that Beograd and Београд share cursors).</summary>
        public string CursorScope => string.Join('|', Category, Severity, MinSeverity, Country, UpdatedAfter, DueForReview)
            + (Q is null ? string.Empty : "|q=" + string.Join(' ', SearchTerms));

        private static string[] Split(string? value) =>
            value is null ? [] : value.Split(',', StringSplitOptions.TrimEntries);
    }

    public sealed partial class Validator : AbstractValidator<Query>
    {
        /// <summary>More than every category or severity there is: a repeated value is harmless, a thousand of them is not a filter.</summary>
        public const int MaxFilterValues = 10;

        public Validator(KeysetCursor cursors)
        {
            Include(new PageRules<Query>(cursors));

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
        }

        private static string NoIndex(Query query, IEnumerable<string> values, string value, int index) => string.Empty;
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

        public async ValueTask<Result<string>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            List<Row> rows;
            if (query.SearchTerms.Count > 0)
            {
                var found = await SearchAsync(connection, query, cancellationToken);
                if (found is null)
                {
                    return SearchTimedOut(search.Value.TimeoutMilliseconds);
                }

                rows = found;
            }
            else
            {
                var parameters = new DynamicParameters();
                var sql = ListSql(query, parameters, plan: null);
                paging.Append(sql, parameters, query, ChangeOrder);
                rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            }

            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.UpdatedAt, r.Id));
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
        private StringBuilder ListSql(Query query, DynamicParameters parameters, TextSearchPlan? plan)
        {
            var sql = new StringBuilder(
                $"""
                SELECT a.id AS Id, a.updated_at AS UpdatedAt, a.document AS Document, {PersonalData.NamesPersonsSql("a")} AS NamesPersons
                FROM alerts a{(plan is null ? string.Empty : $" {plan.Join} alert_search s ON s.alert_id = a.id")}
                WHERE {SharingPolicy.VisibleSql("a", "@agencyId")}
                """);
            parameters.Add("agencyId", query.Caller.AgencyId);

            if (plan is not null)
            {
                sql.Append($" AND {plan.Predicate}");
                parameters.Add("words", database.Dialect.AllWordsQuery(query.SearchTerms));
            }

            if (query.Categories.Count > 0)
            {
                sql.Append($" AND a.category IN {SqlLists.In(parameters, "category", query.Categories)}");
            }

            if (query.Severities.Count > 0)
            {
                sql.Append($" AND a.severity IN {SqlLists.In(parameters, "severity", query.Severities)}");
            }

            if (query.MinSeverity is not null && WireNames.TryParse<Severity>(query.MinSeverity, out var minSeverity))
            {
                sql.Append(" AND a.severity_rank >= @minRank");
                parameters.Add("minRank", (int)minSeverity);
            }

            if (query.CountryCodes.Count > 0)
            {
                sql.Append($" AND EXISTS (SELECT 1 FROM alert_countries c WHERE c.alert_id = a.id AND c.country IN {SqlLists.In(parameters, "country", query.CountryCodes)})");
            }

            if (query.UpdatedAfterValue is { } updatedAfter)
            {
                sql.Append(" AND a.updated_at > @updatedAfter");
                parameters.Add("updatedAfter", updatedAfter);
            }

            if (query.DueForReview == "true")
            {
                // The originator's own active alerts whose personal data is due for review (Directive 2016/680 Art. 5).
                sql.Append(" AND a.originator_id = @agencyId AND a.status = 'active' AND a.review_at <= @reviewNow");
                parameters.Add("reviewNow", time.GetUtcNow());
            }

            return sql;
        }

        /// <summary>
        /// The page of a search, newest change first, or null when the database stopped it at the search's time bound. The
        /// sharing policy is in the same WHERE clause as the words, so an alert the caller may not see is skipped like a
        /// row without the words: it is never counted, paged or returned.
        /// </summary>
        private async Task<List<Row>?> SearchAsync(DbConnection connection, Query query, CancellationToken cancellationToken)
        {
            await using var bounded = await database.Dialect.BeginTimeBoundReadAsync(connection, search.Value.TimeoutMilliseconds, cancellationToken);
            try
            {
                var plan = await database.Dialect.PlanTextSearchAsync(connection, bounded, database.Dialect.AllWordsQuery(query.SearchTerms), search.Value.SqliteWalkFromMatches, cancellationToken);
                var parameters = new DynamicParameters();
                var sql = ListSql(query, parameters, plan);
                paging.Append(sql, parameters, query, NewestFirst);
                return (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, bounded, cancellationToken: cancellationToken))).AsList();
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && database.Dialect.IsStatementTimeout(exception))
            {
                return null;
            }
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
            [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose,
            HttpContext context,
            IMediator mediator) =>
        {
            var result = await mediator.Send(
                new Query(Caller.From(context.User), category, severity, minSeverity, country, updatedAfter, cursor, limit, RequestOrigin.CleanPurpose(purpose), dueForReview, q),
                context.RequestAborted);
            return result.Match(page => new JsonDocumentResult<AlertPage>(page)).OrProblem();
        })
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertList, AuditResources.Alert)
        .WithMetadata(QueryParameterDocs.Paging, ParameterDocs)
        .WithName("ListAlerts")
        .WithSummary("List the alerts you may see")
        .WithDescription("Oldest change first. Filters: category, severity (comma-separated values), minSeverity, country (comma-separated ISO codes), updatedAfter (RFC 3339), dueForReview=true (your own alerts past reviewAt). " +
            $"limit is 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}). Pass nextCursor back as cursor, with the same filters, for the next page; null means you have everything so far. " +
            "A page that includes an alert naming persons needs an X-Purpose header; every listing is audited with the ids it returned. " +
            $"q searches the text of active alerts (title, summary, modus operandi, network names, places, crossing points, conditions, indicator descriptions), at most {AlertSearch.MaxQueryLength} characters and {AlertSearch.MaxQueryTerms} words: " +
            "every word must occur; Cyrillic and Latin, capitals and accents do not matter (Београд = Beograd, Šid = Sid, Đorđe = Djordje = Dorde). " +
            "With q the order is newest change first (then by id); combine it with every filter and follow nextCursor as usual. " +
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
    });
}
