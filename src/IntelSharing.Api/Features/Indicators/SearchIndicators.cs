using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
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
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Indicators;

/// <summary>
/// GET /api/v1/indicators?type=&amp;value= and POST /api/v1/indicators/search — "has anyone reported this number?":
/// the alerts the caller may see that carry the indicator(s), matched on the normalised value the validators compute
/// (E.164 phones, compact plates and IBANs, lower-case domains and e-mail, canonical IPs). The sharing policy filters
/// in SQL, so an alert the caller may not see changes nothing in the answer. Keyset pages, oldest change first.
/// </summary>
public static class SearchIndicators
{
    /// <summary>Values one POST may look up at once.</summary>
    public const int MaxIndicators = 100;

    public sealed record IndicatorTerm
    {
        [Required] public IndicatorType? Type { get; init; }

        /// <summary>The value in any spelling its type accepts at submission; it is normalised before the lookup.</summary>
        [Required] public string? Value { get; init; }
    }

    public sealed record SearchInput
    {
        /// <summary>1 to 100 indicators; an alert carrying any of them is returned.</summary>
        [Required] public IReadOnlyList<IndicatorTerm>? Indicators { get; init; }

        /// <summary>The <c>nextCursor</c> of the previous page, with the same indicators.</summary>
        public string? Cursor { get; init; }

        /// <summary>1 to 200; 50 when absent.</summary>
        public int? Limit { get; init; }
    }

    /// <summary>One alert found, with the searched indicators it carries.</summary>
    public sealed record IndicatorMatch(AlertView Alert, IReadOnlyList<IndicatorRef> Matched);


    public sealed record IndicatorMatchPage(IReadOnlyList<IndicatorMatch> Items, string? NextCursor);

    /// <summary>
    /// A search for <c>Terms</c>. <c>FieldOf</c> says how a problem names the type or value of term i: "type" on GET,
    /// "indicators[i].type" on POST.
    /// </summary>
    public sealed record Query(Caller Caller, IReadOnlyList<IndicatorTerm>? Terms, string? Cursor, string? Limit, string? Purpose, Func<int, string, string> FieldOf)
        : IQuery<Result<string>>, IPagedQuery
    {
        /// <summary>The searched (type, value) pairs, normalised where valid, in one order: a cursor is bound to the set, not to how it was spelt.</summary>
        public string CursorScope => Terms is null || !ListRules.IsWithin(Terms, MaxIndicators)
            ? string.Empty
            : string.Join('\n', Terms.Where(t => t?.Type is not null && t.Value is not null)
                .Select(t => $"{WireNames.Of(t.Type!.Value)}:{IndicatorRules.Normalise(t.Type.Value, t.Value!).Normalised ?? t.Value}")
                .Distinct().Order(StringComparer.Ordinal));

        /// <summary>The normalised (type, value) pairs searched, once each; valid only after validation.</summary>
        public IReadOnlyList<(IndicatorType Type, string Value)> Normalised =>
            Terms!.Select(t => (t.Type!.Value, IndicatorRules.Normalise(t.Type.Value, t.Value!).Normalised!)).Distinct().ToList();
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator(KeysetCursor cursors)
        {
            Include(new PageRules<Query>(cursors));
            RuleFor(q => q.Terms).NotEmpty().WithMessage("Name at least one indicator.").OverridePropertyName("indicators");
            RuleFor(q => q.Terms).AtMost(MaxIndicators, "indicators per search").OverridePropertyName("indicators");
            When(q => q.Terms is { Count: > 0 } && ListRules.IsWithin(q.Terms, MaxIndicators), () => RuleFor(q => q).Custom((query, context) =>
            {
                for (var i = 0; i < query.Terms!.Count; i++)
                {
                    var term = query.Terms[i];
                    if (term?.Type is not { } type)
                    {
                        context.AddFailure(query.FieldOf(i, "type"), $"An indicator type is required ({string.Join(", ", WireNames.All<IndicatorType>())}).");
                        continue;
                    }

                    if (term.Value is null)
                    {
                        context.AddFailure(query.FieldOf(i, "value"), "A value is required.");
                        continue;
                    }

                    var outcome = IndicatorRules.Normalise(type, term.Value);
                    if (!outcome.IsValid)
                    {
                        context.AddFailure(query.FieldOf(i, "value"), outcome.Error!);
                    }
                }
            }));
        }
    }

    private sealed record Row
    {
        public Guid Id { get; init; }

        public DateTimeOffset UpdatedAt { get; init; }

        public string Document { get; init; } = null!;

        public bool NamesPersons { get; init; }
    }

    public sealed class Handler(Database database, KeysetPaging paging, AuditTrail audit) : IQueryHandler<Query, Result<string>>
    {
        private static readonly KeysetOrder ChangeOrder = new(new("a.updated_at", KeysetField.At), new("a.id", KeysetField.Id));

