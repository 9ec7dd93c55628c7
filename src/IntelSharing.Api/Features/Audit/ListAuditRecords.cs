using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Audit;

/// <summary>GET /api/v1/audit — auditors read the trail, filtered, oldest first, in keyset pages.</summary>
public static partial class ListAuditRecords
{
    /// <summary>Query parameters arrive as text and are parsed by the validator, so every mistake is named.</summary>
    public sealed record Query(string? Agency, string? Action, string? ResourceId, string? From, string? To, string? Cursor, string? Limit) : IQuery<Result<AuditPage>>, IPagedQuery
    {
        public Guid? AgencyId => Agency is null ? null : Guid.Parse(Agency, CultureInfo.InvariantCulture);

        public Guid? ResourceGuid => ResourceId is null ? null : Guid.Parse(ResourceId, CultureInfo.InvariantCulture);

        public IReadOnlyList<string> Actions => Action is null ? [] : Action.Split(',', StringSplitOptions.TrimEntries);

        public DateTimeOffset? FromValue => Time(From);

        public DateTimeOffset? ToValue => Time(To);

        /// <summary>The filters a cursor is bound to; the prefix keeps alert cursors from being accepted here.</summary>
        public string CursorScope => string.Join('|', "audit", Agency, Action, ResourceId, From, To);

        // With its offset, as every date-time in the contract: without one the server's time zone would decide the instant.
        internal static bool IsTime(string? value) => Rfc3339.TryParse(value, out _);

        private static DateTimeOffset? Time(string? value) => value is null ? null : DateTimeOffset.Parse(value, CultureInfo.InvariantCulture).ToUniversalTime();
    }

    public sealed partial class Validator : AbstractValidator<Query>
    {
        public const int MaxActions = 50;

        public Validator(KeysetCursor cursors)
        {
            Include(new PageRules<Query>(cursors));
            RuleFor(q => q.Agency).Must(a => Guid.TryParse(a, CultureInfo.InvariantCulture, out _)).When(q => q.Agency is not null)
                .WithMessage("agency must be an agency id (a UUID).");
            RuleFor(q => q.ResourceId).Must(a => Guid.TryParse(a, CultureInfo.InvariantCulture, out _)).When(q => q.ResourceId is not null)
                .WithMessage("resourceId must be a UUID.");
            RuleFor(q => q.Actions).Must(a => a.Count <= MaxActions).OverridePropertyName("action").WithMessage($"At most {MaxActions} actions.");
            When(q => q.Actions.Count <= MaxActions, () =>
                RuleForEach(q => q.Actions).Must(a => ActionShape().IsMatch(a)).OverridePropertyName("action")
                    .WithMessage("'{PropertyValue}' is not an action name (e.g. alert.read, auth.failed)."));
            RuleFor(q => q.From).Must(Query.IsTime).When(q => q.From is not null)
                .WithMessage("from must be an RFC 3339 date-time with its offset, e.g. 2026-11-01T00:00:00Z (send '+' as %2B).");
            RuleFor(q => q.To).Must(Query.IsTime).When(q => q.To is not null)
                .WithMessage("to must be an RFC 3339 date-time with its offset, e.g. 2026-11-30T00:00:00Z (send '+' as %2B).");
            RuleFor(q => q.To).Must((q, _) => q.FromValue <= q.ToValue)
                .When(q => Query.IsTime(q.From) && Query.IsTime(q.To)).WithMessage("to must not be before from.");
        }

        [GeneratedRegex("^[a-z]+(\\.[a-z]+){1,3}$")]
        private static partial Regex ActionShape();
    }

    public sealed class Handler(Database database, KeysetPaging paging) : IQueryHandler<Query, Result<AuditPage>>
    {
        private static readonly KeysetOrder RecordOrder = new(new("recorded_at", KeysetField.At), new("id", KeysetField.Id));

        public async ValueTask<Result<AuditPage>> Handle(Query query, CancellationToken cancellationToken)
        {
            var sql = new StringBuilder($"SELECT {AuditRecord.Columns} FROM audit_records WHERE 1 = 1");
            var parameters = new DynamicParameters();
            if (query.AgencyId is { } agencyId)
            {
                sql.Append(" AND agency_id = @agencyId");
                parameters.Add("agencyId", agencyId);
            }

            if (query.Actions.Count > 0)
            {
                sql.Append($" AND action IN {SqlLists.In(parameters, "action", query.Actions)}");
            }

            if (query.ResourceGuid is { } resourceId)
            {
                sql.Append(" AND resource_id = @resourceId");
                parameters.Add("resourceId", resourceId);
            }

            if (query.FromValue is { } from)
            {
                sql.Append(" AND recorded_at >= @from");
                parameters.Add("from", from);
            }

            if (query.ToValue is { } to)
            {
                sql.Append(" AND recorded_at < @to");
                parameters.Add("to", to);
            }

            paging.Append(sql, parameters, query, RecordOrder);
            await using var connection = await database.OpenAsync(cancellationToken);
            var rows = (await connection.QueryAsync<AuditRecord>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
            var (page, next) = paging.Cut(rows, query, r => new KeysetCursor.Position(r.RecordedAt, r.Id));
            return new AuditPage(page.Select(ToView).ToList(), next);
        }

        private static AuditRecordView ToView(AuditRecord record) => new()
        {
            Id = record.Id,
            Seq = record.Seq,
            RecordedAt = record.RecordedAt,
            AgencyId = record.AgencyId,
            KeyPrefix = record.KeyPrefix,
            Action = record.Action,
            ResourceType = record.ResourceType,
            ResourceId = record.ResourceId,
            Outcome = record.Outcome,
            Purpose = record.Purpose,
            ClientIp = record.ClientIp,
            Detail = record.Detail is null ? null : JsonDocument.Parse(record.Detail).RootElement.Clone(),
            Hash = record.Hash is null ? null : Convert.ToHexStringLower(record.Hash),
            SealRefused = record.SealRefused,
        };
    }

    public static RouteHandlerBuilder MapListAuditRecords(this RouteGroupBuilder group) => group
        .MapGet("/", async (
            [FromQuery] string? agency,
            [FromQuery] string? action,
            [FromQuery] string? resourceId,
            [FromQuery] string? from,
            [FromQuery] string? to,
            [FromQuery] string? cursor,
            [FromQuery] string? limit,
            IMediator mediator,
            CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Query(agency, action, resourceId, from, to, cursor, limit), cancellationToken);
            return result.Match(TypedResults.Ok).OrProblem();
        })
        .RequireAuthorization(Scopes.AuditRead)
        .Audited(AuditActions.AuditList, AuditResources.AuditTrail)
        .WithMetadata(QueryParameterDocs.Paging)
        .WithName("ListAuditRecords")
        .WithSummary("Read the audit trail")
        .WithDescription("Oldest first. Filters: agency (id), action (comma-separated, e.g. alert.read,alert.list), resourceId, from (inclusive) and to (exclusive) as RFC 3339. " +
            $"limit is 1 to {KeysetPaging.MaxLimit} (default {KeysetPaging.DefaultLimit}). Pass nextCursor back as cursor, with the same filters, for the next page. Reading the trail is itself audited.");
}
