using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>GET /api/v1/alerts/{id} — the current version, if the sharing policy lets the caller see it; otherwise 404.</summary>
public static class GetAlert
{
    /// <param name="Caller">Who reads.</param>
    /// <param name="Id">The alert.</param>
    /// <param name="Purpose">The X-Purpose header, required when the alert names persons.</param>
    /// <param name="WithRevokedContent">
    /// For exports (STIX): when the alert is revoked, also load the content of the version before the revocation, so
    /// that the objects it exported can be withdrawn under their ids. Decided by the same policy check as the read.
    /// </param>
    public sealed record Query(Caller Caller, Guid Id, string? Purpose, bool WithRevokedContent = false) : IQuery<Result<Found>>;

    /// <param name="Version">The current version.</param>
    /// <param name="Document">The current version as published (or its tombstone).</param>
    /// <param name="Tlp">The current version's marking (a tombstone does not carry it).</param>
    /// <param name="RevokedContent">The last content before a revocation, when asked for and the alert is revoked.</param>
    public sealed record Found(int Version, string Document, Tlp Tlp = Tlp.Red, string? RevokedContent = null);

    private sealed record Row
    {
        public Guid OriginatorId { get; init; }

        public string Tlp { get; init; } = null!;

        public bool HasAudience { get; init; }

        public bool InAudience { get; init; }

        public bool AgencyActive { get; init; }

        public bool NamesPersons { get; init; }

        public int Version { get; init; }

        public string Document { get; init; } = null!;

        public string Status { get; init; } = null!;
    }

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<Found>>
    {
        public async ValueTask<Result<Found>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                $"""
                SELECT a.originator_id AS OriginatorId, a.tlp AS Tlp, a.has_audience AS HasAudience,
                       EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = a.id AND aa.agency_id = @agencyId) AS InAudience,
                       EXISTS (SELECT 1 FROM agencies ag WHERE ag.id = @agencyId AND ag.is_active) AS AgencyActive,
                       {PersonalData.NamesPersonsSql("a")} AS NamesPersons,
                       a.version AS Version, a.document AS Document, a.status AS Status
                FROM alerts a
                WHERE a.id = @id
                """,
                new { id = query.Id, agencyId = query.Caller.AgencyId },
                cancellationToken: cancellationToken));

            if (row is null || !WireNames.TryParse<Tlp>(row.Tlp, out var tlp)
                || !SharingPolicy.MaySee(query.Caller.AgencyId, new AlertAccess(row.OriginatorId, tlp, row.HasAudience, row.InAudience, row.AgencyActive)))
            {
                return Failure.NotFound("alert");
            }

            if (row.NamesPersons && query.Purpose is null)
            {
                return PersonalData.PurposeRequired("This alert");
            }

            string? revokedContent = null;
            if (query.WithRevokedContent && row.Status == WireNames.Of(AlertStatus.Revoked))
            {
                revokedContent = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                    "SELECT document FROM alert_versions WHERE alert_id = @id AND version = @version",
                    new { id = query.Id, version = row.Version - 1 },
                    cancellationToken: cancellationToken));
            }

            return new Found(row.Version, row.Document, tlp, revokedContent);
        }
    }

    public static RouteHandlerBuilder MapGetAlert(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}", async Task<IResult> (Guid id, [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose, HttpContext context, IMediator mediator) =>
        {
            // One resource, two representations: the Accept header chooses, and caches must key on it.
            context.Response.Headers.Vary = "Accept";
            if (ExportAlertStix.AcceptsStix(context.Request))
            {
                return await ExportAlertStix.ExportAsync(id, purpose, context, mediator);
            }

            var result = await mediator.Send(new Query(Caller.From(context.User), id, RequestOrigin.CleanPurpose(purpose)), context.RequestAborted);
            return result.Match<IResult>(found =>
            {
                var etag = ETags.ForVersion(found.Version);
                if (ETags.ParseVersion(context.Request.Headers.IfNoneMatch) == found.Version)
                {
                    // RFC 9110 §15.4.5: a 304 carries the ETag the full response would have had.
                    context.Response.Headers.ETag = etag;
                    return TypedResults.StatusCode(StatusCodes.Status304NotModified);
                }

                return new JsonDocumentResult(found.Document) { ETag = etag };
            }).OrProblem<Problem404>();
        })
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertRead, AuditResources.Alert, "id")
        .WithName("GetAlert")
        .WithMetadata(
            DocumentedExample.Response(StatusCodes.Status200OK, "migrantSmuggling", "An amber alert from the Border Police", ContractExamples.SmugglingAlertView),
            DocumentedExample.Response(StatusCodes.Status200OK, "cyberIncident", "A green alert from the national CERT", ContractExamples.CyberAlertView),
            DocumentedExample.ProblemResponse(StatusCodes.Status404NotFound, "notVisible", "Absent, or not shared with you: the answer is the same", ContractExamples.AlertNotFoundProblem))
        .WithMetadata(
            DocumentedHeader.Request("If-None-Match", "An ETag from an earlier response. When it names the current version the answer is 304 with no body.", "\"1\""),
            DocumentedHeader.Response(StatusCodes.Status200OK, "ETag", "The current version as a strong entity tag, e.g. \"2\".", "\"1\""),
            new ResponseDescription(StatusCodes.Status304NotModified, "Not modified: If-None-Match names the current version."))
        .WithMetadata(new ProblemResponseDescription(StatusCodes.Status404NotFound, $"No such alert, or one you may not see: the two are answered alike ({ProblemTypes.NotFound})."))
        .WithSummary("Read an alert")
        .WithDescription("Returns the current version of the alert with its ETag. An alert the caller may not see is answered 404, exactly like one that does not exist. " +
            "An alert that names persons is only returned with an X-Purpose header stating why it is consulted; every read is audited. " +
            "With Accept: application/stix+json;version=2.1 the same read returns the alert as a STIX 2.1 bundle (as GET …/{id}/stix does).")
        // Declared by hand (ADR 42): one read answers the stored document, a 304, or the STIX export chosen by Accept
        // (an IResult written by ExportAlertStix), so no return type can name them all.
        .Produces<AlertView>()
        .Produces(StatusCodes.Status304NotModified)
        .ProducesProblem(StatusCodes.Status404NotFound);
}