        public async ValueTask<Result<string>> Handle(Query query, CancellationToken cancellationToken)
        {
            var terms = query.Normalised;

            // Decided from the question alone, before any lookup: whether the purpose is needed never depends on what exists.
            if (query.Purpose is null && terms.FirstOrDefault(t => IndicatorIndex.PersonRelated.Contains(t.Type)) is { Value: not null } personal)
            {
                return PersonalData.PurposeRequired($"A search for a {WireNames.Of(personal.Type)} indicator consults personal data: it");
            }

            var parameters = new DynamicParameters();
            parameters.Add("agencyId", query.Caller.AgencyId);
            var keys = SqlLists.In(parameters, "key", terms.Select(t => IndicatorIndex.Key(t.Type, t.Value)).ToArray());
            var sql = new StringBuilder(
                $"""
                SELECT a.id AS Id, a.updated_at AS UpdatedAt, a.document AS Document, {PersonalData.NamesPersonsSql("a")} AS NamesPersons
                FROM alerts a
                WHERE a.id IN (SELECT i.alert_id FROM alert_indicators i WHERE i.value_key IN {keys})
                  AND a.status = 'active'
                  AND {SharingPolicy.VisibleSql("a", "@agencyId")}
                """);
            paging.Append(sql, parameters, query, ChangeOrder);

            await using var connection = await database.OpenAsync(cancellationToken);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.UpdatedAt, r.Id));
            if (query.Purpose is null && page.Exists(r => r.NamesPersons))
            {
                return PersonalData.PurposeRequired("This page includes an alert that");
            }

            audit.Annotate(detail: new { indicators = terms.Count, types = terms.Select(t => WireNames.Of(t.Type)).Distinct(), alertIds = page.Select(r => r.Id) });
            return WritePage(page, terms.ToHashSet(), next);
        }

        private static string WritePage(List<Row> page, HashSet<(IndicatorType Type, string Value)> searched, string? nextCursor) =>
            JsonPage.Write(page, nextCursor, (writer, row) =>
            {
                writer.WriteStartObject();
                writer.WritePropertyName("alert");
                writer.WriteRawValue(row.Document, skipInputValidation: true);
                writer.WriteStartArray("matched");
                var alert = JsonSerializer.Deserialize<AlertView>(row.Document, JsonDefaults.Options)!;
                foreach (var indicator in alert.Indicators.Where(i => searched.Contains((i.Type, i.Value))).DistinctBy(i => (i.Type, i.Value)))
                {
                    writer.WriteStartObject();
                    writer.WriteString("type", WireNames.Of(indicator.Type));
                    writer.WriteString("value", indicator.Value);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            });
    }

    private static string GetField(int index, string name) => name;

    private static string PostField(int index, string name) => string.Create(CultureInfo.InvariantCulture, $"indicators[{index}].{name}");

    public static RouteHandlerBuilder MapLookUpIndicator(this RouteGroupBuilder group) => group
        .MapGet("/", async Task<Results<JsonDocumentResult<IndicatorMatchPage>, CommonProblem>> (
            [FromQuery] string? type,
            [FromQuery] string? value,
            [FromQuery] string? cursor,
            [FromQuery] string? limit,
            [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose,
            HttpContext context,
            IMediator mediator) =>
        {
            if (type is null || !WireNames.TryParse<IndicatorType>(type, out var parsed))
            {
                return new CommonProblem(Failure.Invalid("type", $"type must be one of: {string.Join(", ", WireNames.All<IndicatorType>())}."));
            }

            var term = new IndicatorTerm { Type = parsed, Value = value };
            var result = await mediator.Send(
                new Query(Caller.From(context.User), [term], cursor, limit, RequestOrigin.CleanPurpose(purpose), GetField),
                context.RequestAborted);
            return result.Match(page => new JsonDocumentResult<IndicatorMatchPage>(page)).OrProblem();
        })
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.IndicatorSearch, AuditResources.Alert)
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("LookUpIndicator")
        .WithSummary("Has anyone reported this indicator?")
        .WithDescription("The alerts you may see whose current version carries the indicator, matched on its normalised value " +
            "(+381 64 123 4567 finds +381641234567; SU 123-AB finds SU123AB). Oldest change first, in keyset pages " +
            $"(limit 1 to {KeysetPaging.MaxLimit}, default {KeysetPaging.DefaultLimit}; pass nextCursor back as cursor). " +
            "Alerts you may not see are never counted, hinted at or told apart from no match. A search for a phone, email, travel_document, " +
            "iban or vehicle_plate, and a page that includes an alert naming persons, need an X-Purpose header; every search is audited.");

    public static RouteHandlerBuilder MapSearchIndicators(this RouteGroupBuilder group) => group
        .MapPost("/search", async ([FromBody] SearchInput input, [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose, HttpContext context, IMediator mediator) =>
        {
            var result = await mediator.Send(
                new Query(Caller.From(context.User), input.Indicators, input.Cursor, input.Limit?.ToString(CultureInfo.InvariantCulture), RequestOrigin.CleanPurpose(purpose), PostField),
                context.RequestAborted);
            return result.Match(page => new JsonDocumentResult<IndicatorMatchPage>(page)).OrProblem();
        })
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.IndicatorSearch, AuditResources.Alert)
        .WithName("SearchIndicators")
        .WithSummary("Look up many indicators at once")
        .WithDescription($"As GET /api/v1/indicators for 1 to {MaxIndicators} indicators: an alert carrying any of them is returned once, with the ones it carries in matched. " +
            "The cursor is bound to the set of indicators searched.")
        .Accepts<SearchInput>("application/json");
}
